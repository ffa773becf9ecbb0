"""Pilot tests of the dashboard: navigation, now, days, rehearsal, picker, markup safety."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.screen import Screen
from textual.scrollbar import ScrollBar

from tripdash.app import make_app
from tripdash.commands import binding_commands
from tripdash.domain.loader import load_trip
from tripdash.screens import dashboard
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.help import HelpScreen
from tripdash.screens.picker import PickerScreen
from tripdash.widgets.details import EventDetails
from tripdash.widgets.header import TripHeader
from tripdash.widgets.timeline import Timeline

from .conftest import FS_TRIP, ROOT, SEOUL_TRIP, TRIPS, FakeClock, at, trip
from .test_startup_and_keybar import keybar_text

sys.path.insert(0, str(ROOT / "bench"))
from gen_trip import generate

SIZE = (100, 30)


def screen_lines(timeline: Timeline) -> list[str]:
    """The text the timeline shows right now, line by line."""
    return [timeline.render_line(y).text for y in range(timeline.size.height)]


async def test_opens_one_trip_directly_and_selects_next_event(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        timeline = app.screen.query_one(Timeline)
        # Before 09:15 the speech is next: the selection starts on it.
        assert timeline.selected is not None
        assert timeline.selected.id == "csis-speech"
        text = "\n".join(screen_lines(timeline))
        assert "09:15 EST  14:15 GMT" in text
        assert "15:30 EST  20:30 GMT" in text
        assert "in 15 min" in text


async def test_moving_with_keys(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        ids = [e.id for e in timeline.schedule.trip.events]
        start = timeline.cursor
        await pilot.press("j")
        assert timeline.cursor == start + 1
        await pilot.press("down", "down")
        assert timeline.cursor == start + 3
        await pilot.press("k", "up")
        assert timeline.cursor == start + 1
        await pilot.press("G")
        assert timeline.selected.id == ids[-1]
        await pilot.press("g")
        assert timeline.cursor == 0
        await pilot.press("pagedown")
        assert timeline.cursor > 1
        await pilot.press("pageup")
        assert timeline.cursor == 0
        await pilot.press("up")  # already at the top: stays
        assert timeline.cursor == 0


async def test_scroll_bar_is_drawn_again_only_when_its_picture_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a long trip the bar's thumb moves a cell only every few hundred lines, so most
    scrolls keep its picture and must not draw it again; and it is never left stale."""
    path = tmp_path / "long.toml"
    path.write_text(generate(events=1000, counterparts=10, places=5, seed=3), encoding="utf-8")
    long_trip = load_trip(path).trip
    when = long_trip.events[500].start
    app = make_app([long_trip], clock=FakeClock(when), state_dir=tmp_path / "state")
    drawn = 0
    render = ScrollBar.render
    watched: list[ScrollBar] = []

    laying_out = 0
    layout = Screen._refresh_layout

    def counting(bar: ScrollBar):  # type: ignore[no-untyped-def]
        nonlocal drawn
        # The timeline's bar (the details pane has one too), drawn for a scroll: every
        # layout of the screen (a notice shown, the details pane following) draws the
        # scroll bars again, which is Textual's doing, not a scroll's.
        drawn += bar in watched and not laying_out
        return render(bar)

    def counted_layout(screen, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal laying_out
        laying_out += 1
        try:
            return layout(screen, *args, **kwargs)
        finally:
            laying_out -= 1

    monkeypatch.setattr(ScrollBar, "render", counting)
    monkeypatch.setattr(Screen, "_refresh_layout", counted_layout)
    monkeypatch.setattr(dashboard, "DETAILS_DELAY", 3600)  # the pane keeps still
    keys = ["down"] * 30 + ["pagedown"] * 2 + ["up"] * 15 + ["G", "g", "pagedown", "end"]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        bar = timeline.vertical_scrollbar
        watched.append(bar)
        whole = Region(0, 0, 1, bar.size.height)
        top = timeline.scroll_y
        last = [list(strip) for strip in bar.render_lines(whole)]
        drawn = changes = 0
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            shown = [list(strip) for strip in bar.render_lines(whole)]
            assert bar.position == bar.validate_position(timeline.scroll_y)
            before = drawn
            bar.refresh()  # what the bar would show if it were drawn now
            assert [list(strip) for strip in bar.render_lines(whole)] == shown, key
            drawn = before
            changes += shown != last
            last = shown
        assert timeline.scroll_y != top
        # Drawn at most about once for each key that changed the picture (none when a
        # layout drew it); most keys scrolled without changing it.
        assert changes < len(keys) // 3
        assert drawn <= changes + 2, (changes, drawn)


async def test_day_jumps(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        days = timeline.schedule.days
        assert [d.date.isoformat() for d in days] == ["2023-01-17", "2023-01-18"]
        await pilot.press("right_square_bracket")
        assert timeline.cursor == days[1].first
        await pilot.press("right_square_bracket")  # no third day: stays
        assert timeline.cursor == days[1].first
        await pilot.press("left_square_bracket")
        assert timeline.cursor == days[0].first
        await pilot.press("j", "left_square_bracket")  # back to the start of this day
        assert timeline.cursor == days[0].first


async def test_n_jumps_to_the_event_in_progress(build_app) -> None:
    # 09:20 DC: the CSIS speech (09:15, no end given) is under way.
    app = build_app(trip(), "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.press("G")
        assert timeline.selected.id != "csis-speech"
        await pilot.press("n")
        assert timeline.selected.id == "csis-speech"
        header = app.screen.query_one(TripHeader)
        rendered = str(header.text())
        # At 100 columns the titles give way, never the countdowns.
        assert "Now: Speech on UK f…priorities (started 5 min ago)" in rendered
        assert "in 6 h 10 min" in rendered
        assert "Home Tue 17 14:20 GMT UTC+00:00" in rendered
        assert "Here Tue 17 09:20 EST UTC-05:00" in rendered


async def test_now_line_moves_as_time_passes_without_keys(build_app) -> None:
    app = build_app(trip(), "2023-01-17T15:00 America/New_York")
    clock: FakeClock = app.session.clock._base  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        before = timeline.now_line
        press_row = timeline.line_of_event(
            next(
                i
                for i, e in enumerate(timeline.schedule.trip.events)
                if e.id == "blinken-press-conference"
            )
        )
        assert before < press_row
        assert any("in 30 min" in line for line in screen_lines(timeline))
        clock.at = at("2023-01-17T15:31 America/New_York")
        await pilot.pause(1.3)  # one tick of the screen's own timer; no key pressed
        assert timeline.now_line > before
        assert any("now 15:31 EST" in line for line in screen_lines(timeline))


async def test_rehearsal_clock_keys(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        header = app.screen.query_one(TripHeader)
        assert not header.rehearsal
        await pilot.press("plus")
        assert header.rehearsal
        assert app.session.clock.now() == at("2023-01-17T09:15 America/New_York")
        assert "REHEARSAL" in str(header.text())
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert app.session.clock.now() == at("2023-01-17T11:15 America/New_York")
        await pilot.press("minus", "less_than_sign")
        assert app.session.clock.now() == at("2023-01-17T10:00 America/New_York")
        await pilot.press("0")
        assert not header.rehearsal
        assert app.session.clock.now() == at("2023-01-17T09:00 America/New_York")
        assert "REHEARSAL" not in str(header.text())


async def test_at_starts_a_rehearsal_that_runs_on(build_app) -> None:
    app = build_app(trip(), "2026-11-27T12:00Z", at=at("2023-01-17T09:20 America/New_York"))
    base: FakeClock = app.session.clock._base  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        header = app.screen.query_one(TripHeader)
        assert header.rehearsal
        base.at += timedelta(minutes=10)
        await pilot.pause(1.3)
        assert app.session.clock.now() == at("2023-01-17T09:30 America/New_York")
        assert "09:30 EST" in str(header.text())


async def test_enter_opens_details_and_escape_closes(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        from tripdash.screens.event import EventScreen

        assert isinstance(app.screen, EventScreen)
        assert app.screen.event.id == "csis-speech"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_help_is_generated_from_bindings(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        from rich.console import Console

        console = Console(width=100, record=True)
        console.print(app.screen._table)
        text = console.export_text()
        for description in (
            "Next day",
            "Prev day",
            "Now",
            "Clock +15 min",
            "Clock back to real time",
            "Quit",
            "Details",
        ):
            assert description in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_palette_offers_every_bound_action(build_app) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in binding_commands(app.screen)}
        for description in (
            "Next day",
            "Prev day",
            "Now",
            "Clock +1 h",
            "Clock -1 h",
            "Clock back to real time",
            "Details",
            "Help",
            "Quit",
        ):
            assert description in titles
        # Running one from the palette works like the key.
        command = next(c for c in binding_commands(app.screen) if c.title == "Next day")
        await command.callback()
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.cursor == timeline.schedule.days[1].first


async def test_picker_lists_trips_and_opens_one(build_app) -> None:
    trips = [load_trip(p).trip for p in sorted(TRIPS.glob("*.toml"))]
    app = build_app(trips, "2023-01-16T12:00Z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        # The FS trip starts soonest, so it is first.
        assert app.screen.entries[0].trip.id == "fs-north-america-2023-01"
        await pilot.press("j", "enter")
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.trip.id == app.screen.trip.id != "fs-north-america-2023-01"
        second = app.screen.trip.id
        await pilot.press("o")
        assert isinstance(app.screen, PickerScreen)
        # Escape goes back to the trip `o` came from (offered in the key bar only then).
        assert "esc Back to the trip" in keybar_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and app.screen.trip.id == second


async def test_escape_on_the_first_picker_goes_nowhere(build_app) -> None:
    trips = [load_trip(p).trip for p in sorted(TRIPS.glob("*.toml"))]
    app = build_app(trips, "2023-01-16T12:00Z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Back to the trip" not in keybar_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen) and app._exception is None


async def test_help_opens_over_the_event_box_and_the_changes(build_app) -> None:
    """Modal screens cut off the app's bindings: `?` is bound on them too."""
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert type(app.screen).__name__ == "EventScreen"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape", "d")
        assert type(app.screen).__name__ == "ChangesScreen"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_markup_in_trip_text_is_shown_literally(build_app, tmp_path: Path) -> None:
    path = tmp_path / "markup.toml"
    path.write_text(
        """
[trip]
title = "[bold]Talks[/] and [link=x]"
home_tz = "Europe/London"
[[places]]
id = "p"
name = "[red]Place"
tz = "Europe/Paris"
[[counterparts]]
id = "c"
name = "a [/] b"
talking_points = ["[blink]point[/blink]"]
[[events]]
id = "e"
title = "[bold]Talks[/]"
venue = "a [/] b"
place = "p"
start = 2023-01-17T09:00:00
end = 2023-01-17T10:00:00
counterparts = ["c"]
notes = "[link=https://example.invalid]x[/link] \\u001b[31mred"
""",
        encoding="utf-8",
    )
    app = build_app(load_trip(path).trip, "2023-01-17T08:30 Europe/Paris")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        text = "\n".join(screen_lines(timeline))
        assert "[bold]Talks[/]" in text
        assert "a [/] b" in text
        header = str(app.screen.query_one(TripHeader).text())
        assert "[bold]Talks[/] and [link=x]" in header
        side = app.screen.query_one(EventDetails).text()
        assert "[blink]point[/blink]" in side
        assert "\\x1b[31mred" in side  # the escape is shown, never sent to the terminal
        assert "\x1b" not in side
        await pilot.press("enter")
        body = str(app.screen.query_one("#event-text").render())
        assert "a [/] b" in body
        assert "\\x1b[31mred" in body
        points = app.screen.query_one("#event-points")
        assert "[blink]point[/blink]" in str(points.get_option_at_index(1).prompt)


async def test_date_line_trip_orders_by_true_time(build_app) -> None:
    app = build_app(trip(SEOUL_TRIP), "2021-03-18T05:58Z")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        lines = screen_lines(timeline)
        text = "\n".join(lines)
        seoul = next(i for i, line in enumerate(lines) if "15:00 KST" in line)
        anchorage = next(i for i, line in enumerate(lines) if "13:20 AKDT" in line)
        assert seoul < anchorage
        assert "02:00 EDT" in lines[seoul]  # 15:00 KST = 06:00 UTC = 02:00 EDT, same date
        assert "17:20 EDT" in lines[anchorage]
        assert "20:30 EDT -1d" in text  # 09:30 KST on the 18th is the 17th in Washington
        # 05:58 UTC = 14:58 KST: the 13:55 roundtable (no end given) counts as running for
        # an hour at most, so it is over; the 15:00 meeting is next.
        assert timeline.selected.id == "moon-meeting"
        assert "in 2 min" in lines[seoul]


async def test_markers_and_fs_trip_opening_from_folder_picker(build_app) -> None:
    app = build_app([trip(FS_TRIP), trip(SEOUL_TRIP)], "2023-01-18T12:00Z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("enter")
        assert app.screen.trip.id == "fs-north-america-2023-01"
