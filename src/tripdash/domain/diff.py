"""What changed between two versions of a trip, item by item, in words staff can act on.

Items are matched by id, as marks are: an event whose id stays the same is
the same event, however much else about it changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from tripdash.domain.model import Event, Trip
from tripdash.domain.schedule import home_time_label
from tripdash.domain.text import one_line
from tripdash.domain.times import UTC, clock_time, zone_abbrev


@dataclass(frozen=True, slots=True)
class Change:
    """One change: what kind, which item, and a sentence."""

    kind: str  # added, removed, cancelled, reinstated, moved, status, place, venue, ...
    item_id: str
    text: str

    def __str__(self) -> str:
        return self.text


def _when(event: Event, trip: Trip, time_format: int) -> str:
    """``Tue 17 Jan 15:30 EST (20:30 GMT)``, or ``Wed 18 Jan, time TBC``."""
    if not event.time_confirmed:
        return f"{event.local_date:%a %d %b}, time TBC"
    home = home_time_label(event, trip.home_tz, time_format)
    local = clock_time(event.start, time_format)
    return f"{event.start:%a %d %b} {local} {zone_abbrev(event.start)} ({home})"


def _end(event: Event, trip: Trip, time_format: int) -> str:
    if event.end is None:
        return "no end time"
    local = event.end.astimezone(event.end_place.tz)
    home = event.end.astimezone(trip.home_tz)
    return (
        f"{local:%a %d %b} {clock_time(local, time_format)} {zone_abbrev(local)} "
        f"({clock_time(home, time_format)} {zone_abbrev(home)})"
    )


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def diff_trips(old: Trip, new: Trip, time_format: int = 24) -> list[Change]:
    """Every change from ``old`` to ``new``, events in the new programme's order (times in
    12- or 24-hour form: ``time_format``)."""
    when = functools.partial(_when, time_format=time_format)
    changes: list[Change] = []
    if old.id != new.id:
        # Marks, notes and shifts are kept per trip id: none of the old trip's apply.
        changes.append(
            Change(
                "trip",
                "",
                f"Another trip: id {one_line(old.id)} → {one_line(new.id)} (marks, notes "
                "and shifts are kept per trip: the old trip's do not carry over)",
            )
        )
    if old.title != new.title:
        changes.append(
            Change("trip", "", f"Trip renamed: {one_line(old.title)} → {one_line(new.title)}")
        )
    if old.home_tz.key != new.home_tz.key:
        changes.append(Change("trip", "", f"Home time zone: {old.home_tz.key} → {new.home_tz.key}"))
    before = {e.id: e for e in old.events}
    after = {e.id: e for e in new.events}
    for event in new.events:
        title = one_line(event.title)
        if event.id not in before:
            changes.append(Change("added", event.id, f"Added: {title}, {when(event, new)}"))
            continue
        changes.extend(_event_changes(before[event.id], event, old, new, time_format))
    for event in old.events:
        if event.id not in after:
            changes.append(
                Change(
                    "removed",
                    event.id,
                    f"Removed: {one_line(event.title)} (was {when(event, old)})",
                )
            )
    changes.extend(_people_changes(old, new))
    return changes


def _event_changes(a: Event, b: Event, old: Trip, new: Trip, time_format: int) -> list[Change]:
    when = functools.partial(_when, time_format=time_format)
    end = functools.partial(_end, time_format=time_format)
    out: list[Change] = []
    title = one_line(b.title)
    if a.title != b.title:
        out.append(Change("renamed", b.id, f"Renamed: {one_line(a.title)} → {title}"))
    if a.status != b.status:
        if b.cancelled:
            out.append(Change("cancelled", b.id, f"Cancelled: {title}, {when(b, new)}"))
        elif a.cancelled:
            out.append(Change("reinstated", b.id, f"Reinstated: {title}, {when(b, new)}"))
        else:
            out.append(Change("status", b.id, f"Now {b.status.value}: {title}, {when(b, new)}"))
    # Compare instants in UTC: same-zone datetimes compare by wall clock, blind to fold.
    # A TBC event has no time, only a local date: a new place in another zone is no move.
    if a.time_confirmed and b.time_confirmed:
        moved = _utc(a.start) != _utc(b.start)
    else:
        moved = a.time_confirmed != b.time_confirmed or a.local_date != b.local_date
    if moved:
        out.append(Change("moved", b.id, f"Moved: {title}: {when(a, old)} → {when(b, new)}"))
    if (a.end and _utc(a.end)) != (b.end and _utc(b.end)) and not moved:
        out.append(Change("end", b.id, f"New end: {title}: {end(a, old)} → {end(b, new)}"))
    if a.place.id != b.place.id or (a.to and a.to.id) != (b.to and b.to.id):
        where_a = a.place.name + (f" → {a.to.name}" if a.to else "")
        where_b = b.place.name + (f" → {b.to.name}" if b.to else "")
        out.append(
            Change("place", b.id, f"New place: {title}: {one_line(where_a)} → {one_line(where_b)}")
        )
    if a.venue != b.venue:
        out.append(
            Change(
                "venue",
                b.id,
                f"New venue: {title}: {one_line(a.venue or 'none')} → "
                f"{one_line(b.venue or 'none')}",
            )
        )
    people_a = {c.id: c.name for c in a.counterparts}
    people_b = {c.id: c.name for c in b.counterparts}
    # In the file's order (not a set's, which changes with the hash seed).
    for cid, name in people_b.items():
        if cid not in people_a:
            out.append(Change("attendee", b.id, f"{one_line(name)} now attends {title}"))
    for cid, name in people_a.items():
        if cid not in people_b:
            out.append(Change("attendee", b.id, f"{one_line(name)} no longer attends {title}"))
    return out


def _people_changes(old: Trip, new: Trip) -> list[Change]:
    out: list[Change] = []
    before = {c.id: c for c in old.counterparts}
    after = {c.id: c for c in new.counterparts}
    for cid, cp in after.items():
        if cid not in before:
            out.append(Change("counterpart", cid, f"New counterpart: {one_line(cp.name)}"))
            continue
        old_points = {p.id: p for p in before[cid].talking_points}
        new_points = {p.id: p for p in cp.talking_points}
        for pid, point in new_points.items():
            if pid not in old_points:
                out.append(
                    Change(
                        "point",
                        point.item_id,
                        f"New talking point for {one_line(cp.name)}: {one_line(point.text)}",
                    )
                )
            elif old_points[pid].text != point.text:
                out.append(
                    Change(
                        "point",
                        point.item_id,
                        f"Reworded talking point for {one_line(cp.name)}: {one_line(point.text)}",
                    )
                )
        for pid, point in old_points.items():
            if pid not in new_points:
                out.append(
                    Change(
                        "point",
                        point.item_id,
                        f"Talking point dropped for {one_line(cp.name)}: {one_line(point.text)}",
                    )
                )
    for cid, cp in before.items():
        if cid not in after:
            out.append(Change("counterpart", cid, f"Counterpart removed: {one_line(cp.name)}"))
    return out
