"""Key latency at growing list sizes: how the loader's limits (domain/validate.LIMITS) were chosen.

    python bench/limits.py                   # every kind, the default sizes
    python bench/limits.py --kind points     # one kind
    python bench/limits.py --kind points --sizes 50,100,200 --rounds 3

For each kind of list a trip file can hold (talking points of one counterpart,
counterparts, counterparts of one event, events, places, characters of notes and of
the other texts), a trip is generated with N of it and driven in process with the pilot as
``bench/run.py`` drives it: the dashboard at 120x40, a key sent every 100 ms (a person
pressing keys ten times a second, so that work deferred by one key, such as the details
pane that follows the selection after 60 ms, delays the next), each key timed from the
key event reaching the app to the next frame rendered. The keys go through every screen
the list shows on: the timeline and details pane (j/k), the event box (enter, j, space,
escape) and the counterparts screen (c, j, k, escape).

The loader's limits are lifted while measuring (the trips are built past them). Each
key is measured in CPU time of the process (the bench waits without spinning), so that
other engineers' load on a shared machine counts as little as it can: to the next frame
(the latency bench/run.py budgets), and over the whole 100 ms until the next key (so
that deferred work counts). A size is "ok" when every screen's p95 over the whole
window stays within 16 ms (one frame, the key budget of bench/run.py) of its cost at
the smallest size: the list may cost a key at most one frame more than a short one does. (The
absolute figures depend on the machine's load; opening the event box or the
counterparts screen costs more than a frame even for the bundled trip.) A limit is
the largest size that is ok, with a margin. Exit status 0 always: this is a
measurement, not a check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

BUDGET_MS = 16.0
CADENCE_S = 0.1
DAY = datetime(2024, 6, 3, 9, 0)
ZONE = "Europe/Paris"

#: The keys of one round: (key, character). The timeline moves between the first two
#: events (both with the counterparts), the event box opens on the first, the
#: counterparts screen on its first counterpart.
KEYS: list[tuple[str, str | None]] = (
    [("j", "j"), ("k", "k")] * 6
    + [("enter", "\r"), ("j", "j"), ("j", "j"), ("space", " "), ("k", "k"), ("escape", None)]
    + [("c", "c"), ("j", "j"), ("k", "k"), ("j", "j"), ("escape", None)]
)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lorem(n: int) -> str:
    return ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (n // 56 + 1))[:n]


def _trip(
    *,
    points: int = 3,
    counterparts: int = 2,
    attendees: int = 1,
    events: int = 3,
    places: int = 1,
    chars: int = 40,
    notes: int = 40,
) -> str:
    """A valid trip with the given sizes; the first event is in progress at ``DAY``.
    ``chars`` is the length of every text but the notes, ``notes`` that of the notes."""
    long = _lorem(chars)
    note = _lorem(notes)
    out = [
        "[trip]",
        'id = "limits"',
        f"title = {_q('Limits: ' + long)}",
        'home_tz = "Europe/London"',
    ]
    for i in range(places):
        out += ["[[places]]", f'id = "p{i}"', f'name = "Place {i}"', f'tz = "{ZONE}"']
    for i in range(counterparts):
        n = points if i == 0 else 2
        listed = ", ".join(_q(f"Point {j} for counterpart {i}: {long}") for j in range(n))
        out += [
            "[[counterparts]]",
            f'id = "cp{i}"',
            f"name = {_q(f'Counterpart {i} {long}')}",
            'role = "Minister"',
            f"notes = {_q(note)}",
            f"talking_points = [{listed}]",
        ]
    others = '"cp1"' if counterparts > 1 else ""
    attending = ", ".join(f'"cp{i}"' for i in range(min(attendees, counterparts)))
    at = DAY - timedelta(minutes=10)
    for i in range(events):
        out += [
            "[[events]]",
            f'id = "e{i}"',
            f"title = {_q(f'Event {i} {long}')}",
            f'place = "p{i % places}"',
            f"start = {at.isoformat(timespec='seconds')}",
            f"end = {(at + timedelta(minutes=20)).isoformat(timespec='seconds')}",
            f"venue = {_q(long)}",
            f"notes = {_q(note)}",
            f"counterparts = [{attending if i < 2 else others}]",
        ]
        # Events at every place fall on the first day (its heading lists them all); past
        # the places, one every 30 minutes, many a day.
        at += timedelta(minutes=30 if i >= places or i < 2 else 1)
    return "\n".join(out) + "\n"


def _events_trip(n: int) -> str:
    from gen_trip import generate

    return generate(n, 100, 20, seed=1)


KINDS: dict[str, tuple[list[int], Callable[[int], str]]] = {
    "points": (
        [3, 25, 50, 100, 200, 400, 800],
        lambda n: _trip(points=n),
    ),
    "counterparts": (
        [2, 100, 500, 1000, 2000, 5000],
        lambda n: _trip(counterparts=n),
    ),
    "attendees": (
        [1, 10, 25, 50, 100, 200],
        lambda n: _trip(counterparts=n, attendees=n),
    ),
    "events": ([100, 1000, 5000, 10000, 20000], _events_trip),
    "places": (
        [1, 10, 50, 100, 200, 500],
        lambda n: _trip(places=n, events=n + 2),
    ),
    "chars": ([40, 100, 250, 500, 1000], lambda n: _trip(chars=n)),
    "notes": ([40, 1000, 2000, 5000, 10000], lambda n: _trip(notes=n)),
}


#: Where each key of :data:`KEYS` is pressed: the timeline, the event box, the
#: counterparts screen; "open" for the keys that open or close a screen.
GROUPS = ["timeline"] * 12 + ["open"] + ["event box"] * 4 + ["open"] * 2 + ["counterparts"] * 3
GROUPS += ["open"]


async def _latencies(text: str, tmp: Path) -> list[tuple[str, float, float, float]]:
    """(key, wall ms to the next frame, CPU ms to it, CPU ms until the next key) per key."""
    from rich.console import Console
    from textual import events
    from textual._compositor import CompositorUpdate

    from tripdash.app import freeze_loaded, make_app
    from tripdash.domain.loader import parse_trip_text

    trip = parse_trip_text(text, source="limits.toml", default_id="limits").trip
    freeze_loaded()
    first = trip.events[0]
    now = (first.start + timedelta(minutes=5)) if first.time_confirmed else first.start
    app = make_app([trip], state_dir=tmp / "state", clock=lambda: now)
    frames: list[tuple[float, float]] = []
    drawn = asyncio.Event()
    original = app._display
    encoder = Console(force_terminal=True, color_system="truecolor", width=120)

    def display(screen: Any, renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(encoder)  # what a real run encodes for the terminal
        original(screen, renderable)
        frames.append((time.perf_counter(), time.process_time()))
        drawn.set()

    app._display = display  # type: ignore[method-assign]
    samples: list[tuple[str, float, float, float]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("g")  # the first event, whatever the clock
        await pilot.pause(0.3)
        for key, char in KEYS:
            count = len(frames)
            depth = {"enter": 1, "c": 1, "escape": -1}.get(key, 0) + len(app.screen_stack)
            t0, c0 = time.perf_counter(), time.process_time()
            app._driver.send_message(events.Key(key, char))  # type: ignore[union-attr]
            # Waiting sleeps (never spins), so that the process's CPU time is the app's.
            while len(frames) == count or len(app.screen_stack) != depth:
                drawn.clear()
                left = t0 + 5.0 - time.perf_counter()
                if left <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(drawn.wait(), left)
            # The rest of the window: whatever the key set off later (the details pane
            # follows the selection after 60 ms) blocks a key that arrives meanwhile.
            await asyncio.sleep(max(0.0, t0 + CADENCE_S - time.perf_counter()))
            c1 = time.process_time()
            if len(frames) > count:
                wall, cpu = (frames[count][0] - t0) * 1000, (frames[count][1] - c0) * 1000
            else:
                wall = cpu = 5000.0
            samples.append((key, wall, cpu, (c1 - c0) * 1000))
        assert app._exception is None, app._exception
    gc.unfreeze()
    return samples


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.95))]


def measure(kind: str, sizes: list[int], rounds: int) -> list[tuple[int, dict[str, float]]]:
    """(size, {group: p95 CPU ms of a key's whole 100 ms}) for each size of ``kind``."""
    from tripdash.domain import validate

    make = KINDS[kind][1]
    saved = dict(validate.LIMITS)
    validate.LIMITS.update({k: 10**9 for k in validate.LIMITS})
    rows: list[tuple[int, dict[str, float]]] = []
    try:
        for n in sizes:
            text = make(n)
            by_group: dict[str, list[float]] = {g: [] for g in dict.fromkeys(GROUPS)}
            to_frame: list[float] = []
            for _ in range(rounds):
                with tempfile.TemporaryDirectory(prefix="tripdash-limits-") as raw:
                    for group, (_, _, cpu, whole) in zip(
                        GROUPS, asyncio.run(_latencies(text, Path(raw))), strict=True
                    ):
                        by_group[group].append(whole)
                        if group == "timeline":
                            to_frame.append(cpu)
            p95 = {g: _p95(v) for g, v in by_group.items()}
            rows.append((n, p95))
            base = rows[0][1]
            over = any(p95[g] > base[g] + BUDGET_MS for g in p95)
            print(
                f"{kind:>12} {n:>8,}  timeline p95 {p95['timeline']:6.1f} ms "
                f"(to frame {_p95(to_frame):5.1f})  event box {p95['event box']:6.1f}  "
                f"counterparts {p95['counterparts']:6.1f}  open/close {p95['open']:6.1f}  "
                f"{'OVER' if over else 'ok'}",
                flush=True,
            )
    finally:
        validate.LIMITS.clear()
        validate.LIMITS.update(saved)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kind", choices=sorted(KINDS), action="append")
    parser.add_argument("--sizes", help="comma-separated sizes (with one --kind)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from tripdash.cli import prepare_textual

    prepare_textual()
    kinds = args.kind or list(KINDS)
    for kind in kinds:
        sizes = KINDS[kind][0]
        if args.sizes:
            sizes = [int(s) for s in args.sizes.split(",")]
        measure(kind, sizes, args.rounds)
    print(f"(zone {ZONE}; {len(KEYS)} keys a round, one every {CADENCE_S * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
