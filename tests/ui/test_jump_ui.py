"""Jump to a time (`t`): the prompt, the rehearsal clock it moves, DST and the date line."""

from __future__ import annotations

from tripdash.domain.times import UTC
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.jump import JumpScreen
from tripdash.widgets.header import TripHeader
from tripdash.widgets.timeline import Timeline

from .conftest import DATA, SEOUL_TRIP, at, trip

WIDE = (120, 34)


async def test_a_date_time_and_place_moves_the_rehearsal_clock(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("t")
        assert isinstance(app.screen, JumpScreen)
        await pilot.press(*"2023-01-18 10:00 Toronto", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.clock.rehearsal
        assert screen.clock.now() == at("2023-01-18T15:00Z")
        assert "REHEARSAL" in screen.query_one(TripHeader).text().plain
        # "now" is real time again.
        await pilot.press("t", *"now", "enter")
        await pilot.pause()
        assert not screen.clock.rehearsal
        assert screen.clock.now() == at("2023-01-17T09:00 America/New_York")


async def test_an_event_by_title_is_selected(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t", *"press conf", "enter")
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected.id == "blinken-press-conference"
        assert app.screen.clock.now() == at("2023-01-17T15:30 America/New_York")
        await pilot.press("t", *"+2h", "enter")
        await pilot.pause()
        assert app.screen.clock.now() == at("2023-01-17T17:30 America/New_York")


async def test_a_phrase_that_names_no_time_keeps_the_prompt_with_the_reason(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t", *"[bold]zz", "enter")
        prompt = app.screen
        assert isinstance(prompt, JumpScreen)
        assert prompt.error.startswith("'[bold]zz' is neither a time nor an event")
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert not app.screen.clock.rehearsal


async def test_tomorrow_across_the_dst_change(build_app) -> None:
    # Sat 11 Mar 2023 15:00 EST (20:00 UTC), in New York; US clocks go forward that night.
    app = build_app(trip(DATA / "dst-mid-trip.toml"), "2023-03-11T20:00Z")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t", *"tomorrow 10:00", "enter")
        await pilot.pause()
        now = app.screen.clock.now()
        assert now == at("2023-03-12T14:00Z")  # 10:00 EDT, not 15:00 UTC
        await pilot.press("t", *"2023-03-12 02:30", "enter")  # skipped by the change
        assert "does not exist in America/New_York" in app.screen.error


async def test_tomorrow_across_the_date_line(build_app) -> None:
    # 16:00 UTC on 18 March 2021: 08:00 in Anchorage on the 18th (01:00 on the 19th in
    # Seoul). The delegation is in Anchorage: tomorrow is Anchorage's 19 March.
    app = build_app(trip(SEOUL_TRIP), "2021-03-18T16:00Z")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t", *"tomorrow 08:00", "enter")
        await pilot.pause()
        assert app.screen.clock.now() == at("2021-03-19T16:00Z")
        await pilot.press("t", *"2021-03-18 09:30 Seoul", "enter")
        await pilot.pause()
        assert app.screen.clock.now().astimezone(UTC) == at("2021-03-18T00:30Z")
        assert app.screen.query_one(Timeline).selected.id == "two-plus-two"


def test_snapshot_jump_prompt_with_a_reason(build_app, snap) -> None:
    snap(
        build_app(trip(), "2023-01-17T09:00 America/New_York"),
        press=["t", *"2023-03-12 02:30 America/New_York", "enter"],
        terminal_size=WIDE,
    )


def test_snapshot_after_jumping_to_toronto(build_app, snap) -> None:
    # 10:00 EST in Toronto on Wed 18 = 15:00 GMT: the header's clocks say so, REHEARSAL.
    snap(
        build_app(trip(), "2023-01-17T09:00 America/New_York"),
        press=["t", *"2023-01-18 10:00 Toronto", "enter"],
        terminal_size=WIDE,
    )
