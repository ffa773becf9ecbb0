"""Notes survive SIGKILL and two writers at once (as marks do: see test_store_crash.py).

A child saves note versions in a loop and prints a version's id only after
``save_note`` returned (committed). Every printed id must be in the database
afterwards, with its whole text; no version may be half there.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent

import pytest
from fakes import FakeClock
from test_store_crash import child_env, reported_ids, wait_for_first_mark

from tripdash.domain.records import NOTE, RecordStore
from tripdash.domain.store import MarkStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

TRIP = "fs-north-america-2023-01"
ROUNDS = 12
SEED = 20260115
MAX_DELAY = 0.4
FIXED = datetime(2023, 1, 18, 12, 0, tzinfo=timezone.utc)

CHILD = dedent(
    """
    import sys
    from pathlib import Path

    from tripdash.domain.records import RecordStore
    from tripdash.domain.store import MarkStore
    from tripdash.domain.times import system_clock

    state_dir, trip, tag = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    store = MarkStore(state_dir)
    if store.notice:
        print("NOTICE " + store.notice, file=sys.stderr, flush=True)
        sys.exit(3)
    records = RecordStore(store, clock=system_clock)
    n = 0
    while True:
        # Large enough to span several pages: a half-written one would show.
        text = f"{tag} {n} " + "paragraph \\x1b[1m\\n\\n" * 800 + f"end {tag} {n}"
        version = records.save_note(trip, ["csis-speech", "blinken"][n % 2], text, tag)
        if n % 5 == 0:
            store.mark(trip, "csis-speech", n % 2 == 0, tag)
            records.set_shift(trip, "csis-speech", n % 60, None, tag)
        sys.stdout.write(version.id + "\\n")
        sys.stdout.flush()
        n += 1
    """
)


def expected_text(tag: str, n: int) -> str:
    return f"{tag} {n} " + "paragraph \x1b[1m\n\n" * 800 + f"end {tag} {n}"


def test_no_saved_note_version_is_lost_or_half_there(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    script = tmp_path / "noter.py"
    script.write_text(CHILD, encoding="utf-8")
    env = child_env(tmp_path)
    rng = random.Random(SEED)
    reported: list[str] = []
    rounds_with_notes = 0
    for round_no in range(ROUNDS):
        out_path = tmp_path / f"out-{round_no}.txt"
        err_path = tmp_path / f"err-{round_no}.txt"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, str(script), str(state_dir), TRIP, f"round-{round_no}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=tmp_path,
            )
            try:
                if round_no % 2 == 0:
                    wait_for_first_mark(out_path, proc)
                    time.sleep(rng.uniform(0.0, MAX_DELAY / 2))
                else:
                    time.sleep(rng.uniform(0.0, MAX_DELAY))
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
        errors = err_path.read_text(encoding="utf-8", errors="replace")
        assert "NOTICE" not in errors and "Traceback" not in errors, errors
        ids = reported_ids(out_path)
        rounds_with_notes += bool(ids)
        reported.extend(ids)
    assert rounds_with_notes >= (ROUNDS + 1) // 2, rounds_with_notes

    clock = FakeClock(FIXED)
    with MarkStore(state_dir, clock=clock) as store:
        assert store.notice is None
        records = RecordStore(store, clock=clock)
        notes = records.records(TRIP, NOTE)
        assert records.unreadable_rows == []
        missing = set(reported) - {r.id for r in notes}
        assert not missing, f"{len(missing)} saved note versions lost"
        for record in notes:  # every version whole: the text its writer saved
            tag, n = record.data["text"].split(" ", 2)[:2]
            assert record.data["text"] == expected_text(tag, int(n))
        hlcs = [r.hlc for r in records.records(TRIP)] + [m.hlc for m in store.history(TRIP)]
        assert len(set(hlcs)) == len(hlcs)  # one clock: never a value twice
        # One current version per item: each save replaced the one before on one laptop.
        assert all(len(v) == 1 for v in records.notes(TRIP).values())
        records.save_note(TRIP, "csis-speech", "after", "after")
        assert records.note(TRIP, "csis-speech")[0].text == "after"


WRITER = dedent(
    """
    import json
    import sys
    import time
    from pathlib import Path

    from tripdash.domain.records import RecordStore
    from tripdash.domain.store import MarkStore
    from tripdash.domain.times import system_clock

    state_dir, trip, tag, go = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    n = int(sys.argv[5])
    store = MarkStore(state_dir)
    records = RecordStore(store, clock=system_clock)
    deadline = time.monotonic() + 20
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    ids = []
    for i in range(n):
        ids.append(records.save_note(trip, "shared", f"{tag} {i}", tag).id)
        ids.append(records.set_shift(trip, "csis-speech", i, None, tag).id)
    print(json.dumps(ids))
    store.close()
    """
)


def test_two_writers_at_once(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    MarkStore(state_dir).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    go = tmp_path / "go"
    env = child_env(tmp_path)
    n = 60
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(state_dir), TRIP, tag, str(go), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for tag in ("a", "b")
    ]
    try:
        time.sleep(0.3)  # both open; the go file starts them together
        go.touch()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    written: list[str] = []
    for (out, err), p in zip(outputs, procs, strict=True):
        assert p.returncode == 0, err.decode()
        written += json.loads(out)
    clock = FakeClock(FIXED)
    with MarkStore(state_dir, clock=clock) as store:
        records = RecordStore(store, clock=clock)
        stored = records.records(TRIP)
        assert sorted(r.id for r in stored) == sorted(written)
        assert len({r.hlc for r in stored}) == 4 * n
        # Each save replaced what was current when it committed: one head at the end,
        # the last saved of all.
        heads = records.note(TRIP, "shared")
        last = max((r for r in stored if r.kind == NOTE), key=lambda r: r.order)
        assert [h.id for h in heads] == [last.id]
        latest_shift = max((r for r in stored if r.kind != NOTE), key=lambda r: r.order)
        assert records.shifts(TRIP)["csis-speech"].id == latest_shift.id
