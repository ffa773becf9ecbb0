"""The overview's grid: every day of the trip in columns on a wide terminal, a block per day
when narrow; each event as its local time and short title.

Done events carry ✓, the one in progress ▶ and the next →; cancelled ones are struck
through, tentative ones in italics, past ones dim; each day's heading has its done
count, and the now line sits in the day where now is. The cursor moves over events
(↑/↓ within a day and on to the next, ←/→ to the same row of the next day).

Drawn with the line API, as the timeline is: days are laid out in bands of as many
columns as fit, and only the lines on screen are drawn, so a 10,000-event trip
opens as fast as a short one. The days themselves come from
:mod:`tripdash.domain.blocks`; the screen around the grid is
:mod:`tripdash.screens.overview`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tripdash.domain.blocks import now_cells, shape
from tripdash.domain.schedule import Phase, Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, clock_width, zone_abbrev
from tripdash.widgets.strips import cut_end

#: The narrowest a day's column may be; below two of these, days are blocks one above another.
MIN_COLUMN = 22
#: Lines of a day's heading: the date and done count, then its places.
HEADING = 2
#: The now line's place in a day's list of cells.
NOW = -1

_MARKS = {Phase.NOW: "▶", Phase.NEXT: "→"}


@dataclass(frozen=True, slots=True)
class Band:
    """A row of days side by side: where it starts, which days, how tall it is."""

    top: int
    first_day: int
    count: int
    height: int


class OverviewGrid(ScrollView, can_focus=True):
    """Every day of the trip in columns (or blocks), one line per event."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False, id="overview.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="overview.up"),
        Binding("right,l", "across(1)", "Next day", show=False, id="overview.next-day"),
        Binding("left,h", "across(-1)", "Previous day", show=False, id="overview.previous-day"),
        Binding("home,g", "first", "First event", show=False, id="overview.first"),
        Binding("end,G", "last", "Last event", show=False, id="overview.last"),
    ]

    DEFAULT_CSS = """
    OverviewGrid {
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    def __init__(
        self,
        schedule: Schedule,
        now: datetime,
        done: set[str],
        cursor: int,
        *,
        time_format: int = 24,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.schedule = schedule
        self._time_format = time_format  # 12 or 24
        self.done = done
        #: The done items as last drawn (``done`` itself changes in place).
        self._done_shown = frozenset(done)
        self.now = now
        self.cursor = max(0, min(cursor, len(schedule.trip.events) - 1))
        self._bands: list[Band] = []
        self._tops: list[int] = []
        self._columns = 1
        self._column_w = 0
        self._laid_for = -1
        self._next = schedule.find_next(now)
        #: The blocks shown: the timeline's days, cut where the clocks' offset changes.
        self.days, self._firsts, self._sizes = shape(schedule)
        self._now_at = now_cells(schedule, self.days, now, self._firsts)
        #: Drawn lines by virtual line, for the width laid out and the state shown: the
        #: opening's second layout and scrolling back draw nothing again (a few screens'
        #: worth kept: a trip of thousands of days is tens of thousands of lines).
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        #: Each block's cells (see :meth:`_cells`), made once per position of the now line.
        self._cell_lists: dict[int, list[int]] = {}
        #: The widget's own style and the styles over it, looked up once per theme.
        self._base: Style | None = None
        self._over: dict[Style, Style] = {}

    # -- layout -------------------------------------------------------------------------

    def _cells(self, day_index: int) -> list[int]:
        """The day's rows: event indexes, and NOW where the now line goes."""
        cells = self._cell_lists.get(day_index)
        if cells is None:
            day = self.days[day_index]
            cells = list(range(day.first, day.last + 1))
            if self._now_at is not None and self._now_at[0] == day_index:
                cells.insert(self._now_at[1], NOW)
            self._cell_lists[day_index] = cells
        return cells

    def _layout(self, width: int) -> None:
        if width == self._laid_for:
            return
        self._laid_for = width
        self._strips.clear()
        days = self.days
        columns = max(1, min(len(days), width // MIN_COLUMN)) if days else 1
        if columns == 1 or width < 2 * MIN_COLUMN:
            columns = 1
        self._columns = columns
        self._column_w = width // columns
        bands, top = [], 0
        now_day = self._now_at[0] if self._now_at is not None else -1
        sizes = self._sizes
        for first in range(0, len(days), columns):
            count = min(columns, len(days) - first)
            # Each day's lines, counted rather than listed: a trip can have thousands of days.
            tallest = max(sizes[first : first + count])
            if first <= now_day < first + count:
                tallest = max(tallest, sizes[now_day] + 1)  # and the now line
            height = HEADING + tallest + 1  # a blank line under each band
            bands.append(Band(top, first, count, height))
            top += height
        self._bands = bands
        self._tops = [b.top for b in bands]
        self.virtual_size = Size(width, top)

    def _where(self, index: int) -> tuple[Band, int, int]:
        """The band, column and line (in the band) of event ``index``."""
        d = self.day_of(index)
        band = self._bands[d // self._columns]
        row = self._cells(d).index(index)
        return band, d - band.first_day, HEADING + row

    def set_now(self, now: datetime, done: set[str]) -> None:
        """A new minute (or new marks): move the now line and the marks."""
        minute = now.replace(second=0, microsecond=0)
        # The session keeps one done set current in place: compared with what is drawn.
        if minute == self.now.replace(second=0, microsecond=0) and done == self._done_shown:
            return
        self.now, self.done = now, done
        self._done_shown = frozenset(done)
        self._next = self.schedule.find_next(now)
        self._now_at = now_cells(self.schedule, self.days, now, self._firsts)
        self._cell_lists.clear()
        self._laid_for = -1
        self.refresh()

    def day_of(self, index: int) -> int:
        """The block holding event ``index``."""
        return max(0, bisect.bisect_right(self._firsts, index) - 1)

    # -- moving -------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self._select(self.cursor + step)

    def action_across(self, step: int) -> None:
        """The event on the same line of the day before (-1) or after (+1), or its last."""
        days = self.days
        if not days:
            return
        d = self.day_of(self.cursor)
        target = d + step
        if not 0 <= target < len(days):
            return
        cells = self._cells(target)
        row = min(self._cells(d).index(self.cursor), len(cells) - 1)
        if cells[row] == NOW:  # the event under the now line (or above it, at the end)
            row = row + 1 if row + 1 < len(cells) else row - 1
        if 0 <= row < len(cells):
            self._select(cells[row])

    def action_first(self) -> None:
        self._select(0)

    def action_last(self) -> None:
        self._select(len(self.schedule.trip.events) - 1)

    def _select(self, index: int) -> None:
        count = len(self.schedule.trip.events)
        if not count:
            return
        old, self.cursor = self.cursor, max(0, min(count - 1, index))
        # Only the two lines whose cursor changed are drawn again.
        self._forget_line(old)
        self._forget_line(self.cursor)
        self.scroll_to_cursor()
        self.refresh()

    def move_to(self, index: int) -> None:
        """Put the cursor on event ``index`` (the overview opened again)."""
        if self.schedule.trip.events:
            self._select(index)

    def _forget_line(self, index: int) -> None:
        if self._bands and 0 <= index < len(self.schedule.trip.events):
            band, _column, line = self._where(index)
            self._strips.discard(band.top + line)

    def scroll_to_cursor(self) -> None:
        """Bring the selected event (and its day's heading) into view."""
        width = self.scrollable_content_region.width
        if width <= 0 or not self.schedule.trip.events:
            return
        self._layout(width)
        band, _column, line = self._where(self.cursor)
        y = band.top + line
        height = self.scrollable_content_region.height or 1
        top = round(self.scroll_y)
        if y - line < top or y >= top + height:
            target = band.top if band.height <= height else y - height // 2
            self.scroll_to(y=max(0, target), animate=False, immediate=True)

    def on_resize(self) -> None:
        self._layout(self.scrollable_content_region.width)
        self.scroll_to_cursor()

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        # Styles were applied again (a theme change, or only the screen shown again): the
        # drawn lines are stale only if the widget's own style changed, seen at next use.
        self._restyled = True
        super().notify_style_update()

    _restyled = False

    def _base_style(self) -> Style:
        """The widget's own style, looked up once per theme (Textual works it out from the
        ancestors on every call)."""
        if self._restyled:
            self._restyled = False
            style = self.rich_style
            if style != self._base:
                self._base = style
                self._over.clear()
                self._strips.clear()
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _styled(self, text: str, style: Style) -> Segment:
        """``text`` drawn in ``style`` over the widget's own."""
        full = self._over.get(style)
        if full is None:
            full = self._over[style] = self._base_style() + style
        return Segment(text, full)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        self._base_style()  # drops the drawn lines when the style changed
        self._layout(width)
        line = y + round(self.scroll_y)
        strip = self._strips.get(line)
        if strip is None:
            strip = self._strips[line] = self._draw_line(line, width)
        return strip

    def _draw_line(self, line: int, width: int) -> Strip:
        """Virtual line ``line``: a cell of each day of its band, side by side.

        Drawn as segments of plain strings (trip text is never read as markup), each cell
        cut or padded to its column.
        """
        base = self._base_style()
        at = bisect.bisect_right(self._tops, line) - 1
        if at < 0 or not self._bands:
            return Strip.blank(width, base)
        band = self._bands[at]
        row = line - band.top
        if row >= band.height - 1:
            return Strip.blank(width, base)
        segments: list[Segment] = []
        cell_w = self._column_w - 1
        used = 0
        for column in range(band.count):
            text, style = self._cell(band.first_day + column, row, cell_w)
            segments.append(self._styled(text, style))
            used += cell_len(text)
            if column < self._columns - 1:
                segments.append(self._styled("│", _SEPARATOR))
                used += 1
        if used < width:
            segments.append(Segment(" " * (width - used), base))
            used = width
        strip = Strip(segments, used)
        return strip if used == width else strip.crop(0, width)

    def _cell(self, day_index: int, row: int, width: int) -> tuple[str, Style]:
        """Line ``row`` of a day's column, exactly ``width`` cells, and its style."""
        schedule = self.schedule
        day = self.days[day_index]
        if row == 0:
            events = schedule.trip.events[day.first : day.last + 1]
            done = sum(1 for e in events if e.id in self.done)
            count = f"{done}/{len(events)} ✓"
            date = f" {day.date:%a %d %b}"
            room = width - cell_len(count) - 1
            return _fit(cut_end(date, room).ljust(room) + " " + count, width), _HEADING
        if row == 1:
            # Each abbreviation the day's events are at, in order: a day the clocks change
            # on says so ("EST→EDT"), as its times after the change are in the other one.
            # (A TBC event's start is its day's start.)
            zones: list[str] = []
            for event in schedule.trip.events[day.first : day.last + 1]:
                abbrev = zone_abbrev(event.start)
                if abbrev not in zones:
                    zones.append(abbrev)
            zone = "→".join(zones)
            places = one_line(" · ".join(day.places))
            return _fit(cut_end(f" {places} ({zone})", width), width), _PLACES
        cells = self._cells(day_index)
        index = row - HEADING
        if index >= len(cells):
            return " " * max(0, width), _PLAIN
        if cells[index] == NOW:
            place = schedule.current_place(self.now)
            here = self.now.astimezone(place.tz if place is not None else schedule.trip.home_tz)
            core = f" now {clock_time(here, self._time_format)} "
            return _fit(("──" + core).ljust(width, "─"), width), _NOW_LINE
        return self._event_cell(cells[index], width)

    def _event_cell(self, index: int, width: int) -> tuple[str, Style]:
        event = self.schedule.trip.events[index]
        phase = self.schedule.phase(event, self.now, self._next)
        done = event.id in self.done
        mark = _MARKS.get(phase) or ("✓" if done else " ")
        fmt = self._time_format
        # Padded to one width (" 9:15 am", "TBC     "), so that titles line up.
        clock = (
            clock_time(event.start, fmt, pad=True)
            if event.time_confirmed
            else "TBC".ljust(clock_width(fmt))
        )
        style = _event_style(
            event.cancelled,
            event.tentative,
            phase is Phase.PAST and index != self.cursor,
            phase in (Phase.NOW, Phase.NEXT),
            index == self.cursor,
        )
        title = one_line(event.title)
        if event.cancelled:
            title = f"{title} (cancelled)"
        return _fit(cut_end(f"{mark}{clock} {title}", width), width), style


_HEADING = Style.parse("bold reverse")
_PLACES = Style.parse("italic")
_NOW_LINE = Style.parse("bold")
_SEPARATOR = Style.parse("dim")
_PLAIN = Style()


@lru_cache(maxsize=64)
def _event_style(cancelled: bool, tentative: bool, dim: bool, bold: bool, cursor: bool) -> Style:
    """An event's style in the overview: struck through when cancelled, italic when
    tentative, dim when past, bold when now or next, reversed under the cursor."""
    style = Style(strike=cancelled, italic=tentative, dim=dim, bold=bold)
    if cursor:
        style += Style(reverse=True, bold=True)
    return style


def _fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to ``width`` cells, as Rich's
    ``Text.truncate(width, overflow="ellipsis", pad=True)`` does."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    return text + " " * (width - length)
