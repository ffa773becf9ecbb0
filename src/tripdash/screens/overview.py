"""The whole trip at once (`w`): one column per day on a wide terminal, a block per day when
narrow; each event as its local time and short title.

Done events carry ✓, the one in progress ▶ and the next →; cancelled ones are struck
through, tentative ones in italics, past ones dim; each day's heading has its done
count, and the now line sits in the day where now is. The cursor moves over events
(↑/↓ within a day and on to the next, ←/→ to the same row of the next day); enter
goes back to the timeline on that event, escape (or `w`) back where it was.

Drawn with the line API, as the timeline is: days are laid out in bands of as many
columns as fit, and only the lines on screen are drawn, so a 10,000-event trip
opens as fast as a short one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from tripdash.domain.model import Event
from tripdash.domain.schedule import Day, Phase, Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import local_midnight, zone_abbrev
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.strips import cut_end, text_strip

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


_BLOCKS: dict[int, tuple[Schedule, list[Day]]] = {}


def blocks(schedule: Schedule) -> list[Day]:
    """The timeline's days, each cut where its clocks' offset changes: across the date
    line Seoul's 18 March and Anchorage's 18 March are two blocks, not one.

    Worked out once per schedule (opening the overview again costs nothing).
    """
    found = _BLOCKS.get(id(schedule))
    if found is not None and found[0] is schedule:
        return found[1]
    events = schedule.trip.events
    out: list[Day] = []
    offsets: dict[tuple[date, str], timedelta | None] = {}

    def offset(day: Day, event: Event) -> timedelta | None:
        key = (day.date, event.place.tz.key)
        if key not in offsets:
            offsets[key] = local_midnight(day.date, event.place.tz).utcoffset()
        return offsets[key]

    for day in schedule.days:
        start = day.first
        for i in range(day.first + 1, day.last + 2):
            if i > day.last or offset(day, events[i]) != offset(day, events[start]):
                names: list[str] = []
                for e in events[start:i]:
                    if e.place.name not in names:
                        names.append(e.place.name)
                out.append(Day(day.date, start, i - 1, tuple(names)))
                start = i
    if len(_BLOCKS) >= 4:
        _BLOCKS.pop(next(iter(_BLOCKS)))
    _BLOCKS[id(schedule)] = (schedule, out)
    return out


def now_cells(schedule: Schedule, days: list[Day], now: datetime) -> tuple[int, int] | None:
    """(block, position among its events) of the now line, or None for an empty trip.

    As on the timeline: before the first event that is not over; in the block before
    when that block's first event is on a date that has not begun where it is.
    """
    events = schedule.trip.events
    if not events or not days:
        return None
    index = schedule.now_position(now)
    if index >= len(events):
        return len(days) - 1, len(events) - days[-1].first
    d = bisect.bisect_right([b.first for b in days], index) - 1
    day = days[d]
    if index == day.first and d > 0:
        event = events[index]
        if now.astimezone(event.place.tz).date() < event.local_date:
            return d - 1, day.first - days[d - 1].first
    return d, index - day.first


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
        self, schedule: Schedule, now: datetime, done: set[str], cursor: int, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.schedule = schedule
        self.done = done
        self.now = now
        self.cursor = max(0, min(cursor, len(schedule.trip.events) - 1))
        self._bands: list[Band] = []
        self._tops: list[int] = []
        self._columns = 1
        self._column_w = 0
        self._laid_for = -1
        self._next = schedule.find_next(now)
        #: The blocks shown: the timeline's days, cut where the clocks' offset changes.
        self.days = blocks(schedule)
        self._firsts = [d.first for d in self.days]
        self._now_at = now_cells(schedule, self.days, now)

    # -- layout -------------------------------------------------------------------------

    def _cells(self, day_index: int) -> list[int]:
        """The day's rows: event indexes, and NOW where the now line goes."""
        day = self.days[day_index]
        cells = list(range(day.first, day.last + 1))
        if self._now_at is not None and self._now_at[0] == day_index:
            cells.insert(self._now_at[1], NOW)
        return cells

    def _layout(self, width: int) -> None:
        if width == self._laid_for:
            return
        self._laid_for = width
        days = self.days
        columns = max(1, min(len(days), width // MIN_COLUMN)) if days else 1
        if columns == 1 or width < 2 * MIN_COLUMN:
            columns = 1
        self._columns = columns
        self._column_w = width // columns
        bands, top = [], 0
        now_day = self._now_at[0] if self._now_at is not None else -1
        for first in range(0, len(days), columns):
            count = min(columns, len(days) - first)
            # Each day's lines, counted rather than listed: a trip can have thousands of days.
            tallest = max(
                days[d].last - days[d].first + 1 + (now_day == d)
                for d in range(first, first + count)
            )
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
        if minute == self.now.replace(second=0, microsecond=0) and done == self.done:
            return
        self.now, self.done = now, done
        self._next = self.schedule.find_next(now)
        self._now_at = now_cells(self.schedule, self.days, now)
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
        self.cursor = max(0, min(count - 1, index))
        self.scroll_to_cursor()
        self.refresh()

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

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        self._layout(width)
        line = y + round(self.scroll_y)
        at = bisect.bisect_right(self._tops, line) - 1
        if at < 0 or not self._bands:
            return Strip.blank(width, base)
        band = self._bands[at]
        row = line - band.top
        if row >= band.height - 1:
            return Strip.blank(width, base)
        text = Text(end="")
        for column in range(band.count):
            cell = self._cell_text(band.first_day + column, row, self._column_w - 1)
            text.append_text(cell)
            if column < self._columns - 1:
                text.append("│", "dim")
        return text_strip(text, self.app.console, base, width)

    def _cell_text(self, day_index: int, row: int, width: int) -> Text:
        """Line ``row`` of a day's column, exactly ``width`` cells."""
        schedule = self.schedule
        day = self.days[day_index]
        events = schedule.trip.events[day.first : day.last + 1]
        if row == 0:
            done = sum(1 for e in events if e.id in self.done)
            count = f"{done}/{len(events)} ✓"
            date = f" {day.date:%a %d %b}"
            room = width - cell_len(count) - 1
            heading = Text(cut_end(date, room).ljust(room) + " " + count, "bold reverse")
            return self._fit(heading, width)
        if row == 1:
            first = events[0]
            zone = zone_abbrev(first.start)  # a TBC event's start is its day's start
            places = one_line(" · ".join(day.places))
            return self._fit(Text(cut_end(f" {places} ({zone})", width), "italic"), width)
        cells = self._cells(day_index)
        index = row - HEADING
        if index >= len(cells):
            return Text(" " * width, end="")
        if cells[index] == NOW:
            place = schedule.current_place(self.now)
            here = self.now.astimezone(place.tz if place is not None else schedule.trip.home_tz)
            core = f" now {here:%H:%M} "
            return self._fit(Text(("──" + core).ljust(width, "─"), "bold"), width)
        return self._event_cell(cells[index], width)

    def _event_cell(self, index: int, width: int) -> Text:
        event = self.schedule.trip.events[index]
        phase = self.schedule.phase(event, self.now, self._next)
        done = event.id in self.done
        mark = _MARKS.get(phase) or ("✓" if done else " ")
        clock = f"{event.start:%H:%M}" if event.time_confirmed else "TBC  "
        style = Style(
            strike=event.cancelled,
            italic=event.tentative,
            dim=phase is Phase.PAST and index != self.cursor,
            bold=phase in (Phase.NOW, Phase.NEXT),
        )
        if index == self.cursor:
            style += Style(reverse=True, bold=True)
        title = one_line(event.title)
        if event.cancelled:
            title = f"{title} (cancelled)"
        body = cut_end(f"{mark}{clock} {title}", width)
        return self._fit(Text(body, style), width)

    @staticmethod
    def _fit(text: Text, width: int) -> Text:
        text.truncate(width, overflow="ellipsis", pad=True)
        text.end = ""
        return text


class OverviewScreen(Screen[str | None]):
    """The whole trip at once; closes with the id of the event to select (enter), or None."""

    HELP_GROUP = "Overview"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Go to event", id="overview.choose"),
        Binding("escape,w", "back", "Timeline", key_display="esc", id="overview.back"),
    ]

    DEFAULT_CSS = """
    OverviewScreen #ov-title {
        height: 1;
        background: $panel;
        text-style: bold;
        padding: 0 1;
    }
    OverviewScreen OverviewGrid {
        height: 1fr;
    }
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        clock: Callable[[], datetime],
        done: Callable[[], set[str]],
        selected: int,
    ) -> None:
        super().__init__()
        self._schedule = schedule
        self._clock = clock
        self._done = done
        self._selected = selected

    def compose(self) -> ComposeResult:
        trip = self._schedule.trip
        # A day here is a block: the delegation that crosses the date line lives a date twice.
        days = len(blocks(self._schedule))
        marked = self._done()
        done = sum(1 for e in trip.events if e.id in marked)
        title = (
            f"Overview · {one_line(trip.title)} · {days} day{'s' * (days != 1)}, "
            f"{len(trip.events)} events, {done} done"
        )
        yield Static(Text(title), id="ov-title")
        yield OverviewGrid(self._schedule, self._clock(), marked, self._selected)
        yield KeyBar()

    @property
    def grid(self) -> OverviewGrid:
        return self.query_one(OverviewGrid)

    def on_mount(self) -> None:
        self.grid.focus()
        self.set_interval(1.0, self._tick, name="overview-clock")

    def _tick(self) -> None:
        # The clock's minute and the marks (made elsewhere while this is open).
        self.grid.set_now(self._clock(), self._done())

    def action_choose(self) -> None:
        events = self._schedule.trip.events
        self.dismiss(events[self.grid.cursor].id if events else None)

    def action_back(self) -> None:
        self.dismiss(None)
