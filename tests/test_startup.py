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
