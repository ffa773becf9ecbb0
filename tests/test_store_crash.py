"""The crash test: a process that marks in a loop is killed with SIGKILL at random moments.

The child prints a mark's id only after :meth:`MarkStore.mark` returned, i.e. after
the mark was committed. Every id it ever printed must be in the database
afterwards, and the database must open cleanly (no notice, quick_check ok).
The child's stdout goes to a file, so nothing it wrote is lost when it dies.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent

import pytest

from tripdash.domain.store import DB_NAME, MarkStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

TRIP = "fs-north-america-2023-01"
ROUNDS = 25
SEED = 20230117
MAX_DELAY = 0.45  # seconds after starting the child; some kills land while it opens
_FIXED = datetime(2023, 1, 18, 12, 0, tzinfo=timezone.utc)  # the parent never reads the time

CHILD = dedent(
    """
    import sys
    from pathlib import Path

    from tripdash.domain.store import MarkStore

    state_dir, trip, tag = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    items = ["csis-speech", "blinken-press-conference", "blinken/indo-pacific",
             "joly/cptpp-accession", "arlington-wreath"]
    store = MarkStore(state_dir)
    if store.notice:
        print("NOTICE " + store.notice, file=sys.stderr, flush=True)
        sys.exit(3)
    n = 0
    while True:
        mark = store.mark(trip, items[n % len(items)], n % 3 != 0, tag)
        # Only now is it committed: report it.
        sys.stdout.write(mark.id + "\\n")
        sys.stdout.flush()
        n += 1
    """
)


def child_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TRIPDASH_STATE_DIR", None)
    return env


def reported_ids(path: Path) -> list[str]:
    """Complete lines only (a line cut short by the kill was never reported)."""
    text = path.read_text(encoding="ascii")
    lines = text.split("\n")
    complete = lines[:-1]  # whatever follows the last newline is not complete
    assert all(len(line) == 32 for line in complete), complete[:3]
    return complete


def wait_for_first_mark(out_path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while out_path.stat().st_size == 0 and proc.poll() is None:
        assert time.monotonic() < deadline, "the child never marked"
        time.sleep(0.005)


def test_every_reported_mark_survives_sigkill(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    script = tmp_path / "marker.py"
    script.write_text(CHILD, encoding="utf-8")
    env = child_env(tmp_path)
    rng = random.Random(SEED)
    reported: list[str] = []
    rounds_with_marks = 0
    started = time.monotonic()

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
                    # Half the rounds: once it is marking, however slow the machine is.
                    wait_for_first_mark(out_path, proc)
                    time.sleep(rng.uniform(0.0, MAX_DELAY / 2))
                else:
                    # The other half: from the start, so some kills land while it opens.
                    time.sleep(rng.uniform(0.0, MAX_DELAY))
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
        errors = err_path.read_text(encoding="utf-8", errors="replace")
        assert proc.returncode in (-signal.SIGKILL, None), (proc.returncode, errors)
        assert "NOTICE" not in errors, errors
        assert "Traceback" not in errors, errors
        ids = reported_ids(out_path)
        rounds_with_marks += bool(ids)
        reported.extend(ids)

    elapsed = time.monotonic() - started
    print(
        f"{len(reported)} marks reported over {rounds_with_marks}/{ROUNDS} rounds in {elapsed:.1f}s"
    )
    assert elapsed < 60, elapsed
    # The test means something only if most kills landed mid-loop.
    assert rounds_with_marks >= (ROUNDS + 1) // 2, rounds_with_marks
    assert len(reported) == len(set(reported))

    # The database opens cleanly...
    raw = sqlite3.connect(state_dir / DB_NAME)
    try:
        assert raw.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        raw.close()
    with MarkStore(state_dir, clock=lambda: _FIXED) as store:
        assert store.notice is None
        history = store.history(TRIP)
        # ...and every mark reported as committed is there.
        ids = [m.id for m in history]
        assert len(ids) == len(set(ids))
        missing = set(reported) - set(ids)
        assert not missing, f"{len(missing)} committed marks lost"
        # At most one mark per round can be committed but unreported (killed in between).
        assert len(ids) - len(reported) <= ROUNDS
        # The history is in HLC order, strictly increasing on one machine.
        hlcs = [m.hlc for m in history]
        assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
        # Still usable after all that.
        store.mark(TRIP, "csis-speech", True, "after")
        assert len(store.history(TRIP)) == len(ids) + 1
    assert not [p for p in state_dir.iterdir() if "unreadable" in p.name]
