"""Concurrency: several processes marking on one state directory at once.

Each helper process is driven over stdin, one command a line, and answers on
stdout, so the test decides when things happen and never sleeps on a guess.
Every wait has a deadline; every helper is killed at the end whatever happens.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from tripdash.domain.store import DB_NAME, MarkStore

REPO = Path(__file__).resolve().parent.parent
TRIP = "fs-north-america-2023-01"
FS = "trips/fs-north-america-2023-01.toml"
FIXED = datetime(2023, 1, 18, 12, 0, tzinfo=timezone.utc)  # the test never reads the time
N = 200  # marks per process
SHARED = ["csis-speech", "blinken-press-conference", "blinken/indo-pacific", "joly/cptpp-accession"]

HELPER = dedent(
    """
    import json
    import random
    import sys
    import time
    from pathlib import Path

    from tripdash.domain.store import MarkStore

    def say(obj):
        sys.stdout.write(json.dumps(obj) + "\\n")
        sys.stdout.flush()

    tag = sys.argv[1]
    store = None
    say({"ready": tag})
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "open":
            if store is not None:
                store.close()
            if cmd.get("go"):
                # A start line: wait (bounded) for the go file, then all open at once.
                say({"armed": True})
                go, deadline = Path(cmd["go"]), time.monotonic() + 10
                while not go.exists() and time.monotonic() < deadline:
                    pass
            store = MarkStore(Path(cmd["dir"]))
            say({"notice": store.notice})
        elif op == "mark":
            m = store.mark(cmd["trip"], cmd["item"], cmd["done"], tag)
            say({"id": m.id})
        elif op == "burst":
            # Many marks as fast as possible: own items and shared ones, mixed.
            rng = random.Random(cmd["seed"])
            ids = []
            say({"armed": True})
            go, deadline = Path(cmd["go"]), time.monotonic() + 10
            while not go.exists() and time.monotonic() < deadline:
                pass
            for n in range(cmd["n"]):
                if cmd["pause"]:
                    time.sleep(rng.uniform(0, cmd["pause"]))
                if n % 2:
                    item = rng.choice(cmd["shared"])
                else:
                    item = f"{tag}-item-{rng.randrange(10)}"
                ids.append(store.mark(cmd["trip"], item, rng.random() < 0.6, tag).id)
            say({"ids": ids})
        elif op == "report":
            state = store.state(cmd["trip"])
            say({
                "state": {k: [m.id, m.done] for k, m in state.items()},
                "done": sorted(store.done_ids(cmd["trip"])),
                "history": [m.id for m in store.history(cmd["trip"])],
            })
        elif op == "wait":
            # Poll like the dashboard does, until the item shows as wanted.
            deadline = time.monotonic() + cmd["timeout"]
            start = time.monotonic()
            seen = False
            while time.monotonic() < deadline:
                if store.changed_elsewhere():
                    if (cmd["item"] in store.done_ids(cmd["trip"])) == cmd["done"]:
                        seen = True
                        break
                time.sleep(0.02)
            say({"seen": seen, "after": time.monotonic() - start})
        elif op == "quit":
            break
    if store is not None:
        store.close()
    """
)


def helper_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    env.pop("TRIPDASH_STATE_DIR", None)
    return env


class Helper:
    """One helper process; every answer is awaited with a deadline."""

    def __init__(self, tmp_path: Path, tag: str) -> None:
        script = tmp_path / "helper.py"
        if not script.exists():
            script.write_text(HELPER, encoding="utf-8")
        self.tag = tag
        self.err_path = tmp_path / f"{tag}.err"
        self._err = self.err_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), tag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=helper_env(tmp_path),
            cwd=tmp_path,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        assert self.receive(timeout=30) == {"ready": tag}

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 30) -> Any:
        import selectors

        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise AssertionError(f"{self.tag}: no answer in {timeout}s; {self.errors()}")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.tag} died ({self.proc.returncode}): {self.errors()}")
        return json.loads(line)

    def ask(self, timeout: float = 30, **cmd: Any) -> Any:
        self.send(**cmd)
        return self.receive(timeout)

    def errors(self) -> str:
        self._err.flush()
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send(op="quit")
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self._err.close()


@pytest.fixture
def helpers(tmp_path: Path) -> Iterator[Any]:
    started: list[Helper] = []

    def start(tag: str) -> Helper:
        h = Helper(tmp_path, tag)
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


def moved_aside(state_dir: Path) -> list[str]:
    return sorted(p.name for p in state_dir.iterdir() if ".unreadable-" in p.name)


# -- two processes marking at once -----------------------------------------------------


@pytest.mark.parametrize("pause", [0.0, 0.002], ids=["flat-out", "paced"])
def test_two_processes_marking_at_once_agree(tmp_path: Path, helpers: Any, pause: float) -> None:
    state_dir = tmp_path / "state"
    a, b = helpers("alice"), helpers("bob")
    # Both open the same, not yet existing, database at the same moment.
    for h in (a, b):
        h.send(op="open", dir=str(state_dir))
    for h in (a, b):
        assert h.receive() == {"notice": None}, h.errors()
    # Both mark at once: their own items and the same shared ones.
    go = tmp_path / "go"
    for seed, h in enumerate((a, b)):
        h.send(op="burst", trip=TRIP, n=N, shared=SHARED, seed=seed, go=str(go), pause=pause)
    for h in (a, b):
        assert h.receive() == {"armed": True}
    go.touch()  # both start marking at the same moment
    made = {h.tag: h.receive(timeout=60)["ids"] for h in (a, b)}
    assert len(made["alice"]) == len(made["bob"]) == N
    every_id = set(made["alice"]) | set(made["bob"])
    assert len(every_id) == 2 * N

    reports = [h.ask(op="report", trip=TRIP) for h in (a, b)]
    with MarkStore(state_dir, clock=lambda: FIXED) as fresh:
        assert fresh.notice is None
        history = fresh.history(TRIP)
        fresh_report: dict[str, Any] = {
            "state": {k: [m.id, m.done] for k, m in fresh.state(TRIP).items()},
            "done": sorted(fresh.done_ids(TRIP)),
            "history": [m.id for m in history],
        }
    # The full history: every mark made, once each, in the same order everywhere.
    assert len(history) == 2 * N
    assert set(fresh_report["history"]) == every_id
    assert reports[0] == reports[1] == fresh_report
    # Each process's own marks are in the order it made them.
    for tag in ("alice", "bob"):
        own = [m.id for m in history if m.who == tag]
        assert own == made[tag]
    # The shared items were really fought over, and one mark won for each.
    for item in SHARED:
        whos = {m.who for m in history if m.item_id == item}
        assert whos == {"alice", "bob"}, item
        latest = max((m for m in history if m.item_id == item), key=lambda m: m.order)
        assert fresh_report["state"][item] == [latest.id, latest.done]
    hlcs = [m.hlc for m in history]
    assert len(set(hlcs)) == len(hlcs), "one database, so one HLC per mark"
    switches = sum(1 for x, y in itertools.pairwise(history) if x.who != y.who)
    print(f"the two writers took turns {switches} times")
    if pause:
        # Paced like people marking: the two really interleave. (Flat out, SQLite's
        # busy handler tends to let one finish first: contention, not interleaving.)
        assert switches >= 2, switches
    assert moved_aside(state_dir) == []


def test_many_processes_opening_a_new_database_at_once(tmp_path: Path, helpers: Any) -> None:
    """The first open creates the schema and switches to WAL: a race, never a casualty.

    A database that is merely busy (another process is creating it) must not be
    taken for an unreadable one and moved aside from under the others.
    """
    group = [helpers(f"p{i}") for i in range(5)]
    for round_no in range(15):
        state_dir = tmp_path / f"state-{round_no}"
        go = tmp_path / f"go-{round_no}"
        for h in group:
            h.send(op="open", dir=str(state_dir), go=str(go))
        for h in group:
            assert h.receive() == {"armed": True}
        go.touch()
        notices = [h.receive() for h in group]
        for h in group:
            h.send(op="mark", trip=TRIP, item="csis-speech", done=True)
        ids = [h.receive()["id"] for h in group]
        assert notices == [{"notice": None}] * len(group), (round_no, notices)
        assert moved_aside(state_dir) == [], round_no
        with MarkStore(state_dir, clock=lambda: FIXED) as fresh:
            assert fresh.notice is None
            assert sorted(m.id for m in fresh.history(TRIP)) == sorted(ids), round_no


# -- seeing each other's marks within two seconds --------------------------------------


def poll_until(store: MarkStore, item: str, done: bool, within: float = 2.0) -> float:
    """Poll like the dashboard: changed_elsewhere(), then done_ids. Returns the wait."""
    start = time.monotonic()
    deadline = start + within
    while time.monotonic() < deadline:
        if store.changed_elsewhere() and (item in store.done_ids(TRIP)) == done:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{item} not seen as done={done} within {within}s")


def test_a_running_store_sees_another_process_marks_within_two_seconds(
    tmp_path: Path, helpers: Any
) -> None:
    state_dir = tmp_path / "state"
    with MarkStore(state_dir, clock=lambda: FIXED) as mine:
        mine.mark(TRIP, "arlington-wreath", True, "me")
        other = helpers("other")
        assert other.ask(op="open", dir=str(state_dir)) == {"notice": None}
        assert not mine.changed_elsewhere()

        for item, done in [
            ("csis-speech", True),
            ("blinken/indo-pacific", True),
            ("csis-speech", False),
        ]:
            other.ask(op="mark", trip=TRIP, item=item, done=done)
            poll_until(mine, item, done)
        assert mine.done_ids(TRIP) == {"arlington-wreath", "blinken/indo-pacific"}
        assert not mine.changed_elsewhere()

        # The other way round: the helper polls while this process marks.
        other.send(op="wait", trip=TRIP, item="joly/cptpp-accession", done=True, timeout=2.0)
        mine.mark(TRIP, "joly/cptpp-accession", True, "me")
        answer = other.receive(timeout=10)
        assert answer["seen"], answer
        assert answer["after"] < 2.0


def test_a_running_store_sees_the_mark_command_within_two_seconds(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with MarkStore(state_dir, clock=lambda: FIXED) as dashboard:
        proc = subprocess.run(
            [sys.executable, "-m", "tripdash", "mark", FS, "csis-speech", "--as", "shell"],
            cwd=REPO,
            env={**helper_env(tmp_path), "TRIPDASH_STATE_DIR": str(state_dir)},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        poll_until(dashboard, "csis-speech", True)
        (mark,) = dashboard.history(TRIP)
        assert mark.who == "shell"
    assert (state_dir / DB_NAME).exists()
