"""The changes screen: every change of the schedule seen this session, with when it arrived."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, zone_abbrev
from tripdash.live import SeenChange
from tripdash.widgets.keybar import KeyBar


def changes_text(changes: Sequence[SeenChange], time_format: int = 24) -> Text:
    """Newest first, grouped by the moment each new version arrived."""
    if not changes:
        return Text("No changes to the schedule since tripdash started.", style="dim")
    out = Text()
    last_seen = None
    for seen in reversed(changes):
        if seen.seen_at != last_seen:
            last_seen = seen.seen_at
            clock = clock_time(seen.seen_at, time_format, seconds=True)
            stamp = f"{seen.seen_at:%a %d %b} {clock} {zone_abbrev(seen.seen_at)}"
            out.append(f"\nSeen {stamp} · {one_line(seen.trip_title)}\n", "bold")
        out.append(f"  • {seen.change}\n")
    return out


class ChangesScreen(ModalScreen[None]):
    """Every change seen this session."""

    HELP_GROUP = "Changes"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "close", "Back", id="changes.close"),
        # A modal screen cuts off the app's bindings (see the event box).
        Binding("question_mark", "app.help", "Help", key_display="?", id="app.help"),
    ]

    DEFAULT_CSS = """
    ChangesScreen {
        align: center middle;
    }
    ChangesScreen > VerticalScroll {
        width: 100;
        max-width: 100%;
        height: 90%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, changes: Sequence[SeenChange], time_format: int = 24) -> None:
        super().__init__()
        self._changes = list(changes)
        self._time_format = time_format  # 12 or 24

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="changes-body"):
            yield Static(Text("Schedule changes this session", style="bold underline"))
            yield Static(changes_text(self._changes, self._time_format), id="changes-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#changes-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
