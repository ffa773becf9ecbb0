"""tripdash benchmarks, with budgets: start-up, loading, key latency, idle CPU, memory.

    python bench/run.py            # all measurements, writes docs/performance.md
    python bench/run.py --quick    # fewer repetitions (a smoke run)
    python bench/run.py --fuzz 2000  # also the trip-file fuzzer with 2,000 examples

Start-up is measured in a real terminal (tmux), polling the screen until the
timeline shows, against a minimal Textual app started the same way. Key latency
is measured in process, from the key event reaching the app to the next frame
the app renders (its output encoded, as it would be for a terminal). Exit
status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
BUNDLED = ROOT / "trips" / "fs-north-america-2023-01.toml"
BUNDLED_AT = "2023-01-17T09:10 America/New_York"

BUDGETS = {
    "startup_ratio_bundled": 1.3,
    "startup_ratio_10k": 2.0,
    "load_10000_ms": 300.0,
    "key_p95_ms": 16.0,
    "idle_cpu_percent": 1.0,
    "reminder_check_ms": 1.0,
}


# -- terminal helpers ---------------------------------------------------------------------


class Tmux:
    """A private tmux server running one command in a fixed-size pane."""

    def __init__(self, command: str, env: dict[str, str], size: tuple[int, int] = (120, 40)):
        self.socket = f"tripdash-bench-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.command = command
        self.size = size

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        ).stdout

    def start(self) -> float:
        width, height = self.size
        started = time.perf_counter()
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "b",
            "-x",
            str(width),
            "-y",
            str(height),
            self.command,
        )
        self._tmux("set-option", "-t", "b", "status", "off")
        return started

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "b")

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())

    def stop(self) -> None:
        self._tmux("kill-server")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIPDASH_", "TMUX"))}
    env.pop("NO_COLOR", None)
    env.pop("TEXTUAL_THEME", None)
    env.update(
        HOME=str(tmp / "home"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        TERM="xterm-256color",
    )
    return env


def time_to_screen(command: str, marker: str, tmp: Path, timeout: float = 60.0) -> float:
    """Seconds from starting ``command`` in tmux until ``marker`` is on the screen."""
    tmux = Tmux(command, _env(tmp))
    started = tmux.start()
    try:
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if marker in tmux.screen():
                return time.perf_counter() - started
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} never appeared; screen:\n{tmux.screen()}")
    finally:
        tmux.stop()


def startup_ratio(trip: Path, at: str, marker: str, runs: int, tmp: Path) -> dict[str, float]:
    python = sys.executable
    tripdash = str(Path(python).parent / "tripdash")
    minimal = f"{python} {ROOT / 'bench' / 'minimal_app.py'}"
    ours = f"{tripdash} {trip} --at '{at}' --state-dir {tmp / 'st'}"
    # Warm the file cache and .pyc files first, then alternate so drift hits both alike.
    time_to_screen(minimal, "minimal app ready", tmp)
    time_to_screen(ours, marker, tmp)
    base, mine = [], []
    for _ in range(runs):
        base.append(time_to_screen(minimal, "minimal app ready", tmp))
        mine.append(time_to_screen(ours, marker, tmp))
    b, m = statistics.median(base), statistics.median(mine)
    return {"minimal_s": b, "tripdash_s": m, "ratio": m / b}


# -- in-process measurements --------------------------------------------------------------------


def load_times(sizes: list[int], runs: int, tmp: Path) -> dict[int, float]:
    from gen_trip import generate

    from tripdash.domain.loader import load_trip

    out = {}
    for n in sizes:
        path = tmp / f"gen-{n}.toml"
        path.write_text(generate(n, max(5, n // 20), 20, seed=1), encoding="utf-8")
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            load_trip(path)
            samples.append((time.perf_counter() - t) * 1000)
        out[n] = statistics.median(samples)
    return out


async def _key_latencies(trip_path: Path, tmp: Path, presses: int) -> dict[str, list[float]]:
    from rich.console import Console
    from textual import events
    from textual._compositor import CompositorUpdate

    from tripdash.app import freeze_loaded, make_app
    from tripdash.domain.loader import load_trip
    from tripdash.domain.times import parse_instant

    trip = load_trip(trip_path).trip
    freeze_loaded()  # as `tripdash` does once its trips are loaded
    start = trip.events[len(trip.events) // 2].start
    app = make_app([trip], state_dir=tmp / "lat-state", clock=lambda: start)
    frames: list[float] = []
    original = app._display
    encoder = Console(force_terminal=True, color_system="truecolor", width=120)

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(encoder)  # the terminal output a real run would encode
        original(screen, renderable)
        frames.append(time.perf_counter())

    app._display = display  # type: ignore[method-assign]
    results: dict[str, list[float]] = {"down": [], "next day": [], "mark done": []}
    keys = {"down": "down", "next day": "right_square_bracket", "mark done": "space"}
    del parse_instant
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        for label, key in keys.items():
            for i in range(presses):
                if label == "next day" and i % 10 == 9:
                    await pilot.press("g")  # stay inside the trip
                await pilot.pause(0.02)
                count = len(frames)
                event = events.Key(key, " " if key == "space" else None)
                t0 = time.perf_counter()
                app._driver.send_message(event)  # type: ignore[union-attr]
                deadline = t0 + 2.0
                while len(frames) == count and time.perf_counter() < deadline:
                    await asyncio.sleep(0)
                results[label].append((frames[-1] - t0) * 1000 if len(frames) > count else 2000.0)
    return results


def key_latency(trip_path: Path, tmp: Path, presses: int) -> dict[str, dict[str, float]]:
    raw = asyncio.run(_key_latencies(trip_path, tmp, presses))
    out = {}
    for label, samples in raw.items():
        samples.sort()
        out[label] = {
            "p50": statistics.median(samples),
            "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        }
    return out


# -- idle CPU and memory ------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _app_pid(shell_pid: int) -> int:
    """The tripdash process under the pane's shell (or the pane process itself)."""
    children = Path(f"/proc/{shell_pid}/task/{shell_pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else shell_pid


def idle_and_memory(
    trip: Path, at: str, marker: str, seconds: float, tmp: Path
) -> dict[str, float]:
    tripdash = str(Path(sys.executable).parent / "tripdash")
    tmux = Tmux(f"{tripdash} {trip} --at '{at}' --state-dir {tmp / 'idle-st'}", _env(tmp))
    tmux.start()
    try:
        deadline = time.perf_counter() + 60
        while marker not in tmux.screen():
            if time.perf_counter() > deadline:
                raise RuntimeError("dashboard never appeared")
            time.sleep(0.05)
        time.sleep(2.0)  # let start-up work settle
        pid = _app_pid(tmux.pid())
        before, t0 = _cpu_seconds(pid), time.perf_counter()
        time.sleep(seconds)
        used, wall = _cpu_seconds(pid) - before, time.perf_counter() - t0
        status = Path(f"/proc/{pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return {"cpu_percent": 100 * used / wall, "peak_rss_mib": hwm / 1024}
    finally:
        tmux.stop()


# -- report ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import textual

    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}, textual {textual.__version__}"
    )


def verdict(value: float, budget: float) -> str:
    return "ok" if value <= budget else "OVER BUDGET"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--fuzz", type=int, default=0, metavar="N", help="fuzz with N examples")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args()
    # Textual's settings as `tripdash` makes them, before anything here imports Textual.
    from tripdash.cli import prepare_textual

    prepare_textual()
    if shutil.which("tmux") is None:
        print("bench: tmux is needed for the real-terminal measurements", file=sys.stderr)
        return 2
    runs = 3 if args.quick else 7
    rows: list[tuple[str, str, str, str]] = []
    missed = False

    def row(name: str, value: float, unit: str, budget: float | None) -> None:
        nonlocal missed
        if budget is None:
            rows.append((name, f"{value:.2f} {unit}", "report", ""))
            return
        ok = value <= budget
        missed |= not ok
        rows.append((name, f"{value:.2f} {unit}", f"≤ {budget:g} {unit}", verdict(value, budget)))
        print(f"  {name}: {value:.2f} {unit} ({verdict(value, budget)})", flush=True)

    # Byte-compile tripdash as `pip install` does for an installed copy: these machines set
    # PYTHONDONTWRITEBYTECODE=1, so an editable install would otherwise compile every
    # module from source at every start (~25 ms), which no user's installed copy does.
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "tripdash"), quiet=1)

    with tempfile.TemporaryDirectory() as raw_tmp:
        tmp = Path(raw_tmp)
        from gen_trip import generate

        big = tmp / "big.toml"
        big.write_text(generate(10_000, 500, 20, seed=1), encoding="utf-8")
        print("start-up, bundled trip ...", flush=True)
        s1 = startup_ratio(BUNDLED, BUNDLED_AT, "Tuesday 17 January 2023", runs, tmp)
        row("first paint, bundled trip: tripdash", s1["tripdash_s"] * 1000, "ms", None)
        row("first paint, minimal Textual app", s1["minimal_s"] * 1000, "ms", None)
        row("start-up ratio, bundled trip", s1["ratio"], "x", BUDGETS["startup_ratio_bundled"])
        print("start-up, 10,000 events ...", flush=True)
        s2 = startup_ratio(big, "2024-06-01T12:00Z", "── now", runs, tmp)
        row("first paint, 10,000 events: tripdash", s2["tripdash_s"] * 1000, "ms", None)
        row("start-up ratio, 10,000 events", s2["ratio"], "x", BUDGETS["startup_ratio_10k"])
        print("load and validate ...", flush=True)
        loads = load_times([100, 1_000, 10_000], runs, tmp)
        row("load + validate, 100 events", loads[100], "ms", None)
        row("load + validate, 1,000 events", loads[1_000], "ms", None)
        row("load + validate, 10,000 events", loads[10_000], "ms", BUDGETS["load_10000_ms"])
        print("key latency ...", flush=True)
        lat = key_latency(big, tmp, 30 if args.quick else 100)
        for label, stats in lat.items():
            row(f"key latency p50, {label} (10,000 events)", stats["p50"], "ms", None)
            row(
                f"key latency p95, {label} (10,000 events)",
                stats["p95"],
                "ms",
                BUDGETS["key_p95_ms"],
            )
        print(f"idle for {args.idle_seconds:g} s ...", flush=True)
        idle = idle_and_memory(big, "2024-06-01T12:00Z", "── now", args.idle_seconds, tmp)
        row(
            "idle CPU, clock ticking (10,000 events)",
            idle["cpu_percent"],
            "%",
            BUDGETS["idle_cpu_percent"],
        )
        row("peak memory, 10,000 events", idle["peak_rss_mib"], "MiB", None)
        print("reminder checks, an hour of seconds ...", flush=True)
        from reminders import measure as measure_reminders

        remind = measure_reminders(events=10_000, hours=1.0)
        budget = BUDGETS["reminder_check_ms"]
        row(
            "reminder check per second, p99 (10,000 events)",
            remind["idle_p99_us"] / 1e3,
            "ms",
            budget,
        )
        row(
            "reminder check per second, mean (10,000 events)",
            remind["mean_per_second_us"] / 1e3,
            "ms",
            budget,
        )

    if args.fuzz:
        print(f"fuzzing with {args.fuzz} examples ...", flush=True)
        env = dict(os.environ, TRIPDASH_FUZZ_EXAMPLES=str(args.fuzz))
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "test_fuzz.py")], env=env
        )
        rows.append(
            (f"fuzzer, {args.fuzz} mutated trips", "passed" if code == 0 else "FAILED", "", "")
        )
        missed |= code != 0

    table = ["| measurement | median | budget | verdict |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    report = "\n".join(
        [
            "# tripdash performance",
            "",
            f"Measured by `python bench/run.py` on {time.strftime('%Y-%m-%d')}: {machine()}.",
            f"Medians of {runs} runs (key latency: {30 if args.quick else 100} presses each).",
            "",
            *table,
            "",
        ]
    )
    print()
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
