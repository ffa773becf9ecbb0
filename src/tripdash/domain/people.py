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
    """Their next meeting: the first not yet over (TBC ones count until their day ends)."""
    meetings = meetings_of(schedule, counterpart_id)
    for event in meetings:
        if not event.cancelled and schedule.phase(event, now, None) is not Phase.PAST:
            return event
    return meetings[-1] if meetings else None
