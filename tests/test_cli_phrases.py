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


def test_readout_sheet_and_export_take_day_words_at_a_time(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = ["--state-dir", str(tmp_path / "state")]
    # 08:00 on Wednesday 18 January in Washington: "yesterday" is Tuesday 17th there.
    wednesday = ["--at", "2023-01-18T08:00 America/New_York"]
    code, out, err = run(capsys, "readout", FS, *wednesday, *state)
    assert code == 0, err
    assert out.startswith("# Foreign Secretary: Washington DC and Toronto: readout of Wednesday")
    code, out, err = run(capsys, "readout", FS, "--day", "yesterday", *wednesday, *state)
    assert code == 0, err
    assert "readout of Tuesday 17 January 2023" in out and "Speech on UK" in out
    # Across the date line: 01:00 on 19 March in Seoul is 08:00 on the 18th in Anchorage,
    # where the delegation is: "today" is Anchorage's 18 March.
    code, out, err = run(capsys, "readout", SEOUL, "--at", "2021-03-18T16:00Z", *state)
    assert code == 0, err
    assert "readout of Thursday 18 March 2021" in out

    tuesday = ["--at", "2023-01-17T09:00 America/New_York"]
    sheet = tmp_path / "day.pdf"
    code, out, err = run(capsys, "sheet", FS, "--day", "tomorrow", *tuesday, "-o", str(sheet))
    assert code == 0, err
    assert "1 page" in out and sheet.read_bytes().startswith(b"%PDF")
    code, out, err = run(capsys, "export", FS, "--day", "today", *tuesday)
    assert code == 0, err
    assert out.count("BEGIN:VEVENT") == 3  # Tuesday's three events, not Wednesday's five
    with pytest.raises(SystemExit) as exited:
        main(["readout", FS, "--day", "someday", *state])
    assert exited.value.code == 2
    assert "nor today, tomorrow or yesterday" in capsys.readouterr().err
