"""What the programme looks like at a given instant: days, states, now and next.

Pure functions of a :class:`~tripdash.domain.model.Trip` and an aware
instant; the dashboard and the ``agenda`` command both stand on them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from tripdash.domain.model import Event, Place, Trip
from tripdash.domain.times import day_marker, humanize_delta, local_midnight, zone_abbrev


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


def end_or_start(event: Event) -> datetime:
    return event.end if event.end is not None else event.start


def phase_of(event: Event, now: datetime, next_event: Event | None) -> Phase:
    """The phase of one event at ``now`` (``next_event`` as given by :func:`find_next`)."""
    if not event.time_confirmed:
        day_end = local_midnight(event.local_date + timedelta(days=1), event.place.tz)
        if now >= day_end:
            return Phase.PAST
        if now >= event.start:
            return Phase.TBC_TODAY
        return Phase.LATER
    if event is next_event:
        return Phase.NEXT
    if event.start <= now < end_or_start(event) and not event.cancelled:
        return Phase.NOW
    if end_or_start(event) <= now or (event.cancelled and event.start <= now):
        return Phase.PAST
    return Phase.LATER


class Schedule:
    """A trip with indexes for fast questions about time (bisect, not scans)."""

    def __init__(self, trip: Trip) -> None:
        self.trip = trip
        self.days = group_days(trip)
        self._starts = [e.sort_at for e in trip.events]
        self._day_starts = [d.first for d in self.days]
        self.first_instant = trip.events[0].start if trip.events else None
        #: When the trip is over: the latest end (a TBC event lasts to the end of its day).
        self.last_instant = max(
            (
                end_or_start(e)
                if e.time_confirmed
                else local_midnight(e.local_date + timedelta(days=1), e.place.tz)
                for e in trip.events
            ),
            default=None,
        )

    def now_index(self, now: datetime) -> int:
        """Index of the first event starting after ``now``: where the "now" line goes."""
        return bisect.bisect_right(self._starts, now)

    def day_of(self, index: int) -> int:
        """The index in :attr:`days` of the day holding event ``index``."""
        return max(0, bisect.bisect_right(self._day_starts, index) - 1)

    def in_progress(self, now: datetime) -> list[Event]:
        """Confirmed, not cancelled events running at ``now``."""
        found = []
        # Events that started at most a few days ago; scanning back is bounded by that.
        i = self.now_index(now) - 1
        horizon = now - timedelta(days=3)
        while i >= 0 and self._starts[i] >= horizon:
            e = self.trip.events[i]
            if e.time_confirmed and not e.cancelled and e.start <= now < end_or_start(e):
                found.append(e)
            i -= 1
        found.reverse()
        return found

    def find_next(self, now: datetime) -> Event | None:
        """The next confirmed, not cancelled event that starts after ``now``."""
        for e in self.trip.events[self.now_index(now) :]:
            if e.time_confirmed and not e.cancelled:
                return e
        return None

    def current_place(self, now: datetime) -> Place | None:
        """Where the delegation is: the event in progress, else the next, else the last."""
        running = self.in_progress(now)
        if running:
            return running[-1].place
        nxt = self.find_next(now)
        if nxt is not None:
            return nxt.place
        if self.trip.events:
            return self.trip.events[-1].end_place
        return self.trip.places[0] if self.trip.places else None

    def banner(self, now: datetime) -> str | None:
        """ "starts in 3 days" / "ended 2 hours ago" when the trip is wholly ahead or behind."""
        first, last = self.first_instant, self.last_instant
        if first is None or last is None:
            return "this trip has no events yet"
        if now < first:
            return f"starts in {humanize_delta(first - now)}"
        if now >= last:
            return f"ended {humanize_delta(now - last)} ago"
        return None


def countdown(event: Event, now: datetime) -> str:
    """``in 42 min`` before it starts; ``38 min left`` while it runs."""
    if now < event.start:
        return f"in {humanize_delta(event.start - now)}"
    if event.end is not None and now < event.end:
        return f"{humanize_delta(event.end - now)} left"
    return "started"


def local_time_label(event: Event) -> str:
    """``09:15 EST``, or ``TBC`` when the time is not confirmed."""
    if not event.time_confirmed:
        return "TBC"
    return f"{event.start:%H:%M} {zone_abbrev(event.start)}"


def home_time_label(event: Event, home: ZoneInfo) -> str:
    """``14:15 GMT`` with ``+1d``/``-1d`` when the home date differs from the local date."""
    if not event.time_confirmed:
        return "TBC"
    at_home = event.start.astimezone(home)
    marker = day_marker(at_home, event.local_date)
    return f"{at_home:%H:%M} {zone_abbrev(at_home)}" + (f" {marker}" if marker else "")


def clock_label(instant: datetime, zone: ZoneInfo, seconds: bool = True) -> str:
    """A header clock: ``Tue 17 Jan 09:15:02 EST UTC-05:00``."""
    from tripdash.domain.times import format_offset

    here = instant.astimezone(zone)
    fmt = "%a %d %b %H:%M:%S" if seconds else "%a %d %b %H:%M"
    return f"{here:{fmt}} {zone_abbrev(here)} {format_offset(here)}"


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """Text from a trip file made harmless for a terminal: control characters made visible.

    Escape sequences (ESC, CSI), other C0/C1 controls and bidirectional
    overrides are shown as ``\\x1b``-style escapes, never sent to the terminal.
    Tabs become spaces; newlines stay.
    """
    text = text.replace("\t", "    ")
    return _CONTROL.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """:func:`safe_text`, with newlines folded to spaces (for table cells)."""
    return " ".join(safe_text(text).split())
