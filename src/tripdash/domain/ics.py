"""The calendar export: a trip as an iCalendar file (RFC 5545), made with ``icalendar``.

* Every event is a VEVENT whose UID is stable (derived from the trip id and the event
  id, hashed so that no id text reaches the file), so importing a newer export updates
  events in place.
* Timed events have DTSTART in their place's zone (TZID, with a VTIMEZONE for every zone
  used, covering the trip's dates); travel ends (DTEND) in the destination's zone. An
  event without an end gets no DTEND: RFC 5545 says it then ends when it starts, and
  calcurse refuses ``DURATION:PT0S`` (it drops the event), while no DTEND imports
  everywhere. A wall time that happens twice (the repeated hour) is written in UTC,
  since a TZID time in the repeated hour means its first occurrence.
* TBC events are all-day on their local date, "(time TBC)" in the summary.
* SEQUENCE and LAST-MODIFIED come from the previous export of the same trip, profile and
  day (see :func:`read_previous`): unchanged events keep them, changed ones get SEQUENCE
  + 1 and LAST-MODIFIED now, and an event that is no longer there is exported once more
  as CANCELLED (then left out), so subscribers drop it.

Outside text goes through :mod:`tripdash.domain.text` (one line for the summary and
location; control characters shown as escapes) before it is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

import tripdash
from tripdash.domain.handouts import (
    ExpectedTimes,
    HandoutError,
    numbered_days,
    require_timed,
    timing,
)
from tripdash.domain.model import Event, Status, Trip
from tripdash.domain.redact import redact
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import UTC, day_marker, zone_abbrev

PRODID = f"-//tripdash//tripdash {tripdash.__version__}//EN"
_STATUS = {
    Status.CONFIRMED: "CONFIRMED",
    Status.TENTATIVE: "TENTATIVE",
    Status.CANCELLED: "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class PreviousEvent:
    """What the previous export said about one event."""

    sequence: int
    last_modified: datetime | None
    content: str
    removed: bool
    summary: str
    start: date | datetime | None


@dataclass(frozen=True, slots=True)
class Previous:
    """The previous export of the same trip, profile and day: its events by UID."""

    events: dict[str, PreviousEvent]


def uid(trip_id: str, event_id: str) -> str:
    """The event's stable UID: the same trip id and event id always give the same one."""
    digest = hashlib.sha256(f"{trip_id}\0{event_id}".encode()).hexdigest()[:32]
    return f"{digest}@tripdash"


def _scope(day: date | None) -> str:
    return day.isoformat() if day else "all"


def read_previous(
    data: bytes, *, name: str, trip_id: str, profile: str, day: date | None
) -> Previous:
    """Parse a previous export. Raises :class:`HandoutError` when it is not one of this
    trip, profile and day (its SEQUENCEs would not apply, and its removed events would
    be another audience's)."""
    try:
        cal = Calendar.from_ical(data)
    except Exception:  # icalendar raises ValueError and others for text that is no calendar
        raise HandoutError(
            f"{name}: not an iCalendar file, so not a previous export; "
            "give -o another file, or --previous the last export"
        ) from None
    made = (
        str(cal.get("x-tripdash-trip", "")),
        str(cal.get("x-tripdash-profile", "")),
        str(cal.get("x-tripdash-day", "")),
    )
    wanted = (trip_id, profile, _scope(day))
    if made != wanted:
        what = (
            f"is the export of trip {made[0]!r}, profile {made[1]}, day {made[2]}"
            if made[0]
            else "was not made by tripdash export"
        )
        raise HandoutError(
            f"{one_line(name)}: {one_line(what)}; this one is trip {trip_id!r}, profile "
            f"{profile}, day {_scope(day)}: give -o another file, or --previous the last "
            "export of this trip, profile and day"
        )
    events: dict[str, PreviousEvent] = {}
    for component in cal.walk("VEVENT"):
        key = str(component.get("uid", ""))
        if not key:
            continue
        try:
            sequence = int(component.get("sequence", 0))
            modified = component.decoded("last-modified") if "last-modified" in component else None
            start = component.decoded("dtstart") if "dtstart" in component else None
        except (ValueError, TypeError):
            raise HandoutError(f"{one_line(name)}: event {one_line(key)} is unreadable") from None
        events[key] = PreviousEvent(
            sequence=sequence,
            last_modified=modified if isinstance(modified, datetime) else None,
            content=str(component.get("x-tripdash-content", "")),
            removed=str(component.get("x-tripdash-removed", "")) == "1",
            summary=str(component.get("summary", "")),
            start=start if isinstance(start, (date, datetime)) else None,
        )
    return Previous(events)


def _ambiguous(dt: datetime) -> bool:
    """Whether ``dt``'s wall time happens twice in its zone (the repeated hour)."""
    naive = dt.replace(tzinfo=None)
    tz = dt.tzinfo
    return (
        naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
        and naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        == naive
    )


def _ical_time(dt: datetime) -> datetime:
    return dt.astimezone(UTC) if _ambiguous(dt) else dt


def _summary(event: Event) -> str:
    title = one_line(event.title)
    return title if event.time_confirmed else f"{title} (time TBC)"


def _location(event: Event) -> str:
    where = one_line(event.place.name)
    if event.to is not None:
        where = f"{where} to {one_line(event.to.name)}"
    if event.venue:
        where = f"{one_line(event.venue)}, {where}"
    return where


def _description(event: Event, trip: Trip, expected: ExpectedTimes | None) -> str:
    lines: list[str] = []
    marking = one_line(trip.marking) if trip.marking else None
    if marking:
        lines += [marking, ""]
    times = timing(event, expected)
    if event.time_confirmed:
        at_home = times.start.astimezone(trip.home_tz)
        marker = day_marker(at_home, times.start.date())
        lines.append(
            f"Home time: {at_home:%H:%M} {zone_abbrev(at_home)}" + (f" {marker}" if marker else "")
        )
        if times.planned_start is not None:
            lines.append(f"Planned: {times.planned_start:%H:%M} {zone_abbrev(times.planned_start)}")
        if event.to is not None and times.end is not None:
            lines.append(f"Arrives: {times.end:%H:%M} {zone_abbrev(times.end)} ({event.to.tz.key})")
    for c in event.counterparts:
        about = ", ".join(one_line(x) for x in (c.role, c.country) if x)
        lines.append(f"With: {one_line(c.name)}" + (f" ({about})" if about else ""))
    if event.press:
        lines.append(f"Press: {safe_text(event.press)}")
    for c in event.counterparts:
        if c.talking_points:
            lines += ["", f"Talking points with {one_line(c.name)}:"]
            lines += [f"- {safe_text(p.text)}" for p in c.talking_points]
    if event.notes:
        lines += ["", f"Notes: {safe_text(event.notes)}"]
    if marking:
        lines += ["", marking]
    return "\n".join(lines).strip("\n")


def _content_key(parts: Sequence[object]) -> str:
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:32]


def _vevent(
    event: Event, trip: Trip, expected: ExpectedTimes | None
) -> tuple[VEvent, str, set[ZoneInfo]]:
    """The VEVENT of ``event`` without its versioning properties, its content key, its zones."""
    vevent = VEvent()
    zones: set[ZoneInfo] = set()
    times = timing(event, expected)
    if event.time_confirmed:
        vevent.add("dtstart", _ical_time(times.start))
        zones.add(event.place.tz)
        if times.end is not None:
            vevent.add("dtend", _ical_time(times.end))
            zones.add(event.end_place.tz)
    else:
        vevent.add("dtstart", event.local_date)
        vevent.add("dtend", event.local_date + timedelta(days=1))
    vevent.add("summary", _summary(event))
    vevent.add("location", _location(event))
    description = _description(event, trip, expected)
    if description:
        vevent.add("description", description)
    vevent.add("status", _STATUS[event.status])
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    content = _content_key(
        [
            vevent["dtstart"].to_ical(),
            vevent["dtend"].to_ical() if "dtend" in vevent else b"",
            sorted(z.key for z in zones),
            _summary(event),
            _location(event),
            description,
            _STATUS[event.status],
        ]
    )
    return vevent, content, zones


def export_ics(
    trip: Trip,
    *,
    now: datetime,
    profile: str = "full",
    day: date | None = None,
    previous: Previous | None = None,
    expected: ExpectedTimes | None = None,
) -> bytes:
    """The iCalendar file of ``trip`` (or of one local ``day``) as ``profile`` allows.

    ``now`` is the injected clock's instant (DTSTAMP, and LAST-MODIFIED of what changed).
    Raises :class:`HandoutError` for a day outside the trip or nothing to export.
    """
    shown = redact(trip, profile)
    if profile == "public" and not shown.events:
        raise HandoutError(f"{trip.id}: no event has a press line: the public profile is empty")
    days = numbered_days(shown, day)
    events = [e for _, d in days for e in shown.events[d.first : d.last + 1]]
    # A day whose times are all TBC is worth a page; a trip without one time is not.
    require_timed(shown.events, trip.id)
    stamp = now.astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title = one_line(shown.title)
    marking = one_line(shown.marking) if shown.marking else None
    cal.add("x-wr-calname", f"{marking}: {title}" if marking else title)
    if marking:
        cal.add("x-tripdash-marking", marking)
    cal.add("x-tripdash-trip", trip.id)
    cal.add("x-tripdash-profile", profile)
    cal.add("x-tripdash-day", _scope(day))

    before = previous.events if previous else {}
    zones: set[ZoneInfo] = set()
    components: list[VEvent] = []
    current: set[str] = set()
    for event in events:
        vevent, content, used = _vevent(event, shown, expected)
        zones |= used
        key = uid(trip.id, event.id)
        current.add(key)
        old = before.get(key)
        if old is None:
            sequence, modified = 0, stamp
        elif old.content == content and not old.removed:
            sequence, modified = old.sequence, old.last_modified or stamp
        else:
            sequence, modified = old.sequence + 1, stamp
        _version(vevent, key, stamp, sequence, modified, content)
        components.append(vevent)
    for key in sorted(before):
        old = before[key]
        if key in current or old.removed:
            continue  # still there, or already cancelled once: subscribers have dropped it
        components.append(_tombstone(key, old, stamp))

    if zones:
        dates = [e.local_date for e in events]
        first, last = min(dates) - timedelta(days=2), max(dates) + timedelta(days=3)
        for zone in sorted(zones, key=lambda z: z.key):
            cal.add_component(Timezone.from_tzinfo(zone, first_date=first, last_date=last))
    for component in components:
        cal.add_component(component)
    return bytes(cal.to_ical())


def _version(
    vevent: VEvent, key: str, stamp: datetime, sequence: int, modified: datetime, content: str
) -> None:
    vevent.add("uid", key)
    vevent.add("dtstamp", stamp)
    vevent.add("sequence", sequence)
    vevent.add("last-modified", modified.astimezone(UTC))
    vevent.add("x-tripdash-content", content)


def _tombstone(key: str, old: PreviousEvent, stamp: datetime) -> VEvent:
    """A removed event, exported once more as cancelled (same profile's text only)."""
    vevent = VEvent()
    start = old.start
    if isinstance(start, datetime):
        vevent.add("dtstart", start.astimezone(UTC) if start.tzinfo else start)
    elif start is not None:
        vevent.add("dtstart", start)
    vevent.add("summary", one_line(old.summary) or "Removed from the programme")
    vevent.add("description", "Removed from the programme.")
    vevent.add("status", "CANCELLED")
    vevent.add("transp", "TRANSPARENT")
    _version(vevent, key, stamp, old.sequence + 1, stamp, "removed")
    vevent.add("x-tripdash-removed", "1")
    return vevent
