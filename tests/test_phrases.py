"""Jump-to-time phrases: wall times where the delegation is, days, places, zones, offsets,
events; across a DST change and the date line."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tripdash.domain.loader import load_trip
from tripdash.domain.phrases import PhraseError, needs_trip, resolve, resolve_day
from tripdash.domain.times import UTC, parse_instant

ROOT = Path(__file__).resolve().parents[1]
FS = load_trip(ROOT / "trips" / "fs-north-america-2023-01.toml").trip
SEOUL = load_trip(ROOT / "trips" / "secstate-seoul-anchorage-2021-03.toml").trip
DST = load_trip(ROOT / "tests" / "data" / "dst-mid-trip.toml").trip


def utc(text: str) -> datetime:
    return parse_instant(text).astimezone(UTC)


def at(phrase: str, trip, now: str) -> datetime:  # type: ignore[no-untyped-def]
    jump = resolve(phrase, trip, utc(now))
    assert jump.instant is not None
    return jump.instant


def test_now_and_zero_go_back_to_real_time() -> None:
    for phrase in ("now", "0", " NOW ", "live"):
        assert resolve(phrase, FS, utc("2023-01-17T12:00Z")).instant is None


def test_relative_times() -> None:
    now = "2023-01-17T12:00Z"
    assert at("+2h", FS, now) == utc("2023-01-17T14:00Z")
    assert at("-30m", FS, now) == utc("2023-01-17T11:30Z")
    assert at("+1h30", FS, now) == utc("2023-01-17T13:30Z")
    assert at("+90min", FS, now) == utc("2023-01-17T13:30Z")
    assert at("+1d", FS, now) == utc("2023-01-18T12:00Z")
    with pytest.raises(PhraseError, match=r"\+2h"):
        resolve("+30", FS, utc(now))


def test_a_wall_time_is_today_where_the_delegation_is() -> None:
    # At 12:00 UTC on the 17th the delegation is in Washington (EST): 09:00 EST = 14:00 UTC.
    jump = resolve("09:00", FS, utc("2023-01-17T12:00Z"))
    assert jump.instant == utc("2023-01-17T14:00Z")
    assert jump.said == "Tue 17 Jan 2023 09:00 EST, Washington DC"
    assert at("tomorrow 08:00", FS, "2023-01-17T12:00Z") == utc("2023-01-18T13:00Z")
    assert at("yesterday 18:30", FS, "2023-01-17T12:00Z") == utc("2023-01-16T23:30Z")
    assert at("9pm", FS, "2023-01-17T12:00Z") == utc("2023-01-18T02:00Z")
    assert at("9:30 am", FS, "2023-01-17T12:00Z") == utc("2023-01-17T14:30Z")


def test_a_date_a_time_and_a_place_or_zone() -> None:
    now = "2023-01-17T12:00Z"
    jump = resolve("2023-01-18 10:00 Toronto", FS, utc(now))
    assert jump.instant == utc("2023-01-18T15:00Z")
    assert jump.said == "Wed 18 Jan 2023 10:00 EST, Toronto"
    assert at("2023-01-18 10:00 america/toronto", FS, now) == utc("2023-01-18T15:00Z")
    assert at("2023-01-18T10:00 Europe/London", FS, now) == utc("2023-01-18T10:00Z")
    assert at("2023-01-18T15:00Z", FS, now) == utc("2023-01-18T15:00Z")
    assert at("2023-01-18 10:00", FS, now) == utc("2023-01-18T15:00Z")  # where it is: EST
    assert at("tomorrow 08:00 washington", FS, now) == utc("2023-01-18T13:00Z")
    with pytest.raises(PhraseError, match="neither a place of the trip nor a time zone"):
        resolve("10:00 Ottawa", FS, utc(now))


def test_an_event_id_or_title_fragment() -> None:
    now = utc("2023-01-17T12:00Z")
    jump = resolve("blinken-press-conference", FS, now)
    assert jump.event is not None and jump.event.id == "blinken-press-conference"
    assert jump.instant == utc("2023-01-17T20:30Z")
    # A fragment, accents and case ignored: the next such event to start.
    jump = resolve("press conf", FS, now)
    assert jump.event is not None and jump.event.id == "blinken-press-conference"
    # A TBC event: the start of its day, there.
    jump = resolve("wreath", FS, now)
    assert jump.instant == utc("2023-01-18T05:00Z")
    assert "time TBC" in jump.said
    with pytest.raises(PhraseError, match="neither a time nor an event"):
        resolve("zzyzx", FS, now)


def test_across_the_us_dst_change() -> None:
    # During the flight (11:00 GMT - 14:10 EST) the delegation is where it left: London.
    assert at("tomorrow 09:00", DST, "2023-03-11T17:00Z") == utc("2023-03-12T09:00Z")
    # Sat 11 Mar 2023 20:00 UTC = 15:00 EST in New York, landed; the clocks go forward at
    # 02:00 on the 12th.
    now = "2023-03-11T20:00Z"
    assert at("tomorrow 09:00", DST, now) == utc("2023-03-12T13:00Z")  # 09:00 EDT
    assert at("09:00", DST, now) == utc("2023-03-11T14:00Z")  # 09:00 EST
    assert at("+24h", DST, now) == utc("2023-03-12T20:00Z")  # 16:00 EDT: a day of 23 h
    with pytest.raises(PhraseError, match="does not exist in America/New_York"):
        resolve("tomorrow 02:30", DST, utc(now))
    # The UK goes back on 29 Oct 2023: 01:30 happens twice, the first is taken.
    jump = resolve("2023-10-29 01:30 London", DST, utc(now))
    assert jump.instant == utc("2023-10-29T00:30Z")
    assert "the first of the two" in jump.said


def test_across_the_date_line() -> None:
    # 18 Mar 2021 01:00 UTC: 10:00 KST on the 18th in Seoul, where the delegation is.
    assert at("tomorrow 08:00", SEOUL, "2021-03-18T01:00Z") == utc("2021-03-18T23:00Z")
    # 21:30 UTC: 13:30 AKDT on the 18th in Anchorage (06:30 on the 19th in Seoul):
    # "today" is Anchorage's 18 March, and "tomorrow 08:00" is 08:00 AKDT on the 19th.
    assert at("tomorrow 08:00", SEOUL, "2021-03-18T21:30Z") == utc("2021-03-19T16:00Z")
    assert at("09:00 seoul", SEOUL, "2021-03-18T21:30Z") == utc("2021-03-18T00:00Z")
    assert resolve_day("today", SEOUL, utc("2021-03-18T21:30Z")) == date(2021, 3, 18)
    # The delegation lives 18 March twice: at 14:00 UTC it is 23:00 on the 18th in Seoul,
    # at 16:00 UTC 08:00 on the 18th in Anchorage; "tomorrow 08:00" is a day apart.
    assert resolve_day("today", SEOUL, utc("2021-03-18T14:00Z")) == date(2021, 3, 18)
    assert resolve_day("today", SEOUL, utc("2021-03-18T16:00Z")) == date(2021, 3, 18)
    assert at("tomorrow 08:00", SEOUL, "2021-03-18T14:00Z") == utc("2021-03-18T23:00Z")
    assert at("tomorrow 08:00", SEOUL, "2021-03-18T16:00Z") == utc("2021-03-19T16:00Z")


def test_days_for_the_agenda() -> None:
    now = utc("2023-01-17T12:00Z")
    assert resolve_day("today", FS, now) == date(2023, 1, 17)
    assert resolve_day("Tomorrow", FS, now) == date(2023, 1, 18)
    assert resolve_day("yesterday", FS, now) == date(2023, 1, 16)
    assert resolve_day("2023-01-18", FS, now) == date(2023, 1, 18)
    with pytest.raises(PhraseError, match="not a day"):
        resolve_day("someday", FS, now)


def test_which_phrases_need_a_trip() -> None:
    assert not needs_trip("now")
    assert not needs_trip("+2h")
    assert not needs_trip("2023-01-17T09:10 America/New_York")
    assert needs_trip("09:00")
    assert needs_trip("2023-01-18 10:00 Toronto")
    assert needs_trip("press conference")
