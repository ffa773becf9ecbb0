"""The start-up path: a new version of a trip is parsed in a child while Textual imports.

Each case runs in a fresh interpreter, so that what it imports can be counted: after the
child has filled the parsed-trip cache, the dashboard's own load is a hit and imports
neither tomli nor pydantic (no timing is asserted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "trips" / "fs-north-america-2023-01.toml"

SCRIPT = """
import json, sys
from pathlib import Path
from tripdash.domain.sources import TripSource
from tripdash.startup import join, prefetch

cache = Path(sys.argv[2])
sources = [TripSource(p, parsed_cache=cache) for p in sys.argv[3:]]
child = prefetch(sources) if sys.argv[1] == "prefetch" else None
join(child)
entries_after_join = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
results = []
for source in sources:
    try:
        results.append(source.load().result.trip.id)
    except Exception as exc:
        results.append(type(exc).__name__)
print(json.dumps({
    "child": child is not None,
    "entries": len(entries_after_join),
    "results": results,
    "parsed_here": sorted(m for m in ("tomli", "pydantic") if m in sys.modules),
}))
"""


def run(tmp_path: Path, mode: str, *trips: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPDASH_")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(tmp_path / "parsed"), *map(str, trips)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert out.stderr == ""
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_the_child_fills_the_cache_and_the_load_after_it_parses_nothing(tmp_path: Path) -> None:
    got = run(tmp_path, "prefetch", BUNDLED)
    assert got == {
        "child": True,
        "entries": 1,
        "results": ["fs-north-america-2023-01"],
        "parsed_here": [],
    }


def test_without_the_child_the_load_parses_itself(tmp_path: Path) -> None:
    # The control: the same load with an empty cache parses (tomli); a valid trip's
    # tables pass domain/shape.py, so pydantic is not imported even then.
    got = run(tmp_path, "none", BUNDLED)
    assert got["parsed_here"] == ["tomli"]
    assert got["entries"] == 0


def test_an_invalid_trip_is_left_to_the_dashboard_to_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[trip]\ntitle = "x"\nhome_tz = "Mars/Olympus"\n', encoding="utf-8")
    got = run(tmp_path, "prefetch", bad, BUNDLED)
    assert got["child"] is True
    assert got["entries"] == 1  # only the valid one is cached
    assert got["results"] == ["TripInvalid", "fs-north-america-2023-01"]


def test_a_trip_already_cached_needs_no_child(tmp_path: Path) -> None:
    first = run(tmp_path, "prefetch", BUNDLED)
    again = run(tmp_path, "prefetch", BUNDLED)
    assert first["child"] is True
    # The entry the first run left is found: no child, and the load is a hit.
    assert again == {
        "child": False,
        "entries": 1,
        "results": ["fs-north-america-2023-01"],
        "parsed_here": [],
    }


DASHBOARD = """
import json, sys
import textual.app
import tripdash.cli as cli

run = textual.app.App.run


async def first_frame_then_quit(pilot):
    await pilot.pause()
    pilot.app.exit()


# The real start-up path of `tripdash TRIP`, headless, quitting after the first frame.
textual.app.App.run = lambda self, **kw: run(self, headless=True, auto_pilot=first_frame_then_quit)
cli._full_screen_terminal = lambda: True
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "imported": sorted(
    m for m in ("httpx", "tripdash.domain.sync", "tripdash.domain.fetch",
                "tripdash.domain.reminders", "tripdash.domain.clockskew") if m in sys.modules
)}))
"""


def dashboard_imports(tmp_path: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIPDASH_", "XDG_"))}
    env.update(HOME=str(tmp_path), TEXTUAL_THEME="textual-dark")
    out = subprocess.run(
        [sys.executable, "-c", DASHBOARD, str(BUNDLED), "--state-dir", str(tmp_path / "s"), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_dashboard_on_a_local_trip_without_sync_imports_no_http_client(tmp_path: Path) -> None:
    # httpx and its kin cost 60-100 ms of CPU before the first frame; the reminders'
    # planning (5 ms of import) starts at the first tick, after it; the clock check's
    # wording (1.5 ms) only after a sync round that found a clock off.
    assert dashboard_imports(tmp_path) == {"code": 0, "imported": []}


def test_with_sync_the_dashboard_imports_it(tmp_path: Path) -> None:
    # The control: the same start with --sync does import them (the test can fail).
    got = dashboard_imports(tmp_path, "--sync", "http://127.0.0.1:9/tripdash")
    assert got["code"] == 0
    assert got["imported"] == [
        "httpx",
        "tripdash.domain.clockskew",
        "tripdash.domain.fetch",
        "tripdash.domain.sync",
    ]
