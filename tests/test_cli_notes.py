"""``tripdash note``, ``late``, ``readout``, and notes and shifts in ``log`` and ``agenda``.

Through the real entry point, each run with its own $HOME and an odd machine zone.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import test_cli_marks
from fakes import FakeClock
from test_cli_marks import FS, FS_ID, Run, Runner

from tripdash.domain.records import MAX_NOTE_CHARS, RecordStore
from tripdash.domain.store import MarkStore

# The same runner as the marks' tests: own $HOME and XDG directories, an odd zone.
home = test_cli_marks.home
state_dir = test_cli_marks.state_dir
run = test_cli_marks.run

FIXED = datetime(2023, 1, 18, 12, 0, tzinfo=timezone.utc)


def records_of(state: Path) -> list[tuple[str, str, str]]:
    clock = FakeClock(FIXED)
    with MarkStore(state, clock=clock) as store:
        return [(r.kind, r.item_id, r.body) for r in RecordStore(store, clock=clock).records(FS_ID)]


def heads(state: Path, item: str) -> list[str]:
    clock = FakeClock(FIXED)
    with MarkStore(state, clock=clock) as store:
        return [v.text for v in RecordStore(store, clock=clock).note(FS_ID, item)]


def ok(r: Run) -> Run:
    assert r.code == 0, r.err
    return r


def failed(r: Run, *words: str) -> Run:
    assert r.code == 1, (r.out, r.err)
    for word in words:
        assert word in r.err, r.err
    assert "Traceback" not in r.err
    return r


# -- note -------------------------------------------------------------------------------


def test_note_saves_shows_and_refuses(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    text = "Raised CPTPP.\n\nAsked about \x1b[31mUkraine\x07 [b]bold[/b]"
    r = ok(run("note", FS, "csis-speech", text, "--as", "ps", *sd))
    assert r.out.startswith("csis-speech: note saved (Speech on UK foreign policy priorities")
    assert "by ps" in r.out
    assert heads(state_dir, "csis-speech") == [text]  # stored as typed
    shown = ok(run("note", FS, "csis-speech", "--show", *sd)).out
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Asked about \\x1b[31mUkraine\\x07 [b]bold[/b]" in shown
    assert "by ps" in shown
    again = ok(run("note", FS, "csis-speech", text, *sd))
    assert "nothing recorded" in again.out
    ok(run("note", FS, "joly", "Trade talks.", *sd))  # a counterpart
    assert heads(state_dir, "joly") == ["Trade talks."]
    assert len(records_of(state_dir)) == 2

    failed(run("note", FS, "blinkn", "x", *sd), "not an event or counterpart id", "blinken")
    failed(run("note", FS, "blinken/indo-pacific", "x", *sd), "not an event or counterpart")
    failed(run("note", FS, "joly", "y" * (MAX_NOTE_CHARS + 1), *sd), "at most 100,000")
    failed(run("note", FS, "joly", "x", "--as", "a\x1bb", *sd), "author")
    assert len(records_of(state_dir)) == 2
    assert ok(run("note", FS, "arlington-wreath", "--show", *sd)).out.startswith(
        "arlington-wreath: no note"
    )
    deleted = ok(run("note", FS, "joly", "", *sd))
    assert "note deleted" in deleted.out
    assert heads(state_dir, "joly") == []


EDITOR = """
import sys
from pathlib import Path

path = Path(sys.argv[-1])
mode = sys.argv[1]
text = path.read_text(encoding="utf-8")
Path(sys.argv[2]).write_text(text, encoding="utf-8")  # what the editor was shown
if mode == "append":
    path.write_text(text + "\\nAdded in the editor.\\n", encoding="utf-8")
elif mode == "merge":
    path.write_text("Merged: agreed, then deferred.\\n", encoding="utf-8")
elif mode == "fail":
    sys.exit(3)
"""


@pytest.fixture
def editor(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR, encoding="utf-8")
    return script, tmp_path / "shown.txt"


def _visual(editor: tuple[Path, Path], mode: str) -> dict[str, str]:
    script, shown = editor
    return {"VISUAL": f"{sys.executable} {script} {mode} {shown}", "EDITOR": ""}


def test_note_in_the_editor(run: Runner, state_dir: Path, editor: tuple[Path, Path]) -> None:
    sd = ("--state-dir", str(state_dir))
    shown = editor[1]
    r = ok(run("note", FS, "blinken", *sd, env=_visual(editor, "append")))
    assert "note saved" in r.out and shown.read_text() == ""
    assert heads(state_dir, "blinken") == ["\nAdded in the editor."]
    r = ok(run("note", FS, "blinken", *sd, env=_visual(editor, "keep")))
    assert "unchanged; nothing recorded" in r.out
    assert shown.read_text() == "\nAdded in the editor."
    failed(run("note", FS, "blinken", *sd, env=_visual(editor, "fail")), "status 3", "nothing")
    failed(run("note", FS, "blinken", *sd, env={"VISUAL": "", "EDITOR": ""}), "$VISUAL")
    assert len(records_of(state_dir)) == 1
    # Nothing and nothing: no note, the editor saved it empty.
    ok(run("note", FS, "joly", *sd, env=_visual(editor, "keep")))
    assert len(records_of(state_dir)) == 1


def test_conflicting_versions_open_together_and_saving_merges(
    run: Runner, state_dir: Path, editor: tuple[Path, Path]
) -> None:
    sd = ("--state-dir", str(state_dir))
    clock = FakeClock(FIXED)
    with MarkStore(state_dir, clock=clock) as store:
        records = RecordStore(store, clock=clock)
        base = records.save_note(FS_ID, "blinken", "Indo-Pacific.", "ps")
        # Two laptops, each replacing what it saw (as sync brings them together).
        records.save_note(FS_ID, "blinken", "Agreed.", "ps", replaces=[base.id])
        records.save_note(FS_ID, "blinken", "Deferred.", "aide", replaces=[base.id])
    shown = ok(run("note", FS, "blinken", "--show", *sd)).out
    assert "2 versions" in shown and "Agreed." in shown and "Deferred." in shown
    agenda = json.loads(ok(run("agenda", FS, "--json", *sd)).out)
    event = next(e for e in agenda if e["id"] == "blinken-bilateral")
    assert [n["text"] for n in event["counterpart_notes"]["blinken"]] == ["Agreed.", "Deferred."]
    assert {n["who"] for n in event["counterpart_notes"]["blinken"]} == {"ps", "aide"}
    ok(run("note", FS, "blinken", *sd, env=_visual(editor, "merge")))
    opened = editor[1].read_text(encoding="utf-8")
    assert "version 1 of 2, by ps" in opened and "version 2 of 2, by aide" in opened
    assert opened.index("Agreed.") < opened.index("Deferred.")
    assert heads(state_dir, "blinken") == ["Merged: agreed, then deferred."]


# -- late, log, agenda -------------------------------------------------------------------


def test_late_from_the_event_in_progress_and_bad_shifts(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    at = ("--at", "2023-01-17T09:20 America/New_York")  # during the CSIS speech
    r = ok(run("late", FS, "20", *at, "--as", "ps", *sd))
    assert r.out.startswith("running 20 min late from csis-speech")
    assert "blinken-press-conference: 15:30 -> 15:50 EST (+20)" in r.out
    r = ok(run("late", FS, "35", "--from", "csis-speech", "--until", "csis-speech", *sd))
    assert "blinken-press-conference" not in r.out
    ok(run("late", FS, "-10", "--from", "blinken-press-conference", *sd))
    failed(run("late", FS, "5", "--from", "nope", *sd), "no event 'nope'", "nothing recorded")
    failed(
        run("late", FS, "5", "--from", "blinken-press-conference", "--until", "csis-speech", *sd),
        "comes before",
    )
    failed(run("late", FS, "1441", "--from", "csis-speech", *sd), "at most 24 hours")
    failed(run("late", FS, "5", "--from", "blinken-bilateral", *sd), "TBC")
    assert [k for k, _, _ in records_of(state_dir)] == ["shift"] * 3

    agenda = json.loads(ok(run("agenda", FS, "--json", *sd)).out)
    by_id = {e["id"]: e for e in agenda}
    assert by_id["csis-speech"]["delay_minutes"] == 35
    assert by_id["csis-speech"]["expected_start_utc"] == "2023-01-17T14:50:00+00:00"
    press = by_id["blinken-press-conference"]
    assert press["delay_minutes"] == -10
    assert press["expected_start_utc"] == "2023-01-17T20:20:00+00:00"
    assert by_id["joly-bilateral"]["delay_minutes"] == 0
    assert by_id["arlington-wreath"]["expected_start_utc"] == by_id["arlington-wreath"]["start_utc"]
    plain = ok(run("agenda", FS, "--day", "2023-01-17", *sd)).out
    assert "09:15 EST" in plain and "[+35: expected 09:50 EST | 14:50 GMT]" in plain

    log = ok(run("log", FS, *sd)).out.splitlines()
    assert len(log) == 3 and all("  late  " in line for line in log)
    assert "+20 min until the end of the day" in log[0]
    assert "+35 min until csis-speech" in log[1]


def test_no_event_to_shift_from(run: Runner, state_dir: Path) -> None:
    r = run("late", FS, "10", "--at", "2024-01-01T00:00Z", "--state-dir", str(state_dir))
    failed(r, "give --from EVENT")


FIXED_FLIGHT = """
format = 1
[trip]
id = "fs-north-america-2023-01"
title = "Running late"
home_tz = "Europe/London"
[[places]]
id = "dc"
name = "Washington"
tz = "America/New_York"
[[places]]
id = "yyz"
name = "Toronto"
tz = "America/Toronto"
[[events]]
id = "bilateral"
title = "Blinken bilateral"
place = "dc"
start = 2023-01-17T15:00:00
end = 2023-01-17T16:00:00
[[events]]
id = "flight"
title = "Flight to Toronto"
place = "dc"
to = "yyz"
kind = "travel"
fixed = true
start = 2023-01-17T16:30:00
end = 2023-01-17T18:00:00
"""


def test_a_day_running_late_into_a_fixed_flight(
    run: Runner, state_dir: Path, tmp_path: Path
) -> None:
    trip = tmp_path / "late.toml"
    trip.write_text(FIXED_FLIGHT, encoding="utf-8")
    sd = ("--state-dir", str(state_dir))
    r = ok(run("late", str(trip), "45", "--from", "bilateral", *sd))
    assert "warning: Blinken bilateral now overlaps Flight to Toronto" in r.out
    failed(run("late", str(trip), "5", "--from", "flight", *sd), "does not move")
    agenda = json.loads(ok(run("agenda", str(trip), "--json", *sd)).out)
    assert agenda[0]["overlaps"] == ["flight"] and agenda[1]["overlaps"] == ["bilateral"]
    assert agenda[1]["delay_minutes"] == 0
    plain = ok(run("agenda", str(trip), *sd)).out
    assert "[OVERLAPS: Blinken bilateral now overlaps Flight to Toronto]" in plain


FALL_BACK = Path(__file__).parent / "data" / "fall-back.toml"


def test_shifted_times_name_their_zone_across_the_change_and_their_day_past_midnight(
    run: Runner, state_dir: Path
) -> None:
    """01:30 EDT + 45 min is 01:15 EST: "01:30 -> 01:15 EST" read as early. A dinner at
    21:00 three hours late is at midnight's far side: "21:00 -> 00:00 EST" read as early."""
    trip = FALL_BACK  # the 01:30 EDT and 01:30 EST meetings, and a dinner at 21:00
    sd = ("--state-dir", str(state_dir), "--at", "2023-11-05T00:00 America/New_York")
    r = ok(run("late", str(trip), "45", "--from", "first", "--until", "second", *sd))
    assert "first: 01:30 EDT -> 01:15 EST (+45)" in r.out
    assert "second: 01:30 -> 02:15 EST (+45)" in r.out  # one zone, said once
    r = ok(run("late", str(trip), "180", "--from", "dinner", *sd))
    assert "dinner: 21:00 -> 00:00 EST +1d (+180)" in r.out
    plain = ok(run("agenda", str(trip), *sd[:2])).out
    assert "[+45: expected 01:15 EST | 06:15 GMT]" in plain
    assert "[+180: expected 00:00 EST +1d | 05:00 GMT +1d]" in plain


def test_log_shows_notes_and_marks_in_order(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    ok(run("mark", FS, "csis-speech", "--as", "ps", *sd))
    ok(run("note", FS, "csis-speech", "First line\nsecond \x1b line", "--as", "aide", *sd))
    log = ok(run("log", FS, *sd)).out.splitlines()
    assert "  done  " in log[0] and "ps" in log[0]
    assert "  note  " in log[1] and "aide" in log[1]
    assert "First line second \\x1b line" in log[1] and "\x1b" not in "".join(log)


# -- readout ----------------------------------------------------------------------------


def test_readout_of_the_bundled_trip(run: Runner, state_dir: Path, tmp_path: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    ok(run("mark", FS, "blinken/indo-pacific", *sd))
    ok(run("note", FS, "blinken-press-conference", "Questions on\n\x1b[2JIran.", "--as", "ps", *sd))
    ok(run("note", FS, "joly", "Follow up on CPTPP.", "--as", "ps", *sd))
    ok(run("late", FS, "20", "--from", "csis-speech", *sd))
    out = ok(run("readout", FS, "--day", "2023-01-17", *sd)).out
    assert out.startswith("# Foreign Secretary: Washington DC and Toronto: readout of Tuesday")
    assert "## Speech on UK foreign policy priorities" in out
    assert "- When: 09:35 EST local, 14:35 GMT home (planned 09:15 EST local" in out
    assert "- [x] Deepening cooperation in the Indo-Pacific" in out
    assert "- Not covered with Antony Blinken:" in out
    assert "  > Questions on\n  > \\x1b[2JIran." in out
    assert "\x1b" not in out
    handover = out[out.index("# Still open, per counterpart") :]
    assert "## Mélanie Joly" in handover and "Follow up on CPTPP." in handover
    assert "Deepening cooperation in the Indo-Pacific" not in handover.split("## Mélanie")[0]
    target = tmp_path / "readout.md"
    r = ok(run("readout", FS, "--day", "2023-01-17", "-o", str(target), *sd))
    assert r.out.startswith(f"{target}: readout of Tue 17 Jan 2023")
    assert target.read_text(encoding="utf-8") == out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".readout")] == []
    empty = ok(run("readout", FS, "--day", "2023-02-01", *sd)).out
    assert "No events on 2023-02-01." in empty
    r = run("readout", FS, "--day", "2023-01-17", "-o", str(tmp_path / "no" / "x.md"), *sd)
    assert r.code == 2 and "cannot write" in r.err


def test_remind_lists_at_the_expected_times(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    ok(run("late", FS, "20", "--from", "blinken-press-conference", *sd))
    lines = ok(run("remind", FS, "--at", "2023-01-17T09:05 America/New_York", *sd)).out
    assert "Tue 17 Jan 15:35 EST   20:35 GMT     15 min before  15:50 EST" in lines
    assert "15:30 EST" not in lines


def test_an_unreadable_record_is_said_once_and_the_rest_shown(run: Runner, state_dir: Path) -> None:
    import sqlite3

    from tripdash.domain.store import DB_NAME

    sd = ("--state-dir", str(state_dir))
    ok(run("note", FS, "joly", "Readable.", *sd))
    raw = sqlite3.connect(state_dir / DB_NAME)
    raw.execute(
        "INSERT INTO records (id, kind, trip_id, item_id, body, at, who, hlc) VALUES "
        "('bad', 'note', ?, 'joly', 'not json', '2023-01-17T14:00:00+00:00', 'x', 1673964000000)",
        (FS_ID,),
    )
    raw.commit()
    raw.close()
    for verb in (("log", FS), ("agenda", FS, "--json"), ("readout", FS, "--day", "2023-01-17")):
        r = run(*verb, *sd)
        assert r.err.count("cannot be read (its body is not JSON): left out") == 1, r.err
    log = run("log", FS, *sd)
    assert log.code == 1 and "Readable." in log.out  # the history printed is not all of it
    assert ok(run("note", FS, "joly", "--show", *sd)).out.count("Readable.") == 1


def test_late_during_an_event_means_it_overruns(run: Runner, state_dir: Path) -> None:
    """Recorded while the speech is on: it began on time; its end and what follows move."""
    day = str(Path(__file__).parent / "data" / "late-day.toml")
    sd = ("--state-dir", str(state_dir))
    ok(run("late", day, "20", "--at", "2023-01-17T09:20 America/New_York", *sd))
    by_id = {e["id"]: e for e in json.loads(ok(run("agenda", day, "--json", *sd)).out)}
    speech = by_id["csis-speech"]
    assert speech["expected_start_utc"] == speech["start_utc"] == "2023-01-17T14:15:00+00:00"
    assert speech["expected_end_utc"] == "2023-01-17T15:20:00+00:00"
    assert by_id["think-tank"]["expected_start_utc"] == "2023-01-17T16:20:00+00:00"
    # From an event still to come, the start moves too.
    ok(
        run(
            "late",
            day,
            "10",
            "--from",
            "reception",
            "--at",
            "2023-01-17T09:20 America/New_York",
            *sd,
        )
    )
    by_id = {e["id"]: e for e in json.loads(ok(run("agenda", day, "--json", *sd)).out)}
    assert by_id["reception"]["expected_start_utc"] == "2023-01-17T23:10:00+00:00"
