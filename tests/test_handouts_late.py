"""Hand-outs of a day that runs late: the expected times, with the planned ones beside.

The calendar file and the day sheet read the running-late shifts recorded in the
marks database (never the trip file) and print the expected times; ``--planned``
prints the plan. A machine without a marks database gets the plan, and none is made.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import FakeClock
from icalendar import Calendar

from tripdash.cli import main
from tripdash.domain.records import RecordStore
from tripdash.domain.store import DB_NAME, MarkStore

ROOT = Path(__file__).resolve().parent.parent
LATE_DAY = ROOT / "tests" / "data" / "late-day.toml"
AT = "2023-01-17T09:20 America/New_York"
CLOCK = FakeClock(datetime(2023, 1, 17, 14, 20, tzinfo=UTC))


def _late(state: Path, minutes: int = 20) -> None:
    store = RecordStore(MarkStore(state, clock=CLOCK), clock=CLOCK)
    store.set_shift("late-day", "csis-speech", minutes, None, "alice")
    store.close()


def _starts(path: Path) -> dict[str, tuple[datetime, str]]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {
        str(v["summary"]): (v.decoded("dtstart").astimezone(UTC), str(v.get("description", "")))
        for v in calendar.walk("VEVENT")
    }


def test_the_calendar_file_carries_the_expected_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _late(state)
    out = tmp_path / "late.ics"
    assert (
        main(["export", str(LATE_DAY), "--state-dir", str(state), "--at", AT, "-o", str(out)]) == 0
    )
    assert "3 events at expected times" in capsys.readouterr().err
    starts = _starts(out)
    start, description = starts["Speech at CSIS"]
    assert start == datetime(2023, 1, 17, 14, 35, tzinfo=UTC)
    assert "Planned: 09:15 EST" in description and "Home time: 14:35 GMT" in description
    assert starts["Round table with think tanks"][0] == datetime(2023, 1, 17, 16, 20, tzinfo=UTC)
    # The flight does not move, nor what comes after it.
    assert starts["Flight to Toronto"][0] == datetime(2023, 1, 17, 20, 0, tzinfo=UTC)
    assert "Planned" not in starts["Flight to Toronto"][1]

    planned = tmp_path / "planned.ics"
    argv = ["export", str(LATE_DAY), "--state-dir", str(state), "--at", AT, "--planned"]
    assert main([*argv, "-o", str(planned)]) == 0
    assert _starts(planned)["Speech at CSIS"][0] == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)


def test_a_new_export_after_the_shift_updates_the_events_in_place(tmp_path: Path) -> None:
    state = tmp_path / "state"
    out = tmp_path / "day.ics"
    argv = ["export", str(LATE_DAY), "--state-dir", str(state), "--at", AT, "-o", str(out)]
    _late(state, 0)  # a database, on time
    assert main(argv) == 0
    before = {
        str(v["uid"]): int(v.get("sequence", 0))
        for v in Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    }
    _late(state, 20)
    assert main(argv) == 0
    after = {
        str(v["uid"]): (int(v.get("sequence", 0)), str(v["summary"]))
        for v in Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    }
    assert after.keys() == before.keys()  # the same events, not new ones
    moved = {summary for uid, (seq, summary) in after.items() if seq > before[uid]}
    assert moved == {"Speech at CSIS", "Round table with think tanks", "Blinken bilateral"}


def test_no_marks_database_gives_the_plan_and_makes_none(tmp_path: Path) -> None:
    state = tmp_path / "never-ran"
    out = tmp_path / "plan.ics"
    assert (
        main(["export", str(LATE_DAY), "--state-dir", str(state), "--at", AT, "-o", str(out)]) == 0
    )
    assert not (state / DB_NAME).exists() and not state.exists()
    assert _starts(out)["Speech at CSIS"][0] == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_day_sheet_prints_expected_and_planned(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _late(state)
    out = tmp_path / "day.pdf"
    argv = ["sheet", str(LATE_DAY), "--state-dir", str(state), "--at", AT, "-o", str(out)]
    assert main([*argv, "--day", "2023-01-17"]) == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "09:35" in text and "planned 09:15" in text
    assert "11:20" in text and "planned 11:00" in text
