"""The schedule's answers behind the glance (issue 12): where "here" is, what is next
when only TBC events are left, where the now line goes, and how countdowns round."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.schedule import Phase, Schedule
from tripdash.domain.times import parse_instant

REPO = Path(__file__).resolve().parent.parent
FS = REPO / "trips" / "fs-north-america-2023-01.toml"
SEOUL = REPO / "trips" / "secstate-seoul-anchorage-2021-03.toml"


def schedule(path: Path) -> Schedule:
    return Schedule(load_trip(path).trip)


def fs_with_press_conference_cancelled(tmp_path: Path) -> Trip:
    text = FS.read_text(encoding="utf-8")
    anchor = "start = 2023-01-17T15:30:00\n"
    assert text.count(anchor) == 1
    path = tmp_path / "fs.toml"
    path.write_text(text.replace(anchor, anchor + 'status = "cancelled"\n'), encoding="utf-8")
    return load_trip(path).trip


def index_of(s: Schedule, event_id: str) -> int:
    return next(i for i, e in enumerate(s.trip.events) if e.id == event_id)


# -- item 6: the "here" clock ---------------------------------------------------------


def test_here_stays_in_seoul_until_seouls_day_is_over() -> None:
    s = schedule(SEOUL)
    # 16:50 KST on the 18th = 07:50 UTC = 23:50 AKDT on the 17th: the flight is TBC, the
    # delegation is still in Seoul (Anchorage's 18 March has not even begun).
    place = s.current_place(parse_instant("2021-03-18T16:50 Asia/Seoul"))
    assert place is not None and place.id == "seoul"
    # 23:59 KST: still Seoul.
    place = s.current_place(parse_instant("2021-03-18T23:59 Asia/Seoul"))
    assert place is not None and place.id == "seoul"


def test_here_moves_to_anchorage_with_the_next_days_first_event() -> None:
    s = schedule(SEOUL)
    # 19 Mar 01:00 KST = 18 Mar 08:00 AKDT: Seoul's day is over, Anchorage's has begun.
    place = s.current_place(parse_instant("2021-03-19T01:00 Asia/Seoul"))
    assert place is not None and place.id == "anchorage"
    # 13:30 AKDT: the China meeting (13:20) is in progress in Anchorage.
    place = s.current_place(parse_instant("2021-03-18T21:30Z"))
    assert place is not None and place.id == "anchorage"


def test_a_cancelled_event_never_moves_here(tmp_path: Path) -> None:
    s = Schedule(fs_with_press_conference_cancelled(tmp_path))
    # Tuesday 15:20 DC: the 15:30 press conference is cancelled; the next event is the
    # Arlington wreath-laying on Wednesday. They are still in Washington.
    place = s.current_place(parse_instant("2023-01-17T15:20 America/New_York"))
    assert place is not None and place.id == "washington"
    place = s.current_place(parse_instant("2023-01-17T23:00 America/New_York"))
    assert place is not None and place.id == "washington"
    # Wednesday morning: the day's first event (Arlington) has moved them.
    place = s.current_place(parse_instant("2023-01-18T07:00 America/New_York"))
    assert place is not None and place.id == "arlington"


def test_here_before_the_trip_is_where_it_starts() -> None:
    s = schedule(SEOUL)
    place = s.current_place(parse_instant("2021-03-10T12:00Z"))
    assert place is not None and place.id == "seoul"


# -- item 5: a day whose remaining events are TBC -------------------------------------


def test_tbc_events_of_today_are_next_not_past() -> None:
    s = schedule(FS)
    now = parse_instant("2023-01-18T09:00 America/Toronto")
    first = index_of(s, "arlington-wreath")
    assert s.now_position(now) == first  # the now line sits above all five TBC events
    for e in s.trip.events[first:]:
        assert s.phase(e, now, s.find_next(now)) is Phase.TBC_TODAY
    nxt = s.next_for_header(now)
    assert nxt is not None and nxt.id == "arlington-wreath"


def test_a_confirmed_event_later_today_stays_next() -> None:
    s = schedule(FS)
    # 12:00 DC: the Blinken bilateral (TBC, listed after the speech) is pending, but the
    # 15:30 press conference is today: it is next, with its countdown.
    now = parse_instant("2023-01-17T12:00 America/New_York")
    nxt = s.next_for_header(now)
    assert nxt is not None and nxt.id == "blinken-press-conference"
    assert s.now_position(now) == index_of(s, "blinken-bilateral")


def test_tbc_events_are_past_once_their_day_is_over() -> None:
    s = schedule(FS)
    now = parse_instant("2023-01-19T01:00 America/Toronto")
    assert s.now_position(now) == len(s.trip.events)
    assert s.next_for_header(now) is None


# -- item 7: countdowns round up ------------------------------------------------------


def test_countdown_rounds_the_wait_up() -> None:
    s = schedule(FS)
    speech = s.trip.events[index_of(s, "csis-speech")]
    start = speech.start
    assert s.countdown(speech, start - timedelta(minutes=9, seconds=59)) == "in 10 min"
    assert s.countdown(speech, start - timedelta(minutes=10)) == "in 10 min"
    assert s.countdown(speech, start - timedelta(minutes=10, seconds=1)) == "in 11 min"
    assert s.countdown(speech, start - timedelta(seconds=30)) == "in less than a minute"
    assert s.countdown(speech, start - timedelta(seconds=30), compact=True) == "in <1 min"
    later = start - timedelta(hours=6, minutes=9, seconds=30)
    assert s.countdown(speech, later, compact=True) == "in 6h10"


def test_countdown_just_after_the_start_is_not_running_0_min() -> None:
    s = schedule(FS)
    speech = s.trip.events[index_of(s, "csis-speech")]
    just = speech.start + timedelta(seconds=20)
    assert s.countdown(speech, just, compact=True) == "just started"
    assert s.countdown(speech, just) == "just started"
    assert s.countdown(speech, speech.start + timedelta(minutes=5, seconds=59)) == (
        "started 5 min ago"
    )


def test_the_banner_before_the_trip_rounds_up_as_the_countdowns_do() -> None:
    # 09:10:03 with the first event at 09:15: the row says "in 5 min"; so must the header.
    s = schedule(FS)
    speech = s.trip.events[index_of(s, "csis-speech")]
    now = speech.start - timedelta(minutes=4, seconds=57)
    assert s.countdown(speech, now) == "in 5 min"
    assert s.banner(now) == "starts in 5 min"
    assert s.banner(speech.start - timedelta(seconds=20)) == "starts in less than a minute"
