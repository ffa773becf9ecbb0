"""The header: the trip's title, live home and local clocks, REHEARSAL, and now/next.

The clocks read the injected clock (never the machine's own time) once a
second. The header is one widget drawn line by line (Textual's line API): a
line is redrawn only when its text changes, so the per-second tick repaints one
line, not three, and the header costs one widget, not four, to start.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import format_offset, zone_abbrev
from tripdash.widgets.strips import text_strip

#: The header's height: title, clocks, now/next.
LINES = 3


def _clock(label: str, instant: datetime, wide: bool) -> Text:
    """``Home Tue 17 Jan 14:31:05 GMT UTC+00:00`` (``Tue 17`` when narrow)."""
    text = Text()
    text.append(f"{label} ", "bold")
    text.append(f"{instant:%a %d %b} " if wide else f"{instant:%a %d} ")
    text.append(f"{instant:%H:%M:%S}", "bold")
    text.append(f" {zone_abbrev(instant)} {format_offset(instant)}")
    return text


class TripHeader(Widget):
    """Three lines: title and mode; home and local clocks; what is on now and next."""

    DEFAULT_CSS = """
    TripHeader {
        height: 3;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    TripHeader.-rehearsal {
        background: $warning 30%;
    }
    TripHeader > .header--status {
        color: $warning;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {"header--status"}

    #: The instant the header shows; set once a second by the screen.
    now: reactive[datetime | None] = reactive(None, layout=False)
    #: True while the clock is a rehearsal clock (shown plainly in the title line).
    rehearsal: reactive[bool] = reactive(False)
    #: A status such as "offline: schedule as of 06:12 London, fetched 3 h ago".
    status: reactive[str] = reactive("")
    #: Team sync: "⇅ synced 12 s ago", "⇅ offline since 14:02, 3 marks waiting", an error.
    sync_text: reactive[str] = reactive("")
    #: A short confirmation ("Done: ...") shown for a few seconds in the third line.
    flash_text: reactive[str] = reactive("")

    def __init__(self, schedule: Schedule, now: datetime, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.schedule = schedule
        self._flash_timer: Timer | None = None
        #: The lines shown, and each one's strip with the width and style it was drawn for.
        self._lines: list[Text] = []
        self._strips: list[tuple[int, Style, Strip] | None] = [None] * LINES
        self.set_reactive(TripHeader.now, now)

    def flash(self, text: str, seconds: float = 3.0) -> None:
        """Show ``text`` in place of now/next for a few seconds (no layout, one line redrawn)."""
        self.flash_text = text
        if self._flash_timer is not None:
            self._flash_timer.stop()
        self._flash_timer = self.set_timer(seconds, lambda: setattr(self, "flash_text", ""))

    def watch_rehearsal(self, rehearsal: bool) -> None:
        self.set_class(rehearsal, "-rehearsal")
        self.refresh_lines()

    def on_mount(self) -> None:
        self.refresh_lines()

    def on_resize(self) -> None:
        self.refresh_lines()

    def watch_now(self) -> None:
        self.refresh_lines()

    def watch_status(self) -> None:
        self.refresh_lines()

    def watch_sync_text(self) -> None:
        self.refresh_lines()

    def watch_flash_text(self) -> None:
        self.refresh_lines()

    def lines(self) -> list[Text]:
        """The three lines as they are shown (cut to the width)."""
        # Before the first layout the width is 0: draw uncut rather than cut to nothing.
        width = self.content_size.width or 10_000
        lines = [self._title_line()]
        if self.now is not None:
            lines.append(self._clock_line(self.now, width))
            lines.append(self._status_line(self.now))
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return lines

    def text(self) -> Text:
        """The whole header as one text (what tests and screen readers look at)."""
        return Text("\n").join(self.lines())

    def refresh_lines(self) -> None:
        """Recompute the three lines (after the schedule changed); redraw changed ones only."""
        if not self.is_mounted:
            return
        lines = self.lines()
        lines += [Text()] * (LINES - len(lines))
        for y, line in enumerate(lines):
            if y >= len(self._lines) or line != self._lines[y]:
                self._strips[y] = None
                self.refresh(Region(0, y, self.size.width, 1))
        self._lines = lines

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.rich_style
        if not self._lines:
            self._lines = self.lines()
        if y >= min(LINES, len(self._lines)) or not width:
            return Strip.blank(width, base)
        cached = self._strips[y]
        if cached is not None and cached[0] == width and cached[1] == base:
            return cached[2]
        line = self._lines[y].copy()
        line.truncate(width, overflow="ellipsis")
        strip = text_strip(line, self.app.console, base, width)
        self._strips[y] = (width, base, strip)
        return strip

    def _title_line(self) -> Text:
        # Flags first: when the line is too long, the title is cut, never "offline".
        out = Text()
        if self.rehearsal:
            out.append(" REHEARSAL ", "bold reverse")
            out.append(" +/- 15 min  </> 1 h  0 real time  ", "dim")
        if self.status:
            out.append(f"{self.status}  ", self.get_component_rich_style("header--status"))
        if self.sync_text:
            failing = not self.sync_text.startswith("⇅ synced")
            style = self.get_component_rich_style("header--status") if failing else "dim"
            out.append(f"{self.sync_text}  ", style)
        out.append(one_line(self.schedule.trip.title), "bold")
        return out

    def _clock_line(self, now: datetime, width: int) -> Text:
        home = self.schedule.trip.home_tz
        place = self.schedule.current_place(now)
        wide = width >= 100
        out = _clock("Home", now.astimezone(home), wide)
        if place is not None:
            name = one_line(place.name)
            label = name if wide or len(name) <= 6 else "Here"
            out.append("  │  ", "dim")
            out.append_text(_clock(label, now.astimezone(place.tz), wide))
            if label != name:
                out.append(f" {name}", "dim")
        return out

    def _status_line(self, now: datetime) -> Text:
        line = Text()
        if self.flash_text:
            line.append("✓ " if self.flash_text.startswith("Done") else "  ", "bold")
            line.append(self.flash_text, "bold reverse")
            return line
        banner = self.schedule.banner(now)
        if banner:
            line.append(f"This trip {banner}.", "bold")
        running = self.schedule.in_progress(now)
        if running:
            event = running[-1]
            line.append("  Now: " if line else "Now: ", "bold")
            line.append(one_line(event.title))
            line.append(f" ({self.schedule.countdown(event, now)})", "dim")
        nxt = self.schedule.find_next(now)
        if nxt is not None and not banner:
            line.append("  Next: " if line else "Next: ", "bold")
            line.append(one_line(nxt.title))
            line.append(f" {self.schedule.countdown(nxt, now)}", "dim")
        elif not banner and (tbc := self.schedule.next_any(now)) is not None:
            # Only events without a confirmed time are left: say which comes next, and when.
            line.append("  Next: " if line else "Next: ", "bold")
            line.append(one_line(tbc.title))
            line.append(f" (time TBC, {tbc.local_date:%a %d %b})", "dim")
        return line
