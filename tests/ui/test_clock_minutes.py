"""The header's clocks show minutes unless ``clock_seconds`` asks for seconds.

To the minute, the once-a-second tick finds the header's lines unchanged and redraws
nothing, so an idle dashboard sends nothing to the terminal for a minute at a time (a
frame a second cost as much CPU as the rest of it idle). Seconds are one setting away.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.geometry import Region

from tripdash import cli
from tripdash.app import TripDashApp
from tripdash.session import DashboardOptions, Session
from tripdash.widgets.header import TripHeader

from .conftest import FS_TRIP, FakeClock, at, trip


def _app(tmp_path: Path, clock: FakeClock, seconds: bool) -> TripDashApp:
    options = DashboardOptions(state_dir=tmp_path / "state", clock=clock, clock_seconds=seconds)
    return TripDashApp(Session([trip(FS_TRIP)], options))


def _watch_refreshes(header: TripHeader) -> list[Region]:
    """Every region the header asks Textual to redraw from now on."""
    asked: list[Region] = []
    refresh = header.refresh

    def spy(*regions: Region, **kwargs: object) -> object:
        asked.extend(regions or [Region(0, 0, 0, 0)])
        return refresh(*regions, **kwargs)  # type: ignore[arg-type]

    header.refresh = spy  # type: ignore[method-assign]
    return asked


async def _tick(app: TripDashApp, clock: FakeClock, when: str) -> None:
    clock.at = at(when)
    app.screen.tick()  # what the screen's one-second timer calls


async def test_minutes_by_default_and_a_tick_within_the_minute_draws_nothing(
    tmp_path: Path,
) -> None:
    clock = FakeClock(at("2023-01-17T09:10:05 America/New_York"))
    app = _app(tmp_path, clock, seconds=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(TripHeader)
        clocks = header.lines()[1].plain
        assert "Home Tue 17 Jan 14:10 GMT UTC+00:00" in clocks, clocks
        assert "Washington DC Tue 17 Jan 09:10 EST UTC-05:00" in clocks, clocks
        asked = _watch_refreshes(header)
        for second in range(6, 60, 7):
            await _tick(app, clock, f"2023-01-17T09:10:{second:02d} America/New_York")
        assert asked == [], asked
        # The new minute: the clock line's changed digits only (the speech's countdown,
        # "in 5 min" -> "in 4 min", is on the third line and changes too).
        await _tick(app, clock, "2023-01-17T09:11:00 America/New_York")
        assert asked and {r.y for r in asked} <= {1, 2}, asked
        assert any(r.y == 1 for r in asked), asked
        clocks = header.lines()[1].plain
        assert "14:11 GMT" in clocks and "09:11 EST" in clocks, clocks


async def test_clock_seconds_shows_and_redraws_each_second(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:10:05 America/New_York"))
    app = _app(tmp_path, clock, seconds=True)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(TripHeader)
        assert "Home Tue 17 Jan 14:10:05 GMT" in header.lines()[1].plain
        asked = _watch_refreshes(header)
        clock.at += timedelta(seconds=1)
        app.screen.tick()
        assert [r.y for r in asked] == [1], asked  # the clock line, nothing else
        assert "09:10:06 EST" in header.lines()[1].plain


def test_the_config_and_the_environment_reach_the_options(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("clock_seconds = true\n", encoding="utf-8")
    seen: list[DashboardOptions] = []
    monkeypatch.setattr("tripdash.app.run_dashboard", lambda o: seen.append(o) or 0)
    monkeypatch.setattr(cli, "_full_screen_terminal", lambda: True)
    argv = [str(FS_TRIP), "--state-dir", str(tmp_path)]
    assert cli.main([*argv, "--config", str(config)]) == 0
    assert cli.main([*argv, "--config", str(tmp_path / "none.toml")]) == 0
    monkeypatch.setenv("TRIPDASH_CLOCK_SECONDS", "yes")
    assert cli.main([*argv, "--config", str(tmp_path / "none.toml")]) == 0
    assert [o.clock_seconds for o in seen] == [True, False, True]
