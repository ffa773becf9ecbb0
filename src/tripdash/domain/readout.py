"""The readout of a day: Markdown ready for an e-mail (``tripdash readout``).

For each event of the day: its local and home time (expected ones beside the
planned where the day runs late), place, counterparts, the talking points covered
and not covered, the trip's own notes and the team's notes (every version when they
conflict, with who and when). Then the talking points still open, per counterpart,
for the handover to the next post.

Every piece of outside text goes through :func:`tripdash.domain.text.safe_text` or
:func:`~tripdash.domain.text.one_line`; nothing is interpreted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

from tripdash.domain.late import Lateness
from tripdash.domain.model import Event, Trip
from tripdash.domain.records import NoteVersion
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import clock_time, zone_abbrev


def _when(at: datetime, trip: Trip, time_format: int = 24) -> str:
    home = at.astimezone(trip.home_tz)
    return f"{home:%a %d %b} {clock_time(home, time_format)} {zone_abbrev(home)}"


def note_lines(
    versions: list[NoteVersion], trip: Trip, indent: str = "", time_format: int = 24
) -> list[str]:
    """A note's current versions as Markdown quotes, each headed by who and when."""
    lines: list[str] = []
    several = len(versions) > 1
    for n, version in enumerate(versions, 1):
        head = f"version {n} of {len(versions)}, " if several else ""
        when = _when(version.at, trip, time_format)
        lines.append(f"{indent}- Note ({head}{one_line(version.who)}, {when}):")
        for line in safe_text(version.text).split("\n"):
            lines.append(f"{indent}  > {line}".rstrip())
    return lines


def _times(
    event: Event, trip: Trip, late: Lateness | None, expected: Event | None, time_format: int
) -> str:
    def label(e: Event) -> str:
        local = local_time_label(e, time_format)
        return f"{local} local, {home_time_label(e, trip.home_tz, time_format)} home"

    planned = label(event)
    minutes = late.minutes(event.id) if late is not None else 0
    if not minutes or expected is None:
        return planned
    now = label(expected)
    return f"{now} (planned {planned}; {minutes:+d} min)"


def readout(
    trip: Trip,
    day: date,
    done: Collection[str],
    notes: Mapping[str, list[NoteVersion]],
    late: Lateness | None = None,
    time_format: int = 24,
) -> str:
    """The Markdown readout of ``day`` (a local date of the programme); times of day in
    12- or 24-hour form (``time_format``)."""
    expected = {e.id: e for e in late.expected_trip().events} if late is not None else {}
    events = [e for e in trip.events if e.local_date == day]
    out = [f"# {one_line(trip.title)}: readout of {day:%A %d %B %Y}", ""]
    if trip.principal:
        out += [one_line(trip.principal), ""]
    out += [f"Times: local at each place; home is {trip.home_tz.key}.", ""]
    if not events:
        out += [f"No events on {day.isoformat()}.", ""]
    for event in events:
        flags = [
            flag
            for flag, on in (
                ("cancelled", event.cancelled),
                ("tentative", event.tentative),
                ("done", event.id in done),
            )
            if on
        ]
        title = one_line(event.title) + (f" ({', '.join(flags)})" if flags else "")
        out += [f"## {title}", ""]
        out.append(f"- When: {_times(event, trip, late, expected.get(event.id), time_format)}")
        where = one_line(event.place.name)
        if event.to is not None:
            where += f" to {one_line(event.to.name)}"
        if event.venue:
            where += f", {one_line(event.venue)}"
        out.append(f"- Where: {where}")
        if event.counterparts:
            names = ", ".join(one_line(c.name) for c in event.counterparts)
            out.append(f"- With: {names}")
        if late is not None:
            for overlap in late.overlapping(event.id):
                out.append(f"- Warning: {overlap}")
        for c in event.counterparts:
            covered = [p for p in c.talking_points if p.item_id in done]
            open_ = [p for p in c.talking_points if p.item_id not in done]
            if covered:
                out.append(f"- Covered with {one_line(c.name)}:")
                out += [f"  - [x] {one_line(p.text)}" for p in covered]
            if open_:
                out.append(f"- Not covered with {one_line(c.name)}:")
                out += [f"  - [ ] {one_line(p.text)}" for p in open_]
        if event.notes:
            out.append("- Programme notes:")
            out += [f"  > {line}".rstrip() for line in safe_text(event.notes).split("\n")]
        out += note_lines(notes.get(event.id, []), trip, time_format=time_format)
        out.append("")
    out += ["# Still open, per counterpart (for the handover)", ""]
    any_open = False
    for c in trip.counterparts:
        open_ = [p for p in c.talking_points if p.item_id not in done]
        versions = notes.get(c.id, [])
        if not open_ and not versions:
            continue
        any_open = True
        out += [f"## {one_line(c.name)}", ""]
        out += [f"- [ ] {one_line(p.text)}" for p in open_]
        out += note_lines(versions, trip, time_format=time_format)
        out.append("")
    if not any_open:
        out += ["Every talking point is covered.", ""]
    return "\n".join(out).rstrip("\n") + "\n"
