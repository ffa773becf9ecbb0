"""``tripdash export``: the iCalendar file, parsed back with icalendar, and imported by calcurse.

Every instant is checked against the schedule twice: as icalendar reads DTSTART and
DTEND (TZID by name), and through the file's own VTIMEZONE definitions, so a wrong
VTIMEZONE would show even though icalendar itself looks zones up by name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from fakes import run_tripdash
from icalendar import Calendar

from tripdash.domain.handouts import Expected, HandoutError
from tripdash.domain.ics import export_ics, read_previous, uid
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip

REPO = Path(__file__).resolve().parent.parent
TRIPS = [
    "trips/fs-north-america-2023-01.toml",
    "trips/secstate-seoul-anchorage-2021-03.toml",  # the date line
    "trips/canada-pm-tokyo-2016-05.toml",
    "tests/data/dst-mid-trip.toml",
    "tests/data/kathmandu.toml",  # +05:45
]
NOW = datetime(2023, 1, 10, 8, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def load(rel: str) -> Trip:
    return load_trip(REPO / rel).trip


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def by_uid(cal: Calendar) -> dict[str, Any]:
    return {str(c["uid"]): c for c in cal.walk("VEVENT")}


def own_zones(cal: Calendar) -> dict[str, Any]:
    """The file's VTIMEZONEs as tzinfos built from their definitions, not looked up by name."""
    return {str(tz["tzid"]): tz.to_tz(lookup_tzid=False) for tz in cal.walk("VTIMEZONE")}


def through_vtimezone(value: datetime, zones: dict[str, Any]) -> datetime:
    key = getattr(value.tzinfo, "key", "UTC")
    if key == "UTC":  # written in UTC (a repeated-hour time): no VTIMEZONE involved
        return value
    return value.replace(tzinfo=None).replace(tzinfo=zones[key])


@pytest.mark.parametrize("rel", TRIPS)
def test_every_instant_matches_the_schedule(rel: str) -> None:
    trip = load(rel)
    cal = parse(export_ics(trip, now=NOW))
    events = by_uid(cal)
    zones = own_zones(cal)
    used: set[str] = set()
    assert len(events) == len(trip.events)
    for e in trip.events:
        v = events[uid(trip.id, e.id)]
        assert str(v["status"]) == e.status.value.upper()
        if not e.time_confirmed:
            assert v.decoded("dtstart") == e.local_date
            assert v.decoded("dtend") == e.local_date + timedelta(days=1)
            assert str(v["summary"]).endswith("(time TBC)")
            continue
        start = v.decoded("dtstart")
        assert start == e.start  # the same instant
        assert start.tzinfo.key == e.place.tz.key  # and written in the place's zone
        assert through_vtimezone(start, zones) == e.start
        used.add(e.place.tz.key)
        if e.end is None:
            # No invented end: no DTEND, no DURATION (RFC 5545: it ends as it starts).
            assert "dtend" not in v and "duration" not in v
        else:
            end = v.decoded("dtend")
            assert end == e.end
            assert end.tzinfo.key == e.end_place.tz.key  # travel: the destination's zone
            assert through_vtimezone(end, zones) == e.end
            used.add(e.end_place.tz.key)
    assert set(zones) == used  # one VTIMEZONE per zone used, no more


def test_kathmandu_instants_worked_out_by_hand() -> None:
    trip = load("tests/data/kathmandu.toml")
    events = by_uid(parse(export_ics(trip, now=NOW)))

    def utc(event_id: str, prop: str = "dtstart") -> datetime:
        return events[uid(trip.id, event_id)].decoded(prop).astimezone(UTC)

    assert utc("ktm-breakfast") == datetime(2023, 2, 5, 23, 45, tzinfo=UTC)
    assert utc("ktm-fm") == datetime(2023, 2, 6, 4, 15, tzinfo=UTC)
    assert utc("travel-ktm-del") == datetime(2023, 2, 6, 9, 15, tzinfo=UTC)
    assert utc("travel-ktm-del", "dtend") == datetime(2023, 2, 6, 10, 50, tzinfo=UTC)
    assert utc("del-yoga") == datetime(2023, 2, 6, 23, 30, tzinfo=UTC)
    text = export_ics(trip, now=NOW).decode()
    assert "DTSTART;TZID=Asia/Kathmandu:20230206T100000" in text
    assert "DTEND;TZID=Asia/Kolkata:20230206T162000" in text
    assert "TZOFFSETTO:+0545" in text
    # The home time of the breakfast is the day before in London.
    breakfast = events[uid(trip.id, "ktm-breakfast")]
    assert "Home time: 23:45 GMT -1d" in str(breakfast["description"])


def test_dst_trip_offsets_on_each_side_of_the_change() -> None:
    trip = load("tests/data/dst-mid-trip.toml")
    cal = parse(export_ics(trip, now=NOW))
    events = by_uid(cal)
    flight = events[uid(trip.id, "travel-new-york-london")]
    assert flight.decoded("dtend").tzinfo.key == "Europe/London"
    assert flight.decoded("dtend").astimezone(UTC) == datetime(2023, 3, 15, 7, 5, tzinfo=UTC)
    briefing = events[uid(trip.id, "un-briefing")]  # after the US change: EDT, UTC-4
    assert briefing.decoded("dtstart").astimezone(UTC) == datetime(2023, 3, 13, 14, 0, tzinfo=UTC)
    ny = next(tz for tz in cal.walk("VTIMEZONE") if tz["tzid"] == "America/New_York")
    assert any(str(c.get("tzname")) == "EDT" for c in ny.subcomponents)
    assert str(events[uid(trip.id, "committee")]["status"]) == "CANCELLED"
    assert str(events[uid(trip.id, "un-dinner")]["status"]) == "TENTATIVE"


def test_a_repeated_hour_time_is_written_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "fold.toml"
    path.write_text(
        dedent(
            """\
            [trip]
            title = "Fall back"
            home_tz = "Europe/London"
            [[places]]
            id = "nyc"
            name = "New York"
            tz = "America/New_York"
            [[events]]
            id = "late"
            title = "Second 01:30"
            place = "nyc"
            start = 2023-11-05T01:30:00-05:00
            """
        ),
        encoding="utf-8",
    )
    trip = load_trip(path).trip
    data = export_ics(trip, now=NOW)
    # 01:30 with TZID would mean the first 01:30 (EDT), an hour early.
    assert b"DTSTART:20231105T063000Z" in data
    start = by_uid(parse(data))[uid(trip.id, "late")].decoded("dtstart")
    assert start == datetime(2023, 11, 5, 6, 30, tzinfo=UTC)


def test_uids_are_stable_and_hold_no_id_text() -> None:
    trip = load("trips/fs-north-america-2023-01.toml")
    a = export_ics(trip, now=NOW)
    b = export_ics(trip, now=NOW + timedelta(days=1))
    assert sorted(by_uid(parse(a))) == sorted(by_uid(parse(b)))
    assert uid(trip.id, "csis-speech") != uid(trip.id, "blinken-bilateral")
    assert uid(trip.id, "csis-speech") != uid("another-trip", "csis-speech")
    assert b"csis-speech" not in a and b"blinken-bilateral" not in a


def test_same_input_same_bytes() -> None:
    trip = load("tests/data/dst-mid-trip.toml")
    assert export_ics(trip, now=NOW) == export_ics(trip, now=NOW)


def test_marking_in_the_calendar_and_every_description() -> None:
    trip = replace(load("tests/data/kathmandu.toml"), marking="OFFICIAL-SENSITIVE")
    cal = parse(export_ics(trip, now=NOW))
    assert str(cal["x-wr-calname"]).startswith("OFFICIAL-SENSITIVE: ")
    for v in cal.walk("VEVENT"):
        lines = str(v["description"]).splitlines()
        assert lines[0] == "OFFICIAL-SENSITIVE" and lines[-1] == "OFFICIAL-SENSITIVE"
    plain = parse(export_ics(load("tests/data/kathmandu.toml"), now=NOW))
    assert b"OFFICIAL" not in plain.to_ical()


def test_description_location_and_summary() -> None:
    trip = load("trips/fs-north-america-2023-01.toml")
    events = by_uid(parse(export_ics(trip, now=NOW)))
    speech = events[uid(trip.id, "csis-speech")]
    assert str(speech["location"]) == "Centre for Strategic & International Studies, Washington DC"
    assert "Press: Live-streamed" in str(speech["description"])
    bilateral = events[uid(trip.id, "blinken-bilateral")]
    text = str(bilateral["description"])
    assert "With: Antony Blinken (US Secretary of State, United States)" in text
    assert "Talking points with Antony Blinken:" in text
    assert "- Deepening cooperation in the Indo-Pacific" in text
    assert "Notes: Release:" in text
    travel = next(v for v in events.values() if str(v["summary"]).startswith("Travel"))
    assert str(travel["location"]) == "Washington DC to Toronto"


def test_hostile_text_is_one_line_and_escaped(tmp_path: Path) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(
        dedent(
            """\
            [trip]
            title = "T"
            home_tz = "Europe/London"
            [[places]]
            id = "p"
            name = "Place\\u001b[31m"
            tz = "Europe/London"
            [[events]]
            id = "e"
            title = "Line one\\nBEGIN:VEVENT\\u202e"
            place = "p"
            start = 2023-01-17T09:15:00
            """
        ),
        encoding="utf-8",
    )
    trip = load_trip(path).trip
    data = export_ics(trip, now=NOW)
    assert data.count(b"\r\nBEGIN:VEVENT\r\n") == 1  # the title's text is no component
    v = by_uid(parse(data))[uid(trip.id, "e")]
    assert str(v["summary"]) == "Line one BEGIN:VEVENT\\u202e"
    assert str(v["location"]) == "Place\\x1b[31m"
    assert b"\x1b" not in data and "\u202e".encode() not in data


def test_expected_times_replace_the_planned_ones() -> None:
    trip = load("tests/data/kathmandu.toml")
    late = datetime(2023, 2, 6, 4, 45, tzinfo=UTC)  # half an hour late
    expected = {"ktm-fm": Expected(start=late, end=late + timedelta(hours=1))}
    v = by_uid(parse(export_ics(trip, now=NOW, expected=expected)))[uid(trip.id, "ktm-fm")]
    assert v.decoded("dtstart") == late
    assert v.decoded("dtstart").tzinfo.key == "Asia/Kathmandu"
    assert "Planned: 10:00 +0545" in str(v["description"])


# -- versions: SEQUENCE, LAST-MODIFIED, removed events ---------------------------------


def _edit(src: Path, dst: Path, *, retitle: str | None = None, drop: str | None = None) -> None:
    text = src.read_text(encoding="utf-8")
    if retitle:
        text = text.replace(f'title = "{retitle}"', f'title = "{retitle} (moved room)"')
    if drop:
        start = text.index(f'[[events]]\nid = "{drop}"')
        end = text.find("[[events]]", start + 10)
        text = text[:start] + (text[end:] if end != -1 else "")
    dst.write_text(text, encoding="utf-8")


def test_second_export_updates_in_place_and_cancels_what_was_removed(tmp_path: Path) -> None:
    src = REPO / "tests/data/kathmandu.toml"
    trip_file = tmp_path / "kathmandu.toml"
    shutil.copy(src, trip_file)
    out = tmp_path / "trip.ics"
    t1, t2, t3 = NOW, NOW + timedelta(hours=5), NOW + timedelta(days=1)
    assert main(["export", str(trip_file), "-o", str(out), "--at", t1.isoformat()]) == 0
    first = by_uid(parse(out.read_bytes()))
    trip = load_trip(trip_file).trip

    _edit(src, trip_file, retitle="Meeting with the Foreign Minister", drop="del-dinner")
    assert main(["export", str(trip_file), "-o", str(out), "--at", t2.isoformat()]) == 0
    second = by_uid(parse(out.read_bytes()))
    assert set(second) == set(first)  # same UIDs: the removed event is still there, cancelled
    edited, removed = uid(trip.id, "ktm-fm"), uid(trip.id, "del-dinner")
    for key, v in second.items():
        old = first[key]
        if key in (edited, removed):
            assert int(v["sequence"]) == int(old["sequence"]) + 1
            assert v.decoded("last-modified") == t2
        else:
            assert int(v["sequence"]) == int(old["sequence"]) == 0
            assert v.decoded("last-modified") == t1
    assert str(second[edited]["summary"]) == "Meeting with the Foreign Minister (moved room)"
    assert str(second[removed]["status"]) == "CANCELLED"
    assert second[removed].decoded("dtstart") == first[removed].decoded("dtstart")

    # A third export with no change: the cancelled event has had its one version.
    assert main(["export", str(trip_file), "-o", str(out), "--at", t3.isoformat()]) == 0
    third = by_uid(parse(out.read_bytes()))
    assert set(third) == set(first) - {removed}
    assert int(third[edited]["sequence"]) == 1
    assert third[edited].decoded("last-modified") == t2
    assert all(v.decoded("dtstamp") == t3 for v in third.values())

    # The event comes back: a higher SEQUENCE than its cancellation.
    shutil.copy(src, trip_file)
    assert main(["export", str(trip_file), "-o", str(out), "--at", t3.isoformat()]) == 0
    fourth = by_uid(parse(out.read_bytes()))
    assert int(fourth[removed]["sequence"]) == 0  # the file no longer knew it: new again
    assert int(fourth[edited]["sequence"]) == 2


def test_previous_from_another_file(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    trip = "tests/data/kathmandu.toml"
    old = tmp_path / "old.ics"
    assert main(["export", str(REPO / trip), "-o", str(old), "--at", NOW.isoformat()]) == 0
    capsysbinary.readouterr()
    code = main(["export", str(REPO / trip), "--previous", str(old), "--redact", "full"])
    assert code == 0
    data = capsysbinary.readouterr().out
    assert data.startswith(b"BEGIN:VCALENDAR")
    assert set(by_uid(parse(data))) == set(by_uid(parse(old.read_bytes())))


def test_previous_of_another_profile_or_day_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trip = str(REPO / "tests/data/kathmandu.toml")
    out = tmp_path / "trip.ics"
    assert main(["export", trip, "-o", str(out), "--at", NOW.isoformat()]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert main(["export", trip, "-o", str(out), "--redact", "logistics"]) == 1
    err = capsys.readouterr().err
    assert "profile full" in err and "profile logistics" in err
    assert main(["export", trip, "-o", str(out), "--day", "2023-02-06"]) == 1
    assert "day all" in capsys.readouterr().err
    assert out.read_bytes() == before
    junk = tmp_path / "notes.ics"
    junk.write_text("shopping list\n", encoding="utf-8")
    assert main(["export", trip, "-o", str(junk)]) == 1
    assert "not an iCalendar file" in capsys.readouterr().err
    assert junk.read_text(encoding="utf-8") == "shopping list\n"
    with pytest.raises(HandoutError):
        read_previous(before, name="x", trip_id="other", profile="full", day=None)


def test_day_export_only_that_day() -> None:
    trip = load("trips/secstate-seoul-anchorage-2021-03.toml")
    # The date line: 18 March happens twice (Seoul, then Anchorage); --day takes both.
    events = by_uid(parse(export_ics(trip, now=NOW, day=date(2021, 3, 18))))
    assert len(events) == sum(1 for e in trip.events if e.local_date == date(2021, 3, 18))
    assert {e.place.tz.key for e in trip.events if e.local_date == date(2021, 3, 18)} == {
        "Asia/Seoul",
        "America/Anchorage",
    }


# -- bad input through the command line ------------------------------------------------


def main(argv: list[str]) -> int:
    from tripdash.cli import main as cli_main

    return cli_main(argv)


def run(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_tripdash(*args, cwd=cwd, env=env)


def test_bad_input_messages_and_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.ics"
    ktm = "tests/data/kathmandu.toml"
    p = run("export", ktm, "--redact", "secret", "-o", str(out))
    assert p.returncode == 2 and "invalid choice: 'secret'" in p.stderr
    p = run("export", ktm, "--day", "2023-02-09", "-o", str(out))
    assert p.returncode == 2
    assert "no events on that date (2023-02-06 to 2023-02-07)" in p.stderr
    p = run("export", ktm, "--format", "vcs")
    assert p.returncode == 2
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        p = run("export", ktm, "-o", str(locked / "x.ics"))
        if os.geteuid() != 0:  # root may write anywhere
            assert p.returncode == 2 and "cannot write" in p.stderr
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
    p = run("export", ktm, "-o", str(tmp_path / "missing" / "x.ics"))
    assert p.returncode == 2 and "cannot write here" in p.stderr
    p = run("export", ktm, "-o", str(tmp_path))  # a folder
    assert p.returncode == 2 and "is a folder" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["locked"]


def test_no_timed_events_and_empty_public_profile(tmp_path: Path) -> None:
    path = tmp_path / "tbc.toml"
    path.write_text(
        dedent(
            """\
            [trip]
            title = "All TBC"
            home_tz = "Europe/London"
            [[places]]
            id = "p"
            name = "Paris"
            tz = "Europe/Paris"
            [[events]]
            id = "e"
            title = "Some day"
            place = "p"
            start = 2023-01-17
            """
        ),
        encoding="utf-8",
    )
    out = tmp_path / "x.ics"
    p = run("export", str(path), "-o", str(out))
    assert p.returncode == 1 and "has no timed events" in p.stderr
    p = run("export", "tests/data/kathmandu.toml", "--redact", "public", "-o", str(out))
    assert p.returncode == 1 and "no event has a press line" in p.stderr
    assert not out.exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["tbc.toml"]


# -- a real calendar client -------------------------------------------------------------

_CALCURSE_LINE = re.compile(r"^ - (\d\d:\d\d) -> (\d\d:\d\d)$")


def calcurse_agenda(ics: Path, tmp_path: Path, first: date, days: int, tz: str) -> list[str]:
    """Import ``ics`` into a fresh calcurse and print its appointments, as calcurse does."""
    data = tmp_path / "calcurse"
    data.mkdir()
    env = {**os.environ, "TZ": tz, "HOME": str(tmp_path)}
    subprocess.run(
        ["calcurse", "-D", str(data), "-i", str(ics)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = subprocess.run(
        ["calcurse", "-D", str(data), "-Q", "--from", f"{first:%m/%d/%Y}", "--days", str(days)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.splitlines()


def _calcurse_times(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """(date, start, end, title) of each appointment calcurse printed."""
    found = []
    day = ""
    for i, line in enumerate(lines):
        if re.match(r"^\d\d/\d\d/\d\d:$", line):
            day = line[:-1]
        m = _CALCURSE_LINE.match(line)
        if m:
            found.append((day, m.group(1), m.group(2), lines[i + 1].strip()))
    return found


@pytest.mark.skipif(shutil.which("calcurse") is None, reason="calcurse is not installed")
@pytest.mark.parametrize(
    ("rel", "tz"),
    [
        ("tests/data/kathmandu.toml", "UTC"),
        ("tests/data/dst-mid-trip.toml", "America/Los_Angeles"),
        ("trips/secstate-seoul-anchorage-2021-03.toml", "Europe/London"),
    ],
)
def test_calcurse_imports_the_times(rel: str, tz: str, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    trip = load(rel)
    ics = tmp_path / "trip.ics"
    ics.write_bytes(export_ics(trip, now=NOW))
    zone = ZoneInfo(tz)
    timed = [e for e in trip.events if e.time_confirmed]
    first = min(e.start.astimezone(zone).date() for e in timed) - timedelta(days=1)
    last = max((e.end or e.start).astimezone(zone).date() for e in timed) + timedelta(days=1)
    lines = calcurse_agenda(ics, tmp_path, first, (last - first).days + 1, tz)
    shown = _calcurse_times(lines)
    expected = []
    for e in timed:
        start = e.start.astimezone(zone)
        # No DTEND: calcurse shows the appointment ending when it starts (no invented end).
        end = (e.end or e.start).astimezone(zone)
        if end.date() != start.date():
            continue  # calcurse splits appointments that run past midnight across days
        expected.append((f"{start:%m/%d/%y}", f"{start:%H:%M}", f"{end:%H:%M}", e.title))
    assert sorted(x for x in shown if x[3] in {e.title for e in timed}) >= sorted(expected)
    assert set(expected) <= set(shown)
    for e in trip.events:
        if not e.time_confirmed:
            assert f" * {e.title} (time TBC)" in lines
