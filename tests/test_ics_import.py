"""``tripdash import``: calendars written by Outlook, Google Calendar and Apple Calendar
conventions (tests/data/ics, by hand), turned into trips that pass check, with the same
instants as the calendars say; and every kind of bad input refused with nothing written.

The instants expected below were worked out by hand from the ICS text (zone rules of
January 2023: EST is UTC-5, GMT UTC+0, KST UTC+9), not by the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tripdash import cli
from tripdash.domain.ics_import import (
    ImportInvalid,
    import_calendars,
    resolve_tzid,
)
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip

ICS = Path(__file__).resolve().parent / "data" / "ics"
OUTLOOK, GOOGLE, APPLE, DST = (
    ICS / n for n in ("outlook.ics", "google.ics", "apple.ics", "dst.ics")
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def instants(trip: Trip) -> dict[str, tuple[datetime | date, datetime | None]]:
    """Each event by id: its start and end in UTC, or its local day when TBC."""
    out: dict[str, tuple[datetime | date, datetime | None]] = {}
    for e in trip.events:
        start = e.start.astimezone(timezone.utc) if e.time_confirmed else e.local_date
        end = e.end.astimezone(timezone.utc) if e.end is not None else None
        out[e.id] = (start, end)
    return out


def imported(tmp_path: Path, *paths: Path, extra: tuple[str, ...] = ()) -> tuple[Trip, str]:
    """Import through the command line into a file, then read that file back."""
    out = tmp_path / "trip.toml"
    assert cli.main(["import", *map(str, paths), "-o", str(out), *extra]) == 0
    return load_trip(out).trip, out.read_text()


def test_outlook_windows_zones_travel_rooms_and_recurrence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trip, text = imported(tmp_path, OUTLOOK, extra=("--home-tz", "Europe/London"))
    assert instants(trip) == {
        "flight-to-washington-dulles": (utc("2023-01-16T15:25"), utc("2023-01-16T23:35")),
        "speech-on-uk-foreign-policy-priorities": (
            utc("2023-01-17T14:15"),
            utc("2023-01-17T15:15"),
        ),
        "bilateral-with-secretary-blinken": (utc("2023-01-17T16:00"), utc("2023-01-17T17:00")),
        # Daily, five times from the 16th, less the 18th (EXDATE): over the trip's days
        # (16 and 17 January, those of its single events) twice.
        "morning-briefing-2023-01-16": (utc("2023-01-16T12:30"), utc("2023-01-16T13:00")),
        "morning-briefing-2023-01-17": (utc("2023-01-17T12:30"), utc("2023-01-17T13:00")),
    }
    events = {e.id: e for e in trip.events}
    flight = events["flight-to-washington-dulles"]
    # "GMT Standard Time" and "Eastern Standard Time" are Windows names (CLDR).
    assert (flight.kind, flight.place.tz.key, flight.end_place.tz.key) == (
        "travel",
        "Europe/London",
        "America/New_York",
    )
    assert "start = 2023-01-16T15:25:00\n" in text  # local time at the place, as written
    bilateral = events["bilateral-with-secretary-blinken"]
    assert bilateral.tentative
    assert [c.name for c in bilateral.counterparts] == ["Blinken, Antony"]
    assert bilateral.place.name == "US Department of State"
    speech = events["speech-on-uk-foreign-policy-priorities"]
    assert speech.notes == (
        "Remarks on UK foreign policy priorities, followed by a moderated conversation."
        "\n\nLive-streamed."
    )
    err = capsys.readouterr().err
    for dropped in (
        "attendee Treaty Room (a room, not a person)",
        "attendee events@csis.example (no name given)",
        "ORGANIZER (property of events): 2",
        "VALARM (in events: reminders are set in tripdash)",
    ):
        assert f"  - {dropped}\n" in err
        assert dropped.split(":")[0] in text  # the file's header says so too
    assert "X-MICROSOFT" not in err and "X-ALT-DESC" not in err


def test_google_utc_times_all_day_and_overrides(tmp_path: Path) -> None:
    trip, _ = imported(tmp_path, GOOGLE)
    assert trip.title == "FS North America"  # X-WR-CALNAME
    assert trip.home_tz.key == "Europe/London"  # X-WR-TIMEZONE, no --home-tz
    got = instants(trip)
    assert got == {
        "bilateral-with-foreign-minister-joly": (utc("2023-01-18T19:00"), utc("2023-01-18T20:00")),
        "meeting-with-members-of-the-ukrainian": (
            utc("2023-01-18T21:30"),
            utc("2023-01-18T22:30"),
        ),
        "meeting-with-canadian-pension-funds": (date(2023, 1, 18), None),
        # The daily call, over the trip's one day.
        "security-call-2023-01-18": (utc("2023-01-18T13:00"), utc("2023-01-18T13:30")),
    }
    events = {e.id: e for e in trip.events}
    # A UTC time at a location another event places in Toronto is shown in Toronto.
    diaspora = events["meeting-with-members-of-the-ukrainian"]
    assert diaspora.place is events["bilateral-with-foreign-minister-joly"].place
    assert diaspora.place.tz.key == "America/Toronto"
    assert diaspora.start.astimezone(diaspora.place.tz).hour == 16
    assert not events["meeting-with-canadian-pension-funds"].time_confirmed
    assert [c.name for c in events["bilateral-with-foreign-minister-joly"].counterparts] == [
        "Mélanie Joly"
    ]
    assert [c.name for c in trip.counterparts] == ["Mélanie Joly"]  # CN=an address: no name


def test_recurring_events_follow_from_and_to_with_the_moved_occurrence(tmp_path: Path) -> None:
    trip, _ = imported(tmp_path, GOOGLE, extra=("--from", "2023-01-16", "--to", "2023-01-19"))
    calls = {k: v for k, v in instants(trip).items() if k.startswith("security-call")}
    assert calls == {
        "security-call-2023-01-16": (utc("2023-01-16T13:00"), utc("2023-01-16T13:30")),
        # RECURRENCE-ID: the 17th's call moved to 09:00 and renamed.
        "security-call-moved-2023-01-17": (utc("2023-01-17T14:00"), utc("2023-01-17T14:30")),
        "security-call-2023-01-18": (utc("2023-01-18T13:00"), utc("2023-01-18T13:30")),
        "security-call-2023-01-19": (utc("2023-01-19T13:00"), utc("2023-01-19T13:30")),
    }


def test_apple_duration_floating_times_and_multi_line_locations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trip, _ = imported(tmp_path, APPLE)
    # No --home-tz and no calendar zone: home is the zone most events are in.
    assert trip.home_tz.key == "America/New_York"
    assert instants(trip) == {
        "joint-press-conference": (utc("2023-01-17T20:30"), utc("2023-01-17T21:15")),
        "wreath-at-the-tomb-of-the-unknown": (utc("2023-01-18T15:00"), utc("2023-01-18T16:00")),
        "call-with-the-seoul-embassy": (utc("2023-01-19T00:00"), utc("2023-01-19T00:45")),
        # Floating 19:00-21:00 (no zone), read at home: EST.
        "dinner-at-the-residence": (utc("2023-01-18T00:00"), utc("2023-01-18T02:00")),
    }
    events = {e.id: e for e in trip.events}
    press = events["joint-press-conference"]
    assert press.place.name == "US Department of State, Harry S Truman Building"
    assert press.notes == "https://www.state.example/briefings"
    assert [c.name for c in press.counterparts] == ["Antony Blinken", "James Cleverly"]
    assert events["call-with-the-seoul-embassy"].place.tz.key == "Asia/Seoul"
    assert "floating times (no zone) read in America/New_York" in capsys.readouterr().err


def test_dst_skipped_and_repeated_times_keep_their_instants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trip, text = imported(tmp_path, DST)
    assert instants(trip) == {
        # 02:30 does not exist on 12 March: RFC 5545 reads it with the offset before the
        # change (EST), 07:30 UTC, which is 03:30 EDT.
        "early-call-a-time-the-clocks-skip": (utc("2023-03-12T07:30"), None),
        # 01:30 happens twice on 5 November: the first (EDT), 05:30 UTC; the end, 02:30, is
        # after the change (EST): 07:30 UTC.
        "night-shift-handover-the-repeated-hour": (
            utc("2023-11-05T05:30"),
            utc("2023-11-05T07:30"),
        ),
    }
    assert "start = 2023-11-05T01:30:00-04:00\n" in text  # the ambiguous one keeps its offset
    assert "start = 2023-03-12T03:30:00\n" in text
    assert "2023-03-12 02:30 does not exist in America/New_York" in capsys.readouterr().err


def test_a_folder_of_calendars_is_one_trip_and_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trip, _ = imported(tmp_path, ICS, extra=("--home-tz", "Europe/London", "--title", "All"))
    assert trip.title == "All" and trip.id == "trip"
    singles = {OUTLOOK: 3, GOOGLE: 3, APPLE: 4, DST: 2}
    ids = [e.id for e in trip.events]
    assert len(ids) == len(set(ids))
    assert len([i for i in ids if not i.startswith(("morning-briefing", "security-call"))]) == sum(
        singles.values()
    )
    capsys.readouterr()
    assert cli.main(["check", str(tmp_path / "trip.toml")]) == 0
    assert capsys.readouterr().out.startswith("ok  ")


def test_printing_instead_of_writing(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import", str(GOOGLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Imported by `tripdash import` from google.ics.\n")
    assert 'id = "fs-north-america"' in out


def test_the_same_event_in_two_files_is_kept_once(tmp_path: Path) -> None:
    copy = tmp_path / "copy.ics"
    copy.write_bytes(APPLE.read_bytes())
    result = import_calendars([APPLE, copy])
    assert len(result.loaded.trip.events) == 4
    assert any("found twice" in d for d in result.dropped)


def test_windows_zone_names_come_from_the_cldr_table() -> None:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    assert len(WINDOWS_TO_OLSON) > 100  # the whole table, not a hand-picked few
    assert resolve_tzid("Eastern Standard Time").key == "America/New_York"  # type: ignore[union-attr]
    assert resolve_tzid("W. Europe Standard Time").key == "Europe/Berlin"  # type: ignore[union-attr]
    assert resolve_tzid("Tokyo Standard Time").key == "Asia/Tokyo"  # type: ignore[union-attr]
    assert resolve_tzid('"America/Toronto"').key == "America/Toronto"  # type: ignore[union-attr]
    assert resolve_tzid("/mozilla.org/20050126_1/Europe/Paris").key == "Europe/Paris"  # type: ignore[union-attr]
    assert resolve_tzid("Customized Time Zone") is None
    unresolved = [w for w in WINDOWS_TO_OLSON if resolve_tzid(w) is None]
    assert unresolved == []


# -- bad input ---------------------------------------------------------------------------------

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
{zones}BEGIN:VEVENT\r
UID:x@example\r
SUMMARY:Bilateral\r
{props}END:VEVENT\r
END:VCALENDAR\r
"""

NY_WRONG = """BEGIN:VTIMEZONE\r
TZID:America/New_York\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
END:STANDARD\r
END:VTIMEZONE\r
"""

BAD = {
    "wrong type": (
        "",
        "DTSTART:17 January\r\n",
        7,
        "VEVENT[0] 'Bilateral'.DTSTART: Expected datetime, date, or time. Got: '17 January'",
    ),
    "no zone": (
        "",
        "DTSTART;TZID=Mars/Olympus_Mons:20230117T090000\r\n",
        7,
        "VEVENT[0] 'Bilateral'.DTSTART: TZID 'Mars/Olympus_Mons' is no time zone",
    ),
    "contradicting VTIMEZONE": (
        NY_WRONG,
        "DTSTART;TZID=America/New_York:20230117T090000\r\n",
        4,
        "VTIMEZONE 'America/New_York': says UTC+01:00 at 2023-01-17 09:00 (VEVENT[0] "
        "'Bilateral'.DTSTART, line 15) but America/New_York is UTC-05:00 then",
    ),
    "no DTSTART": (
        "",
        "LOCATION:Somewhere\r\n",
        4,
        "VEVENT[0] 'Bilateral'.DTSTART: event without DTSTART",
    ),
    "end and duration": (
        "",
        "DTSTART:20230117T090000Z\r\nDTEND:20230117T100000Z\r\nDURATION:PT1H\r\n",
        9,
        "VEVENT[0] 'Bilateral'.DURATION: an event may have DTEND or DURATION, not both",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_calendars_are_refused_with_file_and_line_and_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones, props, line, message = BAD[case]
    bad = tmp_path / "bad.ics"
    bad.write_bytes(EVENT.format(zones=zones, props=props).encode())
    # A good calendar beside it does not make the bad one pass.
    assert cli.main(["import", str(OUTLOOK), str(bad), "-o", str(tmp_path / "t.toml")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:{line}: {message}" in err, err
    assert err.endswith("tripdash: nothing written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ics"]


def test_huge_non_utf8_and_non_calendar_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.ics"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    latin = tmp_path / "latin.ics"
    latin.write_bytes(
        EVENT.format(zones="", props="DTSTART:20230117T090000Z\r\nLOCATION:Qu\xe9bec\r\n").encode(
            "latin-1"
        )
    )
    text = tmp_path / "notes.ics"
    text.write_text("Dear colleagues, the programme follows.\n")
    for path, expected in (
        (big, f"{big}:1: (file): file is 50.0 MiB; a calendar file may be at most 20 MiB"),
        (latin, f"{latin}:8: (file): not UTF-8 text: invalid continuation byte (byte 0xe9)"),
        (text, f"{text}:1: (file): not an iCalendar file:"),
    ):
        out = tmp_path / "t.toml"
        assert cli.main(["import", str(path), "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(expected), err
        assert not out.exists()
    with pytest.raises(ImportInvalid):
        import_calendars([big])


def test_import_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.toml"
    out.write_text("mine")
    assert cli.main(["import", str(GOOGLE), "-o", str(out)]) == 1
    assert out.read_text() == "mine"
    assert "already exists: not overwritten" in capsys.readouterr().err
    assert cli.main(["import", str(tmp_path / "nope.ics")]) == 2
