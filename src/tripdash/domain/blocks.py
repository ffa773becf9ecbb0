"""The overview's days (`w`): the timeline's days, each cut where its clocks' offset changes,
and where the now line falls among them.

Pure schedule logic (no Textual): the overview's grid (:mod:`tripdash.widgets.overview_grid`)
lays these out; the dashboard works them out in a thread after its first frame
(:func:`prepare`), so that the first opening has only its screen to draw. Each
schedule's blocks are worked out once and kept (the last four schedules).
"""

from __future__ import annotations

import bisect
import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tripdash.domain.model import Event
from tripdash.domain.schedule import Day, Schedule
from tripdash.domain.times import local_midnight

_BLOCKS: dict[int, tuple[Schedule, list[Day]]] = {}
_UNKNOWN = object()
#: Each schedule's blocks' first event indexes and sizes (events), beside _BLOCKS.
_SHAPES: dict[int, tuple[list[Day], list[int], list[int]]] = {}


def shape(schedule: Schedule) -> tuple[list[Day], list[int], list[int]]:
    """The blocks of ``schedule`` (see :func:`blocks`), the index of each one's first event
    and each one's number of events: worked out once per schedule, as the blocks are."""
    days = blocks(schedule)
    found = _SHAPES.get(id(schedule))
    if found is not None and found[0] is days:
        return found
    made = (days, [d.first for d in days], [d.last - d.first + 1 for d in days])
    if len(_SHAPES) >= 4:
        _SHAPES.pop(next(iter(_SHAPES)))
    _SHAPES[id(schedule)] = made
    return made


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

    def offset(day: date, event: Event) -> timedelta | None:
        zone = event.place.tz
        key = (day, zone.key)
        if key in offsets:
            return offsets[key]
        found = offsets[key] = _midnight_offset(day, zone, event.start)
        return found

    for day in schedule.days:
        start = day.first
        here = events[start].place.tz
        here_offset: timedelta | object | None = _UNKNOWN
        cuts: list[int] = []
        for i in range(day.first + 1, day.last + 1):
            event = events[i]
            zone = event.place.tz
            # One zone, one offset (the common case): only two zones need their offsets.
            if zone is here or zone.key == here.key:
                continue
            if here_offset is _UNKNOWN:
                here_offset = offset(day.date, events[start])
            there = offset(day.date, event)
            if there != here_offset:
                cuts.append(i)
                start, here, here_offset = i, zone, there
        if not cuts:
            out.append(day)  # the timeline's own day: the same events, the same places
            continue
        bounds = [day.first, *cuts, day.last + 1]
        for first, after in itertools.pairwise(bounds):
            names: list[str] = []
            for e in events[first:after]:
                if e.place.name not in names:
                    names.append(e.place.name)
            out.append(Day(day.date, first, after - 1, tuple(names)))
    if len(_BLOCKS) >= 4:
        _BLOCKS.pop(next(iter(_BLOCKS)))
    _BLOCKS[id(schedule)] = (schedule, out)
    return out


def prepare(schedule: Schedule) -> None:
    """Work out the blocks of ``schedule`` before the overview is first opened (the
    dashboard runs this in a thread after its first frame): the overview then opens with
    only its screen to lay out and the lines on it to draw."""
    shape(schedule)


def _midnight_offset(day: date, zone: ZoneInfo, seen: datetime) -> timedelta | None:
    """The UTC offset of the first instant of ``day`` in ``zone`` (:func:`local_midnight`'s).

    ``seen`` is an instant of that local day there (an event's start, never a wall time
    the clocks skipped: an event cannot be at one). When the offset
    of the wall time 00:00 is the one in force at ``seen``, no change of the clocks lies
    between them: midnight is an ordinary time (neither skipped nor repeated, each of
    which would put a change after it) and that is its offset. Otherwise the search.
    """
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    offset = midnight.utcoffset()
    if seen.tzinfo is zone and seen.utcoffset() == offset:
        return offset
    return local_midnight(day, zone).utcoffset()


def now_cells(
    schedule: Schedule, days: list[Day], now: datetime, firsts: list[int] | None = None
) -> tuple[int, int] | None:
    """(block, position among its events) of the now line, or None for an empty trip.

    As on the timeline: before the first event that is not over; in the block before
    when that block's first event is on a date that has not begun where it is.
    ``firsts``: each block's first event index, when already known.
    """
    events = schedule.trip.events
    if not events or not days:
        return None
    index = schedule.now_position(now)
    if index >= len(events):
        return len(days) - 1, len(events) - days[-1].first
    if firsts is None:
        firsts = [b.first for b in days]
    d = bisect.bisect_right(firsts, index) - 1
    day = days[d]
    if index == day.first and d > 0:
        event = events[index]
        if now.astimezone(event.place.tz).date() < event.local_date:
            return d - 1, day.first - days[d - 1].first
    return d, index - day.first
