"""What the laptop's own files cost: the marks store's integrity check, the parsed-trip cache.

    python bench/store.py                 # 100,000 marks, 5 repetitions of each
    python bench/store.py --marks 20000 --runs 3

1. **Opening the marks store.** A database of ``--marks`` marks is made, then opened
   and closed: after a clean close (the fingerprint in ``marks.sqlite3.clean`` still
   matches, so only the header, marker, tables and schema version are looked at) and
   after an unclean one (a process holding it open, with a mark just made, is killed
   with SIGKILL: the WAL file is left, and the next opening runs ``PRAGMA
   integrity_check`` and reads every row). The two parts of the full check are also
   timed alone, on the same file.
2. **A warm start of a trip with the parsed-trip cache**, JSON (what tripdash keeps)
   against a pickle of the same result and schedule (what it kept before issue 21;
   pickle is used here only to measure, never by tripdash): the bundled trip, a dense
   5,000-event trip and a 10,000-event one (``bench/gen_trip.py``, seeded). Each figure
   is reading the entry's bytes and rebuilding the trip and its schedule's indexes, in
   process; the whole ``tripdash agenda`` of the trip (warm, in a fresh process) is
   given beside it for scale.

Every figure is a median of ``--runs`` repetitions, in milliseconds (wall clock,
``perf_counter``). ``measure()`` returns them as a dict.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

BUNDLED = ROOT / "trips" / "fs-north-america-2023-01.toml"
T0 = datetime(2023, 1, 17, 14, 0, tzinfo=timezone.utc)

#: A process that opens the store, makes one mark, says so, and waits to be killed.
_HOLDER = """
import sys, time
from tripdash.domain.store import MarkStore
store = MarkStore(sys.argv[1])
store.mark("bench-trip", "held-open", True, "holder")
print("marked", flush=True)
time.sleep(600)
"""


def _ms(run: Callable[[], object]) -> float:
    """Milliseconds of one call, with the cyclic collector off (as ``load_trip`` has it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        t = time.perf_counter()
        run()
        return (time.perf_counter() - t) * 1000
    finally:
        if enabled:
            gc.enable()


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 1)


def make_store(state: Path, marks: int) -> int:
    """A marks database of ``marks`` marks over 200 items of one trip; its size in bytes."""
    from tripdash.domain.store import HLC_FLOOR, Mark, MarkStore

    base = int(T0.timestamp() * 1000)
    assert base > HLC_FLOOR
    batch = [
        Mark(
            uuid.UUID(int=i).hex,
            "bench-trip",
            f"item-{i % 200}",
            i % 3 != 0,
            T0 + timedelta(seconds=i),
            ("alice", "bob", "carol")[i % 3],
            base + i,
        )
        for i in range(marks)
    ]
    with MarkStore(state) as store:
        store.add_marks(batch)
    return (state / "marks.sqlite3").stat().st_size


def _kill_holding_it_open(state: Path) -> None:
    """Leave the database as a crash does: open in a process killed after a mark."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "marked"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (state / "marks.sqlite3-wal").exists(), "the kill left no WAL file"


def store_opening(marks: int, runs: int, tmp: Path) -> dict[str, float]:
    """Opening the store after a clean and after an unclean close, and the check's parts."""
    from tripdash.domain.store import MarkStore

    state = tmp / "state"
    size = make_store(state, marks)

    def open_only() -> None:
        MarkStore(state).close()

    open_only()  # a clean close: its fingerprint is recorded
    clean = [_ms(open_only) for _ in range(runs)]
    unclean = []
    for _ in range(runs):
        _kill_holding_it_open(state)
        unclean.append(_ms(open_only))
    with MarkStore(state) as store:
        state_of_all = [_ms(lambda s=store: s.done_ids("bench-trip")) for _ in range(runs)]
    path = state / "marks.sqlite3"
    integrity, rows, scan_sql, scan_python = [], [], [], []
    with MarkStore(state) as store:
        for _ in range(runs):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                integrity.append(
                    _ms(lambda c=conn: c.execute("PRAGMA integrity_check(20)").fetchall())
                )
                rows.append(_ms(lambda c=conn: c.execute("SELECT * FROM marks").fetchall()))
                # The look at every row that opening does, against converting each row in
                # Python as it did before (both on the same file, interleaved).
                scan_sql.append(_ms(lambda c=conn, s=store: s._scan_rows(c)))
                scan_python.append(_ms(lambda c=conn, s=store: _scan_in_python(s, c)))
            finally:
                conn.close()
        assert store.unreadable_rows == []
    with MarkStore(state) as store:  # nothing was lost or moved aside by all that
        assert store.notice is None
        assert len(store.history("bench-trip")) == marks + runs
    return {
        "marks": marks + runs,
        "file_mib": round(size / 2**20, 1),
        "open_after_clean_close_ms": _median(clean),
        "open_after_unclean_close_ms": _median(unclean),
        "done_ids_every_mark_ms": _median(state_of_all),
        "integrity_check_ms": _median(integrity),
        "read_every_row_ms": _median(rows),
        "row_scan_ms": _median(scan_sql),
        "row_scan_in_python_ms": _median(scan_python),
    }


def _scan_in_python(store: object, conn: sqlite3.Connection) -> None:
    """Every row converted in Python, as opening did before the rows were sorted in SQL."""
    from tripdash.domain.store import _COLUMNS

    conn.text_factory = bytes
    try:
        for row in conn.execute(f"SELECT seq, {_COLUMNS} FROM marks"):
            store._convert(row)  # type: ignore[attr-defined]
    finally:
        conn.text_factory = str


def _trips(tmp: Path) -> dict[str, Path]:
    from gen_trip import generate, generate_dense

    dense = tmp / "dense-5000.toml"
    dense.write_text(generate_dense(5_000), encoding="utf-8")
    big = tmp / "gen-10000.toml"
    big.write_text(generate(10_000, 100, 20, seed=1), encoding="utf-8")
    return {"bundled": BUNDLED, "dense 5,000": dense, "10,000": big}


def cache_loading(runs: int, tmp: Path) -> dict[str, dict[str, float]]:
    """A warm load from the JSON entry against one from a pickle of the same result."""
    from tripdash.domain import parsed_cache
    from tripdash.domain.loader import load_trip
    from tripdash.domain.schedule import Schedule

    out: dict[str, dict[str, float]] = {}
    for name, path in _trips(tmp).items():
        cache_dir = tmp / f"parsed-{uuid.uuid4().hex[:6]}"
        result = load_trip(path, cache_dir=cache_dir)  # fills the JSON cache
        (entry,) = cache_dir.glob("*.json")
        schedule = Schedule.for_trip(result.trip)
        pickled = tmp / "entry.pickle"
        pickled.write_bytes(pickle.dumps((result, schedule), protocol=pickle.HIGHEST_PROTOCOL))
        data = path.read_bytes()
        key = parsed_cache.key(data, str(path), path.stem)
        digest = parsed_cache.content_hash(data)

        def from_json(key: str = key, digest: str = digest, cache_dir: Path = cache_dir) -> None:
            got = parsed_cache.read(cache_dir, key, digest)
            assert got is not None

        def from_pickle(pickled: Path = pickled) -> None:
            _, kept = pickle.loads(pickled.read_bytes())  # measured only, never in tripdash
            Schedule.remember(kept)

        json_ms, pickle_ms = [], []
        for _ in range(runs):  # interleaved, so that both see the same machine
            json_ms.append(_ms(from_json))
            pickle_ms.append(_ms(from_pickle))
        out[name] = {
            "events": len(result.trip.events),
            "json_entry_kib": round(entry.stat().st_size / 1024),
            "pickle_entry_kib": round(pickled.stat().st_size / 1024),
            "json_warm_load_ms": _median(json_ms),
            "pickle_warm_load_ms": _median(pickle_ms),
            "agenda_warm_process_ms": _agenda_process(path, runs, tmp),
        }
    return out


def _agenda_process(path: Path, runs: int, tmp: Path) -> float:
    """The whole ``tripdash agenda`` of a trip whose entry is cached, in a fresh process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "TRIPDASH_CACHE_DIR": str(tmp / "agenda-cache"),
        "TRIPDASH_STATE_DIR": str(tmp / "agenda-state"),
    }
    argv = [sys.executable, "-m", "tripdash", "agenda", str(path), "--day", "2023-01-17"]

    def run() -> None:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr

    run()  # cold: fills the cache
    return _median([_ms(run) for _ in range(runs)])


def measure(marks: int = 100_000, runs: int = 5, part: str = "all") -> dict[str, object]:
    """Every figure of this file (or of one ``part``: store, cache), as a dict."""
    with tempfile.TemporaryDirectory(prefix="tripdash-bench-store-") as raw:
        tmp = Path(raw)
        out: dict[str, object] = {}
        if part in ("all", "store"):
            out["store"] = store_opening(marks, runs, tmp)
        if part in ("all", "cache"):
            out["parsed_cache"] = cache_loading(runs, tmp)
        return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--marks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--part", choices=["all", "store", "cache"], default="all")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.marks, args.runs, args.part)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    if "store" in figures:
        _print_store(figures["store"])
    if "parsed_cache" in figures:
        _print_cache(figures["parsed_cache"])
    return 0


def _print_store(s: object) -> None:
    assert isinstance(s, dict)
    print(f"Marks store: {s['marks']:,} marks, {s['file_mib']} MiB")
    print(f"  open after a clean close     {s['open_after_clean_close_ms']:8.1f} ms")
    print(f"  open after an unclean close  {s['open_after_unclean_close_ms']:8.1f} ms")
    print(f"    of which integrity_check   {s['integrity_check_ms']:8.1f} ms")
    print(f"    SQLite reading every row   {s['read_every_row_ms']:8.1f} ms")
    print(f"    the look at every row      {s['row_scan_ms']:8.1f} ms")
    print(f"      (converting each in Python, as before: {s['row_scan_in_python_ms']:.1f} ms)")
    every = s["done_ids_every_mark_ms"]
    print(f"  (for scale: the state of the trip from every mark, {every:.1f} ms)")


def _print_cache(cache: object) -> None:
    assert isinstance(cache, dict)
    print("Parsed-trip cache, warm load (entry read, trip and schedule rebuilt):")
    print(
        f"  {'trip':<12} {'events':>6} {'JSON':>9} {'pickle':>9} {'JSON KiB':>9} "
        f"{'pickle KiB':>10} {'agenda process':>15}"
    )
    for name, f in cache.items():
        print(
            f"  {name:<12} {f['events']:>6} {f['json_warm_load_ms']:>6.1f} ms "
            f"{f['pickle_warm_load_ms']:>6.1f} ms {f['json_entry_kib']:>9} "
            f"{f['pickle_entry_kib']:>10} {f['agenda_warm_process_ms']:>12.1f} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
