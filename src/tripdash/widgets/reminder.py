"""The reminder notice: a box under the panes that stays until dismissed or the event starts.

It shows the lines the session's reminders give (already made terminal-safe), the
first one (the one the keys act on) in bold, and the keys in its bottom border.
Hidden, it takes no room: the dashboard looks as before until a reminder comes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

#: Lines shown at most; the rest are counted.
MAX_LINES = 3


class ReminderNotice(Widget, can_focus=False):
    """The dashboard's reminders (and missed-reminder summary), newest stage per event."""

    DEFAULT_CSS = """
    ReminderNotice {
        height: auto;
        display: none;
        border: round $warning;
        border-title-color: $warning;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    ReminderNotice.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: tuple[str, ...] = ()
        self._summary = False
        self._can_snooze = True

    def show(self, lines: Sequence[str], *, summary_first: bool, can_snooze: bool) -> None:
        """Show these lines (empty: hide); the first is what the keys act on."""
        lines = tuple(lines)
        if (lines, summary_first, can_snooze) == (self.lines, self._summary, self._can_snooze):
            return
        resized = len(lines) != len(self.lines)
        self.lines, self._summary, self._can_snooze = lines, summary_first, can_snooze
        self.set_class(bool(lines), "-shown")
        if not lines:
            return
        # Fixed words only: a border title is read as markup, so no outside text goes here.
        self.border_title = "Missed reminders" if summary_first else "Reminder"
        keys = ["esc dismiss", *(["z snooze 5 min"] if can_snooze else []), "e open the event"]
        self.border_subtitle = " · ".join(keys)
        self.refresh(layout=resized)

    def render(self) -> Text:
        text = Text(no_wrap=False, overflow="fold")
        for i, line in enumerate(self.lines[:MAX_LINES]):
            if i:
                text.append("\n")
            text.append(line, style="bold" if i == 0 else "")
        more = len(self.lines) - MAX_LINES
        if more > 0:
            text.append(f"\n… and {more} more", style="dim")
        return text
