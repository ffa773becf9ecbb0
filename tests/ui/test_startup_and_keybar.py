"""The first screen, the key bar, and moving between the picker and dashboards.

The start-up work split (dashboard built as the first screen, details pane filled
once the first frame is painted) must not change what a user sees or can do.
"""

from __future__ import annotations

from textual.events import Click

from tripdash.domain.loader import load_trip
from tripdash.screens.counterparts import CounterpartsScreen
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.help import HelpScreen
from tripdash.screens.picker import PickerScreen
from tripdash.widgets.details import EventDetails
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.timeline import Timeline

from .conftest import TRIPS, trip

SIZE = (100, 30)


def keybar_text(app) -> str:  # type: ignore[no-untyped-def]
    bar = app.screen.query_one(KeyBar)
    return bar.render_line(0).text


async def test_the_dashboard_is_the_first_screen_and_fills_its_details(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # No blank default screen under it: the dashboard is the whole stack.
        assert [type(s) for s in app.screen_stack] == [DashboardScreen]
        assert app.painted
        assert app.screen.title == "Foreign Secretary: Washington DC and Toronto"
        body = app.screen.query_one(EventDetails).text()
        # The speech is running at 09:20 EST: the details pane shows it, in both zones.
        assert "Speech on UK foreign policy priorities" in body
        assert "09:15 EST" in body and "14:15 GMT" in body


async def test_a_key_typed_at_start_is_not_undone_by_the_first_layout(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        # No pause: the key arrives while the screen is still being laid out.
        await pilot.press("j")
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected is not None
        assert timeline.selected.id != "csis-speech"  # moved one down from the speech


async def test_keybar_shows_the_screens_shown_bindings_and_the_palette(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        text = keybar_text(app)
        for word in ("Details", "space Done", "c People", "n Now", "? Help", "q Quit"):
            assert word in text, text
        assert text.rstrip().endswith("^p palette")
        # One trip: nothing to pick, so no "Trips" key; hidden bindings stay hidden.
        assert "Trips" not in text and "Undo" not in text
        bar = app.screen.query_one(KeyBar)
        assert [item.description for item in bar.items][:2] == ["Details", "Done"]


async def test_keybar_follows_the_screen_and_cuts_what_does_not_fit(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=(40, 24)) as pilot:
        await pilot.pause()
        text = keybar_text(app)
        assert len(text) == 40
        assert "Details" in text and "Quit" not in text  # no half-drawn key at 40 columns
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CounterpartsScreen)
        assert "Timeline" in keybar_text(app)


async def test_clicking_a_key_in_the_keybar_runs_it(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        text = keybar_text(app)
        x = text.index("? Help") + 1
        bar.post_message(Click(bar, x, 0, 0, 0, 1, False, False, False, screen_x=x, screen_y=29))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_picker_stays_under_dashboards_and_o_closes_back_to_it(build_app) -> None:
    trips = [load_trip(p).trip for p in sorted(TRIPS.glob("*.toml"))]
    app = build_app(trips, "2023-01-16T12:00Z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [PickerScreen, DashboardScreen]
        assert "o Trips" in keybar_text(app)
        # Counterparts over the dashboard: `o` closes both and shows the same picker.
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CounterpartsScreen)
        await pilot.press("o")
        await pilot.pause()
        assert app.screen is picker and len(app.screen_stack) == 1
        # Another trip: one dashboard at a time over the picker.
        await pilot.press("j", "enter")
        await pilot.pause()
        assert [type(s) for s in app.screen_stack] == [PickerScreen, DashboardScreen]
        assert app.screen.trip.id != "fs-north-america-2023-01"
        assert app.screen.title == app.screen.trip.title
        # Opened after the first frame: its details are there at once.
        body = app.screen.query_one(EventDetails).text()
        assert app.screen.query_one(Timeline).selected.title in body


async def test_picker_brings_its_summaries_up_to_date_when_shown_again(build_app) -> None:
    trips = [load_trip(p).trip for p in sorted(TRIPS.glob("*.toml"))]
    app = build_app(trips, "2023-01-16T12:00Z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen

        def fs_summary() -> str:
            return str(picker.query_one("#trips").get_option("trip-0").prompt)

        assert "starts in" in fs_summary()
        await pilot.press("enter")
        await pilot.pause()
        # A day later (the injected clock moves), the speech is under way; back to the list.
        from .conftest import at

        app.session.options.clock.at = at("2023-01-17T09:20 America/New_York")
        await pilot.press("o")
        await pilot.pause()
        assert "in progress now" in fs_summary()


async def test_details_pane_wraps_scrolls_and_follows_the_selection(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        details = app.screen.query_one(EventDetails)
        # Below the timeline at 80 columns, with the rows the timeline does not need.
        timeline = app.screen.query_one("#timeline")
        assert details.size.height >= 6
        assert details.region.y == timeline.region.bottom
        lines = details.text().splitlines()
        assert len(lines) > details.size.height  # the speech's notes run on
        assert all(len(line) <= details.scrollable_content_region.width for line in lines)
        first_shown = details.render_line(0).text
        await pilot.press("tab")  # into the details pane
        assert app.focused is details
        await pilot.press("down", "down")
        await pilot.pause()
        assert details.scroll_y == 2
        assert details.render_line(0).text == details._lines[2].text != first_shown
        # Back to the timeline and on to the next event: its details, from the top.
        await pilot.press("shift+tab", "j")
        await pilot.pause(0.2)  # the pane follows the selection after 60 ms
        assert "Bilateral meeting with Secretary Blinken" in details.text()
        assert details.scroll_y == 0
