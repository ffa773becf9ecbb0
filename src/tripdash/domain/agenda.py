"""The programme as plain text or JSON, for ``tripdash agenda``.

Plain text, never Rich markup: trip text is printed literally, with control
characters made visible by :func:`~tripdash.domain.text.safe_text`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from tripdash.domain.late import Lateness
from tripdash.domain.model import Event, Trip
from tripdash.domain.records import NoteVersion
from tripdash.domain.schedule import (
    group_days,
    home_time_label,
    local_time_label,
    shifted_time_label,
)
from tripdash.domain.text import has_unsafe, one_line
from tripdash.domain.times import UTC as _UTC
from tripdash.domain.times import clock_time, clock_width


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def notes_json(versions: list[NoteVersion]) -> list[dict[str, str]]:
    """A note's current versions (several when they conflict) for ``--json``."""
    return [{"text": v.text, "who": v.who, "at": v.at.isoformat()} for v in versions]


def event_json(
    event: Event,
    trip: Trip,
    done: bool,
    done_ids: Collection[str] = (),
    *,
    late: Lateness | None = None,
    expected: Event | None = None,
    notes: Mapping[str, list[NoteVersion]] | None = None,
) -> dict[str, Any]:
    """One event as the ``agenda --json`` contract describes it.

    ``late``/``expected``: the delays in force and the event at its expected time;
    ``notes``: the team's notes by item id.
    """
    confirmed = event.time_confirmed
    start = event.start if confirmed else None
    end = event.end if confirmed else None
    home = trip.home_tz
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind,
        "status": event.status.value,
        "place": event.place.id,
        "place_name": event.place.name,
        "tz": event.place.tz.key,
        "to": event.to.id if event.to else None,
        "end_tz": event.end_place.tz.key,
        "date": event.local_date.isoformat(),
        "time_confirmed": confirmed,
        "start_local": _iso(start),
        "start_utc": _iso(start.astimezone(_UTC)) if start else None,
        "start_home": _iso(start.astimezone(home)) if start else None,
        "end_local": _iso(end),
        "end_utc": _iso(end.astimezone(_UTC)) if end else None,
        "end_home": _iso(end.astimezone(home)) if end else None,
        "venue": event.venue,
        "counterparts": [c.id for c in event.counterparts],
        # The talking points of the event's counterparts, with their own done state.
        "talking_points": [
            {"id": p.item_id, "counterpart": c.id, "text": p.text, "done": p.item_id in done_ids}
            for c in event.counterparts
            for p in c.talking_points
        ],
        "press": event.press,
        "notes": event.notes,
        "done": done,
        **_late_json(event, late, expected),
        "team_notes": notes_json((notes or {}).get(event.id, [])),
        "counterpart_notes": {
            c.id: notes_json((notes or {}).get(c.id, [])) for c in event.counterparts
        },
    }


def _late_json(event: Event, late: Lateness | None, expected: Event | None) -> dict[str, Any]:
    """``delay_minutes`` and the expected times (the planned ones when nothing moved it)."""
    moved = expected if expected is not None and late is not None else event
    minutes = late.minutes(event.id) if late is not None else 0
    confirmed = event.time_confirmed
    start = moved.start if confirmed else None
    end = moved.end if confirmed else None
    return {
        "delay_minutes": minutes,
        "expected_start_utc": _iso(start.astimezone(_UTC)) if start else None,
        "expected_end_utc": _iso(end.astimezone(_UTC)) if end else None,
        "overlaps": [
            o.fixed.id if o.moved.id == event.id else o.moved.id
            for o in (late.overlapping(event.id) if late is not None else [])
        ],
    }


def agenda_json(
    trip: Trip,
    done: Collection[str] = (),
    day: date | None = None,
    *,
    late: Lateness | None = None,
    notes: Mapping[str, list[NoteVersion]] | None = None,
) -> str:
    """The ``--json`` output: a list of event objects, in time order."""
    expected = {e.id: e for e in late.expected_trip().events} if late is not None else {}
    items = [
        event_json(e, trip, e.id in done, done, late=late, expected=expected.get(e.id), notes=notes)
        for e in trip.events
        if day is None or e.local_date == day
    ]
    text = json.dumps(items, ensure_ascii=False, indent=2)
    # JSON allows raw DEL, C1 controls, bidi overrides and line separators inside strings;
    # a terminal acts on them. As \\uXXXX escapes the strings a script reads are the same.
    return _NOT_ASCII.sub(_json_escape, text)


_NOT_ASCII = re.compile("[^\x20-\x7e\n]")


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    return f"\\u{ord(ch):04x}" if has_unsafe(ch) else ch


def agenda_text(
    trip: Trip,
    done: Collection[str] = (),
    day: date | None = None,
    time_format: int = 24,
    *,
    late: Lateness | None = None,
) -> str:
    """The programme grouped by local day, each event with local and home time (in 12- or
    24-hour form: ``time_format``; and, where the day runs late, the expected times beside
    the planned ones)."""
    expected = {e.id: e for e in late.expected_trip().events} if late is not None else {}
    home_name = trip.home_tz.key
    lines = [one_line(trip.title)]
    if trip.principal:
        lines.append(one_line(trip.principal))
    lines.append(f"Times: local at each place | home ({home_name})")
    shown = 0
    for d in group_days(trip):
        if day is not None and d.date != day:
            continue
        lines.append("")
        lines.append(f"{d.heading} - {one_line(', '.join(d.places))}")
        for event in trip.events[d.first : d.last + 1]:
            shown += 1
            lines.extend(_event_lines(event, trip, event.id in done, time_format))
            if late is not None and late.minutes(event.id):
                lines[-2] += _expected_label(event, expected[event.id], trip, late, time_format)
    if shown == 0:
        lines.append("")
        lines.append(f"No events on {day.isoformat()}." if day else "No events.")
    return "\n".join(lines) + "\n"


def _expected_label(
    event: Event, moved: Event, trip: Trip, late: Lateness, time_format: int = 24
) -> str:
    """``  [+20: expected 09:35 EST | 14:35 GMT]``, and what it now overlaps."""
    # Listed under the planned day: a time expected on another date says so (+1d).
    day = event.local_date
    here = shifted_time_label(moved.start, day, time_format)
    at_home = shifted_time_label(moved.start.astimezone(trip.home_tz), day, time_format)
    text = f"  [{late.minutes(event.id):+d}: expected {here} | {at_home}]"
    for overlap in late.overlapping(event.id):
        text += f"  [OVERLAPS: {overlap}]"
    return text


def _event_lines(event: Event, trip: Trip, done: bool, time_format: int) -> list[str]:
    local = local_time_label(event, time_format, pad=True)
    home = home_time_label(event, trip.home_tz, time_format, pad=True)
    flags = []
    if done:
        flags.append("DONE")
    if not event.time_confirmed:
        flags.append("TBC")
    if event.tentative:
        flags.append("TENTATIVE")
    if event.cancelled:
        flags.append("CANCELLED")
    flag_text = " ".join(f"[{f}]" for f in flags)
    title = one_line(event.title) + (f"  {flag_text}" if flag_text else "")
    # Widths fit the longest labels: "05:30 +0545" and "05:30 +0545 -1d" (45-minute zones),
    # three more at 12 hours ("12:30 pm +0545").
    local_w = clock_width(time_format) + 6
    home_w = local_w + 4
    first = f"  {local:<{local_w}} {home:<{home_w}} {title}"
    where = one_line(event.place.name)
    if event.to is not None:
        arrive = ""
        if event.end is not None and event.time_confirmed:
            arrive = f" (arrive {clock_time(event.end, time_format)} {event.end.tzname()})"
        where += f" -> {one_line(event.to.name)}{arrive}"
    if event.venue:
        where += f", {one_line(event.venue)}"
    detail = [event.kind, where]
    if event.counterparts:
        detail.append("with " + one_line(", ".join(c.name for c in event.counterparts)))
    return [first, " " * (2 + local_w + 1 + home_w + 1) + " | ".join(detail)]
