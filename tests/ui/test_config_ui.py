"""The config file reaches the dashboard: keymap (key bar, help, palette), theme, problems."""

from __future__ import annotations

from pathlib import Path

from tripdash import cli
from tripdash.app import TripDashApp
from tripdash.commands import binding_commands, collect_keys
from tripdash.session import DashboardOptions, Session
from tripdash.widgets.keybar import KeyBar

from .conftest import FakeClock, at, trip

KEYMAP = {"app.quit": "ctrl+q", "dashboard.counterparts": "p"}


def _app(tmp_path: Path, **options: object) -> TripDashApp:
    opts = DashboardOptions(
        state_dir=tmp_path / "state",
        clock=FakeClock(at("2023-01-17T12:00 America/New_York")),
        **options,  # type: ignore[arg-type]
    )
    return TripDashApp(Session([trip()], opts))


async def test_the_keymap_is_shown_in_key_bar_help_and_palette_and_works(tmp_path) -> None:
    app = _app(tmp_path, keymap=KEYMAP)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        shown = {item.description: item.key for item in bar.items}
        assert shown["People"] == "p" and shown["Quit"] == "ctrl+q"
        keys = {r.binding_id: r.key_text for r in collect_keys(app.screen)}
        assert keys["dashboard.counterparts"] == "p"
        assert keys["app.quit"] == "^q"
        palette = {c.title: c.help for c in binding_commands(app.screen)}
        assert palette["People"].startswith("p ")
        await pilot.press("c")  # the old key does nothing now
        await pilot.pause()
        assert type(app.screen).__name__ == "DashboardScreen"
        await pilot.press("p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CounterpartsScreen"


def test_help_with_a_keymap_snapshot(tmp_path, snap) -> None:
    snap(_app(tmp_path, keymap=KEYMAP), press=["question_mark"])


async def test_the_theme_and_the_problems_of_the_config_reach_the_dashboard(tmp_path) -> None:
    problem = "config.toml:3: theme: 'textual-lite' is not a Textual theme"
    app = _app(tmp_path, theme="textual-light", config_problems=(problem,))
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"
        notices = [n.message for n in app._notifications]
        assert any(problem in message for message in notices)


def test_the_command_line_builds_the_options_from_the_config_file(tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'theme = "textual-light"\nrefresh = 30\nbell = false\n'
        '[keymap]\n"app.quit" = "ctrl+q"\n[reminder_stages]\nmeeting = [10]\n',
        encoding="utf-8",
    )
    seen: list[DashboardOptions] = []

    def fake_run(options: DashboardOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("tripdash.app.run_dashboard", fake_run)
    monkeypatch.setattr(cli, "_full_screen_terminal", lambda: True)
    trip_file = str(Path(__file__).resolve().parents[2] / "trips" / "fs-north-america-2023-01.toml")
    assert cli.main([trip_file, "--config", str(config), "--state-dir", str(tmp_path)]) == 0
    (options,) = seen
    assert options.theme == "textual-light" and options.refresh == 30
    assert options.keymap == {"app.quit": "ctrl+q"}
    assert options.reminders.bell is False and options.reminders.desktop is True
    assert options.reminders.stages_for("meeting") == (10,)
    assert options.config_problems == ()
    # A flag wins over the file.
    seen.clear()
    argv = [trip_file, "--config", str(config), "--state-dir", str(tmp_path), "--refresh", "5"]
    assert cli.main([*argv, "--remind", "meeting=20"]) == 0
    assert seen[0].refresh == 5 and seen[0].reminders.stages_for("meeting") == (20,)


def test_a_bad_config_opens_with_defaults_and_says_why(tmp_path, monkeypatch, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-lite"\n', encoding="utf-8")
    seen: list[DashboardOptions] = []
    monkeypatch.setattr("tripdash.app.run_dashboard", lambda o: seen.append(o) or 0)
    monkeypatch.setattr(cli, "_full_screen_terminal", lambda: True)
    trip_file = str(Path(__file__).resolve().parents[2] / "trips" / "fs-north-america-2023-01.toml")
    assert cli.main([trip_file, "--config", str(config), "--state-dir", str(tmp_path)]) == 0
    (options,) = seen
    assert options.theme is None
    assert len(options.config_problems) == 1
    assert "theme" in options.config_problems[0] and "textual-light" in options.config_problems[0]


def test_key_bar_with_a_keymap_snapshot(tmp_path, snap) -> None:
    # 80x24: the key bar says "p People" and "^q Quit", as the keymap has it.
    snap(_app(tmp_path, keymap=KEYMAP), terminal_size=(80, 24))


def test_palette_with_a_keymap_snapshot(tmp_path, snap) -> None:
    async def search(pilot) -> None:
        from textual.command import CommandList
        from textual.widgets import Input

        await pilot.press("ctrl+p")
        await pilot.pause()
        # A blinking cursor would make the picture depend on the instant it is taken.
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"people")
        # The palette searches in a worker: wait (a bounded while) for its one result.
        found = pilot.app.screen.query_one(CommandList)
        for _ in range(200):
            if found.option_count and not pilot.app.screen._show_busy:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    snap(_app(tmp_path, keymap=KEYMAP), run_before=search)


async def test_a_key_bound_twice_is_reported_in_the_dashboard_and_not_applied(
    tmp_path, monkeypatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[keymap]\n"dashboard.now" = "y"\n"dashboard.counterparts" = "y"\n"app.quit" = "ctrl+q"\n',
        encoding="utf-8",
    )
    seen: list[DashboardOptions] = []
    monkeypatch.setattr("tripdash.app.run_dashboard", lambda o: seen.append(o) or 0)
    monkeypatch.setattr(cli, "_full_screen_terminal", lambda: True)
    trip_file = str(Path(__file__).resolve().parents[2] / "trips" / "fs-north-america-2023-01.toml")
    assert cli.main([trip_file, "--config", str(config), "--state-dir", str(tmp_path)]) == 0
    (options,) = seen
    assert options.keymap == {"app.quit": "ctrl+q"}
    assert options.config_problems == (
        f"{config}:2: keymap.\"dashboard.now\": key 'y' is also bound to "
        "dashboard.counterparts on the dashboard screen",
        f"{config}:3: keymap.\"dashboard.counterparts\": key 'y' is also bound to "
        "dashboard.now on the dashboard screen",
    )
    app = _app(tmp_path, keymap=options.keymap, config_problems=options.config_problems)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        notices = " ".join(n.message for n in app._notifications)
        assert "key 'y' is also bound to dashboard.counterparts" in notices
        shown = {item.description: item.key for item in app.screen.query_one(KeyBar).items}
        assert shown["People"] == "c" and shown["Now"] == "n" and shown["Quit"] == "ctrl+q"
        await pilot.press("y")  # bound to nothing
        await pilot.pause()
        assert type(app.screen).__name__ == "DashboardScreen"
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CounterpartsScreen"
