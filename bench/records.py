"""What notes and shifts cost on a 10,000-event trip: reading them and applying them.

    python bench/records.py              # 1,000 notes and 50 shifts (the issue's figures)
    python bench/records.py --notes 5000 --shifts 200

A generated 10,000-event trip (``bench/gen_trip.py``, seeded) and a real marks
database in a temporary state directory, written through ``RecordStore`` (one
commit per note or shift, as a user makes them). Then, timed with ``perf_counter_ns``
over several rounds: ``RecordStore.notes()`` and ``.shifts()`` (what a dashboard
reads at start and after each change), ``lateness()`` and ``expected_trip()`` (what
it computes from them). ``measure()`` returns the figures as a dict (milliseconds,
median over the rounds). No budget is asserted here; the dashboard's own budgets
are in bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))


class SteppingClock:
    """The injected clock: a second later at each call (every record gets its own time)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def _median_ms(run: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        run()  # type: ignore[operator]
        times.append((time.perf_counter_ns() - start) / 1e6)
    return round(statistics.median(times), 3)


def populate(state_dir: Path, trip: object, notes: int, shifts: int, seed: int = 1) -> None:
    """Write ``notes`` notes (on random events and counterparts) and ``shifts`` shifts
    (from random movable events) for ``trip`` into the marks database of ``state_dir``."""
    from tripdash.domain.late import stays_put
    from tripdash.domain.records import RecordStore
    from tripdash.domain.store import MarkStore

    rng = random.Random(seed)
    clock = SteppingClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    events = trip.events  # type: ignore[attr-defined]
    items = [e.id for e in events] + [c.id for c in trip.counterparts]  # type: ignore[attr-defined]
    movable = [e.id for e in events if e.time_confirmed and not stays_put(e)]
    with MarkStore(state_dir, clock=clock) as store:
        records = RecordStore(store, clock=clock)
        for n in range(notes):
            records.save_note(trip.id, rng.choice(items), f"note {n} " * 40, "bench")  # type: ignore[attr-defined]
        for _ in range(shifts):
            records.set_shift(trip.id, rng.choice(movable), rng.randint(-30, 90), None, "b")  # type: ignore[attr-defined]


def measure(
    notes: int = 1000, shifts: int = 50, rounds: int = 9, seed: int = 1
) -> dict[str, float]:
    """Write ``notes`` notes and ``shifts`` shifts, then time reading and applying them."""
    from gen_trip import generate

    from tripdash.domain.late import lateness, stays_put
    from tripdash.domain.loader import load_trip
    from tripdash.domain.records import RecordStore
    from tripdash.domain.store import MarkStore

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(generate(10_000, 100, 20, seed), encoding="utf-8")  # 100: the limit
        trip = load_trip(path).trip
        clock = SteppingClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
        with MarkStore(Path(tmp) / "state", clock=clock) as store:
            records = RecordStore(store, clock=clock)
            items = [e.id for e in trip.events] + [c.id for c in trip.counterparts]
            start = time.perf_counter_ns()
            for n in range(notes):
                records.save_note(trip.id, rng.choice(items), f"note {n} " * 40, "bench")
            write_ms = (time.perf_counter_ns() - start) / 1e6
            movable = [e.id for e in trip.events if e.time_confirmed and not stays_put(e)]
            for _ in range(shifts):
                records.set_shift(trip.id, rng.choice(movable), rng.randint(-30, 90), None, "b")
            in_force = records.shifts(trip.id)
            late = lateness(trip, in_force)
            return {
                "events": float(len(trip.events)),
                "notes": float(notes),
                "shifts": float(shifts),
                "moved_events": float(len(late.delays)),
                "save_note_mean_ms": round(write_ms / max(notes, 1), 3),
                "notes_read_ms": _median_ms(lambda: records.notes(trip.id), rounds),
                "shifts_read_ms": _median_ms(lambda: records.shifts(trip.id), rounds),
                "lateness_ms": _median_ms(lambda: lateness(trip, in_force), rounds),
                "expected_trip_ms": _median_ms(late.expected_trip, rounds),
            }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--shifts", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(measure(args.notes, args.shifts), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
