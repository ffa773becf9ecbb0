"""12-hour times on every screen of the dashboard (the config's ``time_format``).

The options carry the setting (never a global): timeline, details, event box, header,
counterparts, reminder notice and changes screen all show ``9:15 am``. Snapshots at 80x24
and 120x40 show the columns still aligned with ``12:00 am`` and ``1:00 pm`` in them.
"""

from __future__ import annotations

from pathlib import Path

from tripdash import cli
from tripdash.app import TripDashApp
from tripdash.domain.diff import Change
from tripdash.domain.times import parse_instant
from tripdash.live import SeenChange
from tripdash.screens.changes import changes_text
from tripdash.session import DashboardOptions, Session
from tripdash.widgets.details import EventDetails
from tripdash.widgets.header import TripHeader
from tripdash.widgets.reminder import ReminderNotice
from tripdash.widgets.timeline import Timeline

from .conftest import FS_TRIP, SEOUL_TRIP, FakeClock, at, trip


def _app(
    tmp_path: Path,
    when: str,
    path: Path = FS_TRIP,
    time_format: int = 12,
    clock: FakeClock | None = None,
) -> TripDashApp:
    options = DashboardOptions(
        state_dir=tmp_path / "state", clock=clock or FakeClock(at(when)), time_format=time_format
    )
    return TripDashApp(Session([trip(path)], options))


def _lines(timeline: Timeline) -> list[str]:
    return [timeline.render_line(y).text for y in range(timeline.size.height)]


async def test_every_screen_shows_12_hour_times(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:58 America/New_York"))
    app = _app(tmp_path, "", clock=clock)
    async with app.run_test(size=(200, 40)) as pilot:  # wide: the details unwrapped
        await pilot.pause()
        screen = app.screen
        lines = _lines(screen.query_one(Timeline))
        speech = next(line for line in lines if "Speech on UK" in line)
        press = next(line for line in lines if "Joint press" in line)
        assert speech.startswith("→  9:15 am EST   2:15 pm GMT  ")
        assert press.startswith("   3:30 pm EST   8:30 pm GMT  ")
        assert speech.index("Speech") == press.index("Joint")  # the titles line up
        assert any("now 9:09 am EST · 2:09 pm GMT" in line for line in lines)
        header = str(screen.query_one(TripHeader).text())
        assert "2:09 pm GMT UTC+00:00" in header and "9:09 am EST UTC-05:00" in header
        await pilot.pause(0.2)  # the details pane follows the selection a moment later
        details = screen.query_one(EventDetails).text()
        assert "local  Tue 17 Jan 9:15 am EST (UTC-05:00)" in details
        assert "home   Tue 17 Jan 2:15 pm GMT (UTC+00:00)" in details
        assert "UTC    Tue 17 Jan 2:15 pm UTC" in details
        assert "09:15 EST" not in details and "14:15 GMT" not in details  # (notes say 09:15)
        # The 5-minute reminder of the speech, due at 09:10, in the notice under the timeline.
        clock.at = at("2023-01-17T09:10 America/New_York")
        app.check_reminders()
        await pilot.pause()
        (notice,) = screen.query_one(ReminderNotice).lines
        assert notice.startswith("In 5 min, 9:15 am EST / 2:15 pm GMT: Speech on UK")

        await pilot.press("enter")
        await pilot.pause()
        body = str(app.screen.query_one("#event-text").render()).replace("\N{NO-BREAK SPACE}", " ")
        assert "Tue 17 Jan 9:15 am EST" in body
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("down", "c")  # the bilateral: Antony Blinken
        await pilot.pause()
        info = str(app.screen.query_one("#cp-info").render())
        assert "Tue 17 Jan  3:30 pm EST  (home 8:30 pm GMT)" in info, info


async def test_24_hours_is_still_the_default(tmp_path: Path) -> None:
    app = _app(tmp_path, "2023-01-17T09:10 America/New_York", time_format=24)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        lines = _lines(app.screen.query_one(Timeline))
        assert next(line for line in lines if "Speech" in line).startswith("→ 09:15 EST  14:15 GMT")
        assert "14:10 GMT" in str(app.screen.query_one(TripHeader).text())


def test_the_changes_screen_at_12_hours() -> None:
    seen = parse_instant("2023-01-17T19:02:09 Europe/London")
    change = Change("moved", "x", "Moved: X")
    text = changes_text([SeenChange(seen, "Trip", change)], 12).plain
    assert "Seen Tue 17 Jan 7:02:09 pm GMT · Trip" in text
    assert "Seen Tue 17 Jan 19:02:09 GMT" in changes_text([SeenChange(seen, "Trip", change)]).plain


def test_the_config_and_the_flag_reach_the_options(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("time_format = 12\n", encoding="utf-8")
    seen: list[DashboardOptions] = []
    monkeypatch.setattr("tripdash.app.run_dashboard", lambda o: seen.append(o) or 0)
    monkeypatch.setattr(cli, "_full_screen_terminal", lambda: True)
    argv = [str(FS_TRIP), "--config", str(config), "--state-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    assert cli.main([*argv, "--time-format", "24"]) == 0
    assert [o.time_format for o in seen] == [12, 24]


def test_12_hour_timeline_at_80x24(tmp_path: Path, snap) -> None:
    # 09:10 in Washington: the speech next at 9:15 am, the press conference at 3:30 pm.
    snap(_app(tmp_path, "2023-01-17T09:10 America/New_York"), terminal_size=(80, 24))


def test_12_hour_date_line_trip_at_120x40(tmp_path: Path, snap) -> None:
    # 12:58 pm in Seoul is 11:58 pm the day before in Washington; the next event, at
    # 1:00 pm KST, is 12:00 am EDT at home: both widths of hour in both columns.
    snap(_app(tmp_path, "2021-03-18T12:58 Asia/Seoul", SEOUL_TRIP), terminal_size=(120, 40))


async def test_at_80_columns_no_clock_is_cut(tmp_path: Path) -> None:
    # 12:10:02 pm GMT is 7:10:02 am EST; 10:10 pm GMT is 5:10 pm EST: the longest 12-hour
    # clocks (two-digit hours) leave no room for both offsets at 78 cells. The line gives
    # way by whole parts: each clock stays whole, never "UTC-0…".
    # With the seconds shown (clock_seconds) the clocks are three cells longer each.
    clock = FakeClock(at("2023-01-17T12:10:02 America/New_York"))
    app = _app(tmp_path, "", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(TripHeader)
        cases = [
            ("2023-01-17T12:10:02", 12, "5:10:02 pm GMT", "12:10:02 pm EST"),
            ("2023-01-17T07:10:02", 12, "12:10:02 pm GMT", "7:10:02 am EST"),
            ("2023-01-17T10:10:02", 12, "3:10:02 pm GMT", "10:10:02 am EST"),
            ("2023-01-17T09:10:02", 24, "14:10:02 GMT", "09:10:02 EST"),
        ]
        minutes = [(w, f, h.replace(":02", ""), c.replace(":02", "")) for w, f, h, c in cases]
        for seconds, (when, fmt, home, local) in [
            *((True, case) for case in cases),
            *((False, case) for case in minutes),
        ]:
            clock.at = at(f"{when} America/New_York")
            header._time_format = fmt
            header._seconds = seconds
            header.now = clock()
            line = header.lines()[1].plain
            assert len(line) <= 78 and "…" not in line, line
            assert f"Home Tue 17 {home}" in line and f"Here Tue 17 {local}" in line, line
            offsets = line.count("UTC")
            assert offsets in (0, 2), line  # both offsets, or neither: never one cut
            if fmt == 24:  # room for both offsets; the place's name is what gave way
                assert line.endswith("EST UTC-05:00"), line


async def test_the_jump_notice_says_the_home_time_in_12_hours(tmp_path: Path) -> None:
    app = _app(tmp_path, "2023-01-17T09:00 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("t", *"press conf", "enter")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        # 3:30 pm in Washington is 8:30 pm in London.
        expected = (
            "Rehearsal clock: Tue 17 Jan 2023 3:30 pm EST, Joint press conference with "
            "Secretary Blinken (8:30 pm GMT at home)"
        )
        assert expected in said, said
        await pilot.press("plus")  # the rehearsal clock's keys, from their new module
        await pilot.pause()
        assert app.screen.clock.now() == at("2023-01-17T15:45 America/New_York")
        await pilot.press("0")
        await pilot.pause()
        assert not app.screen.clock.rehearsal


async def test_the_overview_in_12_hours(tmp_path: Path) -> None:
    from tripdash.screens.overview import OverviewScreen

    app = _app(tmp_path, "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        grid = screen.grid
        lines = [grid.render_line(y).text for y in range(grid.size.height)]
        text = "\n".join(lines)
        assert "  9:15 am Speech on UK" in text, text  # past: no marker
        assert "→ 3:30 pm Joint press" in text, text
        assert " TBC      Bilateral meeting" in text, text  # as wide as a time
        assert "── now 12:00 pm ─" in text, text
        assert "09:15" not in text and "15:30" not in text


def test_12_hour_overview_snapshot(tmp_path: Path, snap) -> None:
    # Noon in Washington, 17 January: the speech past, the press conference next.
    app = _app(tmp_path, "2023-01-17T12:00 America/New_York")
    snap(app, press=["w"], terminal_size=(120, 40))


async def test_the_palette_and_the_running_late_box_in_12_hours(tmp_path: Path) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList, Select

    from tripdash.screens.late import LateScreen

    app = _app(tmp_path, "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("ctrl+p", *"joint press")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CommandPalette)
        listing = app.screen.query_one(OptionList)
        first = str(listing.get_option_at_index(0).prompt).splitlines()
        assert first == [
            "Event: 3:30 pm EST Joint press conference with Secretary Blinken",
            "Tue 17 Jan · home 8:30 pm GMT",
        ]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("L")  # during the speech: from it, until the press conference
        await pilot.pause()
        assert isinstance(app.screen, LateScreen)
        shown = [
            str(prompt)
            for select in app.screen.query(Select)
            for prompt, _value in select._options  # type: ignore[attr-defined]
        ]
        assert "9:15 am EST  Speech on UK foreign policy priorities" in shown, shown
        assert "3:30 pm EST  Joint press conference with Secretary Blinken" in shown, shown
        assert not [s for s in shown if "15:30" in s or "09:15" in s], shown
