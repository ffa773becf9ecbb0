"""Import, check, export: the instants a calendar gives come back out, event by event.

Each sample calendar of tests/data/ics (Outlook's Windows zone names and VTIMEZONEs,
Google's UTC times and recurrence overrides, Apple's DURATION and floating times, the
DST gap and fold) goes through ``tripdash import``, ``tripdash check`` and ``tripdash
export``. Both the original and the exported file are then read with the ``icalendar``
library (recurrences of the original expanded by ``recurring-ical-events``), never by
tripdash's own reader, and every occurrence's DTSTART and DTEND are compared in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from tripdash import cli
from tripdash.domain.loader import load_trip

ICS = Path(__file__).resolve().parent / "data" / "ics"

#: Where each sample's floating times (no zone, no Z) are read: the trip's home, which
#: for these samples is the calendar's zone or the zone most events are in (README).
HOME = {
    "outlook.ics": "America/New_York",
    "google.ics": "Europe/London",
    "apple.ics": "America/New_York",
    "dst.ics": "America/New_York",
}

Row = tuple[str, "datetime | date", "datetime | date", str]


def _instant(value: date | datetime, floating: ZoneInfo) -> datetime | date:
    """A DTSTART/DTEND value as an instant in UTC (a date stays a date: all-day)."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating)
    return value.astimezone(timezone.utc)


def _rows(events: Iterable[Any], floating: ZoneInfo) -> list[Row]:
    """(summary, start, end, status) of each VEVENT; a missing end is the start (RFC 5545:
    a timed event without DTEND or DURATION ends when it starts). An all-day event is
    compared by its first day: import makes it TBC on that day, export all-day on it."""
    rows: list[Row] = []
    for ev in events:
        start_value = ev["DTSTART"].dt
        start = _instant(start_value, floating)
        if isinstance(start, datetime):
            if ev.get("DTEND") is not None:
                end = _instant(ev["DTEND"].dt, floating)
            elif ev.get("DURATION") is not None:
                end = _instant(start_value + ev["DURATION"].dt, floating)
            else:
                end = start
        else:
            end = start
        summary = str(ev.get("SUMMARY", "")).removesuffix(" (time TBC)")
        rows.append((summary, start, end, str(ev.get("STATUS", "CONFIRMED")).upper()))
    return sorted(rows, key=lambda r: (r[0], str(r[1])))


def _original(path: Path, floating: ZoneInfo) -> list[Row]:
    """The original's occurrences over the days of its single (non-recurring) events."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    singles = [
        ev
        for ev in cal.walk("VEVENT")
        if ev.get("RRULE") is None and ev.get("RDATE") is None and ev.get("RECURRENCE-ID") is None
    ]
    days: list[date] = []
    for ev in singles:
        for name in ("DTSTART", "DTEND"):
            value = ev.get(name)
            if value is None:
                continue
            if isinstance(value.dt, datetime):
                days.append(value.dt.date())
            elif name == "DTSTART":
                days.append(value.dt)  # an all-day DTEND is the day after: exclusive
    first, last = min(days), max(days)
    found = recurring_ical_events.of(cal).between(first, last + timedelta(days=1))
    return _rows(found, floating)


def _exported(path: Path, floating: ZoneInfo) -> list[Row]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return _rows(cal.walk("VEVENT"), floating)


@pytest.mark.parametrize("name", sorted(HOME))
def test_import_then_export_gives_the_same_instants(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = ICS / name
    trip_file, exported = tmp_path / "trip.toml", tmp_path / "out.ics"
    assert cli.main(["import", str(source), "-o", str(trip_file)]) == 0
    capsys.readouterr()
    assert cli.main(["check", str(trip_file)]) == 0
    assert capsys.readouterr().out.startswith("ok  ")
    trip = load_trip(trip_file).trip
    assert trip.home_tz.key == HOME[name]
    assert cli.main(["export", str(trip_file), "-o", str(exported)]) == 0

    floating = ZoneInfo(HOME[name])
    before, after = _original(source, floating), _exported(exported, floating)
    assert len(after) == len(trip.events)
    assert after == before


def test_the_comparison_sees_a_moved_instant(tmp_path: Path) -> None:
    """The round trip would catch an export an hour off: the rows differ."""
    source = ICS / "apple.ics"
    trip_file, exported = tmp_path / "trip.toml", tmp_path / "out.ics"
    assert cli.main(["import", str(source), "-o", str(trip_file)]) == 0
    assert cli.main(["export", str(trip_file), "-o", str(exported)]) == 0
    text = exported.read_text(encoding="utf-8")
    shifted = text.replace(
        "DTSTART;TZID=Asia/Seoul:20230119T090000", "DTSTART;TZID=Asia/Seoul:20230119T100000"
    )
    assert shifted != text
    exported.write_text(shifted, encoding="utf-8")
    floating = ZoneInfo(HOME["apple.ics"])
    assert _exported(exported, floating) != _original(source, floating)
