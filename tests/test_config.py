"""The config file: precedence, every kind of bad value, keymaps, --init and the shell verbs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from textwrap import dedent

import pytest
import tomli as tomllib

from tripdash import cli
from tripdash.config import (
    DEFAULT_STAGES,
    SETTINGS,
    Config,
    binding_ids,
    default_config_path,
    effective_settings,
    init_text,
    load_config,
    sync_password,
)


def write(path: Path, text: str) -> Path:
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return path


def messages(problems: list) -> list[str]:
    return [str(p) for p in problems]


def test_no_file_gives_the_defaults_and_no_problem() -> None:
    config, problems = load_config(environ={})
    assert problems == []
    assert config == Config(path=config.path, path_exists=False)
    assert config.path == default_config_path()
    # conftest points XDG_CONFIG_HOME into the test's home: never the user's own file.
    assert str(config.path).startswith(os.environ["XDG_CONFIG_HOME"])
    assert all(origin == "default" for _, _, origin in effective_settings(config))


def test_precedence_flag_then_environment_then_file_then_default(tmp_path: Path) -> None:
    f = write(
        tmp_path / "c.toml",
        """
        refresh = 30
        time_format = 12
        sync_user = "file-user"
        """,
    )
    env = {"TRIPDASH_REFRESH": "20", "TRIPDASH_SYNC_USER": "env-user"}
    config, problems = load_config(f, environ=env, flags={"refresh": 10, "sync_url": None})
    assert problems == []
    assert (config.refresh, config.origin("refresh")) == (10, "--refresh")
    assert (config.sync_user, config.origin("sync_user")) == ("env-user", "$TRIPDASH_SYNC_USER")
    assert (config.time_format, config.origin("time_format")) == (12, f"{f}:2")
    assert (config.theme, config.origin("theme")) == ("textual-dark", "default")
    # Without the flag, the environment wins over the file; without either, the file.
    assert load_config(f, environ=env)[0].refresh == 20
    assert load_config(f, environ={})[0].refresh == 30


def test_the_file_is_found_by_flag_then_variable_then_default(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", "refresh = 1\n")
    b = write(tmp_path / "b.toml", "refresh = 2\n")
    default = default_config_path()
    default.parent.mkdir(parents=True)
    write(default, "refresh = 3\n")
    env = {"TRIPDASH_CONFIG": str(b)}
    assert load_config(a, environ=env)[0].refresh == 1
    assert load_config(None, environ=env)[0].refresh == 2
    assert load_config(None, environ={})[0].refresh == 3


def test_a_named_file_that_is_missing_is_a_problem(tmp_path: Path) -> None:
    config, problems = load_config(tmp_path / "nope.toml", environ={})
    assert messages(problems) == [
        f"{tmp_path / 'nope.toml'}:1: (file): cannot read: No such file or directory"
    ]
    assert config.refresh == 60


def test_every_bad_value_is_named_by_file_line_and_field_and_the_rest_is_kept(
    tmp_path: Path,
) -> None:
    f = write(
        tmp_path / "c.toml",
        """
        theme = "nordd"
        time_format = 13
        refersh = 5
        refresh = "30"
        sync_url = "https://u:secret@couch.example.org"
        quiet_hours = "22:00-7:00"
        bell = true
        remind = "yes"
        reminder_command = "notify-send 'unclosed"

        [reminder_stages]
        meeting = [10, 2]
        meetnig = [1]
        travel = "x"
        speech = [2000]
        """,
    )
    config, problems = load_config(f, environ={})
    got = messages(problems)
    assert got == [
        f"{f}:1: theme: 'nordd' is not a Textual theme (did you mean 'nord'?); one of: "
        + got[0].split("one of: ", 1)[1],
        f"{f}:2: time_format: expected 12 or 24; got 13",
        f"{f}:3: refersh: unknown key 'refersh' (did you mean 'refresh'?)",
        f"{f}:4: refresh: expected an integer; got a string",
        f"{f}:5: sync_url: a password may not be written in the config: put it in the file "
        "named by sync_password_file (mode 0600) or in $TRIPDASH_SYNC_PASSWORD",
        f"{f}:6: quiet_hours: expected HH:MM-HH:MM such as 22:00-07:00; got '22:00-7:00'",
        f"{f}:8: remind: expected true or false; got a string",
        f"{f}:9: reminder_command: cannot be split into words: No closing quotation",
        f"{f}:13: reminder_stages.meetnig: unknown key 'meetnig' (did you mean 'meeting'?)",
        f"{f}:14: reminder_stages.travel: expected an array of minutes before the start "
        "(0 to 1440); got a string",
        f"{f}:15: reminder_stages.speech: expected an array of minutes before the start "
        "(0 to 1440); got an integer 2000",
    ]
    assert "nord" in got[0] and "textual-light" in got[0]
    assert "secret" not in "\n".join(got)
    # What was good is used; what was bad falls back to the default.
    assert config.bell is True and config.origin("bell") == f"{f}:7"
    assert config.reminder_stages["meeting"] == (10, 2)
    assert config.reminder_stages["travel"] == DEFAULT_STAGES["travel"]
    assert (config.theme, config.refresh, config.sync_url) == ("textual-dark", 60, None)


def test_syntax_errors_non_utf8_and_huge_files_are_refused_with_a_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "syntax.toml", 'refresh = 60\ntheme = "nord\n')
    assert messages(load_config(bad, environ={})[1])[0].startswith(f"{bad}:2: TOML syntax: ")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'refresh = 60\nsync_user = "Jos\xe9"\n')
    assert messages(load_config(latin, environ={})[1]) == [
        f"{latin}:2: (file): not UTF-8 text: invalid continuation byte"
    ]
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    (problem,) = load_config(big, environ={})[1]
    assert str(problem) == f"{big}:1: (file): 52,428,800 bytes: too big for a config file"


def test_bad_environment_values_are_reported_and_the_file_value_kept(tmp_path: Path) -> None:
    f = write(tmp_path / "c.toml", "refresh = 30\nbell = true\n")
    env = {"TRIPDASH_REFRESH": "soon", "TRIPDASH_BELL": "perhaps", "TRIPDASH_TIME_FORMAT": "25"}
    config, problems = load_config(f, environ=env)
    assert messages(problems) == [
        "TRIPDASH_TIME_FORMAT: expected 12 or 24; got 25",
        "TRIPDASH_REFRESH: expected a whole number; got 'soon'",
        "TRIPDASH_BELL: expected 1/0, true/false, yes/no; got 'perhaps'",
    ]
    assert (config.refresh, config.bell, config.time_format) == (30, True, 24)


def test_the_password_file_must_be_mode_0600(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\nignored\n")
    secret.chmod(0o644)
    f = write(tmp_path / "c.toml", f'sync_password_file = "{secret}"\n')
    config, problems = load_config(f, environ={})
    assert messages(problems) == [
        f"{f}:1: sync_password_file: {secret} is mode 0644: others could read the password; "
        f"refused until it is 0600 (chmod 600 {secret})"
    ]
    assert config.sync_password_file is None
    secret.chmod(0o600)
    config, problems = load_config(f, environ={})
    assert problems == []
    assert sync_password(config, {}) == "s3cret"
    assert sync_password(config, {"TRIPDASH_SYNC_PASSWORD": "from-env"}) == "from-env"
    secret.chmod(0o640)  # loosened after loading: refused when read
    with pytest.raises(PermissionError):
        sync_password(config, {})


def test_keymap_ids_keys_and_clashes(tmp_path: Path) -> None:
    f = write(
        tmp_path / "c.toml",
        """
        [keymap]
        "app.quit" = "ctrl+q"
        "app.quitt" = "x"
        "dashboard.live" = "ctrl+zz"
        "dashboard.now" = "c"
        "timeline.first" = "home,hyper+g"
        "app.help" = "f1"
        "points.toggle" = 5
        """,
    )
    config, problems = load_config(f, environ={})
    assert messages(problems) == [
        f"{f}:3: keymap.\"app.quitt\": unknown binding id 'app.quitt' (did you mean 'app.quit'?)",
        f"{f}:4: keymap.\"dashboard.live\": 'zz' is not a key name",
        f"{f}:5: keymap.\"dashboard.now\": key 'c' is also bound to dashboard.counterparts "
        "on the dashboard screen",
        f'{f}:8: keymap."points.toggle": expected keys as a string such as "ctrl+q" or '
        '"q,ctrl+q"; got an integer',
    ]
    # app.quit on ctrl+q is Textual's own quit key too: the same action, no clash.
    assert dict(config.keymap) == {
        "app.quit": "ctrl+q",
        "timeline.first": "home,hyper+g",
        "app.help": "f1",
    }
    assert config.origin("keymap.app.quit") == f"{f}:2"


def test_two_bindings_of_the_keymap_on_one_key_are_both_reported(tmp_path: Path) -> None:
    # Neither clashes with a default binding: only with each other, once both apply.
    f = write(
        tmp_path / "c.toml",
        """
        [keymap]
        "dashboard.now" = "y"
        "dashboard.counterparts" = "ctrl+y,y"
        "app.help" = "f1"
        """,
    )
    config, problems = load_config(f, environ={})
    assert messages(problems) == [
        f"{f}:2: keymap.\"dashboard.now\": key 'y' is also bound to dashboard.counterparts "
        "on the dashboard screen",
        f"{f}:3: keymap.\"dashboard.counterparts\": key 'y' is also bound to dashboard.now "
        "on the dashboard screen",
    ]
    # Both are left out (which one the user meant is not for tripdash to guess); the rest
    # of the keymap applies.
    assert dict(config.keymap) == {"app.help": "f1"}


def test_a_key_freed_by_the_keymap_may_be_reused(tmp_path: Path) -> None:
    f = write(tmp_path / "c.toml", '[keymap]\n"app.quit" = "ctrl+q"\n"dashboard.now" = "q"\n')
    config, problems = load_config(f, environ={})
    assert problems == []
    assert config.keymap["dashboard.now"] == "q"


def test_the_same_key_on_two_screens_is_no_clash(tmp_path: Path) -> None:
    # The picker's "open" and the timeline's "open" are never active together.
    f = write(tmp_path / "c.toml", '[keymap]\n"picker.open" = "o"\n"timeline.open" = "o"\n')
    _, problems = load_config(f, environ={})
    assert messages(problems) == [
        f"{f}:2: keymap.\"picker.open\": key 'o' is also bound to app.trips on the picker screen",
        f"{f}:3: keymap.\"timeline.open\": key 'o' is also bound to app.trips on the "
        "dashboard screen",
    ]


def test_every_binding_id_in_the_source_is_known_to_the_keymap_check() -> None:
    import re

    src = Path(__file__).resolve().parent.parent / "src" / "tripdash"
    in_source = set()
    for py in src.rglob("*.py"):
        in_source |= set(re.findall(r'Binding\([^)]*?id="([^"]+)"', py.read_text(), re.S))
    assert in_source, "no binding ids found: the pattern is out of date"
    assert in_source <= set(binding_ids())


def test_init_writes_every_setting_and_loads_back_as_the_defaults(tmp_path: Path, capsys) -> None:
    target = tmp_path / "sub" / "config.toml"
    assert cli.main(["config", "--init", "--config", str(target)]) == 0
    text = target.read_text()
    assert target.stat().st_mode & 0o777 == 0o600
    config, problems = load_config(target, environ={})
    assert problems == []
    defaults = Config()
    for s in SETTINGS:
        assert getattr(config, s.name) == getattr(defaults, s.name), s.name
        assert (s.name in tomllib.loads(text)) == (s.default is not None)
    assert dict(config.reminder_stages) == dict(DEFAULT_STAGES)
    assert config.keymap == {}
    for binding_id in binding_ids():
        assert f'# "{binding_id}" = ' in text
    # Commented-out examples, uncommented, are valid settings too.
    names = tuple(f"# {s.name} = " for s in SETTINGS)
    uncommented = "\n".join(
        line[2:] if line.startswith(names) else line for line in text.splitlines()
    )
    example = tmp_path / "examples.toml"
    example.write_text(uncommented)
    pw = Path(os.environ["HOME"]) / ".config" / "tripdash" / "sync-password"
    pw.parent.mkdir(parents=True, exist_ok=True)
    pw.write_text("x")
    pw.chmod(0o600)
    assert load_config(example, environ={})[1] == []
    # And it never overwrites.
    before = target.read_bytes()
    assert cli.main(["config", "--init", "--config", str(target)]) == 1
    assert "already exists: not overwritten" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["config.toml"]


def test_init_text_is_the_same_with_explicit_bindings() -> None:
    assert init_text(binding_ids()) == init_text()


def test_config_verb_prints_values_and_origins_and_exits_1_on_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = write(tmp_path / "c.toml", 'refresh = 30\nsync_user = "\\u001b[31mred"\n')
    monkeypatch.setenv("TRIPDASH_THEME", "nord")
    assert cli.main(["config", "--config", str(f)]) == 0
    out = capsys.readouterr().out
    assert f"config file: {f}\n" in out
    assert "refresh" in out and f"30  [{f}:1]" in out
    assert '"nord"  [$TRIPDASH_THEME]' in out
    assert re.search(r"^time_format +24  \[default\]$", out, re.M)
    assert "\x1b" not in out and "\\u001b[31mred" in out
    write(f, "refresh = -1\n")
    assert cli.main(["config", "--config", str(f)]) == 1
    assert f"{f}:1: refresh: expected seconds from 0 (never) to 86400; got -1" in (
        capsys.readouterr().err
    )


def test_shell_verbs_exit_1_on_a_bad_config(tmp_path: Path, capsys) -> None:
    f = write(tmp_path / "c.toml", "sync_url = 5\n")
    code = cli.main(["sync", "trips/fs-north-america-2023-01.toml", "--config", str(f)])
    assert code == 1
    assert capsys.readouterr().err == f"{f}:1: sync_url: expected a string; got an integer\n"


def test_the_config_names_the_default_trips_and_the_sync_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import argparse

    secret = tmp_path / "pw"
    secret.write_text("pw-from-file\n")
    secret.chmod(0o600)
    f = write(
        tmp_path / "c.toml",
        f"""
        trips = "~/my-trips"
        sync_url = "https://couch.example.org"
        sync_user = "delegation"
        sync_password_file = "{secret}"
        """,
    )
    args = argparse.Namespace(config=str(f), sync=None, allow_http=False)
    sync = cli.sync_config(args)
    assert sync is not None
    assert (sync.url, sync.user, sync.password) == (
        "https://couch.example.org",
        "delegation",
        "pw-from-file",
    )
    # The flag and the environment still come first.
    monkeypatch.setenv("TRIPDASH_SYNC_USER", "env-user")
    args = argparse.Namespace(config=str(f), sync="https://other.example.org", allow_http=False)
    sync = cli.sync_config(args)
    assert sync is not None and (sync.url, sync.user) == ("https://other.example.org", "env-user")
    # No PATH: the dashboard looks for the config's trips folder, and says so.
    assert cli.main(["--config", str(f)]) == 2
    assert f"no {os.environ['HOME']}/my-trips here" in capsys.readouterr().err


def test_the_readme_example_is_a_valid_config(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Settings", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    pw = Path(os.environ["HOME"]) / ".config" / "tripdash" / "sync-password"
    pw.parent.mkdir(parents=True, exist_ok=True)
    pw.write_text("x")
    pw.chmod(0o600)
    f = write(tmp_path / "c.toml", example)
    config, problems = load_config(f, environ={})
    assert problems == []
    assert (config.theme, config.time_format, config.keymap["app.quit"]) == ("nord", 12, "ctrl+q")


def test_a_config_checked_before_is_read_again_without_pydantic(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    f = write(tmp_path / "c.toml", "refresh = 30\nrefersh = 5\n[reminder_stages]\ntravel = [90]\n")
    code = (
        "import json, sys\n"
        "from tripdash.config import load_config\n"
        f"c, p = load_config({str(f)!r}, environ={{}})\n"
        "print(json.dumps([c.refresh, list(c.reminder_stages['travel']), [str(x) for x in p],"
        " 'pydantic' in sys.modules]))\n"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(2)
    ]
    expected = [30, [90], [f"{f}:2: refersh: unknown key 'refersh' (did you mean 'refresh'?)"]]
    assert runs[0] == [*expected, True]
    assert runs[1] == [*expected, False]
    cached = list((Path(os.environ["XDG_CACHE_HOME"]) / "tripdash" / "config").glob("*.json"))
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o777 == 0o600


def test_the_reminder_settings_of_the_file_reach_the_reminders(tmp_path: Path) -> None:
    import argparse
    from datetime import time

    from tripdash.verbs_remind import reminder_settings

    f = write(
        tmp_path / "c.toml",
        """
        remind = false
        osc = false
        quiet_hours = "22:00-07:00"
        reminder_command = "notify-send tripdash"
        [reminder_stages]
        travel = [90, 30]
        """,
    )
    config, problems = load_config(f, environ={})
    assert problems == []
    no_flags = argparse.Namespace(
        remind=[],
        no_bell=False,
        no_desktop=False,
        quiet=None,
        reminder_command=None,
        command_in_rehearsal=False,
    )
    settings = reminder_settings(no_flags, config)
    assert (settings.enabled, settings.bell, settings.desktop) == (False, True, False)
    assert settings.quiet is not None
    assert (settings.quiet.start, settings.quiet.end) == (time(22, 0), time(7, 0))
    assert settings.command == "notify-send tripdash"
    assert settings.stages_for("travel") == (90, 30)
    assert settings.stages_for("meeting") == (15, 5)
    # Flags win over the file.
    flags = argparse.Namespace(**{**vars(no_flags), "remind": ["10"], "quiet": "23:00-06:00"})
    flags.reminder_command = "true"
    settings = reminder_settings(flags, config)
    assert settings.enabled and settings.stages_for("meeting") == (10,)
    assert settings.quiet is not None and settings.quiet.start == time(23, 0)
    assert settings.command == "true"
