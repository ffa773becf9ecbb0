"""Time conversions: DST changes mid-trip, the date line, half-hour and 45-minute zones.

Every expected value here is worked out by hand (the comments show how) and
written as a fixed UTC offset, never computed by the code under test.
Instants are compared in UTC: Python's ``==`` between an aware datetime in a
repeated hour and one in another zone is always False, and within one zone
it compares wall clocks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tripdash.domain.agenda import agenda_json, agenda_text
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Event, Trip
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.times import (
    AmbiguousTimeError,
    NonexistentTimeError,
    ZoneError,
    day_marker,
    format_offset,
    get_zone,
    in_zone,
    local_midnight,
    parse_instant,
    resolve_wall_time,
    zone_abbrev,
)

REPO = Path(__file__).resolve().parent.parent
TRIPS = REPO / "trips"
DATA = Path(__file__).resolve().parent / "data"

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def fixed(hours: int, minutes: int = 0) -> timezone:
    """A fixed offset, for writing expected instants by hand."""
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def event(trip: Trip, event_id: str) -> Event:
    (found,) = [e for e in trip.events if e.id == event_id]
    return found


# -- the bundled Foreign Secretary trip ----------------------------------------------


@pytest.fixture(scope="module")
def fs_trip() -> Trip:
    return load_trip(TRIPS / "fs-north-america-2023-01.toml").trip


def test_fs_csis_speech_is_0915_est_1415_gmt(fs_trip: Trip) -> None:
    speech = event(fs_trip, "csis-speech")
    # The release: 14:15 UK time, 09:15 DC time. January: EST = UTC-5, GMT = UTC+0.
    assert utc(speech.start) == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
    assert speech.start.strftime("%H:%M") == "09:15"
    assert local_time_label(speech) == "09:15 EST"
    assert home_time_label(speech, fs_trip.home_tz) == "14:15 GMT"
    assert in_zone(speech.start, fs_trip.home_tz).strftime("%H:%M %Z") == "14:15 GMT"


def test_fs_press_conference_is_1530_est_2030_gmt(fs_trip: Trip) -> None:
    press = event(fs_trip, "blinken-press-conference")
    assert utc(press.start) == datetime(2023, 1, 17, 20, 30, tzinfo=UTC)
    assert local_time_label(press) == "15:30 EST"
    assert home_time_label(press, fs_trip.home_tz) == "20:30 GMT"


def test_fs_tbc_events_have_no_time(fs_trip: Trip) -> None:
    wreath = event(fs_trip, "arlington-wreath")
    assert wreath.time_confirmed is False
    assert wreath.local_date == date(2023, 1, 18)
    assert local_time_label(wreath) == "TBC"
    assert home_time_label(wreath, fs_trip.home_tz) == "TBC"


# -- the date line: Seoul, then Anchorage, both on 18 March 2021 ----------------------


@pytest.fixture(scope="module")
def seoul_trip() -> Trip:
    return load_trip(TRIPS / "secstate-seoul-anchorage-2021-03.toml").trip


# (event id, local wall time, UTC instant, home label). KST = UTC+9 (no DST);
# AKDT = UTC-8 and EDT = UTC-4 (US DST began 14 March 2021).
SEOUL_ANCHORAGE = [
    ("two-plus-two", "09:30 KST", datetime(2021, 3, 18, 0, 30, tzinfo=UTC), "20:30 EDT -1d"),
    ("sma-initialing", "11:00 KST", datetime(2021, 3, 18, 2, 0, tzinfo=UTC), "22:00 EDT -1d"),
    (
        "joint-press-availability",
        "11:30 KST",
        datetime(2021, 3, 18, 2, 30, tzinfo=UTC),
        "22:30 EDT -1d",
    ),
    ("alliance-youth-outreach", "13:00 KST", datetime(2021, 3, 18, 4, 0, tzinfo=UTC), "00:00 EDT"),
    ("journalists-roundtable", "13:55 KST", datetime(2021, 3, 18, 4, 55, tzinfo=UTC), "00:55 EDT"),
    ("moon-meeting", "15:00 KST", datetime(2021, 3, 18, 6, 0, tzinfo=UTC), "02:00 EDT"),
    ("china-meeting", "13:20 AKDT", datetime(2021, 3, 18, 21, 20, tzinfo=UTC), "17:20 EDT"),
    ("second-session", "19:40 AKDT", datetime(2021, 3, 19, 3, 40, tzinfo=UTC), "23:40 EDT"),
]


@pytest.mark.parametrize(("event_id", "local", "instant", "home"), SEOUL_ANCHORAGE)
def test_date_line_times(
    seoul_trip: Trip, event_id: str, local: str, instant: datetime, home: str
) -> None:
    ev = event(seoul_trip, event_id)
    assert ev.local_date == date(2021, 3, 18)
    assert utc(ev.start) == instant
    assert local_time_label(ev) == local
    assert home_time_label(ev, seoul_trip.home_tz) == home


def test_anchorage_comes_after_seoul_though_both_are_18_march(seoul_trip: Trip) -> None:
    seoul = event(seoul_trip, "moon-meeting")
    anchorage = event(seoul_trip, "china-meeting")
    assert utc(anchorage.start) - utc(seoul.start) == timedelta(hours=15, minutes=20)
    ids = [e.id for e in seoul_trip.events]
    assert ids.index("moon-meeting") < ids.index("travel-seoul-anchorage")
    assert ids.index("travel-seoul-anchorage") < ids.index("china-meeting")
    confirmed = [utc(e.start) for e in seoul_trip.events if e.time_confirmed]
    assert confirmed == sorted(confirmed)


def test_date_line_json_instants(seoul_trip: Trip) -> None:
    items = {item["id"]: item for item in json.loads(agenda_json(seoul_trip))}
    moon = items["moon-meeting"]
    assert moon["start_local"] == "2021-03-18T15:00:00+09:00"
    assert moon["start_utc"] == "2021-03-18T06:00:00+00:00"
    assert moon["start_home"] == "2021-03-18T02:00:00-04:00"
    china = items["china-meeting"]
    assert china["start_local"] == "2021-03-18T13:20:00-08:00"
    assert china["start_utc"] == "2021-03-18T21:20:00+00:00"
    assert china["start_home"] == "2021-03-18T17:20:00-04:00"
    assert items["two-plus-two"]["start_home"] == "2021-03-17T20:30:00-04:00"
    assert items["two-plus-two"]["date"] == "2021-03-18"


def test_crossing_the_date_line_westwards_gives_plus_one_day() -> None:
    # Anchorage 20:00 AKDT on 18 March 2021 = 04:00 UTC on the 19th = 13:00 KST on the 19th.
    anchorage = resolve_wall_time(datetime(2021, 3, 18, 20, 0), ZoneInfo("America/Anchorage"))
    in_seoul = in_zone(anchorage, ZoneInfo("Asia/Seoul"))
    assert in_seoul.replace(tzinfo=None) == datetime(2021, 3, 19, 13, 0)
    assert day_marker(in_seoul, anchorage.date()) == "+1d"
    assert day_marker(anchorage, in_seoul.date()) == "-1d"


def test_two_days_apart_across_the_date_line() -> None:
    # Kiritimati (UTC+14) and Pago Pago (UTC-11): 25 hours apart.
    # 23:30 on 1 Jan at Kiritimati = 09:30 UTC 1 Jan = 22:30 on 31 Dec at Pago Pago.
    kiri = resolve_wall_time(datetime(2024, 1, 1, 23, 30), ZoneInfo("Pacific/Kiritimati"))
    pago = in_zone(kiri, ZoneInfo("Pacific/Pago_Pago"))
    assert pago.replace(tzinfo=None) == datetime(2023, 12, 31, 22, 30)
    assert day_marker(pago, kiri.date()) == "-1d"
    # 00:30 on 2 Jan at Kiritimati = 10:30 UTC 1 Jan = 23:30 on 31 Dec at Pago Pago: -2d.
    kiri2 = resolve_wall_time(datetime(2024, 1, 2, 0, 30), ZoneInfo("Pacific/Kiritimati"))
    assert day_marker(in_zone(kiri2, ZoneInfo("Pacific/Pago_Pago")), kiri2.date()) == "-2d"


# -- a DST change in the middle of a trip ---------------------------------------------


@pytest.fixture(scope="module")
def dst_trip() -> Trip:
    result = load_trip(DATA / "dst-mid-trip.toml")
    assert result.warnings == []
    return result.trip


# (event id, local label, UTC instant, home label at Europe/London, label with home New York)
DST_MID_TRIP = [
    # 10 March: GMT (+0) and EST (-5).
    (
        "cabinet",
        "09:30 GMT",
        datetime(2023, 3, 10, 9, 30, tzinfo=UTC),
        "09:30 GMT",
        "04:30 EST",
    ),
    # 22:30 EST on the 11th is 03:30 UTC on the 12th (before the US change at 07:00 UTC).
    (
        "un-dinner",
        "22:30 EST",
        datetime(2023, 3, 12, 3, 30, tzinfo=UTC),
        "03:30 GMT +1d",
        "22:30 EST",
    ),
    # 13 March: US on EDT (-4), UK still GMT (+0): 4 hours apart, not 5.
    (
        "un-briefing",
        "10:00 EDT",
        datetime(2023, 3, 13, 14, 0, tzinfo=UTC),
        "14:00 GMT",
        "10:00 EDT",
    ),
    (
        "commons-statement",
        "12:30 GMT",
        datetime(2023, 3, 16, 12, 30, tzinfo=UTC),
        "12:30 GMT",
        "08:30 EDT",
    ),
    ("committee", "10:00 GMT", datetime(2023, 3, 24, 10, 0, tzinfo=UTC), "10:00 GMT", "06:00 EDT"),
    # 27 March: UK on BST (+1): 5 hours apart again.
    (
        "select-committee",
        "10:00 BST",
        datetime(2023, 3, 27, 9, 0, tzinfo=UTC),
        "10:00 BST",
        "05:00 EDT",
    ),
]


@pytest.mark.parametrize(("event_id", "local", "instant", "home", "ny_home"), DST_MID_TRIP)
def test_dst_mid_trip(
    dst_trip: Trip, event_id: str, local: str, instant: datetime, home: str, ny_home: str
) -> None:
    ev = event(dst_trip, event_id)
    assert utc(ev.start) == instant
    assert local_time_label(ev) == local
    assert home_time_label(ev, dst_trip.home_tz) == home
    assert home_time_label(ev, NY) == ny_home


def test_london_new_york_gap_is_4h_between_the_two_changes(dst_trip: Trip) -> None:
    statement = event(dst_trip, "commons-statement")  # London, 16 March
    at_ny = in_zone(statement.start, NY)
    gap = statement.start.utcoffset() - at_ny.utcoffset()  # type: ignore[operator]
    assert gap == timedelta(hours=4)
    before = event(dst_trip, "cabinet")  # 10 March
    assert before.start.utcoffset() - in_zone(before.start, NY).utcoffset() == timedelta(hours=5)  # type: ignore[operator]
    after = event(dst_trip, "select-committee")  # 27 March
    assert after.start.utcoffset() - in_zone(after.start, NY).utcoffset() == timedelta(hours=5)  # type: ignore[operator]


def test_travel_end_is_wall_time_at_the_destination(dst_trip: Trip) -> None:
    out = event(dst_trip, "travel-london-new-york")
    # Departs 11:00 GMT (11:00 UTC), arrives 14:10 EST (19:10 UTC): 8 h 10 min.
    assert utc(out.start) == datetime(2023, 3, 11, 11, 0, tzinfo=UTC)
    assert utc(out.end) == datetime(2023, 3, 11, 19, 10, tzinfo=UTC)  # type: ignore[arg-type]
    assert out.end.tzinfo == NY  # type: ignore[union-attr]
    back = event(dst_trip, "travel-new-york-london")
    # Departs 19:30 EDT (23:30 UTC on the 14th), arrives 07:05 GMT (07:05 UTC on the 15th).
    assert utc(back.start) == datetime(2023, 3, 14, 23, 30, tzinfo=UTC)
    assert utc(back.end) == datetime(2023, 3, 15, 7, 5, tzinfo=UTC)  # type: ignore[arg-type]
    assert utc(back.end) - utc(back.start) == timedelta(hours=7, minutes=35)  # type: ignore[arg-type]


def test_dst_trip_json_offsets_change_mid_trip(dst_trip: Trip) -> None:
    items = {item["id"]: item for item in json.loads(agenda_json(dst_trip))}
    assert items["un-dinner"]["start_local"] == "2023-03-11T22:30:00-05:00"
    assert items["un-dinner"]["start_home"] == "2023-03-12T03:30:00+00:00"
    assert items["un-briefing"]["start_local"] == "2023-03-13T10:00:00-04:00"
    assert items["un-briefing"]["start_home"] == "2023-03-13T14:00:00+00:00"
    assert items["select-committee"]["start_local"] == "2023-03-27T10:00:00+01:00"
    assert items["select-committee"]["start_utc"] == "2023-03-27T09:00:00+00:00"
    assert items["select-committee"]["end_utc"] == "2023-03-27T10:30:00+00:00"
    assert items["travel-new-york-london"]["end_local"] == "2023-03-15T07:05:00+00:00"


# -- half-hour and 45-minute zones ----------------------------------------------------


@pytest.fixture(scope="module")
def kathmandu_trip() -> Trip:
    result = load_trip(DATA / "kathmandu.toml")
    assert result.warnings == []
    return result.trip


# Kathmandu = UTC+05:45, Kolkata = UTC+05:30, home GMT (+0).
KATHMANDU = [
    ("ktm-breakfast", "05:30 +0545", datetime(2023, 2, 5, 23, 45, tzinfo=UTC), "23:45 GMT -1d"),
    ("ktm-fm", "10:00 +0545", datetime(2023, 2, 6, 4, 15, tzinfo=UTC), "04:15 GMT"),
    ("travel-ktm-del", "15:00 +0545", datetime(2023, 2, 6, 9, 15, tzinfo=UTC), "09:15 GMT"),
    ("del-dinner", "20:00 IST", datetime(2023, 2, 6, 14, 30, tzinfo=UTC), "14:30 GMT"),
    ("del-yoga", "05:00 IST", datetime(2023, 2, 6, 23, 30, tzinfo=UTC), "23:30 GMT -1d"),
]


@pytest.mark.parametrize(("event_id", "local", "instant", "home"), KATHMANDU)
def test_kathmandu_and_kolkata(
    kathmandu_trip: Trip, event_id: str, local: str, instant: datetime, home: str
) -> None:
    ev = event(kathmandu_trip, event_id)
    assert utc(ev.start) == instant
    assert local_time_label(ev) == local
    assert home_time_label(ev, kathmandu_trip.home_tz) == home


def test_kathmandu_to_delhi_flight_crosses_a_15_minute_zone_difference(
    kathmandu_trip: Trip,
) -> None:
    flight = event(kathmandu_trip, "travel-ktm-del")
    # 15:00 +05:45 (09:15 UTC) to 16:20 +05:30 (10:50 UTC): 1 h 35 min, not 1 h 20 min.
    assert flight.end is not None
    assert utc(flight.end) == datetime(2023, 2, 6, 10, 50, tzinfo=UTC)
    assert utc(flight.end) - utc(flight.start) == timedelta(hours=1, minutes=35)
    assert format_offset(flight.start) == "UTC+05:45"
    assert format_offset(flight.end) == "UTC+05:30"


def test_delhi_event_seen_from_kathmandu_home() -> None:
    # 20:00 IST (+05:30) = 14:30 UTC = 20:15 in Kathmandu (+05:45).
    dinner = resolve_wall_time(datetime(2023, 2, 6, 20, 0), ZoneInfo("Asia/Kolkata"))
    at_ktm = in_zone(dinner, ZoneInfo("Asia/Kathmandu"))
    assert at_ktm.replace(tzinfo=None) == datetime(2023, 2, 6, 20, 15)
    # 23:50 IST = 18:20 UTC = 00:05 next day in Kathmandu: +1d.
    late = resolve_wall_time(datetime(2023, 2, 6, 23, 50), ZoneInfo("Asia/Kolkata"))
    late_ktm = in_zone(late, ZoneInfo("Asia/Kathmandu"))
    assert late_ktm.replace(tzinfo=None) == datetime(2023, 2, 7, 0, 5)
    assert day_marker(late_ktm, late.date()) == "+1d"


def test_kathmandu_was_plus_0530_before_1986() -> None:
    # Nepal moved from +05:30 to +05:45 on 1 January 1986.
    old = resolve_wall_time(datetime(1985, 6, 1, 12, 0), ZoneInfo("Asia/Kathmandu"))
    assert utc(old) == datetime(1985, 6, 1, 6, 30, tzinfo=UTC)
    new = resolve_wall_time(datetime(1986, 6, 1, 12, 0), ZoneInfo("Asia/Kathmandu"))
    assert utc(new) == datetime(1986, 6, 1, 6, 15, tzinfo=UTC)


def test_eucla_45_minute_zone() -> None:
    eucla = ZoneInfo("Australia/Eucla")
    # Eucla is UTC+08:45 with no summer time: 09:00 = 00:15 UTC.
    t = resolve_wall_time(datetime(2023, 7, 1, 9, 0), eucla)
    assert t == datetime(2023, 7, 1, 9, 0, tzinfo=fixed(8, 45))
    assert utc(t) == datetime(2023, 7, 1, 0, 15, tzinfo=UTC)
    assert format_offset(t) == "UTC+08:45"
    assert zone_abbrev(t) == "+0845"
    # 05:00 in Eucla on 2 July = 20:15 UTC on 1 July: in London (BST) 21:15, -1d.
    early = resolve_wall_time(datetime(2023, 7, 2, 5, 0), eucla)
    at_home = in_zone(early, LONDON)
    assert at_home.replace(tzinfo=None) == datetime(2023, 7, 1, 21, 15)
    assert day_marker(at_home, early.date()) == "-1d"


def test_chatham_45_minute_zone_with_dst() -> None:
    chatham = ZoneInfo("Pacific/Chatham")
    # +13:45 in January (summer), +12:45 in July.
    jan = resolve_wall_time(datetime(2023, 1, 10, 12, 0), chatham)
    jul = resolve_wall_time(datetime(2023, 7, 10, 12, 0), chatham)
    assert utc(jan) == datetime(2023, 1, 9, 22, 15, tzinfo=UTC)
    assert utc(jul) == datetime(2023, 7, 9, 23, 15, tzinfo=UTC)


# -- the helpers: day_marker, format_offset, zone_abbrev, local_midnight ---------------


@pytest.mark.parametrize(
    ("shown", "reference", "marker"),
    [
        (datetime(2023, 1, 17, 23, 0, tzinfo=UTC), date(2023, 1, 17), ""),
        (datetime(2023, 1, 18, 1, 0, tzinfo=UTC), date(2023, 1, 17), "+1d"),
        (datetime(2023, 1, 16, 23, 0, tzinfo=UTC), date(2023, 1, 17), "-1d"),
        (datetime(2023, 1, 19, 0, 0, tzinfo=UTC), date(2023, 1, 17), "+2d"),
        (datetime(2023, 1, 1, 0, 0, tzinfo=UTC), date(2022, 12, 31), "+1d"),  # year end
        (datetime(2024, 3, 1, 0, 0, tzinfo=UTC), date(2024, 2, 29), "+1d"),  # leap day
    ],
)
def test_day_marker(shown: datetime, reference: date, marker: str) -> None:
    assert day_marker(shown, reference) == marker


def test_day_marker_uses_the_shown_zone_date() -> None:
    # 09:30 KST on 18 March 2021 is 20:30 EDT on the 17th: -1d relative to the Seoul date.
    seoul = datetime(2021, 3, 18, 9, 30, tzinfo=fixed(9))
    assert day_marker(seoul.astimezone(NY), seoul.date()) == "-1d"
    assert day_marker(seoul.astimezone(ZoneInfo("Asia/Tokyo")), seoul.date()) == ""


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (datetime(2023, 1, 17, 9, 15, tzinfo=NY), "UTC-05:00"),
        (datetime(2023, 7, 17, 9, 15, tzinfo=NY), "UTC-04:00"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=LONDON), "UTC+00:00"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=UTC), "UTC+00:00"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=ZoneInfo("Asia/Kathmandu")), "UTC+05:45"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=ZoneInfo("Asia/Kolkata")), "UTC+05:30"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=ZoneInfo("America/St_Johns")), "UTC-03:30"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=ZoneInfo("Pacific/Kiritimati")), "UTC+14:00"),
        (datetime(2023, 1, 17, 9, 15, tzinfo=ZoneInfo("Pacific/Marquesas")), "UTC-09:30"),
        # Local mean time before 1883 was -4:56:02: shown to the minute, toward zero.
        (datetime(1880, 1, 1, 12, 0, tzinfo=NY), "UTC-04:56"),
    ],
)
def test_format_offset(dt: datetime, text: str) -> None:
    assert format_offset(dt) == text


def test_format_offset_refuses_naive() -> None:
    with pytest.raises(ValueError):
        format_offset(datetime(2023, 1, 17, 9, 15))


@pytest.mark.parametrize(
    ("zone", "wall", "abbrev"),
    [
        ("America/New_York", datetime(2023, 1, 17, 9, 15), "EST"),
        ("America/New_York", datetime(2023, 7, 17, 9, 15), "EDT"),
        ("Europe/London", datetime(2023, 1, 17, 9, 15), "GMT"),
        ("Europe/London", datetime(2023, 7, 17, 9, 15), "BST"),
        ("Asia/Seoul", datetime(2021, 3, 18, 9, 30), "KST"),
        ("America/Anchorage", datetime(2021, 3, 18, 13, 20), "AKDT"),
        ("Asia/Kolkata", datetime(2023, 2, 6, 20, 0), "IST"),
        ("Asia/Kathmandu", datetime(2023, 2, 6, 10, 0), "+0545"),
        ("UTC", datetime(2023, 2, 6, 10, 0), "UTC"),
    ],
)
def test_zone_abbrev(zone: str, wall: datetime, abbrev: str) -> None:
    assert zone_abbrev(resolve_wall_time(wall, ZoneInfo(zone))) == abbrev


def test_zone_abbrev_falls_back_to_the_offset_without_a_name() -> None:
    assert zone_abbrev(datetime(2023, 1, 1, tzinfo=fixed(5, 45))) == "UTC+05:45"


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # London changes at 01:00 GMT on 26 March 2023: midnight itself is normal GMT.
        ("Europe/London", date(2023, 3, 26), datetime(2023, 3, 26, 0, 0, tzinfo=fixed(0))),
        # New York changes at 02:00 on 12 March 2023: midnight is still EST.
        ("America/New_York", date(2023, 3, 12), datetime(2023, 3, 12, 0, 0, tzinfo=fixed(-5))),
        # ... and on 13 March midnight is EDT.
        ("America/New_York", date(2023, 3, 13), datetime(2023, 3, 13, 0, 0, tzinfo=fixed(-4))),
        # Sao Paulo skipped 00:00-00:59 on 4 November 2018: the day began at 01:00 -02:00.
        ("America/Sao_Paulo", date(2018, 11, 4), datetime(2018, 11, 4, 1, 0, tzinfo=fixed(-2))),
        # Havana repeats 00:00-00:59 on 5 November 2023: the day begins at the first 00:00, CDT.
        ("America/Havana", date(2023, 11, 5), datetime(2023, 11, 5, 0, 0, tzinfo=fixed(-4))),
        # Kathmandu: 00:00 +05:45 = 18:15 UTC the day before.
        ("Asia/Kathmandu", date(2023, 2, 6), datetime(2023, 2, 5, 18, 15, tzinfo=UTC)),
    ],
)
def test_local_midnight(zone: str, day: date, expected: datetime) -> None:
    first = local_midnight(day, ZoneInfo(zone))
    assert utc(first) == utc(expected)
    assert first.tzinfo == ZoneInfo(zone)
    assert first.date() == day


def test_local_midnight_of_a_day_that_never_happened() -> None:
    with pytest.raises(NonexistentTimeError):
        local_midnight(date(2011, 12, 30), ZoneInfo("Pacific/Apia"))


def test_local_midnight_is_in_the_zone_after_a_skipped_day() -> None:
    # Samoa: 29 December 2011 was -10:00, 31 December +14:00.
    first = local_midnight(date(2011, 12, 31), ZoneInfo("Pacific/Apia"))
    assert utc(first) == datetime(2011, 12, 30, 10, 0, tzinfo=UTC)


# -- resolve_wall_time ----------------------------------------------------------------


def test_resolve_wall_time_normal() -> None:
    t = resolve_wall_time(datetime(2023, 1, 17, 9, 15), NY)
    assert t == datetime(2023, 1, 17, 9, 15, tzinfo=fixed(-5))
    assert t.tzinfo is NY


@pytest.mark.parametrize(
    ("zone", "wall"),
    [
        ("America/New_York", datetime(2023, 3, 12, 2, 30)),
        ("America/New_York", datetime(2023, 3, 12, 2, 0)),
        ("America/New_York", datetime(2023, 3, 12, 2, 59)),
        ("Europe/London", datetime(2023, 3, 26, 1, 30)),
        ("Australia/Lord_Howe", datetime(2023, 10, 1, 2, 15)),  # a 30-minute DST change
        ("Pacific/Apia", datetime(2011, 12, 30, 12, 0)),  # a whole day skipped
    ],
)
def test_resolve_wall_time_refuses_nonexistent(zone: str, wall: datetime) -> None:
    with pytest.raises(NonexistentTimeError, match="does not exist"):
        resolve_wall_time(wall, ZoneInfo(zone))


@pytest.mark.parametrize(
    ("zone", "wall"),
    [
        ("America/New_York", datetime(2023, 3, 12, 1, 59)),
        ("America/New_York", datetime(2023, 3, 12, 3, 0)),
        ("Europe/London", datetime(2023, 3, 26, 0, 59)),
        ("Europe/London", datetime(2023, 3, 26, 2, 0)),
    ],
)
def test_resolve_wall_time_accepts_the_edges_of_a_gap(zone: str, wall: datetime) -> None:
    assert resolve_wall_time(wall, ZoneInfo(zone)).replace(tzinfo=None) == wall


@pytest.mark.parametrize(
    ("zone", "wall", "offsets"),
    [
        ("America/New_York", datetime(2023, 11, 5, 1, 30), "UTC-04:00 and UTC-05:00"),
        ("America/New_York", datetime(2023, 11, 5, 1, 0), "UTC-04:00 and UTC-05:00"),
        ("Europe/London", datetime(2023, 10, 29, 1, 30), "UTC+01:00 and UTC+00:00"),
        ("Australia/Lord_Howe", datetime(2023, 4, 2, 1, 45), "UTC+11:00 and UTC+10:30"),
    ],
)
def test_resolve_wall_time_refuses_ambiguous(zone: str, wall: datetime, offsets: str) -> None:
    with pytest.raises(AmbiguousTimeError, match="happens twice") as info:
        resolve_wall_time(wall, ZoneInfo(zone))
    assert offsets in str(info.value)
    assert "explicit offset" in str(info.value)


def test_resolve_wall_time_just_after_the_repeated_hour_is_fine() -> None:
    t = resolve_wall_time(datetime(2023, 11, 5, 2, 0), NY)
    assert utc(t) == datetime(2023, 11, 5, 7, 0, tzinfo=UTC)  # 02:00 EST


def test_resolve_wall_time_refuses_aware_input() -> None:
    with pytest.raises(ValueError):
        resolve_wall_time(datetime(2023, 1, 17, 9, 15, tzinfo=UTC), NY)


def test_in_zone_refuses_naive() -> None:
    with pytest.raises(ValueError):
        in_zone(datetime(2023, 1, 17, 9, 15), NY)


# -- get_zone -------------------------------------------------------------------------


def test_get_zone_known() -> None:
    assert get_zone("Asia/Kathmandu") == ZoneInfo("Asia/Kathmandu")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Europe/Londn", "unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)"),
        ("asia/kolkata", "unknown time zone 'asia/kolkata' (did you mean 'Asia/Kolkata'?)"),
        ("Nowhere/At_All", "unknown time zone 'Nowhere/At_All'"),
        ("localtime", "unknown time zone 'localtime'"),
        ("", "unknown time zone ''"),
    ],
)
def test_get_zone_unknown(name: str, message: str) -> None:
    with pytest.raises(ZoneError) as info:
        get_zone(name)
    assert str(info.value) == message


# -- parse_instant (--at) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2023-01-17T09:30-05:00", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17T14:30Z", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17T14:30:00+00:00", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        # ISO 8601 allows a space between date and time: not a zone name.
        ("2023-01-17 09:30-05:00", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17 14:30Z", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17 09:30 America/New_York", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17T09:30 America/New_York", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("2023-01-17T09:30[America/New_York]", datetime(2023, 1, 17, 14, 30, tzinfo=UTC)),
        ("  2023-02-06T10:00 Asia/Kathmandu  ", datetime(2023, 2, 6, 4, 15, tzinfo=UTC)),
        # After the US change: 09:30 EDT is 13:30 UTC.
        ("2023-03-13T09:30[America/New_York]", datetime(2023, 3, 13, 13, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, instant: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed.tzinfo is not None
    assert utc(parsed) == instant


def test_parse_instant_with_offset_and_zone_converts_into_the_zone() -> None:
    parsed = parse_instant("2023-01-17T14:30Z[America/New_York]")
    assert utc(parsed) == datetime(2023, 1, 17, 14, 30, tzinfo=UTC)
    assert parsed.replace(tzinfo=None) == datetime(2023, 1, 17, 9, 30)


@pytest.mark.parametrize("text", ["2023-01-17T09:30", "2023-01-17 09:30", "2023-01-17"])
def test_parse_instant_refuses_naive(text: str) -> None:
    with pytest.raises(ValueError, match=r"has no offset or zone") as info:
        parse_instant(text)
    assert not isinstance(info.value, ZoneError)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2023-03-12T02:30 America/New_York", NonexistentTimeError),
        ("2023-11-05T01:30[America/New_York]", AmbiguousTimeError),
        ("2023-01-17T09:30 Mars/Base", ZoneError),
        ("yesterday", ValueError),
        ("", ValueError),
    ],
)
def test_parse_instant_refuses_bad_input(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_instant(text)


# -- nothing depends on the machine's own zone ----------------------------------------


@pytest.fixture
def machine_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set this process's local zone (TZ) and restore it afterwards."""

    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (POSIX)")
def test_results_do_not_depend_on_the_machine_zone(machine_tz: Callable[[str], None]) -> None:
    outputs = []
    for tz in ("Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu"):
        machine_tz(tz)
        assert time.localtime(0).tm_gmtoff != 0  # the zone really changed
        texts = []
        for path in (DATA / "dst-mid-trip.toml", TRIPS / "secstate-seoul-anchorage-2021-03.toml"):
            trip = load_trip(path).trip
            texts.append(agenda_json(trip) + agenda_text(trip))
        outputs.append(texts)
    assert outputs[0] == outputs[1] == outputs[2]


# -- days that never were --------------------------------------------------------------

#: Samoa went from Thursday 29 December 2011 (UTC-10) to Saturday 31 December (UTC+14);
#: Kwajalein from Friday 20 August 1993 (UTC-12) to Sunday 22 August (UTC+12).
SKIPPED = [
    ("Pacific/Apia", date(2011, 12, 29), date(2011, 12, 31), datetime(2011, 12, 30, 10, 0)),
    ("Pacific/Kwajalein", date(1993, 8, 20), date(1993, 8, 22), datetime(1993, 8, 21, 12, 0)),
]


@pytest.mark.parametrize(("zone", "before", "after", "utc_midnight"), SKIPPED)
def test_next_local_midnight_steps_over_a_skipped_day(
    zone: str, before: date, after: date, utc_midnight: datetime
) -> None:
    from tripdash.domain.times import next_local_midnight

    tz = ZoneInfo(zone)
    with pytest.raises(NonexistentTimeError, match="skip that whole day"):
        local_midnight(before + timedelta(days=1), tz)
    end = next_local_midnight(before, tz)
    # Worked out by hand: Apia's 29th ends at 24:00 -10:00 = 10:00 UTC on the 30th, which
    # is 00:00 +14:00 on the 31st; Kwajalein's 20th at 24:00 -12:00 = 12:00 UTC on the 21st.
    assert utc(end) == utc_midnight.replace(tzinfo=UTC)
    assert end.date() == after and (end.hour, end.minute) == (0, 0)
    # An ordinary day is unaffected: the next midnight is the next day's.
    assert next_local_midnight(date(2023, 1, 17), NY) == datetime(2023, 1, 18, tzinfo=NY)


def _skipped_day_trip(tmp_path: Path, zone: str, day: date, later: date) -> Path:
    path = tmp_path / "skipped.toml"
    path.write_text(
        f'[trip]\ntitle = "Across the date line"\nhome_tz = "Europe/London"\n'
        f'[[places]]\nid = "here"\nname = "Here"\ntz = "{zone}"\n'
        f'[[events]]\nid = "tbc"\ntitle = "Time to be confirmed"\nplace = "here"\n'
        f"start = {day.isoformat()}\n"
        f'[[events]]\nid = "later"\ntitle = "After the jump"\nplace = "here"\n'
        f"start = {later.isoformat()}T09:00:00\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("zone", "before", "after", "utc_midnight"), SKIPPED)
def test_tbc_event_the_day_before_a_skipped_day_works_in_check_agenda_and_schedule(
    tmp_path: Path, zone: str, before: date, after: date, utc_midnight: datetime
) -> None:
    import contextlib
    import io

    from tripdash import cli
    from tripdash.domain.schedule import Phase, Schedule

    path = _skipped_day_trip(tmp_path, zone, before, after)
    trip = load_trip(path).trip
    text = agenda_text(trip)
    assert "Time to be confirmed  [TBC]" in text and "After the jump" in text
    json.loads(agenda_json(trip))
    schedule = Schedule.for_trip(trip)
    # On the TBC day, the event is today's; after the jump it is past.
    during = utc_midnight.replace(tzinfo=UTC) - timedelta(hours=2)
    after_jump = utc_midnight.replace(tzinfo=UTC) + timedelta(hours=2)
    tbc = event(trip, "tbc")
    assert schedule.phase(tbc, during, None) is Phase.TBC_TODAY
    assert schedule.phase(tbc, after_jump, None) is Phase.PAST
    # The trip ends with its last event's running time, not at a midnight that never was.
    assert schedule.last_instant == utc(event(trip, "later").start) + timedelta(hours=1)
    state = ["--state-dir", str(tmp_path / "state")]
    for verb in (["check", str(path)], ["agenda", str(path), *state], ["log", str(path), *state]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert cli.main(verb) == 0, err.getvalue()
        assert err.getvalue() == ""


@pytest.mark.parametrize(("zone", "before", "after", "utc_midnight"), SKIPPED)
def test_tbc_event_on_the_skipped_day_itself_is_a_clear_error(
    tmp_path: Path, zone: str, before: date, after: date, utc_midnight: datetime
) -> None:
    from tripdash.domain.loader import TripInvalid

    skipped = before + timedelta(days=1)
    path = _skipped_day_trip(tmp_path, zone, skipped, after)
    with pytest.raises(TripInvalid) as info:
        load_trip(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:12: events[0].start: {skipped.isoformat()} does not exist in {zone}: the "
        "clocks skip that whole day (the zone moved across the date line)"
    ]


# -- zones that are other clocks -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical", "why"),
    [
        ("right/Europe/London", "Europe/London", "counts leap seconds"),
        ("posix/Asia/Tokyo", "Asia/Tokyo", "copy of the standard zone"),
        ("right/UTC", "UTC", "counts leap seconds"),
        ("posix/america/new_york", "America/New_York", "copy of the standard zone"),
    ],
)
def test_right_and_posix_zones_are_refused_with_the_canonical_name(
    name: str, canonical: str, why: str
) -> None:
    with pytest.raises(ZoneError) as info:
        get_zone(name)
    message = str(info.value)
    assert message.startswith(f"time zone {name!r} is refused: ")
    assert why in message
    assert message.endswith(f"write {canonical!r} instead")


def test_only_tzdatas_own_zone_names_are_accepted() -> None:
    from importlib.resources import files

    listed = set(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())
    assert "Europe/London" in listed and not any(z.startswith(("right/", "posix/")) for z in listed)
    for name in ("Europe/London", "Asia/Tokyo", "US/Eastern", "UTC"):
        assert get_zone(name).key == name
    # Files that sit in some zoneinfo folders but are not zones of tzdata's list.
    for name in ("posixrules", "Factory", "localtime", "zone.tab", "tzdata.zi", "leapseconds"):
        with pytest.raises(ZoneError):
            get_zone(name)
