"""12- or 24-hour times (the config's ``time_format``): the one formatter, and the shell.

Every expected text is written out by hand. JSON output never changes: it stays ISO 8601.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from tripdash import cli
from tripdash.config import load_config
from tripdash.domain.agenda import agenda_text
from tripdash.domain.diff import diff_trips
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.reminders import ReminderPlan, ReminderSettings, missed_text, reminder_text
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.times import clock_time, clock_width
from tripdash.live import SyncState, describe_sync

REPO = Path(__file__).resolve().parent.parent
FS = REPO / "trips" / "fs-north-america-2023-01.toml"
SEOUL = REPO / "trips" / "secstate-seoul-anchorage-2021-03.toml"
NY = ZoneInfo("America/New_York")
UTC = timezone.utc


def wall(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2023, 1, 17, hour, minute, second, tzinfo=NY)


@pytest.mark.parametrize(
    ("hour", "minute", "twelve", "twenty_four"),
    [
        (0, 0, "12:00 am", "00:00"),  # midnight
        (0, 30, "12:30 am", "00:30"),
        (1, 5, "1:05 am", "01:05"),
        (9, 15, "9:15 am", "09:15"),
        (11, 59, "11:59 am", "11:59"),
        (12, 0, "12:00 pm", "12:00"),  # noon
        (12, 45, "12:45 pm", "12:45"),
        (13, 0, "1:00 pm", "13:00"),
        (15, 30, "3:30 pm", "15:30"),
        (23, 59, "11:59 pm", "23:59"),
    ],
)
def test_clock_time_in_both_forms(hour: int, minute: int, twelve: str, twenty_four: str) -> None:
    assert clock_time(wall(hour, minute), 12) == twelve
    assert clock_time(wall(hour, minute), 24) == twenty_four
    assert clock_time(wall(hour, minute)) == twenty_four  # the default


def test_padding_and_seconds_keep_columns_aligned() -> None:
    assert clock_width(12) == len("12:45 pm") == 8 and clock_width(24) == len("23:45") == 5
    assert clock_time(wall(9, 15), 12, pad=True) == " 9:15 am"
    assert clock_time(wall(12, 45), 12, pad=True) == "12:45 pm"
    assert clock_time(wall(9, 15), 24, pad=True) == "09:15"
    assert clock_time(wall(15, 30, 5), 12, seconds=True) == "3:30:05 pm"
    assert clock_time(wall(0, 0, 59), 24, seconds=True) == "00:00:59"
    assert clock_time(wall(9, 0, 7), 12, seconds=True, pad=True) == " 9:00:07 am"
    assert clock_width(12, seconds=True) == len("12:45:00 pm")
    with pytest.raises(ValueError, match="expected 12 or 24"):
        clock_time(wall(9), 13)


def test_the_repeated_hour_of_a_dst_change(tmp_path: Path) -> None:
    # 5 November 2023, New York: 01:30 EDT (05:30 UTC), then 01:30 EST (06:30 UTC).
    path = tmp_path / "fold.toml"
    path.write_text(
        dedent(
            """
            format = 1
            [trip]
            id = "fold"
            title = "Fold"
            home_tz = "Europe/London"
            [[places]]
            id = "ny"
            name = "New York"
            tz = "America/New_York"
            [[events]]
            id = "first"
            title = "First 01:30"
            place = "ny"
            start = 2023-11-05T01:30:00-04:00
            [[events]]
            id = "second"
            title = "Second 01:30"
            place = "ny"
            start = 2023-11-05T01:30:00-05:00
            """
        ),
        encoding="utf-8",
    )
    trip = load_trip(path).trip
    first, second = trip.events
    assert first.start.astimezone(UTC) == datetime(2023, 11, 5, 5, 30, tzinfo=UTC)
    assert second.start.astimezone(UTC) == datetime(2023, 11, 5, 6, 30, tzinfo=UTC)
    assert local_time_label(first, 12) == "1:30 am EDT"
    assert local_time_label(second, 12) == "1:30 am EST"
    assert home_time_label(first, trip.home_tz, 12) == "5:30 am GMT"
    assert home_time_label(second, trip.home_tz, 12) == "6:30 am GMT"
    assert local_time_label(second, 12, pad=True) == " 1:30 am EST"
    assert local_time_label(second) == "01:30 EST"


def fs() -> Trip:
    return load_trip(FS).trip


def test_agenda_columns_at_12_hours() -> None:
    text = agenda_text(fs(), time_format=12)
    rows = [line for line in text.splitlines() if re.match(r"  ( ?\d{1,2}:\d\d [ap]m|TBC)", line)]
    assert "   9:15 am EST    2:15 pm GMT       Speech on UK foreign policy priorities" in rows
    assert "   3:30 pm EST    8:30 pm GMT       Joint press conference with Secretary Blinken" in (
        rows
    )
    # Every title starts in the same column, and so does every detail line under it.
    assert {len(r) - len(r[36:].lstrip()) for r in rows} == {36}
    details = [line for line in text.splitlines() if line.startswith(" " * 36) and "|" in line]
    assert len(details) == len(rows) == len(fs().events)
    assert not re.search(r"\d [ap]m\b", agenda_text(fs())) and " 09:15 EST" in agenda_text(fs())


def test_agenda_across_the_date_line_at_12_hours() -> None:
    text = agenda_text(load_trip(SEOUL).trip, time_format=12)
    assert "   9:30 am KST    8:30 pm EDT -1d   2+2 meeting" in text
    assert "   1:00 pm KST   12:00 am EDT       Virtual US-ROK Alliance" in text


def test_reminder_texts_at_12_hours() -> None:
    trip = fs()
    plan = ReminderPlan(trip, ReminderSettings())
    now = datetime(2023, 1, 17, 14, 10, tzinfo=UTC)  # 09:10 EST
    speech = next(r for r in plan.upcoming(now - timedelta(minutes=10), set()) if r.stage == 5)
    text = reminder_text(speech, now, trip.home_tz, 12)
    assert text.startswith("In 5 min, 9:15 am EST / 2:15 pm GMT: Speech on UK foreign policy")
    assert reminder_text(speech, now, trip.home_tz).startswith("In 5 min, 09:15 EST / 14:15 GMT")
    later = now + timedelta(minutes=10)
    summary = missed_text([speech], "while closed", later, 12)
    assert summary.startswith("1 reminder missed while closed: 9:15 am EST Speech on UK")


def test_diff_and_sync_texts_at_12_hours(tmp_path: Path) -> None:
    moved = tmp_path / "moved.toml"
    moved.write_text(
        FS.read_text(encoding="utf-8").replace(
            "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00"
        ),
        encoding="utf-8",
    )
    changes = [str(c) for c in diff_trips(fs(), load_trip(moved).trip, 12)]
    assert any(
        "Tue 17 Jan 3:30 pm EST (8:30 pm GMT) → Tue 17 Jan 4:00 pm EST (9:00 pm GMT)" in c
        for c in changes
    ), changes
    since = datetime(2023, 1, 17, 19, 2, tzinfo=UTC)
    state = SyncState(failing_since=since, offline=True, error="offline", waiting=3)
    london = ZoneInfo("Europe/London")
    assert describe_sync(state, since, london, 12) == "⇅ offline since 7:02 pm, 3 marks waiting"
    assert describe_sync(state, since, london) == "⇅ offline since 19:02, 3 marks waiting"


# -- the shell ---------------------------------------------------------------------------


@pytest.fixture
def state(tmp_path: Path) -> list[str]:
    return ["--state-dir", str(tmp_path / "state")]


def test_the_flag_the_variable_and_the_file_choose_the_form(
    tmp_path: Path, state: list[str], capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("time_format = 12\n", encoding="utf-8")
    run = ["agenda", str(FS), *state, "--day", "2023-01-17"]
    assert cli.main([*run, "--config", str(config)]) == 0
    assert "   9:15 am EST    2:15 pm GMT  " in capsys.readouterr().out
    # The flag wins over the file.
    assert cli.main([*run, "--config", str(config), "--time-format", "24"]) == 0
    assert "  09:15 EST   14:15 GMT       Speech" in capsys.readouterr().out
    # The variable wins over the file, the flag over the variable.
    monkeypatch.setenv("TRIPDASH_TIME_FORMAT", "24")
    assert cli.main([*run, "--config", str(config)]) == 0
    assert "  09:15 EST " in capsys.readouterr().out
    monkeypatch.setenv("TRIPDASH_TIME_FORMAT", "12")
    assert cli.main(run) == 0
    assert "   9:15 am EST " in capsys.readouterr().out
    config_, _ = load_config(config, environ={}, flags={"time_format": 24})
    assert (config_.time_format, config_.origin("time_format")) == (24, "--time-format")


def test_a_bad_form_is_a_usage_error_and_a_bad_config_falls_back_to_24(
    tmp_path: Path, state: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["agenda", str(FS), *state, "--time-format", "13"])
    assert exit_.value.code == 2
    assert "--time-format: invalid choice: 13 (choose from 12, 24)" in capsys.readouterr().err
    config = tmp_path / "config.toml"
    config.write_text("time_format = 13\n", encoding="utf-8")
    assert cli.main(["agenda", str(FS), *state, "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert f"{config}:1: time_format: expected 12 or 24; got 13" in err
    assert "  09:15 EST " in out


def test_json_stays_iso_at_12_hours(state: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agenda", str(FS), *state, "--json"]) == 0
    plain = capsys.readouterr().out
    assert cli.main(["agenda", str(FS), *state, "--json", "--time-format", "12"]) == 0
    twelve = capsys.readouterr().out
    assert twelve == plain
    speech = next(e for e in json.loads(twelve) if e["id"] == "csis-speech")
    assert speech["start_local"] == "2023-01-17T09:15:00-05:00"


def test_log_mark_diff_and_remind_at_12_hours(
    tmp_path: Path, state: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    twelve = ["--time-format", "12"]
    speech = "csis-speech"
    trip = fs()
    assert any(e.id == speech for e in trip.events), [e.id for e in trip.events]
    assert cli.main(["mark", str(FS), speech, *state, "--as", "amy"]) == 0
    capsys.readouterr()
    assert cli.main(["mark", str(FS), speech, *state, "--as", "amy", *twelve]) == 0
    again = capsys.readouterr().out
    assert re.search(r"by amy at \w{3} \d\d \w{3} \d{1,2}:\d\d [ap]m (GMT|BST); nothing", again)

    assert cli.main(["log", str(FS), *state, *twelve]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert re.match(r"\w{3} \d\d \w{3} \d{4} [ \d]\d:\d\d [ap]m \S+ +[ \d]\d:\d\d [ap]m ", line)

    moved = tmp_path / "moved.toml"
    moved.write_text(
        FS.read_text(encoding="utf-8").replace(
            "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00"
        ),
        encoding="utf-8",
    )
    assert cli.main(["diff", str(FS), str(moved), *twelve]) == 1
    assert "Tue 17 Jan 3:30 pm EST (8:30 pm GMT) → Tue 17 Jan 4:00 pm EST" in (
        capsys.readouterr().out
    )

    at = ["--at", "2023-01-17T07:00 America/New_York"]
    assert cli.main(["remind", str(FS), *state, *at, *twelve]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    # The speech is marked done above: it has no reminders left.
    assert lines[0] == (
        "Tue 17 Jan  3:15 pm EST    8:15 pm GMT     15 min before   3:30 pm EST   "
        "Joint press conference with Secretary Blinken"
    )
    # The columns line up: every line's stage sits where the first one's does.
    assert {line.index(" min before") for line in lines} == {lines[0].index(" min before")}


def test_note_late_and_readout_at_12_hours(
    tmp_path: Path, state: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    twelve = ["--time-format", "12"]
    at = ["--at", "2023-01-17T09:20 America/New_York"]  # during the CSIS speech
    assert cli.main(["late", str(FS), "20", *at, "--as", "ps", *state, *twelve]) == 0
    out = capsys.readouterr().out
    assert "blinken-press-conference: 3:30 pm -> 3:50 pm EST (+20)" in out
    assert cli.main(["note", str(FS), "csis-speech", "Went well.", "--as", "ps", *state]) == 0
    capsys.readouterr()
    assert cli.main(["note", str(FS), "csis-speech", "--show", *state, *twelve]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"by ps, \w{3} \d\d \w{3} \d{1,2}:\d\d [ap]m (GMT|BST)\n", shown), shown
    day = ["--day", "2023-01-17"]
    assert cli.main(["readout", str(FS), *day, *state, *twelve]) == 0
    readout = capsys.readouterr().out
    when = [line for line in readout.splitlines() if line.startswith("- When:")]
    assert "(planned 9:15 am EST local, 2:15 pm GMT home; +20 min)" in when[0], when
    assert (
        "- When: 3:50 pm EST local, 8:50 pm GMT home "
        "(planned 3:30 pm EST local, 8:30 pm GMT home; +20 min)"
    ) in readout
    assert re.search(r"- Note \(ps, \w{3} \d\d \w{3} \d{1,2}:\d\d [ap]m (GMT|BST)\):", readout)
    assert cli.main(["readout", str(FS), *day, *state]) == 0
    assert "(planned 09:15 EST local, 14:15 GMT home; +20 min)" in capsys.readouterr().out
