"""The command palette knows the trip: events and counterparts, accents folded, no markup."""

from __future__ import annotations

from dataclasses import replace

from textual.command import CommandPalette
from textual.widgets import OptionList

from tripdash.screens.counterparts import CounterpartsScreen
from tripdash.screens.dashboard import DashboardScreen
from tripdash.widgets.timeline import Timeline

from .conftest import trip

WIDE = (120, 34)
MORNING = "2023-01-17T09:00 America/New_York"


def prompts(app) -> list[str]:  # type: ignore[no-untyped-def]
    listing = app.screen.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_events_and_counterparts_are_offered_accents_folded(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+p", *"melanie")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CommandPalette)
        shown = prompts(app)
        assert shown[0].splitlines()[0] == (
            "Counterpart: Mélanie Joly, Minister of Foreign Affairs, Canada"
        )
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CounterpartsScreen)
        assert app.screen.selected.id == "joly"
        assert app._exception is None


async def test_choosing_an_event_selects_it_on_the_timeline(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+p", *"joint press")
        await pilot.pause(0.3)
        first = prompts(app)[0].splitlines()
        assert first == [
            "Event: 15:30 EST Joint press conference with Secretary Blinken",
            "Tue 17 Jan · home 20:30 GMT",
        ]
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one(Timeline).selected.id == "blinken-press-conference"


async def test_trip_text_is_never_read_as_markup_in_the_palette(build_app) -> None:
    fs = trip()
    hostile = "[bold]Talks[/] [link=x]y \x1b[31m end"
    events = (replace(fs.events[0], title=hostile), *fs.events[1:])
    app = build_app(replace(fs, events=events), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+p", *"talks")
        await pilot.pause(0.3)
        shown = [p for p in prompts(app) if "Talks" in p]
        # Shown as written, the escape made visible, with the matched letters styled.
        assert shown[0].splitlines()[0] == "Event: 09:15 EST [bold]Talks[/] [link=x]y \\x1b[31m end"
        listing = app.screen.query_one(OptionList)
        prompt = listing.get_option_at_index(prompts(app).index(shown[0])).prompt
        assert "\x1b" not in str(prompt)
        assert app._exception is None


def test_snapshot_palette_events_and_counterparts(build_app, snap) -> None:
    # "blinken": his two events (15:30 EST = 20:30 GMT; the bilateral is TBC) and himself.
    async def type_and_wait(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("ctrl+p", *"blinken")
        # The palette searches in a worker: wait for its three hits (a busy machine is slow).
        for _ in range(200):
            await pilot.pause(0.05)
            found = pilot.app.screen.query(OptionList)
            if found and found.first().option_count == 3:
                break
        await pilot.pause(0.2)

    snap(build_app(trip(), MORNING), terminal_size=WIDE, run_before=type_and_wait)
