"""Overlap warnings: one per event, grouped, capped, and located only for what is printed.

Counts, never timing: how many events and pairs are found (checked against a brute
force), how many warnings are worded, and how much of the file is scanned for lines.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import combinations

import pytest

from tripdash import cli
from tripdash.domain import tomlpos
from tripdash.domain.loader import parse_trip_text
from tripdash.domain.model import Event, Trip
from tripdash.domain.overlaps import MAX_OVERLAP_WARNINGS, find_overlaps, overlap_problems

SRC = "t.toml"
HEAD = """\
[trip]
title = "Overlaps"
home_tz = "Europe/London"

[[places]]
id = "nyc"
name = "New York"
tz = "America/New_York"

[[places]]
id = "london"
name = "London"
tz = "Europe/London"

[[places]]
id = "tokyo"
name = "Tokyo"
tz = "Asia/Tokyo"
"""


def event(ident: str, place: str, start: str, end: str | None = None, **extra: str) -> str:
    lines = ["", "[[events]]", f'id = "{ident}"', f'title = "{ident}"', f'place = "{place}"']
    lines.append(f"start = {start}")
    if end is not None:
        lines.append(f"end = {end}")
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def trip_of(text: str) -> Trip:
    result = parse_trip_text(text, source=SRC, default_id="x")
    assert result.warnings == []  # loading never computes overlaps
    return result.trip


def test_one_event_overlapping_many_is_one_grouped_warning() -> None:
    # Fourteen meetings in New York 10:00-11:00 EST (15:00-16:00 UTC); London at 15:30 GMT.
    text = HEAD + "".join(
        event(f"ny{i}", "nyc", "2023-01-17T10:00:00", "2023-01-17T11:00:00") for i in range(14)
    )
    text += event("lon", "london", "2023-01-17T15:30:00", "2023-01-17T15:45:00")
    trip = trip_of(text)
    report = find_overlaps(trip.events)
    assert (report.events, report.pairs, report.hidden) == (1, 14, 0)
    (shown,) = report.shown
    assert (shown.event.id, shown.count, shown.first.id) == ("lon", 14, "ny0")
    found, summary = overlap_problems(trip, text, SRC)
    assert summary is None
    first_line = text.splitlines().index("[[events]]") + 1
    assert [str(p) for p in found] == [
        f"{SRC}:{len(text.splitlines()) - 1}: events[14].start: warning: overlaps 14 events at "
        f"other places, first: 'ny0' (line {first_line}, New York; this one at London)"
    ]


def test_warnings_are_capped_and_the_rest_counted() -> None:
    # A New York day 08:00-20:00 EST (13:00-01:00 UTC); 30 London events inside it.
    text = HEAD + event("day", "nyc", "2023-01-17T08:00:00", "2023-01-17T20:00:00")
    text += "".join(
        event(f"lon{i}", "london", f"2023-01-17T{14 + i // 4}:{15 * (i % 4):02d}:00")
        for i in range(30)
    )
    trip = trip_of(text)
    found, summary = overlap_problems(trip, text, SRC)
    assert len(found) == MAX_OVERLAP_WARNINGS
    assert all(p.severity == "warning" and "overlaps 'day'" in p.message for p in found)
    assert [p.line for p in found] == sorted(p.line for p in found)
    assert summary is not None and summary.severity == "warning"
    assert summary.message == (
        f"and {30 - MAX_OVERLAP_WARNINGS} more event(s) overlap events at other places "
        "(30 overlapping pairs in all); not shown"
    )
    assert len(overlap_problems(trip, text, SRC, limit=5)[0]) == 5


def test_a_travel_event_is_at_both_its_places_and_counted_once() -> None:
    # A flight London -> New York 10:00 GMT - 13:00 EST (10:00-18:00 UTC).
    text = HEAD + event(
        "flight", "london", "2023-01-17T10:00:00", "2023-01-17T13:00:00", to="nyc", kind="travel"
    )
    text += event("ny", "nyc", "2023-01-17T08:00:00")  # 13:00 UTC: at one of its places
    text += event("lon", "london", "2023-01-17T12:00:00")  # likewise
    text += event("tyo", "tokyo", "2023-01-17T21:00:00")  # 12:00 UTC: elsewhere
    report = find_overlaps(trip_of(text).events)
    assert (report.events, report.pairs) == (1, 1)
    assert report.shown[0].event.id == "tyo"


def test_cancelled_tbc_and_back_to_back_events_do_not_overlap() -> None:
    text = HEAD + event("a", "nyc", "2023-01-17T10:00:00", "2023-01-17T12:00:00")
    text += event("b", "london", "2023-01-17T16:00:00", status="cancelled")
    text += event("c", "london", "2023-01-17")  # TBC: no time to overlap with
    text += event("d", "london", "2023-01-17T17:00:00")  # when a ends
    report = find_overlaps(trip_of(text).events)
    assert (report.events, report.pairs, report.shown) == (0, 0, ())


def _brute_force(events: tuple[Event, ...]) -> tuple[int, int]:
    """Events that overlap one at another place, and such pairs, by comparing every pair."""
    timed = [e for e in events if e.time_confirmed and not e.cancelled]
    later_of: dict[str, int] = {}
    for a, b in combinations(timed, 2):
        first, second = sorted((a, b), key=lambda e: (e.sort_at, events.index(e)))
        if {first.place.id, first.end_place.id} & {second.place.id, second.end_place.id}:
            continue
        if first.end is not None and first.sort_at <= second.sort_at < first.end:
            later_of[second.id] = later_of.get(second.id, 0) + 1
    return len(later_of), sum(later_of.values())


@pytest.mark.parametrize("seed", range(5))
def test_the_sweep_counts_what_comparing_every_pair_counts(seed: int) -> None:
    rng = random.Random(seed)
    body = []
    places = ["nyc", "london", "tokyo"]
    for i in range(150):
        start = datetime(2023, 6, 5 + rng.randrange(2), 7) + timedelta(
            minutes=15 * rng.randrange(56)
        )
        end = start + timedelta(minutes=15 * rng.randrange(0, 9))
        extra = {}
        place = rng.choice(places)
        if rng.random() < 0.1:
            extra = {"to": rng.choice([p for p in places if p != place]), "kind": "travel"}
        if rng.random() < 0.05:
            extra["status"] = "cancelled"
        # In UTC, so that a flight never arrives before it departs.
        body.append(event(f"e{i}", place, f"{start.isoformat()}Z", f"{end.isoformat()}Z", **extra))
    trip = trip_of(HEAD + "".join(body))
    report = find_overlaps(trip.events, limit=1000)
    assert (report.events, report.pairs) == _brute_force(trip.events)
    assert report.events > 20  # the case is dense enough to mean something
    assert sum(o.count for o in report.shown) == report.pairs


def test_only_the_printed_warnings_are_located(monkeypatch: pytest.MonkeyPatch) -> None:
    # 600 London events inside one New York day: 600 overlaps, 20 worded.
    text = HEAD + event("day", "nyc", "2023-01-17T05:00:00", "2023-01-17T23:00:00")
    text += "".join(
        event(f"lon{i}", "london", f"2023-01-17T{10 + i // 60}:{i % 60:02d}:00", venue="V" * 40)
        for i in range(600)
    )
    trip = trip_of(text)
    scanned: list[int] = []
    real = tomlpos.LineMap.__init__

    def counting(self: tomlpos.LineMap, chunk: str) -> None:
        scanned.append(len(chunk))
        real(self, chunk)

    monkeypatch.setattr(tomlpos.LineMap, "__init__", counting)
    found, summary = overlap_problems(trip, text, SRC)
    assert len(found) == MAX_OVERLAP_WARNINGS and summary is not None
    assert "580 more event(s)" in summary.message
    # One event's table scanned per printed warning: a few kB, not the 70 kB file.
    assert len(scanned) == MAX_OVERLAP_WARNINGS
    assert sum(scanned) < len(text) // 10


def test_check_prints_grouped_warnings(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    text = HEAD + event("day", "nyc", "2023-01-17T08:00:00", "2023-01-17T20:00:00")
    text += "".join(event(f"lon{i}", "london", f"2023-01-17T14:{i:02d}:00") for i in range(25))
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    for _ in range(2):  # parsed, then from the parsed-trip cache: the same warnings
        assert cli.main(["check", str(path)]) == 0
        out, err = capsys.readouterr()
        assert out == f"ok  {path}  26 events, 0 counterparts, 3 places\n"
        lines = err.splitlines()
        assert len(lines) == MAX_OVERLAP_WARNINGS + 1
        assert lines[-1].endswith(
            "(file): warning: and 5 more event(s) overlap events at other places "
            "(25 overlapping pairs in all); not shown"
        )
