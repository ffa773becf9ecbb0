"""The look at every row on opening a store that changed since its last clean close.

SQLite sorts the rows: those in exactly the form tripdash writes need only their
text checked as UTF-8 (all at once), and only the others are converted in Python,
one by one, and reported when they cannot be read. What makes this safe is that
every row SQLite calls canonical reads as a mark; that is checked here over
generated rows, and the rows are counted to show the fast path is the one taken.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tripdash.domain import store as store_module
from tripdash.domain.store import (
    _CANONICAL,
    _COLUMNS,
    CLEAN_NAME,
    DB_NAME,
    HLC_FLOOR,
    HLC_LIMIT,
    Mark,
    MarkStore,
    _strict_mark,
    _text,
)
from tripdash.domain.times import UTC

T0 = datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
TRIP = "fs-north-america-2023-01"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def _marks(n: int) -> list[Mark]:
    return [
        Mark(f"{i:032x}", TRIP, f"item-{i % 7}", i % 2 == 0, T0 + timedelta(minutes=i), "bob", 0)
        for i in range(n)
    ]


def _made(state: Path, n: int) -> None:
    with MarkStore(state, clock=Clock()) as s:
        added = []
        for m in _marks(n):
            added.append(Mark(m.id, m.trip_id, m.item_id, m.done, m.at, m.who, HLC_FLOOR + 1))
        s.add_marks(added)
        s.mark(TRIP, "item-0", True, "alice")


def _unclean(state: Path) -> None:
    """As after a crash: the record of the last clean close is gone, so all is checked."""
    (state / CLEAN_NAME).unlink()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    original = MarkStore._convert

    def convert(self: MarkStore, row: tuple[object, ...]) -> Mark | None:
        seen.append(row[0])
        return original(self, row)

    monkeypatch.setattr(MarkStore, "_convert", convert)
    return seen


def test_rows_tripdash_writes_are_all_canonical(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _made(state, 500)
    conn = sqlite3.connect(state / DB_NAME)
    try:
        (total, canonical) = conn.execute(
            f"SELECT COUNT(*), SUM(IFNULL({_CANONICAL}, 0)) FROM marks"
        ).fetchone()
    finally:
        conn.close()
    assert (total, canonical) == (501, 501)


def test_only_the_odd_rows_are_converted_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    _made(state, 1000)
    conn = sqlite3.connect(state / DB_NAME)
    # An older tripdash's row (an offset, no microseconds): odd, but a good mark.
    conn.execute("UPDATE marks SET at = '2023-01-17T16:15:00+02:00' WHERE seq = 10")
    conn.execute("UPDATE marks SET at = 'garbage' WHERE seq = 20")  # damaged
    conn.execute("UPDATE marks SET at = '2023-02-30T10:00:00.000000+00:00' WHERE seq = 30")
    conn.commit()
    conn.close()
    _unclean(state)
    converted = _counting(monkeypatch)
    with MarkStore(state, clock=Clock()) as s:
        assert sorted(converted) == [10, 20, 30]  # not the 998 others
        problems = s.unreadable_rows
        assert len(problems) == 2
        assert "mark #20 cannot be read" in problems[0] and "mark #30 " in problems[1]
        assert all(p.startswith(f"{s.path}: ") for p in problems)
        assert len(s.history(TRIP)) == 999


def test_damaged_text_in_a_canonical_row_is_found_at_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    _made(state, 200)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("UPDATE marks SET who = CAST(x'626fff62' AS TEXT) WHERE seq = 50")
    conn.commit()
    conn.close()
    _unclean(state)
    with MarkStore(state, clock=Clock()) as s:
        (problem,) = s.unreadable_rows  # said on opening, before any read of the trip
        assert "mark #50 cannot be read" in problem
        assert len(s.history(TRIP)) == 200


def test_a_clean_close_skips_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    _made(state, 100)
    converted = _counting(monkeypatch)
    scans: list[int] = []
    original = MarkStore._scan_rows
    monkeypatch.setattr(
        MarkStore, "_scan_rows", lambda self, conn: (scans.append(1), original(self, conn))
    )
    with MarkStore(state, clock=Clock()):
        pass
    assert (scans, converted) == ([], [])
    _unclean(state)
    with MarkStore(state, clock=Clock()):
        pass
    assert (scans, converted) == ([1], [])


# -- every row SQLite calls canonical reads as a mark ------------------------------------

_digits = st.text("0123456789", min_size=1, max_size=4)
_stamps = st.one_of(
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2210, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC).isoformat(timespec="microseconds")
    ),
    st.builds(
        lambda y, mo, d, h, mi, s: f"{y}-{mo}-{d}T{h}:{mi}:{s}.000000+00:00",
        _digits,
        _digits,
        _digits,
        _digits,
        _digits,
        _digits,
    ),
    st.text(max_size=40),
)
_texts = st.one_of(st.text(max_size=8), st.binary(max_size=8))
_values = st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.none(), _texts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ident=st.one_of(_texts, _values),
    trip=_texts,
    item=_texts,
    done=st.one_of(st.sampled_from([0, 1, 2, -1, 0.0, 1.0, "1", b"1"]), _values),
    at=st.one_of(_stamps, _values),
    who=_texts,
    hlc=st.one_of(st.integers(HLC_FLOOR - 2, HLC_LIMIT + 2), _values),
)
@example("a" * 32, TRIP, "x", 1, "2023-01-17T14:15:00.000000+00:00", "bob", HLC_FLOOR + 5)
@example("a", TRIP, "x", 0, "2024-02-29T23:59:59.999999+00:00", "b", HLC_LIMIT)
def test_every_canonical_row_reads_as_a_mark(
    ident: object, trip: object, item: object, done: object, at: object, who: object, hlc: object
) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.text_factory = bytes
        conn.execute(f"CREATE TABLE marks (seq INTEGER PRIMARY KEY, {_COLUMNS})")
        # Bytes are stored as text, as damage would leave them (not always UTF-8).
        values = [ident, trip, item, done, at, who, hlc]
        casts = ", ".join("CAST(? AS TEXT)" if isinstance(v, bytes) else "?" for v in values)
        conn.execute(f"INSERT INTO marks ({_COLUMNS}) VALUES ({casts})", values)
        (row,) = conn.execute(f"SELECT {_COLUMNS}, IFNULL({_CANONICAL}, 0) FROM marks").fetchall()
    finally:
        conn.close()
    *fields, canonical = row
    if not canonical:
        return
    try:
        texts = tuple(_text(v) for v in fields)
    except UnicodeDecodeError:
        return  # found by the UTF-8 check of the whole text, then converted and reported
    mark = _strict_mark(texts)
    assert mark.at.tzinfo is not None and 1900 <= mark.at.year < 2200
    assert store_module.HLC_FLOOR <= mark.hlc <= store_module.HLC_LIMIT
