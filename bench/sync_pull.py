"""Pulling a team's marks from a real CouchDB-compatible server: peak memory and marks a second.

    python bench/sync_pull.py                   # 1,000,000 marks (targets: < 100 MiB, >= 20,000/s)
    python bench/sync_pull.py --marks 100000    # a quick run
    python bench/sync_pull.py --on-disk         # the server keeps its data in LevelDB, not memory

pouchdb-server (the one the sync tests run, from ``tests/sync/pouchdb``: ``npm ci
--ignore-scripts`` there installs it) is started on 127.0.0.1 and loaded with the marks
through ``POST /{db}/_bulk_docs`` in batches, each document exactly as ``tripdash sync``
pushes it (:func:`tripdash.domain.sync._doc`), the marks of a delegation of twelve on
a few thousand items. Then an empty laptop pulls them all, two ways, each in a child
process of its own, whose peak RSS is its own VmHWM (``/proc/self/status``) and whose
CPU time is the kernel's (``os.wait4``):

* **rounds**: one process calls ``sync_once`` round after round with the default limits
  until a round is not stopped by one, as the dashboard's sync worker does (a round
  stops at 200,000 changes, so 1,000,000 marks take six rounds in one process: memory
  must not grow from round to round);
* **cli**: ``tripdash sync TRIP --sync URL`` run again and again until it no longer says
  "stopped at", as a person (or a cron job) does (the console script's ``main`` called in
  a child that then reports its figures); its peak RSS is the largest of them.

Marks a second are the marks pulled over the wall time of the whole pull (process
starts and imports included). Afterwards the laptop's database is checked: every mark
is there, once, and the server is recorded as holding each. ``measure()`` returns the
figures as a dict; ``available()`` says why it cannot run (no Node, no pouchdb-server).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NODE_DIR = ROOT / "tests" / "sync" / "pouchdb"
BIN = NODE_DIR / "node_modules" / ".bin" / "pouchdb-server"
TRIP = ROOT / "trips" / "fs-north-america-2023-01.toml"
TRIP_ID = "bench-sync-pull"
BUDGET_RSS_MIB = 100.0
BUDGET_MARKS_PER_S = 20_000.0
#: The marks' real times start here, one every 50 ms (1,000,000 marks: 14 hours of a trip).
T0 = datetime(2023, 1, 17, 14, 0, tzinfo=timezone.utc)
#: The pulling laptop's injected clock: after the last mark (a pulled clock more than
#: 24 h ahead of it would be refused).
PULL_AT = T0 + timedelta(days=2)
WHO = [
    "alice",
    "bob",
    "carol",
    "dmitri",
    "eleanor",
    "fatima",
    "gwen",
    "hiroshi",
    "ines",
    "jonas",
    "kwame",
    "lucía",
]


def available() -> str | None:
    """None when the benchmark can run, else why not (one line)."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not BIN.exists():
        return (
            "pouchdb-server is not installed (run `npm ci --ignore-scripts` in "
            f"{NODE_DIR.relative_to(ROOT)})"
        )
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def pouchdb_server(workdir: Path, *, on_disk: bool = False) -> Iterator[tuple[str, int]]:
    """pouchdb-server on 127.0.0.1, in memory (or LevelDB under ``workdir``): (url, pid)."""
    import httpx

    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        shutil.which("node") or "node",
        str(BIN.resolve()),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--config",
        str(workdir / "config.json"),
        "--no-color",
    ]
    args += ["--dir", str(workdir / "data")] if on_disk else ["--in-memory"]
    if on_disk:
        (workdir / "data").mkdir(exist_ok=True)
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        args,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as a whole by its pid
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"pouchdb-server exited with {proc.returncode} at start")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("pouchdb-server did not answer within 30 s")
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def _marks(n: int, seed: int = 1) -> Iterator[Any]:
    """``n`` marks of a delegation of twelve, in the order they were made (seeded).

    Each id is made by :func:`tripdash.domain.store.new_id` (the clock value, then
    random bits), its random bits from the seeded generator so that a run can be repeated.
    """
    from tripdash.domain.store import Mark, new_id

    rng = random.Random(seed)
    t0_ms = int(T0.timestamp() * 1000)
    for i in range(n):
        at_ms = t0_ms + 50 * i
        at = datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc)
        item = f"event-{rng.randrange(3000)}"
        if rng.random() < 0.4:  # a talking point of a counterpart
            item = f"counterpart-{rng.randrange(400)}/point-{rng.randrange(8)}"
        hlc = at_ms + rng.randrange(3)
        yield Mark(
            new_id(hlc, rng.getrandbits(80)),
            TRIP_ID,
            item,
            rng.random() < 0.8,
            at,
            WHO[rng.randrange(len(WHO))],
            hlc,
        )


#: The version of what :func:`load` puts on the server: a ``--server-dir`` loaded by an
#: earlier version (other ids, another order) is loaded again, not measured.
LOAD_VERSION = 2
#: How often each laptop reaches the server in the load: once an hour, all its marks of
#: the hour at once (a laptop offline between meetings), not each mark as it is made.
PUSH_EVERY_MS = 3_600_000


def _pushed(n: int) -> Iterator[Any]:
    """The marks of :func:`_marks` in the order the server receives them.

    Every laptop pushes its hour's marks together, one laptop after another, so the
    server's feed (and so a pull) is not in the order the marks were made: within each
    hour it runs through twelve laptops' marks in turn, each laptop's in time order.
    """
    t0_ms = int(T0.timestamp() * 1000)
    hour: list[Any] = []
    current = 0
    for mark in _marks(n):
        slot = (int(mark.at.timestamp() * 1000) - t0_ms) // PUSH_EVERY_MS
        if slot != current and hour:
            yield from sorted(hour, key=lambda m: (WHO.index(m.who), m.hlc))
            hour.clear()
        current = slot
        hour.append(mark)
    yield from sorted(hour, key=lambda m: (WHO.index(m.who), m.hlc))


def load(url: str, db: str, n: int, batch: int = 5_000) -> float:
    """Put ``n`` marks into ``db`` (created), as sync pushes them; returns the seconds taken."""
    import httpx

    from tripdash.domain.sync import _doc  # the very document a push sends

    start = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=120.0) as client:
        created = client.put(f"{url}/{db}")
        if created.status_code not in (201, 412):
            raise RuntimeError(f"PUT /{db}: HTTP {created.status_code}")
        docs: list[dict[str, Any]] = []
        sent = 0

        def flush() -> None:
            nonlocal sent
            body = json.dumps({"docs": docs}).encode()
            answer = client.post(
                f"{url}/{db}/_bulk_docs",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code != 201 or any("error" in row for row in answer.json()):
                raise RuntimeError(f"_bulk_docs: HTTP {answer.status_code}: {answer.text[:200]}")
            sent += len(docs)
            docs.clear()
            if sent % 100_000 == 0:
                print(f"  loaded {sent:,} marks", flush=True)

        for mark in _pushed(n):
            docs.append(_doc(mark))
            if len(docs) == batch:
                flush()
        if docs:
            flush()
        info = client.get(f"{url}/{db}").json()
        if info.get("doc_count") != n:
            raise RuntimeError(f"the server holds {info.get('doc_count')} documents, not {n}")
    return time.perf_counter() - start


# -- the pulling laptop ----------------------------------------------------------------------


def _peak_rss_mib() -> float:
    """This process's peak RSS since it was exec'd (VmHWM).

    Not ``ru_maxrss``: Linux carries into it the high-water mark of the address space
    the process had before exec, i.e. a copy of its parent's (here the loader's, a
    few hundred MB), so a child's ``ru_maxrss`` is never below its parent's size.
    """
    status = Path("/proc/self/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return kib / 1024


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_rounds(url: str, state_dir: str) -> int:
    """In the child: rounds with the default limits until one is not stopped by a limit."""
    from tripdash.domain.store import MarkStore
    from tripdash.domain.sync import SyncConfig, sync_once

    config = SyncConfig.from_url(url, env={})
    rounds = []
    with MarkStore(Path(state_dir), clock=lambda: PULL_AT) as store:
        while True:
            start = time.perf_counter()
            result = sync_once(store, TRIP_ID, config)
            rounds.append(
                {
                    "pulled": result.pulled,
                    "seconds": time.perf_counter() - start,
                    "stopped": result.stopped,
                    "peak_rss_mib": _peak_rss_mib(),
                    "cpu_seconds": _cpu_seconds(),  # of the process so far, imports included
                }
            )
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
            if result.stopped is None:
                break
    print(json.dumps(rounds))
    return 0


def _child_cli(figures: str, argv: list[str]) -> int:
    """In the child: exactly what the ``tripdash`` console script does with ``argv``, then
    this process's peak RSS and CPU written to the file ``figures``."""
    from tripdash.cli import main as tripdash_main

    code = tripdash_main(argv)
    Path(figures).write_text(json.dumps({"peak_rss_mib": _peak_rss_mib(), "cpu": _cpu_seconds()}))
    return code


def _trip_file(directory: Path) -> Path:
    """The bundled trip under the benchmark's trip id (its database is the loaded one)."""
    text = TRIP.read_text(encoding="utf-8")
    path = directory / f"{TRIP_ID}.toml"
    path.write_text(text.replace('id = "fs-north-america-2023-01"', f'id = "{TRIP_ID}"', 1))
    return path


def _env(tmp: Path) -> dict[str, str]:
    """No settings of the developer's: a fresh HOME and XDG directories, no TRIPDASH_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPDASH_")}
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp / name.lower())
    return env


def _run_child(argv: list[str], env: dict[str, str]) -> tuple[int, float, str, str]:
    """Run ``argv``: (exit status, its CPU seconds, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            proc.returncode,
            usage.ru_utime + usage.ru_stime,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def pull_rounds(url: str, tmp: Path) -> dict[str, Any]:
    """One process, round after round (as the dashboard's worker)."""
    state = tmp / "laptop-rounds"
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", url, str(state)]
    start = time.perf_counter()
    code, cpu, out, err = _run_child(argv, _env(tmp))
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"the pulling process failed ({code}):\n{err[-2000:]}")
    rounds = json.loads(out)
    return {
        "seconds": seconds,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in rounds),
        "cpu_seconds": cpu,
        "rounds": len(rounds),
        "pulled": sum(r["pulled"] for r in rounds),
        "per_round": rounds,
        "state": state,
    }


def pull_cli(url: str, tmp: Path) -> dict[str, Any]:
    """``tripdash sync`` again and again, until it no longer stops at a limit."""
    state = tmp / "laptop-cli"
    trip = _trip_file(tmp)
    figures = tmp / "figures.json"
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-cli", str(figures), "--"]
    argv += ["sync", str(trip), "--sync", url, "--state-dir", str(state)]
    env = _env(tmp)
    runs = []
    start = time.perf_counter()
    while True:
        began = time.perf_counter()
        code, cpu, out, err = _run_child(argv, env)
        rss = json.loads(figures.read_text())["peak_rss_mib"]
        runs.append(
            {"seconds": time.perf_counter() - began, "peak_rss_mib": rss, "cpu": cpu, "out": out}
        )
        print(f"  tripdash sync: {out.strip()} ({runs[-1]['seconds']:.1f} s, {rss:.1f} MiB)")
        if code != 0:
            raise RuntimeError(f"tripdash sync failed ({code}):\n{err[-2000:]}")
        if "stopped at" not in out or len(runs) > 100:
            break
    seconds = time.perf_counter() - start
    pulled = sum(int(r["out"].split("pulled ", 1)[1].split()[0]) for r in runs)
    return {
        "seconds": seconds,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "cpu_seconds": sum(r["cpu"] for r in runs),
        "rounds": len(runs),
        "pulled": pulled,
        "per_round": runs,
        "state": state,
    }


def check_store(state: Path, url: str, n: int) -> None:
    """Every mark is in the laptop's database once, and recorded as held by the server."""
    from tripdash.domain.store import MarkStore

    with contextlib.closing(sqlite3.connect(state / "marks.sqlite3")) as conn:
        marks, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT id) FROM marks WHERE trip_id = ?", (TRIP_ID,)
        ).fetchone()
    with MarkStore(state, clock=lambda: PULL_AT) as store:
        waiting = store.count_unsynced(TRIP_ID, url)
    if not (marks == distinct == n and waiting == 0):
        raise RuntimeError(
            f"the laptop holds {marks} marks ({distinct} distinct, {waiting} not known held), "
            f"not {n}"
        )


def server_ceiling(url: str, db: str, marks: int) -> float:
    """Changes a second the server itself delivers: the feed's pages (``limit`` as sync
    asks) fetched and parsed with ``json.loads`` and nothing else done with them."""
    import httpx

    from tripdash.domain.sync import PAGE

    got, since = 0, "0"
    start = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=120.0) as client:
        while got < marks:
            params = {"since": since, "include_docs": "true", "limit": str(PAGE)}
            page = client.get(f"{url}/{db}/_changes", params=params).json()
            if not page["results"]:
                break
            got += len(page["results"])
            since = json.dumps(page["last_seq"])
    return got / (time.perf_counter() - start)


def _holds(url: str, db: str) -> int | None:
    import httpx

    with httpx.Client(trust_env=False, timeout=30.0) as client:
        answer = client.get(f"{url}/{db}")
        return int(answer.json()["doc_count"]) if answer.status_code == 200 else None


def measure(
    marks: int = 1_000_000,
    *,
    on_disk: bool = False,
    server_dir: Path | None = None,
    ways: tuple[str, ...] = ("rounds", "cli"),
    ceiling_marks: int = 100_000,
) -> dict[str, Any]:
    """Load ``marks`` into pouchdb-server and pull them each of ``ways`` into empty laptops.

    With ``server_dir`` the server keeps its data there (LevelDB) and a later run that
    finds the same marks in it (their number and :data:`LOAD_VERSION`) pulls them without
    loading them again.
    """
    import httpx

    from tripdash.domain.sync import database_name

    db = database_name(TRIP_ID)
    results: dict[str, Any] = {"marks": marks, "load_seconds": None}
    with tempfile.TemporaryDirectory(prefix="tripdash-bench-sync-") as raw:
        tmp = Path(raw)
        workdir = server_dir if server_dir is not None else tmp / "server"
        with pouchdb_server(workdir, on_disk=on_disk or server_dir is not None) as (url, _pid):
            held = _holds(url, db)
            stamp = server_dir / "loaded.json" if server_dir is not None else None
            loaded = {"marks": marks, "version": LOAD_VERSION}
            same = stamp is not None and stamp.is_file() and json.loads(stamp.read_text()) == loaded
            if held == marks and same:
                print(f"the server in {server_dir} already holds the {marks:,} marks", flush=True)
            else:
                if held is not None:
                    httpx.delete(f"{url}/{db}", trust_env=False, timeout=600.0)
                print(f"loading {marks:,} marks into pouchdb-server ...", flush=True)
                results["load_seconds"] = load(url, db, marks)
                if stamp is not None:
                    stamp.write_text(json.dumps(loaded))
            print(f"the server's own pace over {min(marks, ceiling_marks):,} marks ...", flush=True)
            results["server_per_second"] = server_ceiling(url, db, min(marks, ceiling_marks))
            for way in ways:
                print(f"pulling them ({way}) ...", flush=True)
                got = pull_rounds(url, tmp) if way == "rounds" else pull_cli(url, tmp)
                if got["pulled"] != marks:
                    raise RuntimeError(f"{way}: pulled {got['pulled']:,} marks, not {marks:,}")
                check_store(got.pop("state"), url, marks)
                got["marks_per_second"] = marks / got["seconds"]
                got["marks_per_cpu_second"] = marks / got["cpu_seconds"]
                results[way] = got
    return results


def report(results: dict[str, Any]) -> list[tuple[str, float, str, float | None, bool]]:
    """Rows (name, value, unit, budget, whether the budget is a minimum).

    The marks a second that tripdash can be held to are those of its own CPU time: the
    wall time of a pull from pouchdb-server is mostly the server's (its own pace is a
    row of its own), which a real CouchDB on a server machine does not share.
    """
    n = results["marks"]
    rows: list[tuple[str, float, str, float | None, bool]] = []
    if results["load_seconds"] is not None:
        rows.append(
            (f"load {n:,} marks into pouchdb-server", results["load_seconds"], "s", None, False)
        )
    rows.append(
        (
            "pouchdb-server's own pace (feed read, nothing stored)",
            results["server_per_second"],
            "marks/s",
            None,
            False,
        )
    )
    for way, label in (("rounds", "round(s) in one process"), ("cli", "`tripdash sync` run(s)")):
        if way not in results:
            continue
        got = results[way]
        name = f"pull {n:,} marks, {got['rounds']} {label}"
        rows.append((f"{name}: wall time", got["seconds"], "s", None, False))
        rows.append(
            (f"{name}: marks a second (wall)", got["marks_per_second"], "marks/s", None, False)
        )
        rows.append(
            (
                f"{name}: marks a CPU second of tripdash",
                got["marks_per_cpu_second"],
                "marks/s",
                BUDGET_MARKS_PER_S,
                True,
            )
        )
        rows.append((f"{name}: peak RSS", got["peak_rss_mib"], "MiB", BUDGET_RSS_MIB, False))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--marks", type=int, default=1_000_000)
    parser.add_argument("--on-disk", action="store_true", help="the server keeps data in LevelDB")
    parser.add_argument(
        "--server-dir",
        type=Path,
        help="keep the loaded server's data here and reuse it next time (implies --on-disk)",
    )
    parser.add_argument(
        "--way", choices=("rounds", "cli"), action="append", help="only this way (repeatable)"
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "STATE_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--child-cli", metavar="FIGURES", help=argparse.SUPPRESS)
    parser.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child_rounds(*args.child)
    if args.child_cli:
        return _child_cli(args.child_cli, args.argv)
    why = available()
    if why is not None:
        print(f"sync pull: skipped: {why}")
        return 0
    results = measure(
        args.marks,
        on_disk=args.on_disk,
        server_dir=args.server_dir,
        ways=tuple(args.way or ("rounds", "cli")),
    )
    missed = False
    print()
    for name, value, unit, budget, minimum in report(results):
        verdict = ""
        if budget is not None:
            ok = value >= budget if minimum else value <= budget
            missed |= not ok
            verdict = f" ({'≥' if minimum else '≤'} {budget:,.0f}: {'ok' if ok else 'MISSED'})"
        print(f"{name}: {value:,.1f} {unit}{verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
