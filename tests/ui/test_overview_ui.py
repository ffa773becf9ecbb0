"""The whole-trip overview (`w`): the bundled trip, the date-line trip and a 10-day,
150-event trip at 120x40; moving over events; enter back to the timeline on one."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.overview import OverviewScreen
from tripdash.widgets.overview_grid import OverviewGrid
from tripdash.widgets.timeline import Timeline

from .conftest import SEOUL_TRIP, trip

SIZE = (120, 40)
KINDS = ["meeting", "speech", "press", "meal", "visit"]
WHO = ["Minister Sato", "Ambassador Kim", "Governor Ige", "Mayor Blangiardi", "Dr Tanaka"]


def ten_days(tmp_path: Path) -> Trip:
    """Ten days of fifteen events (Tokyo for five, then Honolulu across the date line),
    every fifth done in tests, one cancelled a day, one tentative, one TBC."""
    lines = [
        "format = 1",
        "[trip]",
        'id = "ten-days"',
        'title = "Delegation: Tokyo and Honolulu, ten days"',
        'home_tz = "Europe/London"',
        "[[places]]",
        'id = "tokyo"',
        'name = "Tokyo"',
        'tz = "Asia/Tokyo"',
        "[[places]]",
        'id = "honolulu"',
        'name = "Honolulu"',
        'tz = "Pacific/Honolulu"',
    ]
    for day in range(10):
        place = "tokyo" if day < 5 else "honolulu"
        date = datetime(2024, 5, 6) + timedelta(days=day)
        for n in range(15):
            start = date + timedelta(hours=7, minutes=50 * n)
            lines += [
                "[[events]]",
                f'id = "d{day}-e{n}"',
                f'title = "{KINDS[n % 5].title()} with {WHO[(n + day) % 5]} ({n + 1})"',
                f'place = "{place}"',
                f"start = {start:%Y-%m-%d}" if n == 14 else f"start = {start:%Y-%m-%dT%H:%M:%S}",
                f'kind = "{KINDS[n % 5]}"',
            ]
            if n == 3:
                lines.append('status = "cancelled"')
            if n == 9:
                lines.append('status = "tentative"')
    path = tmp_path / "ten-days.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_trip(path).trip


def grid_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    grid = app.screen.query_one(OverviewGrid)
    return [grid.render_line(y).text for y in range(grid.size.height)]


async def test_the_bundled_trip_in_two_columns_with_now_and_counts(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        assert isinstance(app.screen, OverviewScreen)
        shown = grid_lines(app)
        assert shown[0].startswith(" Tue 17 Jan") and "0/3 ✓" in shown[0]
        assert "│ Wed 18 Jan" in shown[0] and "0/5 ✓" in shown[0]
        assert "Washington DC (EST)" in shown[1]
        # The speech is over (09:15), the now line at 12:00 before the press conference.
        assert shown[2].startswith(" 09:15 Speech on UK foreign policy")
        assert [row for row in shown if "now 12:00" in row]
        assert any(row.startswith("→15:30 Joint press conference") for row in shown)


async def test_moving_and_enter_goes_back_on_that_event(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.screen
        await pilot.press("w")
        grid = app.screen.query_one(OverviewGrid)
        start = grid.cursor
        assert grid.schedule.trip.events[start].id == "blinken-press-conference"
        # The press conference is on Tuesday's fourth line (under the now line): the
        # fourth line of Wednesday is the diaspora meeting.
        await pilot.press("right")
        assert grid.schedule.trip.events[grid.cursor].id == "ukrainian-diaspora-meeting"
        await pilot.press("up", "up")
        assert grid.schedule.trip.events[grid.cursor].id == "travel-washington-toronto"
        await pilot.press("left")  # Tuesday's second line: the bilateral
        assert grid.schedule.trip.events[grid.cursor].id == "blinken-bilateral"
        await pilot.press("up", "up")  # the first event stays the first
        assert grid.cursor == 0
        await pilot.press("G", "enter")
        await pilot.pause()
        assert app.screen is dashboard
        assert isinstance(dashboard, DashboardScreen)
        assert dashboard.query_one(Timeline).selected.id == "pension-funds-meeting"
        await pilot.press("w", "escape")
        assert app.screen is dashboard
        assert app._exception is None


async def test_ten_days_fit_at_120x40(build_app, tmp_path: Path) -> None:
    ten = ten_days(tmp_path)
    app = build_app(ten, "2024-05-08T03:00Z")  # 12:00 JST on Wed 8 May, day 3
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        grid = app.screen.query_one(OverviewGrid)
        # Five columns, two bands: every event is on screen without scrolling.
        assert grid.virtual_size.height <= grid.size.height
        text = "\n".join(grid_lines(app))
        assert text.count("│") >= 4 * 20
        for day in ("Mon 06 May", "Fri 10 May", "Sat 11 May", "Wed 15 May"):
            assert day in text
        assert "now 12:00" in text


def test_snapshot_overview_bundled_trip(build_app, snap) -> None:
    # 12:00 EST = 17:00 GMT on Tue 17: the speech is past, the press conference next
    # (→15:30), Wednesday's five events are TBC.
    snap(build_app(trip(), "2023-01-17T12:00 America/New_York"), press=["w"], terminal_size=SIZE)


def test_snapshot_overview_date_line_trip(build_app, snap) -> None:
    # 21:30 UTC on 18 Mar 2021: 13:30 AKDT in Anchorage (06:30 KST on the 19th in Seoul);
    # Seoul's 18 March is past, Anchorage's 18 March has the China meeting in progress.
    snap(build_app(trip(SEOUL_TRIP), "2021-03-18T21:30Z"), press=["w"], terminal_size=SIZE)


def test_snapshot_overview_ten_days(build_app, snap, tmp_path: Path) -> None:
    # 03:00 UTC on Wed 8 May 2024 = 12:00 JST, day 3 in Tokyo; days 6-10 in Honolulu (HST).
    snap(build_app(ten_days(tmp_path), "2024-05-08T03:00Z"), press=["w"], terminal_size=SIZE)


async def test_narrow_terminals_get_one_block_per_day(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=(40, 30)) as pilot:
        await pilot.press("w")
        shown = grid_lines(app)
        assert not any("│" in row for row in shown)
        tuesday = next(i for i, row in enumerate(shown) if row.startswith(" Tue 17 Jan"))
        wednesday = next(i for i, row in enumerate(shown) if row.startswith(" Wed 18 Jan"))
        # Tuesday's heading, places, four lines (three events and now), a blank line.
        assert wednesday == tuesday + 2 + 4 + 1


def cursor_cells(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of every reversed event cell on screen (the cursor's, and no other)."""
    grid = app.screen.query_one(OverviewGrid)
    found = []
    for y in range(grid.size.height):
        for segment in grid.render_line(y):
            style = segment.style
            if style is not None and style.reverse and not style.italic and "│" not in segment.text:
                text = segment.text.strip()
                if text and "✓" not in text[-3:]:  # not a day's heading (also reversed)
                    found.append(text)
    return found


async def test_the_overview_is_kept_between_openings_and_shown_as_it_is_now(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.screen
        await pilot.press("w")
        first = app.screen
        assert isinstance(first, OverviewScreen)
        before = cursor_cells(app)
        assert len(before) == 1 and "Joint press conference" in before[0]
        await pilot.press("up")  # the old cursor line is drawn again, not left reversed
        moved = cursor_cells(app)
        assert len(moved) == 1 and "Bilateral" in moved[0]
        await pilot.press("escape")
        assert app.screen is dashboard
        # Marked on the dashboard, and the cursor moved there, while the overview is hidden.
        app.session.toggle(app.session.keys[0], "csis-speech")
        await pilot.press("G")
        await pilot.press("w")
        assert app.screen is first  # the same screen, its widgets kept
        shown = cursor_cells(app)
        assert len(shown) == 1 and "Canadian pen" in shown[0]  # the pension funds meeting
        text = "\n".join(grid_lines(app))
        assert "✓09:15 Speech on UK foreign policy" in text
        assert "1 done" in str(app.screen.query_one("#ov-title").content)
        await pilot.press("escape")
        assert app._exception is None


async def test_a_mark_made_elsewhere_while_open_is_drawn(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        assert "✓09:15 Speech" not in "\n".join(grid_lines(app))
        # Another writer's mark: the session's done set changes in place.
        app.session.toggle(app.session.keys[0], "csis-speech")
        screen._tick()  # the overview's once-a-second check
        await pilot.pause()
        assert "✓09:15 Speech on UK foreign policy" in "\n".join(grid_lines(app))


def test_midnight_offsets_as_local_midnight_gives_them() -> None:
    # Zones whose clocks change at midnight (Havana, Santiago, Beirut, Asuncion) or skip
    # a whole day (Apia), and ordinary ones, over two years: the quick answer is the search's.
    from datetime import date, time, timezone
    from zoneinfo import ZoneInfo

    from tripdash.domain.blocks import _midnight_offset
    from tripdash.domain.times import NonexistentTimeError, local_midnight

    zones = ["America/Havana", "America/Santiago", "Asia/Beirut", "America/Asuncion",
             "Pacific/Apia", "Europe/London", "America/New_York", "Asia/Seoul"]  # fmt: skip
    checked = 0
    for name in zones:
        zone = ZoneInfo(name)
        for n in range(0, 730):
            day = date(2011, 1, 1) + timedelta(days=n)
            try:
                expected = local_midnight(day, zone).utcoffset()
            except NonexistentTimeError:
                continue  # Apia's 30 December 2011: no event can be on it
            for hour in (0, 1, 12, 23):
                # An instant, as an event's start is: a wall time the clocks skipped is not one.
                seen = (
                    datetime.combine(day, time(hour, 30), zone)
                    .astimezone(timezone.utc)
                    .astimezone(zone)
                )
                if seen.date() != day:
                    continue
                assert _midnight_offset(day, zone, seen) == expected, (name, day, hour)
                checked += 1
    assert checked > 20_000


async def test_the_dashboard_works_out_the_blocks_before_the_first_opening(build_app) -> None:
    from tripdash.domain import blocks as overview

    app = build_app(trip(SEOUL_TRIP), "2021-03-18T21:30Z")
    async with app.run_test(size=SIZE) as pilot:
        schedule = app.screen.schedule
        overview._BLOCKS.pop(id(schedule), None)
        overview._SHAPES.pop(id(schedule), None)
        app.screen._prepare_overview()  # as after the first frame
        await app.workers.wait_for_complete()
        found = overview._BLOCKS.get(id(schedule))
        assert found is not None and found[0] is schedule
        await pilot.press("w")
        assert app.screen.query_one(OverviewGrid).days is found[1]


SPRING_FORWARD = """
format = 1
[trip]
id = "spring"
title = "Spring forward"
home_tz = "Europe/London"
[[places]]
id = "ny"
name = "New York"
tz = "America/New_York"
[[events]]
id = "before"
title = "Before the jump"
place = "ny"
start = 2023-03-12T01:30:00
[[events]]
id = "after"
title = "After the jump"
place = "ny"
start = 2023-03-12T03:30:00
[[events]]
id = "monday"
title = "Monday"
place = "ny"
start = 2023-03-13T09:00:00
"""


async def test_a_day_the_clocks_change_on_names_both_zones(build_app, tmp_path: Path) -> None:
    """12 March in New York is EST until 02:00, then EDT: its heading said only (EST)
    above 03:30, which is EDT."""
    path = tmp_path / "spring.toml"
    path.write_text(SPRING_FORWARD, encoding="utf-8")
    app = build_app(load_trip(path).trip, "2023-03-12T01:00 America/New_York")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        shown = grid_lines(app)
        assert "New York (EST→EDT)" in shown[1], shown[1]
        assert "New York (EDT)" in shown[1].split("│")[1]  # Monday: one zone
