"""Questions about counterparts: their meetings, and how many talking points are covered."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tripdash.domain.model import Counterpart, Event
from tripdash.domain.schedule import Phase, Schedule


def covered_count(counterpart: Counterpart, done: Collection[str]) -> int:
    """How many of the counterpart's talking points are marked done."""
    return sum(1 for point in counterpart.talking_points if point.item_id in done)


def covered(counterpart: Counterpart, done: Collection[str]) -> str:
    """``3/5 covered`` (or ``no talking points``)."""
    total = len(counterpart.talking_points)
    if not total:
        return "no talking points"
    return f"{covered_count(counterpart, done)}/{total} covered"


def meetings_of(schedule: Schedule, counterpart_id: str) -> list[Event]:
    """The events a counterpart attends, in programme order."""
    return [e for e in schedule.trip.events if any(c.id == counterpart_id for c in e.counterparts)]


def next_meeting(schedule: Schedule, counterpart_id: str, now: datetime) -> Event | None:
    """Their next meeting: the first not yet over (TBC ones count until their day ends);
    None when every meeting is over or cancelled (see :func:`last_meeting`)."""
    for event in meetings_of(schedule, counterpart_id):
        if not event.cancelled and schedule.phase(event, now, None) is not Phase.PAST:
            return event
    return None


def last_meeting(schedule: Schedule, counterpart_id: str) -> Event | None:
    """The last meeting in the programme that is not cancelled (else the last at all)."""
    meetings = meetings_of(schedule, counterpart_id)
    held = [e for e in meetings if not e.cancelled] or meetings
    return held[-1] if held else None
