"""What reminders cost each second on a 10,000-event trip (the target: under 1 ms).

    python bench/reminders.py            # an hour of the trip, one check a simulated second
    python bench/reminders.py --hours 4

The app calls ``Session.remind()`` once a second from its timer; this runs the same
call on a session holding a generated 10,000-event trip (``bench/gen_trip.py``,
seeded), with a real once-only record in a temporary state directory, while an
injected clock steps one second per call through the busiest part of the trip.
Each call is timed with ``perf_counter_ns``. The seconds in which nothing was due
are the idle cost (the number the budget is about); the seconds in which a reminder
fired also commit a claim (an fsync) and are reported apart, as is the first call,
which plans the trip's reminders. ``measure()`` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

BUDGET_MS = 1.0


class SteppingClock:
    """The injected clock: stands still until ``step``."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(events: int = 10_000, hours: float = 1.0, seed: int = 1) -> dict[str, float]:
    """Time ``Session.remind()`` once per simulated second over ``hours`` of the trip."""
    from gen_trip import generate

    from tripdash.domain.loader import load_trip
    from tripdash.domain.schedule import Schedule
    from tripdash.session import DashboardOptions, Session

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(generate(events, 100, 20, seed), encoding="utf-8")
        trip = load_trip(path).trip
        schedule = Schedule.for_trip(trip)
        assert schedule.first_instant is not None and schedule.last_instant is not None
        # The middle of the trip: reminders behind and ahead, both.
        middle = schedule.first_instant + (schedule.last_instant - schedule.first_instant) / 2
        clock = SteppingClock(middle)
        session = Session([trip], DashboardOptions(state_dir=Path(tmp) / "state", clock=clock))
        try:
            started = time.perf_counter_ns()
            session.remind()  # opens the record, plans 10,000 events' reminders
            first_ms = (time.perf_counter_ns() - started) / 1e6
            idle: list[float] = []
            busy: list[float] = []
            fired = 0
            for _ in range(int(hours * 3600)):
                clock.at += timedelta(seconds=1)
                t0 = time.perf_counter_ns()
                tick = session.remind()
                spent = (time.perf_counter_ns() - t0) / 1e3  # microseconds
                if tick.alerts or tick.changed:
                    busy.append(spent)
                    fired += len(tick.alerts)
                else:
                    idle.append(spent)
            planned = len(session.reminders._trips[session.keys[0]].tracker.plan)
        finally:
            session.close()
    every = idle + busy
    return {
        "events": float(len(trip.events)),
        "reminders_planned": float(planned),
        "seconds_checked": float(len(every)),
        "reminders_fired": float(fired),
        "first_call_ms": round(first_ms, 2),
        "idle_median_us": round(statistics.median(idle), 2),
        "idle_p99_us": round(_percentile(idle, 0.99), 2),
        "idle_max_us": round(max(idle), 2),
        "busy_seconds": float(len(busy)),
        "busy_median_us": round(statistics.median(busy), 2) if busy else 0.0,
        "busy_max_us": round(max(busy), 2) if busy else 0.0,
        "mean_per_second_us": round(statistics.fmean(every), 2),
        "budget_ms": BUDGET_MS,
        "within_budget": float(statistics.median(idle) / 1e3 < BUDGET_MS),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    figures = measure(args.events, args.hours)
    print(json.dumps(figures, indent=2))
    return 0 if figures["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
