"""Snapshots of the glance (issue 12): the selected row, secondary text, titles, states
and countdowns at 80x24, 120x40 and 200x50, in the dark and light themes.

Each SVG was looked at as a picture (snapshot-png) and its times checked by hand:
Tokyo 11:40 JST = 22:40 EDT the day before; the Toyota meeting (11:30, no end) is in
progress, "running 10 min"; Honda (12:30 JST = 23:30 EDT -1d) is next, "in 50 min".
"""

from __future__ import annotations

import pytest

from .conftest import FS_TRIP, SEOUL_TRIP, TRIPS, trip

TOKYO = TRIPS / "canada-pm-tokyo-2016-05.toml"
SIZES = {"80x24": (80, 24), "120x40": (120, 40), "200x50": (200, 50)}
THEMES = ["textual-dark", "textual-light"]


def themed(name: str):
    async def run_before(pilot) -> None:
        pilot.app.theme = name
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", list(SIZES))
def test_tokyo_cursor_on_the_next_row(build_app, snap, size: str, theme: str) -> None:
    # Items 1-4: `j` from the running Toyota meeting lands on Honda, the next event; the
    # row is a solid block, unlike the running row; the titles tell Subaru, Toyota and
    # Honda apart; the state column never touches the title.
    snap(
        build_app(trip(TOKYO), "2016-05-24T11:40 Asia/Tokyo"),
        press=["j"],
        terminal_size=SIZES[size],
        run_before=themed(theme),
    )


@pytest.mark.parametrize("theme", THEMES)
def test_tokyo_focus_in_the_details_pane(build_app, snap, theme: str) -> None:
    # Item 1: with focus in the details pane the selected row is still unmistakable.
    snap(
        build_app(trip(TOKYO), "2016-05-24T11:40 Asia/Tokyo"),
        press=["j", "tab"],
        terminal_size=SIZES["120x40"],
        run_before=themed(theme),
    )


@pytest.mark.parametrize("size", ["80x24", "120x40"])
def test_fs_day_of_tbc_events(build_app, snap, size: str) -> None:
    # Item 5: Wed 18 Jan 09:00 Toronto (14:00 GMT): only TBC events are left today. The
    # header says what is next ("Lay a wreath…", time TBC, today); the now line sits
    # above the five TBC events, which say "TBC today", not past. Here: Arlington.
    snap(build_app(trip(FS_TRIP), "2023-01-18T09:00 America/Toronto"), terminal_size=SIZES[size])


def test_fs_countdown_is_never_the_part_cut(build_app, snap) -> None:
    # Item 4 at 80 columns: 09:20 DC, the speech started 5 min ago, the press conference
    # is "in 6 h 10 min": the titles are cut, never the countdowns.
    snap(
        build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York"),
        terminal_size=SIZES["80x24"],
    )


def test_seoul_stacked_details_wrap_under_their_labels(build_app, snap) -> None:
    # Items 6 and 10 at 100x30 (stacked): 16:50 KST = 03:50 EDT. The delegation is still
    # in Seoul (the flight is TBC). The details of the Moon meeting (15:00 KST = 02:00 EDT)
    # fill the rows the timeline does not need.
    snap(
        build_app(trip(SEOUL_TRIP), "2021-03-18T16:50 Asia/Seoul"),
        press=["k", "k"],
        terminal_size=(100, 30),
    )


def test_seoul_narrow_details_keep_the_day_marker_with_its_time(build_app, snap) -> None:
    # Item 10 at 110 columns, details 30 wide: "02:00 EDT -1d" is never split; wrapped
    # lines start under their label's value.
    snap(
        build_app(trip(SEOUL_TRIP), "2021-03-18T16:50 Asia/Seoul"),
        press=["k", "k"],
        terminal_size=(110, 30),
    )
