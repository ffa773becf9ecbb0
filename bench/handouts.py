"""What the hand-outs cost, as a user meets them: ``tripdash export`` and ``tripdash sheet``.

    python bench/handouts.py            # the bundled trip's day sheet, and the 10,000-event trip

Each command is started as a process (``python -m tripdash`` here, the installed copy
when bench/run.py calls :func:`measure` with its own command), so the times include
Python's start and the imports a hand-out needs (icalendar, the typesetter). Medians
over a few runs; the bundled trip's day sheet has a budget (under a second, issue 18),
the 10,000-event trip's export and sheet are reported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
BUNDLED = ROOT / "trips" / "fs-north-america-2023-01.toml"
#: The bundled trip's busiest day.
BUNDLED_DAY = "2023-01-18"
AT = "2023-01-17T09:00 America/New_York"
SHEET_BUNDLED_BUDGET_S = 1.0


def _median_s(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(tripdash: list[str], tmp: Path, runs: int = 5) -> dict[str, float]:
    """Seconds (medians) of each hand-out, with ``tripdash`` the command that starts it."""
    from gen_trip import generate

    big = tmp / "handouts-10000.toml"
    big.write_text(generate(10_000, 100, 20, seed=1), encoding="utf-8")
    first_day = "2024-01-02"  # the generated trip starts on 1 January 2024
    state = ["--state-dir", str(tmp / "handouts-state")]
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return {
        "sheet, bundled trip, busiest day": _median_s(
            [
                *tripdash,
                "sheet",
                str(BUNDLED),
                "--day",
                BUNDLED_DAY,
                "--at",
                AT,
                *state,
                "-o",
                str(out / "bundled.pdf"),
            ],
            runs,
        ),
        "export, 10,000 events": _median_s(
            [*tripdash, "export", str(big), "--at", AT, *state, "-o", str(out / "big.ics")],
            max(1, runs // 2),
        ),
        "sheet, 10,000 events, one day": _median_s(
            [
                *tripdash,
                "sheet",
                str(big),
                "--day",
                first_day,
                "--at",
                AT,
                *state,
                "-o",
                str(out / "big-day.pdf"),
            ],
            max(1, runs // 2),
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        found = measure([sys.executable, "-m", "tripdash"], Path(name), args.runs)
    missed = False
    for label, seconds in found.items():
        verdict = ""
        if label.startswith("sheet, bundled"):
            ok = seconds <= SHEET_BUNDLED_BUDGET_S
            missed |= not ok
            verdict = f" (budget {SHEET_BUNDLED_BUDGET_S:g} s: {'ok' if ok else 'MISSED'})"
        print(f"{label}: {seconds:.2f} s{verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
