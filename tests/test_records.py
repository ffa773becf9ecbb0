"""Notes and shifts as records beside the marks (tripdash.domain.records)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fakes import FakeClock, read_only_disk

from tripdash.domain.records import (
    MAX_NOTE_CHARS,
    MAX_SHIFT_MINUTES,
    NOTE,
    SHIFT,
    Record,
    RecordError,
    RecordStore,
    insert,
)
from tripdash.domain.store import DB_NAME, HLC_CEILING, HLC_LIMIT, MarkStore, StoreError

TRIP = "fs-north-america-2023-01"
T0 = datetime(2023, 1, 17, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def stores(tmp_path: Path, clock: FakeClock):  # type: ignore[no-untyped-def]
    marks = MarkStore(tmp_path / "state", clock=clock)
    records = RecordStore(marks, clock=clock)
    yield marks, records
    records.close()
    marks.close()


def count_rows(state: Path) -> int:
    raw = sqlite3.connect(state / DB_NAME)
    try:
        return int(raw.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    finally:
        raw.close()


def test_record_ids_grow_with_the_clock(stores, clock) -> None:  # type: ignore[no-untyped-def]
    marks, records = stores
    first = records.save_note(TRIP, "csis-speech", "One.", "ps")
    clock.advance(minutes=-5)  # the clock set back: the ids still follow the HLC
    mark = marks.mark(TRIP, "csis-speech", True, "ps")
    second = records.save_note(TRIP, "csis-speech", "Two.", "ps")
    ids = [first.id, mark.id, second.id]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)


# -- notes: versions, conflicts, merges, deletion ---------------------------------------


def test_the_latest_version_is_the_note(stores, clock) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    first = records.save_note(TRIP, "csis-speech", "Raised CPTPP.", "ps")
    clock.advance(minutes=5)
    second = records.save_note(TRIP, "csis-speech", "Raised CPTPP.\n\nAnd Ukraine.", "ps")
    heads = records.notes(TRIP)["csis-speech"]
    assert [h.id for h in heads] == [second.id]
    assert heads[0].text == "Raised CPTPP.\n\nAnd Ukraine." and heads[0].who == "ps"
    assert heads[0].at == T0 + timedelta(minutes=5)
    assert second.data["replaces"] == [first.id]
    # Both versions stay in the history.
    assert [r.id for r in records.records(TRIP, NOTE, "csis-speech")] == [first.id, second.id]


def test_two_laptops_conflict_and_a_save_merges(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    a_marks = MarkStore(tmp_path / "a", clock=clock)
    b_marks = MarkStore(tmp_path / "b", clock=clock)
    a, b = RecordStore(a_marks, clock=clock), RecordStore(b_marks, clock=clock)
    base = a.save_note(TRIP, "blinken", "Indo-Pacific.", "ps")
    b.add_records([base])
    mine = a.save_note(TRIP, "blinken", "Indo-Pacific: agreed.", "ps")
    theirs = b.save_note(TRIP, "blinken", "Indo-Pacific: deferred.", "aide")
    a.add_records([theirs])
    b.add_records([mine])
    for side in (a, b):
        heads = side.notes(TRIP)["blinken"]
        assert sorted(h.text for h in heads) == ["Indo-Pacific: agreed.", "Indo-Pacific: deferred."]
        # The same order on both laptops.
        assert [h.id for h in heads] == [h.id for h in a.notes(TRIP)["blinken"]]
    merged = a.save_note(TRIP, "blinken", "Agreed, then deferred.", "ps")
    assert set(merged.data["replaces"]) == {mine.id, theirs.id}
    b.add_records([merged])
    for side in (a, b):
        assert [h.text for h in side.notes(TRIP)["blinken"]] == ["Agreed, then deferred."]
    a_marks.close()
    b_marks.close()


def test_a_version_saved_while_editing_is_kept(stores) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    seen = records.save_note(TRIP, "joly", "one", "ps")
    elsewhere = records.save_note(TRIP, "joly", "two", "aide")  # while ps was editing
    records.save_note(TRIP, "joly", "one, edited", "ps", replaces=[seen.id])
    texts = [h.text for h in records.note(TRIP, "joly")]
    assert texts == ["two", "one, edited"]
    assert elsewhere.data["replaces"] == [seen.id]


def test_empty_text_deletes_and_keeps_history(stores) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    records.save_note(TRIP, "joly", "gone soon", "ps")
    records.save_note(TRIP, "joly", "", "ps")
    assert "joly" not in records.notes(TRIP)
    assert records.note(TRIP, "joly") == []
    assert len(records.records(TRIP, NOTE, "joly")) == 2


def test_control_characters_are_stored_as_typed(stores) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    text = "a\x1b[31mred\x1b[0m\x07\ttab\r\nline [b]x[/b] \u202e"
    records.save_note(TRIP, "csis-speech", text, "ps")
    assert records.note(TRIP, "csis-speech")[0].text == text


def test_bad_notes_store_nothing(stores, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    records.save_note(TRIP, "csis-speech", "x" * MAX_NOTE_CHARS, "ps")  # the limit itself
    with pytest.raises(RecordError, match="at most 100,000 characters"):
        records.save_note(TRIP, "csis-speech", "x" * (MAX_NOTE_CHARS + 1), "ps")
    with pytest.raises(RecordError, match="surrogate"):
        records.save_note(TRIP, "csis-speech", "bad \ud800", "ps")
    with pytest.raises(RecordError, match="author"):
        records.save_note(TRIP, "csis-speech", "x", "p\x1bs")
    assert count_rows(tmp_path / "state") == 1


# -- shifts -----------------------------------------------------------------------------


def test_a_later_shift_from_the_same_event_replaces(stores, clock) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    records.set_shift(TRIP, "csis-speech", 20, None, "ps")
    clock.advance(minutes=10)
    later = records.set_shift(TRIP, "csis-speech", 35, "blinken-press-conference", "ps")
    records.set_shift(TRIP, "joly-bilateral", -10, None, "aide")
    shifts = records.shifts(TRIP)
    assert shifts["csis-speech"].minutes == 35 and shifts["csis-speech"].id == later.id
    assert shifts["csis-speech"].until_event == "blinken-press-conference"
    assert shifts["joly-bilateral"].minutes == -10
    clock.advance(minutes=10)
    records.set_shift(TRIP, "csis-speech", 0, None, "ps")
    assert records.shifts(TRIP)["csis-speech"].minutes == 0
    assert len(records.records(TRIP, SHIFT)) == 4


def test_bad_shifts_store_nothing(stores, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, records = stores
    records.set_shift(TRIP, "csis-speech", MAX_SHIFT_MINUTES, None, "ps")
    records.set_shift(TRIP, "csis-speech", -MAX_SHIFT_MINUTES, None, "ps")
    for bad in (MAX_SHIFT_MINUTES + 1, -MAX_SHIFT_MINUTES - 1):
        with pytest.raises(RecordError, match="at most 24 hours"):
            records.set_shift(TRIP, "csis-speech", bad, None, "ps")
    with pytest.raises(RecordError, match="whole number"):
        records.set_shift(TRIP, "csis-speech", True, None, "ps")  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="cannot be empty"):
        records.set_shift(TRIP, "csis-speech", 5, "", "ps")
    assert count_rows(tmp_path / "state") == 2


# -- one clock with the marks, and its ceiling --------------------------------------------


def test_marks_and_records_share_one_clock(stores, clock) -> None:  # type: ignore[no-untyped-def]
    marks, records = stores
    m1 = marks.mark(TRIP, "csis-speech", True, "ps")
    n1 = records.save_note(TRIP, "csis-speech", "x", "ps")
    clock.advance(hours=-2)  # the laptop's clock is put back: the order still holds
    m2 = marks.mark(TRIP, "csis-speech", False, "ps")
    s1 = records.set_shift(TRIP, "csis-speech", 5, None, "ps")
    assert m1.hlc < n1.hlc < m2.hlc < s1.hlc


def test_the_clock_never_passes_the_limit(stores, clock) -> None:  # type: ignore[no-untyped-def]
    marks, records = stores
    clock.at = datetime(2500, 1, 1, tzinfo=timezone.utc)  # a clock gone wild: refused
    with pytest.raises(RecordError, match="clock"):
        records.save_note(TRIP, "x", "a", "ps")
    clock.at = datetime(2199, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    assert records.save_note(TRIP, "x", "a", "ps").hlc == HLC_CEILING - 1
    assert records.save_note(TRIP, "x", "b", "ps").hlc == HLC_CEILING
    # A record pulled at the limit (an older release accepted up to it).
    at_limit = Record("f" * 32, NOTE, TRIP, "y", '{"text":"b","replaces":[]}', T0, "ps", HLC_LIMIT)
    records.add_records([at_limit])
    with pytest.raises(StoreError, match="at its limit"):
        records.save_note(TRIP, "x", "c", "ps")
    with pytest.raises(StoreError, match="at its limit"):
        marks.mark(TRIP, "x", True, "ps")
    assert [r.hlc for r in records.records(TRIP)] == [HLC_CEILING - 1, HLC_CEILING, HLC_LIMIT]


def test_records_from_elsewhere_are_inserted_once_and_forgeries_refused(stores) -> None:  # type: ignore[no-untyped-def]
    marks, records = stores
    body = '{"text":"from bob","replaces":[]}'
    theirs = Record("b" * 32, NOTE, TRIP, "joly", body, T0, "bob", 1673964000000)
    unknown = Record("c" * 32, "photo", TRIP, "joly", '{"caption":"x"}', T0, "bob", 1673964000001)
    assert records.add_records([theirs, unknown]) == 2
    assert records.add_records([theirs, unknown]) == 0  # a retry changes nothing
    forged = Record("b" * 32, NOTE, TRIP, "joly", '{"text":"forged"}', T0, "eve", theirs.hlc)
    with marks.write("test") as conn:
        assert insert(conn, [forged, theirs]) == (0, 1, [theirs.id])
    assert [h.text for h in records.note(TRIP, "joly")] == ["from bob"]
    assert [r.kind for r in records.records(TRIP)] == [NOTE, "photo"]  # kept, not shown
    assert records.notes(TRIP).keys() == {"joly"} and records.shifts(TRIP) == {}


# -- strict reading, read-only disks, integrity --------------------------------------------


def test_a_bad_row_is_reported_not_raised(stores, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marks, records = stores
    good = records.save_note(TRIP, "joly", "fine", "ps")
    raw = sqlite3.connect(tmp_path / "state" / DB_NAME)
    rows = [
        ("b1", NOTE, TRIP, "joly", "not json", "2023-01-17T14:00:00+00:00", "ps", good.hlc + 1),
        ("b2", NOTE, TRIP, "joly", '{"text": 5}', "2023-01-17T14:00:00+00:00", "ps", good.hlc + 2),
        ("b3", SHIFT, TRIP, "csis", '{"minutes": 5000}', "2023-01-17T14:00:00", "ps", good.hlc),
        ("b4", NOTE, TRIP, "joly", "{}", "2023-01-17T14:00:00+00:00", "ps", 2**62),
    ]
    raw.executemany(
        "INSERT INTO records (id, kind, trip_id, item_id, body, at, who, hlc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    raw.execute(
        "INSERT INTO records (id, kind, trip_id, item_id, body, at, who, hlc) "
        "VALUES ('b5', 'note', ?, 'joly', CAST(X'ff22' AS TEXT), '2023-01-17T14:00:00+00:00',"
        " 'ps', ?)",
        (TRIP, good.hlc + 3),
    )
    raw.commit()
    raw.close()
    assert [r.id for r in records.records(TRIP)] == [good.id]
    assert [h.text for h in records.note(TRIP, "joly")] == ["fine"]
    assert len(records.unreadable_rows) == 5
    assert all(str(tmp_path / "state" / DB_NAME) in m for m in records.unreadable_rows)
    assert any("not JSON" in m for m in records.unreadable_rows)
    assert any("out of range" in m for m in records.unreadable_rows)
    assert any("no offset" in m for m in records.unreadable_rows)
    # Reported once, and to the marks store's list the dashboard shows.
    records.records(TRIP)
    assert len(records.unreadable_rows) == 5
    assert set(records.unreadable_rows) <= set(marks.unreadable_rows)
    # A forged row at the limit does not move the clock.
    assert records.save_note(TRIP, "joly", "next", "ps").hlc == good.hlc + 4


@pytest.mark.parametrize(("full", "reason"), [(False, "read-only"), (True, "is full")])
def test_read_only_or_full_disk_reads_records_and_refuses_writes(  # type: ignore[no-untyped-def]
    tmp_path, clock, monkeypatch, full, reason
) -> None:
    state = tmp_path / "state"
    with MarkStore(state, clock=clock) as marks:
        records = RecordStore(marks, clock=clock)
        records.save_note(TRIP, "joly", "kept", "ps")
        records.set_shift(TRIP, "csis-speech", 20, None, "ps")
    with monkeypatch.context() as patch:
        read_only_disk(patch, full=full)
        with MarkStore(state, clock=clock) as marks:
            assert marks.cannot_save and reason in marks.cannot_save
            records = RecordStore(marks, clock=clock)
            assert records.cannot_save == marks.cannot_save
            assert records.note(TRIP, "joly")[0].text == "kept"
            assert records.shifts(TRIP)["csis-speech"].minutes == 20
            with pytest.raises(StoreError, match=rf"the note was not saved.*{reason}"):
                records.save_note(TRIP, "joly", "new", "ps")
            with pytest.raises(StoreError, match=rf"the shift was not saved.*{reason}"):
                records.set_shift(TRIP, "csis-speech", 5, None, "ps")
    assert count_rows(state) == 2


def test_read_only_database_from_before_notes(tmp_path, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    with MarkStore(state, clock=clock) as marks:
        marks.mark(TRIP, "joly", True, "ps")
    raw = sqlite3.connect(state / DB_NAME)
    raw.execute("DROP TABLE records")  # as the previous release left it
    raw.commit()
    raw.close()
    with monkeypatch.context() as patch:
        read_only_disk(patch)
        with MarkStore(state, clock=clock) as marks:
            records = RecordStore(marks, clock=clock)
            assert records.notes(TRIP) == {} and records.shifts(TRIP) == {}
            assert marks.done_ids(TRIP) == {"joly"}
            with pytest.raises(StoreError, match="read-only"):
                records.save_note(TRIP, "joly", "new", "ps")
    raw = sqlite3.connect(state / DB_NAME)
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert "records" not in tables  # nothing was written to it
    # Writable again: the table is added, the marks untouched.
    with MarkStore(state, clock=clock) as marks:
        RecordStore(marks, clock=clock).save_note(TRIP, "joly", "now", "ps")
        assert marks.done_ids(TRIP) == {"joly"}
    assert count_rows(state) == 1


def test_a_damaged_records_index_fails_the_integrity_check(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    with MarkStore(state, clock=clock) as marks:
        marks.mark(TRIP, "joly", True, "ps")
        records = RecordStore(marks, clock=clock)
        for n in range(50):
            records.save_note(TRIP, f"item-{n}", "text " * 50, "ps")
    path = state / DB_NAME
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (page_size,) = raw.execute("PRAGMA page_size").fetchone()
    (root,) = raw.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'records_by_trip'"
    ).fetchone()
    raw.close()
    data = bytearray(path.read_bytes())
    offset = (root - 1) * page_size
    data[offset + 8 : offset + page_size] = b"\xa5" * (page_size - 8)  # keep the page header
    path.write_bytes(bytes(data))
    with MarkStore(state, clock=clock) as marks:
        assert marks.notice is not None and "could not be read" in marks.notice
        assert marks.history(TRIP) == []  # a new store; the damaged one kept aside
    assert [p.name for p in state.iterdir() if "unreadable" in p.name]
