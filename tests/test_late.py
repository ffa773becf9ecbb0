"""Running late: expected times from shifts, and what they now overlap (domain/late.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tripdash.domain.late import ShiftInvalid, check_shift, lateness
from tripdash.domain.loader import parse_trip_text
from tripdash.domain.model import Trip
from tripdash.domain.records import Shift

AT = datetime(2023, 1, 17, 12, tzinfo=timezone.utc)

HEAD = """
format = 1
[trip]
id = "late-test"
title = "Late test"
home_tz = "Europe/London"
[[places]]
id = "dc"
name = "Washington"
tz = "America/New_York"
[[places]]
id = "yyz"
name = "Toronto"
tz = "America/Toronto"
"""


def event(ident: str, start: str, end: str | None = None, **extra: str) -> str:
    lines = [f'[[events]]\nid = "{ident}"\ntitle = "{ident.title()}"\nplace = "dc"']
    lines.append(f"start = {start}")
    if end:
        lines.append(f"end = {end}")
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


DAY = HEAD + "".join(
    [
        event("speech", "2023-01-17T09:00:00", "2023-01-17T10:00:00"),
        event("bilateral", "2023-01-17T10:30:00", "2023-01-17T11:30:00"),
        event("tbc", "2023-01-17"),
        event("lunch", "2023-01-17T12:00:00", "2023-01-17T13:00:00", status='"cancelled"'),
        event("press", "2023-01-17T13:00:00", "2023-01-17T14:00:00"),
        event("wreath", "2023-01-17T14:30:00", "2023-01-17T15:00:00", fixed="true"),
        event("visit", "2023-01-17T15:30:00", "2023-01-17T16:30:00"),
        event(
            "flight",
            "2023-01-17T17:00:00",
            "2023-01-17T18:30:00",
            to='"yyz"',
            kind='"travel"',
        ),
        event("dinner", "2023-01-17T20:00:00", "2023-01-17T21:00:00"),
        event("breakfast", "2023-01-18T08:00:00", "2023-01-18T09:00:00"),
    ]
)


def trip_of(text: str = DAY) -> Trip:
    return parse_trip_text(text, source="late.toml", default_id="late-test").trip


def shift(from_event: str, minutes: int, until: str | None = None, hlc: int = 1) -> Shift:
    return Shift(f"s-{from_event}-{hlc}", from_event, minutes, until, "ps", AT, hlc)


def moved(trip: Trip, shifts: list[Shift]) -> dict[str, int]:
    late = lateness(trip, {s.from_event: s for s in shifts})
    return {e.id: late.minutes(e.id) for e in trip.events if late.minutes(e.id)}


def test_a_shift_moves_until_a_fixed_event_and_skips_tbc_and_cancelled() -> None:
    trip = trip_of()
    assert moved(trip, [shift("speech", 20)]) == {"speech": 20, "bilateral": 20, "press": 20}
    late = lateness(trip, {"speech": shift("speech", 20)})
    expected = {e.id: e for e in late.expected_trip().events}
    planned = {e.id: e for e in trip.events}
    assert expected["press"].start == planned["press"].start + timedelta(minutes=20)
    assert expected["press"].end == planned["press"].end + timedelta(minutes=20)  # type: ignore[operator]
    for still in ("tbc", "lunch", "wreath", "visit", "flight"):
        assert expected[still].start == planned[still].start
    assert late.headline("bilateral") == "running 20 min late since Speech"
    assert late.headline("visit") == ""


def test_a_shift_stops_before_travel_and_at_the_end_of_the_day() -> None:
    trip = trip_of()
    assert moved(trip, [shift("visit", 15)]) == {"visit": 15}
    assert moved(trip, [shift("dinner", 15)]) == {"dinner": 15}  # not the next day


def test_until_event_is_inclusive_and_may_cross_days() -> None:
    trip = trip_of()
    assert moved(trip, [shift("speech", 10, "bilateral")]) == {"speech": 10, "bilateral": 10}
    assert moved(trip, [shift("dinner", 10, "breakfast")]) == {"dinner": 10, "breakfast": 10}


def test_the_later_event_wins_from_there_and_zero_is_on_time() -> None:
    trip = trip_of()
    both = [shift("speech", 20), shift("bilateral", 35)]
    assert moved(trip, both) == {"speech": 20, "bilateral": 35, "press": 35}
    back = [shift("speech", 20), shift("press", 0)]
    assert moved(trip, back) == {"speech": 20, "bilateral": 20}
    assert lateness(trip, {"speech": shift("speech", 0)}).delays == {}


def test_running_early_and_its_overlap_with_the_fixed_event_before() -> None:
    trip = trip_of()
    late = lateness(trip, {"visit": shift("visit", -45)})
    assert late.minutes("visit") == -45
    assert late.headline("visit") == "running 45 min early since Visit"
    assert [str(o) for o in late.overlaps] == ["Visit now overlaps Wreath"]
    assert late.overlapping("wreath") == late.overlapping("visit") == late.overlaps
    assert lateness(trip, {"visit": shift("visit", -30)}).overlaps == []  # ends 15:00, starts 15:00


def test_overlap_with_the_fixed_event_after_is_flagged_on_both_sides() -> None:
    trip = trip_of()
    assert lateness(trip, {"speech": shift("speech", 30)}).overlaps == []  # press ends 14:30
    late = lateness(trip, {"speech": shift("speech", 31)})
    assert [(o.moved.id, o.fixed.id) for o in late.overlaps] == [("press", "wreath")]
    assert late.overlapping("press") and late.overlapping("wreath")
    assert not late.overlapping("bilateral")
    flight = lateness(trip, {"visit": shift("visit", 60)})
    assert [(o.moved.id, o.fixed.id) for o in flight.overlaps] == [("visit", "flight")]


def test_orphaned_shifts_are_kept_apart() -> None:
    trip = trip_of()
    gone = shift("removed-event", 20)
    late = lateness(trip, {"removed-event": gone, "speech": shift("speech", 5)})
    assert late.orphaned == [gone]
    assert late.minutes("speech") == 5


def test_expected_trip_keeps_programme_order() -> None:
    trip = trip_of()
    late = lateness(trip, {"speech": shift("speech", 240, "speech")})
    orders = [e.sort_at for e in late.expected_trip().events]
    assert orders == sorted(orders)
    assert lateness(trip, {}).expected_trip() is trip


def test_check_shift_refuses_what_cannot_be() -> None:
    trip = trip_of()
    check_shift(trip, "speech", None)
    check_shift(trip, "speech", "speech")
    check_shift(trip, "speech", "breakfast")
    with pytest.raises(ShiftInvalid, match="no event 'nope'"):
        check_shift(trip, "nope", None)
    with pytest.raises(ShiftInvalid, match="no event 'nope'"):
        check_shift(trip, "speech", "nope")
    with pytest.raises(ShiftInvalid, match="comes before"):
        check_shift(trip, "press", "speech")
    with pytest.raises(ShiftInvalid, match="TBC"):
        check_shift(trip, "tbc", None)
    for fixed in ("wreath", "flight"):
        with pytest.raises(ShiftInvalid, match="does not move"):
            check_shift(trip, fixed, None)


def test_a_shift_across_the_dst_change_counts_real_minutes() -> None:
    # US clocks go forward on 12 March 2023 at 02:00 EST (-05:00) to 03:00 EDT (-04:00).
    text = (
        HEAD
        + event("night", "2023-03-12T01:00:00", "2023-03-12T01:45:00")
        + event("morning", "2023-03-12T09:00:00", "2023-03-12T10:00:00")
    )
    trip = trip_of(text)
    late = lateness(trip, {"night": shift("night", 60)})
    night = late.expected_trip().events[0]
    # 06:00 UTC + 60 min = 07:00 UTC = 03:00 EDT (a wall clock sum would say 02:00, which
    # does not exist that day).
    assert night.start.astimezone(timezone.utc) == datetime(2023, 3, 12, 7, tzinfo=timezone.utc)
    assert night.start.utcoffset() == timedelta(hours=-4)
    assert night.end.astimezone(timezone.utc) == datetime(  # type: ignore[union-attr]
        2023, 3, 12, 7, 45, tzinfo=timezone.utc
    )
    assert late.minutes("morning") == 60  # the same local day, though a short one


def test_a_trip_file_without_fixed_is_still_valid() -> None:
    trip = trip_of()
    assert [e.id for e in trip.events if e.fixed] == ["wreath"]


def test_a_shift_ends_with_the_from_events_day_as_an_instant_not_as_a_date() -> None:
    """Seoul's Thursday ends at 15:00 UTC; Anchorage's Thursday, over the date line, comes
    after it. A meeting there is another day of the delegation's, not the same date."""
    text = """
format = 1
[trip]
id = "dateline"
title = "Date line"
home_tz = "America/New_York"
[[places]]
id = "sel"
name = "Seoul"
tz = "Asia/Seoul"
[[places]]
id = "anc"
name = "Anchorage"
tz = "America/Anchorage"
[[events]]
id = "moon"
title = "Moon"
place = "sel"
start = 2021-03-18T15:00:00
end = 2021-03-18T16:00:00
[[events]]
id = "dinner"
title = "Dinner"
place = "sel"
start = 2021-03-18T19:00:00
end = 2021-03-18T21:00:00
[[events]]
id = "china"
title = "China"
place = "anc"
start = 2021-03-18T13:20:00
end = 2021-03-18T15:00:00
"""
    trip = trip_of(text)
    # Same local date, Thursday 18 March, in both cities; 22 hours apart.
    assert {e.local_date for e in trip.events} == {datetime(2021, 3, 18).date()}
    assert moved(trip, [shift("moon", 30)]) == {"moon": 30, "dinner": 30}
    # Named as the shift's end, the Anchorage meeting still moves.
    assert moved(trip, [shift("moon", 30, until="china")]) == {
        "moon": 30,
        "dinner": 30,
        "china": 30,
    }
