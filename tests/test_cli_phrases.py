"""The jump-to-time words on the command line: ``--at`` and ``agenda --day``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripdash.cli import main

REPO = Path(__file__).resolve().parents[1]
FS = str(REPO / "trips" / "fs-north-america-2023-01.toml")
SEOUL = str(REPO / "trips" / "secstate-seoul-anchorage-2021-03.toml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_at_takes_a_date_time_and_place(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Into a pipe the dashboard prints today's agenda: "today" is the rehearsal's day.
    code, out, err = run(
        capsys, FS, "--at", "2023-01-18 10:00 Toronto", "--state-dir", str(tmp_path)
    )
    assert code == 0, err
    assert "Wednesday 18 January 2023" in out and "Tuesday" not in out


def test_at_takes_an_event(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, FS, "--at", "csis-speech", "--state-dir", str(tmp_path))
    assert code == 0, err
    assert "Tuesday 17 January 2023" in out and "Wednesday" not in out
    # Across the date line: the Anchorage meeting is on Anchorage's 18 March.
    code, out, err = run(capsys, SEOUL, "--at", "Yang Jiechi", "--state-dir", str(tmp_path))
    assert code == 0, err
    assert "Meeting with Yang Jiechi" in out


def test_at_refuses_what_names_no_time(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(capsys, FS, "--at", "zzyzx", "--state-dir", str(tmp_path))
    assert code == 2
    assert "--at: 'zzyzx' is neither a time nor an event of the trip" in err
    code, _out, err = run(capsys, FS, "--at", "+30", "--state-dir", str(tmp_path))
    assert code == 2 and "say +2h, +30m, +1h30 or +1d" in err
    code, _out, err = run(capsys, FS, "--at", "2023-03-12 02:30 America/New_York")
    assert code == 2 and "does not exist in America/New_York" in err


def test_agenda_day_words(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as stopped:
        main(["agenda", FS, "--day", "someday", "--state-dir", str(tmp_path)])
    assert stopped.value.code == 2
    assert "'someday' is not a date such as 2023-01-17, nor today" in capsys.readouterr().err
    # Today, tomorrow and yesterday are accepted; which dates they are depends on the real
    # clock, so only that they are dates of their own is checked (unit tests: test_phrases).
    for word in ("today", "Tomorrow", "yesterday"):
        code, _out, err = run(capsys, "agenda", FS, "--day", word, "--state-dir", str(tmp_path))
        assert code == 0, err
