"""Pilot tests of marking in the dashboard: toggle, undo and redo, counterparts, other writers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tripdash.domain.store import MarkStore
from tripdash.screens.counterparts import CounterpartsScreen
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.event import EventScreen
from tripdash.widgets.details import EventDetails
from tripdash.widgets.points import PointList
from tripdash.widgets.timeline import Timeline

from .conftest import FakeClock, at, trip

SIZE = (110, 32)
TRIP_ID = "fs-north-america-2023-01"


def stored_done(state_dir: Path) -> set[str]:
    """What a fresh reader of the database sees: the marks are committed, not just shown."""
    with MarkStore(state_dir, clock=FakeClock(at("2026-01-01T00:00Z"))) as store:
        return store.done_ids(TRIP_ID)


async def test_space_marks_the_selected_event_and_commits_first(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York", who="alice")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected.id == "csis-speech"
        await pilot.press("space")
        assert stored_done(tmp_path / "state") == {"csis-speech"}
        assert "csis-speech" in app.session.marks.done_ids(TRIP_ID)
        line = timeline.render_line(
            timeline.line_of_event(timeline.cursor) - round(timeline.scroll_y)
        )
        # 09:00: the speech is next; marked done it keeps its → and says both (item 7).
        assert line.text.startswith("→")
        assert "✓ in 15 min" in line.text
        heading = timeline.render_line(0).text
        assert "Day 1: 1/3 done" in heading
        await pilot.press("x")  # x toggles too: back to not done
        assert stored_done(tmp_path / "state") == set()
        with MarkStore(tmp_path / "state") as store:
            history = store.history(TRIP_ID)
        assert [(m.item_id, m.done, m.who) for m in history] == [
            ("csis-speech", True, "alice"),
            ("csis-speech", False, "alice"),
        ]


async def test_undo_and_redo_many_steps(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        ids = [e.id for e in timeline.schedule.trip.events]
        await pilot.press("g", "space", "j", "space", "j", "space")
        assert stored_done(tmp_path / "state") == set(ids[:3])
        await pilot.press("u", "u")
        assert stored_done(tmp_path / "state") == {ids[0]}
        await pilot.press("U")
        assert stored_done(tmp_path / "state") == {ids[0], ids[1]}
        await pilot.press("ctrl+r")
        assert stored_done(tmp_path / "state") == set(ids[:3])
        await pilot.press("u", "u", "u")
        assert stored_done(tmp_path / "state") == set()
        await pilot.press("u")  # nothing left: no change, no crash
        assert stored_done(tmp_path / "state") == set()
        # A new mark after undo clears the redo stack.
        await pilot.press("space", "ctrl+r")
        assert stored_done(tmp_path / "state") == {ids[2]}
        # Undo is recorded as marks too: the history keeps every step.
        with MarkStore(tmp_path / "state") as store:
            assert len(store.history(TRIP_ID)) == 11


async def test_marks_survive_a_restart(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
    again = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.session.marks.done_ids(TRIP_ID) == {"csis-speech"}


async def test_another_process_mark_appears_within_two_seconds(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with MarkStore(tmp_path / "state") as other:
            other.mark(TRIP_ID, "blinken-press-conference", True, "bob")
        await pilot.pause(2.0)
        assert "blinken-press-conference" in app.session.marks.done_ids(TRIP_ID)
        timeline = app.screen.query_one(Timeline)
        text = [timeline.render_line(y).text for y in range(timeline.size.height)]
        assert any(line.startswith("✓") and "15:30 EST" in line for line in text)


async def test_counterparts_screen_and_talking_points(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        # The press conference (with Blinken) is next at 12:00: `c` opens Blinken.
        assert timeline.selected.id == "blinken-press-conference"
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CounterpartsScreen)
        assert screen.selected.id == "blinken"
        info = str(screen.query_one("#cp-info").render())
        assert "15:30 EST" in info and "20:30 GMT" in info
        assert "0/7 covered" in info
        await pilot.press("tab")
        points = screen.query_one(PointList)
        assert points.has_focus
        first = points.highlighted_point
        await pilot.press("space")
        assert first.item_id in stored_done(tmp_path / "state")
        info = str(screen.query_one("#cp-info").render())
        assert "1/7 covered" in info
        # Next counterpart in the list, then to their next meeting on the timeline.
        await pilot.press("shift+tab", "j")
        assert screen.selected.id == "joly"
        await pilot.press("m")
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one(Timeline).selected.id == "joly-bilateral"


async def test_event_screen_points_open_first_while_in_progress(build_app, tmp_path) -> None:
    app = build_app(trip(), "2023-01-17T15:35 America/New_York")  # press conference running
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected.id == "blinken-press-conference"
        side = app.screen.query_one(EventDetails).text()
        assert "Open talking points (in progress now)" in " ".join(side.split())
        await pilot.press("enter")
        assert isinstance(app.screen, EventScreen)
        points = app.screen.query_one(PointList)
        first = points.highlighted_point
        await pilot.press("space")
        assert first.item_id in stored_done(tmp_path / "state")
        # The ticked point stays where it is, and so does the cursor (issue 12, item 9).
        assert points.highlighted_point.item_id == first.item_id
        await pilot.press("u")
        assert first.item_id not in stored_done(tmp_path / "state")
        await pilot.press("c")
        assert isinstance(app.screen, CounterpartsScreen)


async def test_ticking_a_point_keeps_the_order_and_the_cursor(build_app, tmp_path) -> None:
    # Issue 12, item 9: during the press conference its points are listed open first;
    # ticking the first must not move it (and the cursor) to the bottom of the list.
    app = build_app(trip(), "2023-01-17T15:35 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, EventScreen)
        points = app.screen.query_one(PointList)
        before = [points.get_option_at_index(i).id for i in range(points.option_count)]
        first = points.highlighted_point
        await pilot.press("space")
        await pilot.pause()
        assert first.item_id in stored_done(tmp_path / "state")
        after = [points.get_option_at_index(i).id for i in range(points.option_count)]
        assert after == before
        assert points.highlighted_point.item_id == first.item_id
        await pilot.press("j", "space")
        await pilot.pause()
        assert [points.get_option_at_index(i).id for i in range(points.option_count)] == before
        assert str(points.get_option_at_index(points.highlighted).prompt).startswith("☑")


async def test_the_event_box_follows_the_clock_and_puts_open_points_first_once_started(
    build_app,
) -> None:
    # The press conference (15:30 EST) opened two minutes before it starts, one point
    # ticked: at 15:31 the box says it is in progress, and the open points come first.
    app = build_app(trip(), "2023-01-17T15:28 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        box = app.screen
        assert isinstance(box, EventScreen) and box.event.id == "blinken-press-conference"
        points = box.query_one(PointList)
        await pilot.press("space")  # ticks the first point
        await pilot.pause()
        first = points.highlighted_point
        assert first is not None and first.item_id in app.session.done_ids(app.session.keys[0])
        text = str(box.query_one("#event-text").render())
        assert "in 2 min" in text
        app.session.options.clock.at += timedelta(minutes=3)
        await pilot.pause(1.2)  # the box's own one-second clock
        text = str(box.query_one("#event-text").render())
        assert "in progress" in text and "in 2 min" not in text
        order = [p.item_id for p in points._points if p is not None]
        assert order[-1] == first.item_id  # the ticked point went after the open ones


async def test_counterparts_show_no_next_arrow_on_a_past_meeting_and_m_says_it_is_past(
    build_app,
) -> None:
    # Tokyo, 11:40: Yoshinaga's 09:45 meeting is over.
    from tripdash.domain.loader import load_trip

    from .conftest import TRIPS

    tokyo = load_trip(TRIPS / "canada-pm-tokyo-2016-05.toml").trip
    app = build_app(tokyo, "2016-05-24T11:40 Asia/Tokyo")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        listing = app.screen.query_one("#cp-list")
        listing.highlighted = listing.get_option_index("yoshinaga")
        await pilot.pause()
        info = str(app.screen.query_one("#cp-info").render())
        assert "09:45" in info and "→" not in info
        await pilot.press("m")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("No meeting to come with Yasuyuki Yoshinaga" in m and "09:45" in m for m in said)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one(Timeline).selected.id == "subaru-meeting"


async def test_j_stops_at_the_last_counterpart(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        listing = app.screen.query_one("#cp-list")
        last = listing.option_count - 1
        listing.highlighted = last
        await pilot.press("j", "down")
        assert listing.highlighted == last
        listing.highlighted = 0
        await pilot.press("k", "up")
        assert listing.highlighted == 0


async def test_a_done_tbc_event_of_today_shows_its_tick(build_app, tmp_path) -> None:
    """A TBC event of today is drawn with "·"; once done, with ✓ like every done row."""
    app = build_app(trip(), "2023-01-18T00:10 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        index = timeline.index_of("pension-funds-meeting")
        timeline.select(index)
        await pilot.pause()

        def row() -> str:
            line = timeline.line_of_event(index) - round(timeline.scroll_y)
            return timeline.render_line(line).text

        assert row().startswith("·"), row()
        await pilot.press("space")
        await pilot.pause()
        assert "pension-funds-meeting" in stored_done(tmp_path / "state")
        assert row().startswith("✓"), row()


async def test_the_event_box_ticks_without_redrawing_what_did_not_change(build_app) -> None:
    # Its one-second clock gave the text and the point list to their widgets every tick,
    # and each of those lays out the whole screen: 500 ms of CPU a minute with the box
    # open, idle. Now only a change is given: a new minute, a ticked point, the start.
    app = build_app(trip(), "2023-01-17T15:28:10 America/New_York")
    clock: FakeClock = app.session.clock._base  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, EventScreen)
        points = screen.query_one(PointList)
        text = screen.query_one("#event-text")
        calls: list[str] = []

        def spy(widget: object, method: str, name: str) -> None:
            real = getattr(widget, method)

            def counted(*args: object, **kwargs: object) -> object:
                calls.append(name)
                return real(*args, **kwargs)

            setattr(widget, method, counted)

        spy(text, "update", "text")
        spy(points, "set_points", "points")
        for second in (20, 35, 50):
            clock.at = at(f"2023-01-17T15:28:{second} America/New_York")
            screen._refresh_body()
        assert calls == []
        clock.at = at("2023-01-17T15:29:00 America/New_York")  # "in 2 min" -> "in 1 min"
        screen._refresh_body()
        assert calls == ["text"]
        first = points.highlighted_point
        await pilot.press("space")  # a ticked point: the list (and the text) follow
        assert "points" in calls and first.item_id in app.session.marks.done_ids(TRIP_ID)
        calls.clear()
        clock.at = at("2023-01-17T15:30:00 America/New_York")  # it starts: open points first
        screen._refresh_body()
        assert calls == ["text", "points"]
        assert "in progress" in text.render().plain  # type: ignore[attr-defined]
