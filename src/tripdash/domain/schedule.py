"""What the programme looks like at a given instant: days, states, now and next.

Pure functions of a :class:`~tripdash.domain.model.Trip` and an aware
instant; the dashboard and the ``agenda`` command both stand on them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from tripdash.domain.model import Event, Place, Trip
from tripdash.domain.times import (
    UTC,
    clock_time,
    compact_delta,
    day_marker,
    humanize_delta,
    local_midnight,
    next_local_midnight,
    zone_abbrev,
)


class Phase(str, Enum):
    """Where an event stands relative to now."""

    PAST = "past"
    NOW = "now"  # in progress
    NEXT = "next"  # the next confirmed event to start
    LATER = "later"
    TBC_TODAY = "tbc-today"  # time not confirmed, on today's local date at its place


@dataclass(frozen=True, slots=True)
class Day:
    """A run of consecutive events that share one local date (the timeline's day heading)."""

    date: date
    first: int  # index of its first event in trip.events
    last: int  # index of its last event (inclusive)
    places: tuple[str, ...]

    @property
    def heading(self) -> str:
        return f"{self.date:%A} {self.date.day} {self.date:%B %Y}"


def group_days(trip: Trip) -> list[Day]:
    """Split the events into days by local date, in time order.

    A local date can occur twice (crossing the date line eastwards gives a
    second 18 March after the first): each run gets its own heading, so that
    the programme stays in true time order.
    """
    days: list[Day] = []
    start = 0
    events = trip.events
    for i in range(1, len(events) + 1):
        if i == len(events) or events[i].local_date != events[start].local_date:
            names: list[str] = []
            for e in events[start:i]:
                if e.place.name not in names:
                    names.append(e.place.name)
            days.append(Day(events[start].local_date, start, i - 1, tuple(names)))
            start = i
    return days


#: How long an event without an ``end`` counts as "in progress" at most (it also stops
#: when the next event starts). No end time is ever shown for it: only "started X ago".
OPEN_ENDED = timedelta(hours=1)


_MINUTE = timedelta(minutes=1)


def _ceil_minute(delta: timedelta) -> timedelta:
    """``delta`` rounded up to a whole minute."""
    seconds = int(delta.total_seconds())
    if delta.total_seconds() > seconds:
        seconds += 1
    return timedelta(minutes=-(-seconds // 60))


def _day_end(event: Event) -> datetime:
    return next_local_midnight(event.local_date, event.place.tz)


class Schedule:
    """A trip with indexes for fast questions about time (bisect, not scans).

    Use :meth:`for_trip`: building the indexes of a 10,000-event trip takes tens of
    milliseconds, so each trip's schedule is built once (or read from the parsed cache).
    """

    _memo: dict[int, tuple[Trip, Schedule]] = {}

    @classmethod
    def for_trip(cls, trip: Trip) -> Schedule:
        """The schedule of ``trip``, built once per trip object."""
        found = cls._memo.get(id(trip))
        if found is not None and found[0] is trip:
            return found[1]
        return cls.remember(cls(trip))

    @classmethod
    def remember(cls, schedule: Schedule) -> Schedule:
        """Keep ``schedule`` for :meth:`for_trip` (a few trips: old versions drop out)."""
        if len(cls._memo) >= 8:
            cls._memo.pop(next(iter(cls._memo)))
        cls._memo[id(schedule.trip)] = (schedule.trip, schedule)
        return schedule

    def __init__(self, trip: Trip) -> None:
        self.trip = trip
        self.days = group_days(trip)
        self._starts = [e.sort_at for e in trip.events]
        self._day_starts = [d.first for d in self.days]
        self._until = self._running_until(trip.events)
        self._longest = max(
            (u - e.start.astimezone(UTC) for e in trip.events if (u := self._until.get(e.id))),
            default=timedelta(0),
        )
        self.first_instant = trip.events[0].start if trip.events else None
        #: When the trip is over: the latest end (a TBC event lasts to the end of its day).
        self.last_instant = max(
            (
                self.until(e) if e.time_confirmed else _day_end(e).astimezone(UTC)
                for e in trip.events
            ),
            default=None,
        )

    @staticmethod
    def _running_until(events: tuple[Event, ...]) -> dict[str, datetime]:
        """When each confirmed event stops being "in progress".

        Its ``end`` when given; otherwise the start of the next confirmed event,
        but no more than :data:`OPEN_ENDED` after its own start.
        """
        # All in UTC: two datetimes sharing a zone compare and add by wall clock, which
        # is wrong across a DST change (01:45 EDT would sort after 01:15 EST).
        live = [e for e in events if e.time_confirmed and not e.cancelled]
        starts = [e.start.astimezone(UTC) for e in live]
        until: dict[str, datetime] = {}
        j = 0
        for i, e in enumerate(live):
            if e.end is not None:
                until[e.id] = e.end.astimezone(UTC)
                continue
            j = max(j, i + 1)
            while j < len(live) and starts[j] <= starts[i]:
                j += 1
            cap = starts[i] + OPEN_ENDED
            until[e.id] = min(cap, starts[j]) if j < len(live) else cap
        return until

    def until(self, event: Event) -> datetime:
        """When ``event`` stops counting as in progress, in UTC (see :meth:`_running_until`)."""
        found = self._until.get(event.id)
        return found if found is not None else (event.end or event.start).astimezone(UTC)

    def phase(self, event: Event, now: datetime, next_event: Event | None) -> Phase:
        """The phase of one event at ``now`` (``next_event`` as given by :meth:`find_next`)."""
        now = now.astimezone(UTC)  # never compare wall clocks that share a zone
        if not event.time_confirmed:
            if now >= _day_end(event):
                return Phase.PAST
            return Phase.TBC_TODAY if now >= event.start else Phase.LATER
        if event is next_event:
            return Phase.NEXT
        if event.cancelled:
            return Phase.PAST if event.start <= now else Phase.LATER
        if event.start <= now < self.until(event):
            return Phase.NOW
        return Phase.PAST if now >= event.start else Phase.LATER

    def countdown(self, event: Event, now: datetime, *, compact: bool = False) -> str:
        """``in 42 min`` before it starts; ``38 min left`` or ``started 5 min ago`` after.

        Time still to wait is rounded up to the minute (9 min 59 s to go is "in 10 min":
        rounding down would announce a start a minute early); time gone by is rounded
        down. ``compact`` gives the short forms the timeline's state column needs
        (``in 6h10``, ``2h05 left``, ``running 5 min``), at most 14 characters.
        """
        say = compact_delta if compact else humanize_delta
        now = now.astimezone(UTC)
        if now < event.start:
            wait = event.start - now
            if wait < _MINUTE:
                return "in <1 min" if compact else "in less than a minute"
            return f"in {say(_ceil_minute(wait))}"
        if event.end is not None and now < event.end:
            left = event.end - now
            if left < _MINUTE:
                return "<1 min left" if compact else "less than a minute left"
            return f"{say(_ceil_minute(left))} left"
        if event.end is None and now < self.until(event):
            gone = now - event.start
            if gone < _MINUTE:
                return "just started"
            return f"running {say(gone)}" if compact else f"started {say(gone)} ago"
        return "ended"

    def now_index(self, now: datetime) -> int:
        """Index of the first event sorting after ``now`` (TBC events sort by ``order``)."""
        return bisect.bisect_right(self._starts, now)

    def now_position(self, now: datetime) -> int:
        """Where the "now" line goes: before the first event that is not yet over.

        A TBC event of today sorts at its day's start (or just after the confirmed
        event listed before it), so it is "behind" now most of the day; but its time is
        not known, so it is not past until its day ends: the line goes above it.
        """
        index = self.now_index(now)
        events = self.trip.events
        while index > 0 and self.pending_tbc(events[index - 1], now):
            index -= 1
        return index

    @staticmethod
    def pending_tbc(event: Event, now: datetime) -> bool:
        """True for a TBC, not cancelled event whose local day has begun and not ended."""
        if event.time_confirmed or event.cancelled:
            return False
        now = now.astimezone(UTC)
        return event.start <= now < _day_end(event)

    def day_of(self, index: int) -> int:
        """The index in :attr:`days` of the day holding event ``index``."""
        return max(0, bisect.bisect_right(self._day_starts, index) - 1)

    def whole_day(self, index: int) -> tuple[int, Sequence[Event]]:
        """Day ``index`` as the trip's: its number (from 1) and its events (a filtered
        schedule answers with the whole trip's day, see ``FilteredSchedule``)."""
        day = self.days[index]
        return index + 1, self.trip.events[day.first : day.last + 1]

    def in_progress(self, now: datetime) -> list[Event]:
        """Confirmed, not cancelled events running at ``now``."""
        now = now.astimezone(UTC)
        found = []
        # Only events that started within the longest event's length can still run.
        i = self.now_index(now) - 1
        horizon = now - self._longest
        while i >= 0 and self._starts[i] >= horizon:
            e = self.trip.events[i]
            if e.id in self._until and e.start <= now < self._until[e.id]:
                found.append(e)
            i -= 1
        found.reverse()
        return found

    def find_next(self, now: datetime) -> Event | None:
        """The next confirmed, not cancelled event that starts after ``now``."""
        events = self.trip.events
        # By index, not a slice: a slice copies the rest of the trip, each second.
        for i in range(self.now_index(now), len(events)):
            e = events[i]
            if e.time_confirmed and not e.cancelled:
                return e
        return None

    def next_any(self, now: datetime) -> Event | None:
        """The next event in programme order that is not over, TBC ones included.

        A TBC event of today counts (its time is not known, so it is still to come);
        cancelled events never do.
        """
        events = self.trip.events
        for i in range(self.now_position(now), len(events)):
            e = events[i]
            if not e.cancelled and (e.time_confirmed or self.pending_tbc(e, now) or e.start > now):
                return e
        return None

    def next_for_header(self, now: datetime) -> Event | None:
        """What the header calls "Next": the next confirmed event, unless only TBC events
        are left today at their place (then the first of them, "time TBC")."""
        nxt = self.find_next(now)
        events = self.trip.events
        for e in events[self.now_position(now) : self.now_index(now)]:
            if self.pending_tbc(e, now):
                if nxt is None or now.astimezone(nxt.place.tz).date() < nxt.local_date:
                    return e
                break
        if nxt is None:
            for i in range(self.now_index(now), len(events)):
                e = events[i]
                if not e.cancelled and self.pending_tbc(e, now):
                    return e
        return nxt

    def current_place(self, now: datetime) -> Place | None:
        """Where the delegation is now.

        The place of the event in progress; else of the last event that started (the
        destination of a travel event that is over), until the next day's first event
        moves it; cancelled events never move it, nor do TBC events on the same day
        (their time is not known). The next day's first event (a day is a local date
        in one zone) moves it once that day has begun at its place and the day of the
        last event has ended at its own:
        across the date line eastwards, Anchorage's 18 March begins before Seoul's
        18 March is over, and the delegation is still in Seoul.
        """
        running = self.in_progress(now)
        if running:
            return running[-1].place
        events = self.trip.events
        if not events:
            return self.trip.places[0] if self.trip.places else None
        utc_now = now.astimezone(UTC)
        last = None
        for i in range(self.now_index(now) - 1, -1, -1):
            e = events[i]
            if e.time_confirmed and not e.cancelled and e.start <= utc_now:
                last = i
                break
        if last is None:
            first = next((e for e in events if not e.cancelled), events[0])
            return first.place
        anchor = events[last]
        place = anchor.end_place
        # The next day's first (not cancelled) event moves it, perhaps several days on.
        # A "day" is a local date at one zone: Anchorage's 18 March follows Seoul's.
        for i in range(last + 1, len(events)):
            e = events[i]
            if e.cancelled:
                continue
            if e.local_date == anchor.local_date and e.place.tz.key == anchor.place.tz.key:
                continue  # the same day: a TBC event's time is not known, it moves nothing
            begun = utc_now >= local_midnight(e.local_date, e.place.tz)
            if not begun or utc_now < _day_end(anchor):
                break
            place, anchor = e.place, e
        return place

    def banner(self, now: datetime) -> str | None:
        """ "starts in 3 days" / "ended 2 hours ago" when the trip is wholly ahead or behind."""
        first, last = self.first_instant, self.last_instant
        if first is None or last is None:
            return "this trip has no events yet"
        if now < first:
            wait = first - now  # rounded up, as the countdowns are
            return f"starts in {humanize_delta(wait if wait < _MINUTE else _ceil_minute(wait))}"
        if now >= last:
            return f"ended {humanize_delta(now - last)} ago"
        return None


def local_time_label(event: Event, time_format: int = 24, *, pad: bool = False) -> str:
    """``09:15 EST`` (``9:15 am EST``), or ``TBC`` when the time is not confirmed.

    ``pad`` aligns 12-hour times for a column (see :func:`~tripdash.domain.times.clock_time`).
    """
    if not event.time_confirmed:
        return "TBC"
    return f"{clock_time(event.start, time_format, pad=pad)} {zone_abbrev(event.start)}"


def home_time_label(
    event: Event, home: ZoneInfo, time_format: int = 24, *, pad: bool = False
) -> str:
    """``14:15 GMT`` with ``+1d``/``-1d`` when the home date differs from the local date."""
    if not event.time_confirmed:
        return "TBC"
    at_home = event.start.astimezone(home)
    marker = day_marker(at_home, event.local_date)
    clock = clock_time(at_home, time_format, pad=pad)
    return f"{clock} {zone_abbrev(at_home)}" + (f" {marker}" if marker else "")


def shifted_time_label(
    when: datetime,
    reference: date,
    time_format: int = 24,
    *,
    beside: datetime | None = None,
    pad: bool = False,
) -> str:
    """One of a moved event's two times (planned or expected): ``09:15 EST``.

    Shown ``beside`` the event's other time (in the same zone), the zone is left to that
    one unless the two differ: a shift across a change of the clocks, where ``01:30 →
    01:15 EST`` would read as early for a 01:30 that was EDT. ``+1d``/``-1d`` follows
    when its date is not ``reference`` (the day it is listed under): a dinner running
    three hours late ends on the next day.
    """
    clock = clock_time(when, time_format, pad=pad)
    zone = zone_abbrev(when)
    if beside is None or zone != zone_abbrev(beside):
        clock += f" {zone}"
    marker = day_marker(when, reference)
    return clock + (f" {marker}" if marker else "")
