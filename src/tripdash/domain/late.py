"""Running late: expected times from the shifts in force, and what they now overlap.

A shift from an event applies to that event and the ones after it, in programme
order, until its until-event (inclusive) or the end of the from-event's local day (an
instant: the next midnight where the from-event is), and stops before the first travel
event or event marked ``fixed = true``: those do not move. A shift recorded while its
own event was on (``Shift.begun``) says that event began on time and overruns: its
start stays, its end moves. Where two shifts cover an event, the one from the later
event wins (a later shift from the same event has already replaced the earlier one,
see ``records.current_shifts``). TBC and cancelled events have no time to move.

:func:`lateness` computes the delays; :meth:`Lateness.expected_trip` gives the trip
with expected times in place of planned ones, so that every question about time
(now, next, countdowns, reminders) is answered from the expected times by the
same code that answers it for the plan. The planned times stay in the trip file
and in :attr:`Lateness.planned`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tripdash.domain.model import Event, Trip
from tripdash.domain.records import Shift
from tripdash.domain.text import one_line
from tripdash.domain.times import UTC, next_local_midnight


def _later(when: datetime, minutes: int) -> datetime:
    """``when`` moved by real minutes, in its own zone.

    Through UTC: Python adds a timedelta to an aware datetime on the wall clock, so
    an hour added across a DST change would be an hour of the clock, not of time.
    """
    return (when.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(when.tzinfo)


def _utc(when: datetime) -> datetime:
    # Compared in UTC: two datetimes sharing a tzinfo compare by wall clock (fold ignored).
    return when.astimezone(UTC)


class ShiftInvalid(ValueError):
    """A shift that names unknown events or runs backwards (nothing is stored)."""


@dataclass(frozen=True)
class Delay:
    """How late one event now runs, and because of which shift."""

    minutes: int
    shift: Shift


@dataclass(frozen=True)
class Overlap:
    """A moved event whose expected time now runs into an event that does not move."""

    moved: Event
    fixed: Event

    def __str__(self) -> str:
        return f"{one_line(self.moved.title)} now overlaps {one_line(self.fixed.title)}"


@dataclass(frozen=True)
class Lateness:
    """The delays of a trip's events under the shifts in force."""

    trip: Trip
    delays: dict[str, Delay] = field(default_factory=dict)  # moved events only (minutes != 0)
    overlaps: list[Overlap] = field(default_factory=list)
    orphaned: list[Shift] = field(default_factory=list)  # from events no longer in the trip

    def minutes(self, event_id: str) -> int:
        delay = self.delays.get(event_id)
        return delay.minutes if delay else 0

    def overlapping(self, event_id: str) -> list[Overlap]:
        """The overlaps this event is part of (moved or fixed side)."""
        return [o for o in self.overlaps if event_id in (o.moved.id, o.fixed.id)]

    def expected_trip(self) -> Trip:
        """The trip with every moved event at its expected time (the same object if none)."""
        if not self.delays:
            return self.trip
        events = []
        previous: datetime | None = None
        for event in self.trip.events:
            delay = self.delays.get(event.id)
            if delay is not None and _overruns(event, delay):
                # It began on time and runs long: the same start, a later end.
                event = replace(event, end=_later(event.end, delay.minutes))  # type: ignore[arg-type]
            elif delay is not None:
                event = replace(
                    event,
                    start=_later(event.start, delay.minutes),
                    end=_later(event.end, delay.minutes) if event.end is not None else None,
                    order=event.sort_at + timedelta(minutes=delay.minutes),
                )
            # The timeline keeps the programme's order (and its bisect a sorted list):
            # a moved event never sorts before the one listed above it.
            if previous is not None and event.sort_at < previous:
                event = replace(event, order=previous)
            previous = event.sort_at
            events.append(event)
        return replace(self.trip, events=tuple(events))

    def headline(self, event_id: str | None) -> str:
        """``running 20 min late since CSIS speech`` for the event in progress or next."""
        delay = self.delays.get(event_id) if event_id else None
        if delay is None:
            return ""
        source = next((e for e in self.trip.events if e.id == delay.shift.from_event), None)
        since = f" since {one_line(source.title)}" if source is not None else ""
        if delay.minutes > 0:
            return f"running {delay.minutes} min late{since}"
        return f"running {-delay.minutes} min early{since}"


def under_way(expected: Trip, event_id: str, now: datetime) -> bool:
    """Whether an event has begun at ``now`` by its expected start: a shift recorded
    from it then says it overruns (``begun``), not that it starts late."""
    for event in expected.events:
        if event.id == event_id:
            return event.time_confirmed and _utc(event.start) <= _utc(now)
    return False


def _overruns(event: Event, delay: Delay) -> bool:
    """The shift's own event, on when the shift was recorded: only its end moves.

    Without an end there is nothing to move: it then moves whole, as it did before.
    """
    return delay.shift.begun and delay.shift.from_event == event.id and event.end is not None


def _moves(event: Event) -> bool:
    return event.time_confirmed and not event.cancelled


def _stops(event: Event) -> bool:
    """A travel event or a fixed one: shifts stop before it."""
    return event.fixed or event.to is not None or event.kind == "travel"


def stays_put(event: Event) -> bool:
    """True for an event no shift moves: a travel event or one marked ``fixed = true``."""
    return _stops(event)


def check_shift(trip: Trip, from_event: str, until_event: str | None) -> None:
    """Raise ShiftInvalid when a shift names an unknown event or ends before it begins."""
    index = {e.id: i for i, e in enumerate(trip.events)}
    if from_event not in index:
        raise ShiftInvalid(f"no event {from_event!r} in this trip")
    start = trip.events[index[from_event]]
    if not start.time_confirmed:
        raise ShiftInvalid(f"{from_event!r} has no time yet (TBC): shift from a timed event")
    if _stops(start):
        raise ShiftInvalid(f"{from_event!r} is a travel or fixed event: it does not move")
    if until_event is not None:
        if until_event not in index:
            raise ShiftInvalid(f"no event {until_event!r} in this trip")
        if index[until_event] < index[from_event]:
            raise ShiftInvalid(f"{until_event!r} comes before {from_event!r}")


def lateness(trip: Trip, shifts: dict[str, Shift]) -> Lateness:
    """Apply the shifts in force to the trip's events (see the module's rules)."""
    index = {e.id: i for i, e in enumerate(trip.events)}
    orphaned = [s for s in shifts.values() if s.from_event not in index]
    applied: dict[str, Delay] = {}
    # From the earliest from-event to the latest: a later one overrides where both apply.
    for shift in sorted(
        (s for s in shifts.values() if s.from_event in index), key=lambda s: index[s.from_event]
    ):
        first = index[shift.from_event]
        origin = trip.events[first]
        # The end of the from-event's day, as an instant: an event in another zone has
        # its own date (Anchorage's Thursday comes a day after Seoul's, over the date
        # line), which says nothing about whether the delegation's day is over.
        day_end = _utc(next_local_midnight(origin.local_date, origin.place.tz))
        last = index.get(shift.until_event, -1) if shift.until_event else -1
        for i in range(first, len(trip.events)):
            event = trip.events[i]
            if _stops(event):
                break
            if last >= 0 and i > last:
                break
            if last < 0 and _utc(event.sort_at) >= day_end:
                break
            if _moves(event):
                applied[event.id] = Delay(shift.minutes, shift)
    delays = {k: v for k, v in applied.items() if v.minutes != 0}
    return Lateness(trip, delays, _overlaps(trip, delays), orphaned)


def _overlaps(trip: Trip, delays: dict[str, Delay]) -> list[Overlap]:
    """Moved events whose expected time runs into the nearest fixed or travel event."""
    found: list[Overlap] = []
    events = trip.events
    if not delays:
        return found
    # The nearest event that does not move after and before each one: one pass each way,
    # not a scan per moved event (a 10,000-event trip with few fixed events).
    after: list[Event | None] = [None] * len(events)
    before: list[Event | None] = [None] * len(events)
    nearest: Event | None = None
    for i in range(len(events) - 1, -1, -1):
        after[i] = nearest
        if _stops(events[i]):
            nearest = events[i]
    nearest = None
    for i, event in enumerate(events):
        before[i] = nearest
        if _stops(event):
            nearest = event
    for i, event in enumerate(events):
        delay = delays.get(event.id)
        if delay is None:
            continue
        start = _utc(event.start if _overruns(event, delay) else _later(event.start, delay.minutes))
        ends = _utc(_later(event.end or event.start, delay.minutes))
        if delay.minutes > 0:
            fixed = after[i]
            if fixed is None or not _moves(fixed):
                continue
            if ends > _utc(fixed.start) or start >= _utc(fixed.start):
                found.append(Overlap(event, fixed))
        else:
            earlier = before[i]
            if earlier is None or not _moves(earlier):
                continue
            if start < _utc(earlier.end or earlier.start):
                found.append(Overlap(event, earlier))
    return found
