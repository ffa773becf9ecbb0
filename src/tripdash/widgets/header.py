"""The header: the trip's title, live home and local clocks, REHEARSAL, and now/next.

The clocks read the injected clock (never the machine's own time) once a
second, and show it to the minute (to the second with the ``clock_seconds``
setting). The header is one widget drawn line by line (Textual's line API): a
line is redrawn only when its text changes, so most ticks repaint nothing and a
new minute repaints one line, not three; and the header costs one widget, not
four, to start.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, format_offset, zone_abbrev
from tripdash.widgets.strips import cut_end, cut_middle, text_strip

#: The header's height: title, clocks, now/next.
LINES = 3


def _clock(
    label: str,
    instant: datetime,
    wide: bool,
    time_format: int = 24,
    offset: bool = True,
    seconds: bool = False,
) -> Text:
    """``Home Tue 17 Jan 14:31 GMT UTC+00:00`` (``Tue 17`` when narrow; the offset
    left out when ``offset`` is false, the abbreviation still there; ``14:31:05`` with
    ``seconds``)."""
    text = Text()
    text.append(f"{label} ", "bold")
    text.append(f"{instant:%a %d %b} " if wide else f"{instant:%a %d} ")
    text.append(clock_time(instant, time_format, seconds=seconds), "bold")
    text.append(f" {zone_abbrev(instant)}")
    if offset:
        text.append(f" {format_offset(instant)}")
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
        color: $text-warning;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {"header--status"}

    # None of these repaints the whole widget: their watchers redraw the cells that
    # changed (a whole repaint sent all three lines every second, ~800 bytes a second).
    #: The instant the header shows; set once a second by the screen.
    now: reactive[datetime | None] = reactive(None, layout=False, repaint=False)
    #: True while the clock is a rehearsal clock (shown plainly in the title line).
    rehearsal: reactive[bool] = reactive(False, repaint=False)
    #: A status such as "offline: schedule as of 06:12 London, fetched 3 h ago".
    status: reactive[str] = reactive("", repaint=False)
    #: Team sync: "⇅ synced just now", "⇅ offline since 14:02, 3 marks waiting", an error.
    sync_text: reactive[str] = reactive("", repaint=False)
    #: Running late: "running 20 min late since CSIS speech · ⚠ X now overlaps Y".
    late_text: reactive[str] = reactive("", repaint=False)
    #: A short confirmation ("Done: ...") shown for a few seconds in the third line.
    flash_text: reactive[str] = reactive("", repaint=False)

    def __init__(
        self,
        schedule: Schedule,
        now: datetime,
        *,
        time_format: int = 24,
        seconds: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.schedule = schedule
        self._time_format = time_format  # 12 or 24
        # To the minute unless asked: the clocks then change once a minute, and a tick
        # whose lines are unchanged draws nothing (a frame a second costs as much CPU
        # as the rest of an idle dashboard together).
        self._seconds = seconds
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

    def watch_late_text(self) -> None:
        self.refresh_lines()

    def lines(self) -> list[Text]:
        """The three lines as they are shown (cut to the width)."""
        # Before the first layout the width is 0: draw uncut rather than cut to nothing.
        width = self.content_size.width or 10_000
        lines = [self._title_line(width)]
        if self.now is not None:
            lines.append(self._clock_line(self.now, width))
            lines.append(self._status_line(self.now, width))
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return lines

    def text(self) -> Text:
        """The whole header as one text (what tests and screen readers look at)."""
        return Text("\n").join(self.lines())

    def refresh_lines(self) -> None:
        """Recompute the three lines; redraw only the cells that changed.

        The clock's tick changes a few digits: only the span of the line that holds
        them is refreshed (Textual then sends that line up to its last changed cell,
        about 300 bytes a tick at 120 columns instead of three whole lines, 950), which
        keeps the dashboard quiet over a slow SSH link.
        """
        if not self.is_mounted:
            return
        lines = self.lines()
        lines += [Text()] * (LINES - len(lines))
        left = self.styles.padding.left
        for y, line in enumerate(lines):
            old = self._lines[y] if y < len(self._lines) else None
            if old is not None and line == old:
                continue
            self._strips[y] = None
            span = changed_span(old, line) if old is not None else None
            if span is None:
                self.refresh(Region(0, y, self.size.width, 1))
            else:
                start, end = span
                self.refresh(Region(left + start, y, end - start, 1))
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

    def _title_line(self, width: int) -> Text:
        # Flags first: when the line is too long, the rehearsal keys go first, then the
        # title is cut; "offline ..." and the sync state are cut last of all.
        parts: list[Part] = []
        if self.rehearsal:
            parts.append(Part(" REHEARSAL ", "bold reverse", KEEP))
            parts.append(Part(" +/- 15 min  </> 1 h  0 real time", "dim", DROP))
        if self.status:
            warn = self.get_component_rich_style("header--status")
            parts.append(Part("  " if parts else "", None, KEEP))
            # The status quotes a file name or an address ("⚠ NAME is not valid"), the
            # sync state a server's message: outside text, like the title.
            parts.append(Part(one_line(self.status), warn, LAST))
        if self.sync_text:
            failing = not self.sync_text.startswith("⇅ synced")
            sync_style = self.get_component_rich_style("header--status") if failing else "dim"
            parts.append(Part("  " if parts else "", None, KEEP))
            parts.append(Part(one_line(self.sync_text), sync_style, LAST))
        parts.append(Part("  " if parts else "", None, KEEP))
        parts.append(Part(one_line(self.schedule.trip.title), "bold", CUT))
        return fit(parts, width)

    def _clock_line(self, now: datetime, width: int) -> Text:
        """Both clocks, giving way to the width by leaving out whole parts, never by
        cutting one: first the place's name after "Here", then the UTC offsets (each
        abbreviation, or ``+0545`` where a zone has none, still says which time it is),
        then the place's own short name for "Here". A cut clock could end in "UTC-0…",
        an offset that reads as another."""
        # Worked out once, outside the tries: this runs every second.
        at_home = now.astimezone(self.schedule.trip.home_tz)
        place = self.schedule.current_place(now)
        local = now.astimezone(place.tz) if place is not None else None
        name = one_line(place.name) if place is not None else ""
        wide = width >= 100
        fmt = self._time_format
        line = Text()
        for offsets, short_name, suffix in (
            (True, True, True),
            (True, True, False),
            (False, True, False),
            (False, False, False),
        ):
            line = _clock("Home", at_home, wide, fmt, offsets, self._seconds)
            if local is not None:
                label = name if wide or (short_name and len(name) <= 6) else "Here"
                line.append("  │  ", "dim")
                line.append_text(_clock(label, local, wide, fmt, offsets, self._seconds))
                if label != name and suffix:
                    line.append(f" {name}", "dim")
            if line.cell_len <= width:
                break
        return line

    def _status_line(self, now: datetime, width: int) -> Text:
        """What is on now and next. When the line is too long the titles are cut, never
        the countdowns: "in 12 min" is the part that matters."""
        if self.flash_text:
            line = Text()
            line.append("✓ " if self.flash_text.startswith("Done") else "  ", "bold")
            line.append(self.flash_text, "bold reverse")
            return line
        parts: list[Part] = []
        if self.late_text:
            # Said first: every time on the line after it is an expected one.
            warn = self.get_component_rich_style("header--status")
            parts.append(Part(self.late_text[:1].upper() + self.late_text[1:], warn, LAST))
        banner = self.schedule.banner(now)
        if banner:
            parts.append(Part(("  " if parts else "") + f"This trip {banner}.", "bold", LAST))
        running = self.schedule.in_progress(now)
        if running:
            event = running[-1]
            parts.append(Part("  Now: " if parts else "Now: ", "bold", KEEP))
            parts.append(Part(one_line(event.title), None, CUT))
            parts.append(Part(f" ({self.schedule.countdown(event, now)})", "dim", KEEP))
        nxt = self.schedule.next_for_header(now) if not banner else None
        if nxt is None and not banner:
            nxt = self.schedule.next_any(now)
        if nxt is not None:
            parts.append(Part("  Next: " if parts else "Next: ", "bold", KEEP))
            parts.append(Part(one_line(nxt.title), None, CUT))
            if nxt.time_confirmed:
                parts.append(Part(f" {self.schedule.countdown(nxt, now)}", "dim", KEEP))
            else:
                # Its time is not known: say so, and which day.
                today = now.astimezone(nxt.place.tz).date() == nxt.local_date
                day = "today" if today else f"{nxt.local_date:%a %d %b}"
                parts.append(Part(f" (time TBC, {day})", "dim", KEEP))
        return fit(parts, width)


#: How a :class:`Part` of a header line gives way when the line is too long: DROP parts
#: go first, CUT parts (titles) are shortened next, LAST parts are cut only when nothing
#: else is left to cut; KEEP parts stay.
DROP, CUT, LAST, KEEP = 0, 1, 2, 3
#: What a title keeps of itself before a LAST part is cut (see :func:`fit`).
TITLE_FLOOR = 16


class Part:
    """One run of a header line, with how it gives way to the width."""

    __slots__ = ("priority", "style", "text")

    def __init__(self, text: str, style: Style | str | None, priority: int) -> None:
        self.text = text
        self.style = style
        self.priority = priority


def fit(parts: list[Part], width: int) -> Text:
    """Join ``parts`` into one line of at most ``width`` cells, giving way by priority.

    The CUT parts share what is left equally (a short one keeps its whole text and
    leaves the rest to the others); each cut part ends with an ellipsis.
    """
    total = sum(cell_len(p.text) for p in parts)
    if total > width:
        parts = (
            [p for p in parts if p.priority != DROP]
            if any(p.priority == DROP for p in parts)
            else parts
        )
    sizes = [cell_len(p.text) for p in parts]
    # Titles first, but each keeps a few words (TITLE_FLOOR cells) while a LAST part can
    # give way instead: "Next:  in 20 min" with no title said nothing. Then LAST parts,
    # then titles again, down to nothing, on a terminal too narrow for anything else.
    for level, floor in ((CUT, TITLE_FLOOR), (LAST, 0), (CUT, 0)):
        over = sum(sizes) - width
        if over <= 0:
            break
        movable = [i for i, p in enumerate(parts) if p.priority == level]
        if not movable:
            continue
        room = max(0, sum(sizes[i] for i in movable) - over)
        # Water-filling: the shortest parts keep their whole text.
        share: dict[int, int] = {}
        pending = sorted(movable, key=lambda i: sizes[i])
        while pending:
            fair = room // len(pending)
            i = pending[0]
            if sizes[i] <= fair:
                share[i] = sizes[i]
                room -= sizes[i]
                pending.pop(0)
                continue
            for j in pending:
                share[j] = fair
            share[pending[-1]] += room - fair * len(pending)
            break
        for i in movable:
            sizes[i] = max(min(sizes[i], share.get(i, sizes[i])), min(sizes[i], floor))
    out = Text(end="")
    for part, size in zip(parts, sizes, strict=True):
        text = part.text
        if size <= 0:
            continue
        if size < cell_len(text):
            text = cut_middle(text, size) if part.priority == CUT else cut_end(text, size)
        out.append(text, part.style)
    return out


def changed_span(old: Text, new: Text) -> tuple[int, int] | None:
    """The cells ``[start, end)`` where two lines differ, or None when their lengths or
    styles differ in a way a span cannot say (then the whole line is redrawn)."""
    if old.spans != new.spans or cell_len(old.plain) != cell_len(new.plain):
        return None
    a, b = old.plain, new.plain
    if len(a) != len(b) or cell_len(a) != len(a):
        return None  # wide characters: cells and characters differ; redraw the line
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if start == len(a):
        return None
    end = len(a)
    while end > start and a[end - 1] == b[end - 1]:
        end -= 1
    return start, end
