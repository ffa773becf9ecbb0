"""Snapshot tests of the dashboard with a frozen injected clock.

Each SVG under __snapshots__ was looked at as a picture and its times checked
by hand (see the comments), not merely accepted.
"""

from __future__ import annotations

from tripdash.domain.loader import load_trip

from .conftest import DATA, SEOUL_TRIP, TRIPS, trip

WIDE = (120, 34)
NARROW = (80, 24)


def test_fs_before_the_trip(build_app, snap) -> None:
    # Mon 16 Jan 12:00 UTC: banner "starts in 1 day 2 h..."; first event 09:15 EST / 14:15 GMT.
    snap(build_app(trip(), "2023-01-16T12:00Z"), terminal_size=WIDE)


def test_fs_during_the_csis_speech(build_app, snap) -> None:
    # 09:20 EST = 14:20 GMT: the speech (09:15) is in progress, started 5 min ago.
    snap(build_app(trip(), "2023-01-17T09:20 America/New_York"), terminal_size=WIDE)


def test_fs_between_two_events(build_app, snap) -> None:
    # 12:00 EST = 17:00 GMT: speech over, press conference 15:30 EST in 3 h 30 min.
    snap(build_app(trip(), "2023-01-17T12:00 America/New_York"), terminal_size=WIDE)


def test_fs_after_the_trip(build_app, snap) -> None:
    # Fri 20 Jan 12:00 UTC: the trip's last day (Wed 18, TBC) ended at midnight Toronto.
    snap(build_app(trip(), "2023-01-20T12:00Z"), terminal_size=WIDE)


def test_fs_details_screen(build_app, snap) -> None:
    # The press conference: 15:30 EST, 20:30 GMT, 20:30 UTC; with Blinken's talking points.
    snap(
        build_app(trip(), "2023-01-17T12:00 America/New_York"),
        press=["enter"],
        terminal_size=WIDE,
    )


def test_help_screen(build_app, snap) -> None:
    snap(build_app(trip(), "2023-01-17T12:00 America/New_York"), press=["question_mark"])


def test_picker(build_app, snap) -> None:
    trips = [load_trip(p).trip for p in sorted(TRIPS.glob("*.toml"))]
    snap(build_app(trips, "2023-01-16T12:00Z"))


def test_fs_at_80x24(build_app, snap) -> None:
    # 15:00 EST = 20:00 GMT: the press conference is next, in 30 min.
    snap(build_app(trip(), "2023-01-17T15:00 America/New_York"), terminal_size=NARROW)


def test_date_line_trip(build_app, snap) -> None:
    # 18 Mar 2021 21:30 UTC = 13:30 AKDT on the 18th = 06:30 KST on the 19th = 17:30 EDT.
    # The Anchorage meeting (13:20 AKDT, no end) is in progress; Seoul rows show -1d at home.
    snap(build_app(trip(SEOUL_TRIP), "2021-03-18T21:30Z"), terminal_size=WIDE)


def test_dst_change_mid_trip(build_app, snap) -> None:
    # 13 Mar 2023 15:00 UTC: New York is on EDT (-04:00) since the 12th, London still GMT:
    # 11:00 EDT = 15:00 GMT, four hours apart rather than five.
    snap(build_app(trip(DATA / "dst-mid-trip.toml"), "2023-03-13T15:00Z"), terminal_size=WIDE)


def _premark(tmp_path, items: list[str]) -> None:
    from tripdash.domain.store import MarkStore

    from .conftest import FakeClock, at

    with MarkStore(tmp_path / "state", clock=FakeClock(at("2023-01-17T15:00Z"))) as store:
        for item in items:
            store.mark("fs-north-america-2023-01", item, True, "alice")


def test_partly_done_day(build_app, snap, tmp_path) -> None:
    # 17:00 EST = 22:00 GMT on Tue 17: speech and press conference done (✓), bilateral not;
    # the heading says "Day 1: 2/3 done". Next: the Wednesday events, all TBC.
    _premark(tmp_path, ["csis-speech", "blinken-press-conference", "blinken/ukraine-tools-to-win"])
    snap(build_app(trip(), "2023-01-17T17:00 America/New_York"), terminal_size=WIDE)


def test_counterparts_screen(build_app, snap, tmp_path) -> None:
    # Blinken: bilateral TBC on Tue 17 and the press conference 15:30 EST / 20:30 GMT;
    # one talking point of seven covered.
    _premark(tmp_path, ["blinken/ukraine-tools-to-win"])
    snap(
        build_app(trip(), "2023-01-17T12:00 America/New_York"),
        press=["c"],
        terminal_size=WIDE,
    )
