"""``tripdash check`` of the benchmark's dense 5,000-event trip: a short, grouped report.

The trip (bench/gen_trip.py --dense) has about 100,000 overlapping pairs. What check
prints is counted here, never timed (bench/run.py times it): one line on stdout, at
most MAX_OVERLAP_WARNINGS worded warnings and one line counting the rest on stderr, each
naming the file, a line that really holds the event, and the field.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tripdash import cli
from tripdash.domain.loader import load_trip
from tripdash.domain.overlaps import MAX_OVERLAP_WARNINGS, find_overlaps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from gen_trip import generate_dense  # noqa: E402

WARNING = re.compile(
    r"^(?P<file>.+):(?P<line>\d+): events\[(?P<index>\d+)\]\.start: warning: "
    r"overlaps (?:(?P<count>\d+) events at other places, first: '(?P<first>[^']+)' "
    r"\(line (?P<first_line>\d+), |'(?P<one>[^']+)' \(line (?P<one_line>\d+)\) at another)"
)
SUMMARY = re.compile(
    r"^(?P<file>.+):\d+: \(file\): warning: and (?P<hidden>\d+) more event\(s\) overlap "
    r"events at other places \((?P<pairs>\d+) overlapping pairs in all\); not shown$"
)


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dense") / "dense-5000.toml"
    path.write_text(generate_dense(5_000, 5, 100, seed=1), encoding="utf-8")
    return path


def test_check_of_the_dense_trip_is_a_short_grouped_report(
    dense: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(dense.parent / "cache"))
    text = dense.read_text(encoding="utf-8").splitlines()
    report = find_overlaps(load_trip(dense).trip.events)
    assert report.pairs > 50_000  # dense enough to mean something
    for attempt in ("parsed", "from the parsed-trip cache"):
        assert cli.main(["check", str(dense)]) == 0, attempt
        out, err = capsys.readouterr()
        assert out == f"ok  {dense}  5000 events, 100 counterparts, 3 places\n"
        lines = err.splitlines()
        assert len(lines) == MAX_OVERLAP_WARNINGS + 1, attempt
        assert len(err.encode()) < 200 * len(lines)  # short lines, not a flood
        worded = [WARNING.match(line) for line in lines[:-1]]
        assert all(worded), lines
        numbers = [int(m["line"]) for m in worded if m]
        assert numbers == sorted(numbers)  # in the file's order
        for m in worded:
            assert m is not None and m["file"] == str(dense)
            # The line named is the event's start, and the event named first is where it says.
            assert text[int(m["line"]) - 1].startswith("start = ")
            first, first_line = m["first"] or m["one"], m["first_line"] or m["one_line"]
            assert text[int(first_line) - 1 : int(first_line) + 1] == [
                "[[events]]",
                f'id = "{first}"',
            ]
        summary = SUMMARY.match(lines[-1])
        assert summary is not None, lines[-1]
        assert int(summary["hidden"]) == report.events - MAX_OVERLAP_WARNINGS
        assert int(summary["pairs"]) == report.pairs
        counted = sum(int(m["count"] or 1) for m in worded if m)
        assert counted < report.pairs  # the rest are counted, not listed
