"""Which marks a server holds, as the store keeps it (no server needed).

A pull stores a page of marks and records the server as holding them in one
transaction (:meth:`MarkStore.add_pulled`); a mark whose id is already here with
other contents is a forgery, refused and never taken as held. Marks are recorded as
held in ``sync_held`` (by row, under a small number per server); a database that an
older release recorded in ``sync_known`` (by id) is still read the same way, and
gains the new tables when this release opens it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakes import FakeClock, read_only_disk

from tripdash.domain.store import DB_NAME, Mark, MarkStore
from tripdash.domain.times import UTC

from .previous_release import store as old_store

TRIP = "held-trip"
HONEST = "http://127.0.0.1:5984"
OTHER = "http://127.0.0.1:5985"
T0 = datetime(2023, 1, 17, 14, 0, tzinfo=UTC)


def theirs(n: int, start: int = 0) -> list[Mark]:
    """Marks made on another laptop, as a pull brings them."""
    return [
        Mark(
            f"m{i:06d}",
            TRIP,
            f"event-{i % 40}",
            i % 3 != 0,
            T0 + timedelta(seconds=i),
            "bob",
            int((T0 + timedelta(seconds=i)).timestamp() * 1000),
        )
        for i in range(start, start + n)
    ]


def test_a_pulled_page_is_stored_and_held_by_that_server_only(tmp_path: Path) -> None:
    with MarkStore(tmp_path, clock=FakeClock(T0)) as store:
        page = theirs(2_500)  # more than one query's worth of ids (500)
        assert store.add_pulled(HONEST, page, "db", "7") == (2_500, 0)
        assert store.history(TRIP) == sorted(page, key=lambda m: m.order)
        assert store.count_unsynced(TRIP, HONEST) == 0
        assert store.count_unsynced(TRIP, OTHER) == 2_500
        assert store.not_known(HONEST, ["m000001", "nothing"]) == ["nothing"]
        assert store.checkpoint(HONEST, "db") == "7"
        # The same page again (a crash before the commit left the old checkpoint).
        assert store.add_pulled(HONEST, page, "db", "7") == (0, 0)
        assert len(store.history(TRIP)) == 2_500


def test_a_forged_copy_of_a_mark_here_is_refused_and_not_taken_as_held(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    with MarkStore(tmp_path, clock=clock) as store:
        mine = store.mark(TRIP, "speech", True, "alice")
        forged = replace(mine, done=False)
        echoed = theirs(3)
        added, conflicting = store.add_pulled(HONEST, [forged, *echoed], "db", "3")
        assert (added, conflicting) == (3, 1)
        assert store.state(TRIP)["speech"] == mine  # the one here stays
        assert store.count_unsynced(TRIP, HONEST) == 1  # and is still waiting to be sent
        # Our own mark, come back as it is: now held.
        assert store.add_pulled(HONEST, [mine], "db", "4") == (0, 0)
        assert store.count_unsynced(TRIP, HONEST) == 0


def test_one_id_with_two_contents_in_one_page_keeps_the_first(tmp_path: Path) -> None:
    with MarkStore(tmp_path, clock=FakeClock(T0)) as store:
        first = theirs(1)[0]
        second = replace(first, who="mallory")
        assert store.add_pulled(HONEST, [first, second, first], "db", "1") == (1, 1)
        assert store.history(TRIP) == [first]


def test_marks_confirmed_by_a_read_and_records_are_recorded_as_held(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    with MarkStore(tmp_path, clock=clock) as store:
        made = [store.mark(TRIP, f"event-{n}", True, "alice") for n in range(3)]
        store.record_synced(HONEST, [made[0].id, "a-record-id"])
        assert store.count_unsynced(TRIP, HONEST) == 2
        assert store.not_known(HONEST, [m.id for m in made] + ["a-record-id"]) == [
            made[1].id,
            made[2].id,
        ]
        conn = store.connection
        assert conn.execute("SELECT server, mark_id FROM sync_known").fetchall() == [
            (HONEST, "a-record-id")
        ]
        assert conn.execute("SELECT COUNT(*) FROM sync_held").fetchone() == (1,)


def test_a_database_of_the_previous_release_keeps_what_it_knew_held(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    old = old_store.MarkStore(tmp_path, clock=clock)
    try:
        kept = [old.mark(TRIP, f"event-{n}", True, "alice").id for n in range(4)]
        old.record_synced(HONEST, kept[:3])
    finally:
        old.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "sync_held" not in tables  # made before the table existed
    with MarkStore(tmp_path, clock=clock) as store:
        assert store.count_unsynced(TRIP, HONEST) == 1
        assert store.not_known(HONEST, kept) == [kept[3]]
        assert [m.id for m in store.unsynced(TRIP, HONEST)] == [kept[3]]
        store.record_synced(HONEST, [kept[3]])
        assert store.count_unsynced(TRIP, HONEST) == 0


def test_waiting_marks_are_found_after_a_row_up_to_which_all_are_held(tmp_path: Path) -> None:
    # The shortcut (sync_upto) must never pass a mark that is not held: one made here
    # before a pull stays waiting however many pulled marks come after it.
    clock = FakeClock(T0)
    with MarkStore(tmp_path, clock=clock) as store:
        unsent = store.mark(TRIP, "speech", True, "alice")
        store.add_pulled(HONEST, theirs(3_000), "db", "1")
        assert store.count_unsynced(TRIP, HONEST) == 1
        assert store.unsynced(TRIP, HONEST) == [unsent]
        # Stuck before the unsent mark (nothing to save: it is still at the start).
        assert store.connection.execute("SELECT seq FROM sync_upto").fetchall() == []
        store.record_synced(HONEST, [unsent.id])
        assert store.count_unsynced(TRIP, HONEST) == 0
        (last,) = store.connection.execute("SELECT MAX(seq) FROM marks").fetchone()
        assert store.connection.execute("SELECT seq FROM sync_upto").fetchall() == [(last,)]
        # Marks made after it, and another trip's, are found after the row.
        clock.advance(seconds=1)
        later = store.mark(TRIP, "speech", False, "alice")
        other = store.mark("another-trip", "x", True, "alice")
        assert store.unsynced(TRIP, HONEST) == [later]
        assert store.count_unsynced("another-trip", HONEST) == 1
        assert store.unsynced("another-trip", HONEST) == [other]
        assert store.count_unsynced(TRIP, OTHER) == 3_002  # per server


def test_pulled_pages_move_the_row_on_as_they_are_stored(tmp_path: Path) -> None:
    # The next round's count of waiting marks then reads nothing of what was pulled.
    clock = FakeClock(T0)
    with MarkStore(tmp_path, clock=clock) as store:
        upto = store.connection.execute
        store.add_pulled(HONEST, theirs(1_000), "db", "1")
        store.add_pulled(HONEST, theirs(1_000, 1_000), "db", "2")
        assert upto("SELECT server_no, seq FROM sync_upto").fetchall() == [(1, 2_000)]
        # A mark made here between pages is not held: the row stops before it.
        unsent = store.mark(TRIP, "speech", True, "alice")
        store.add_pulled(HONEST, theirs(1_000, 2_000), "db", "3")
        assert upto("SELECT seq FROM sync_upto").fetchall() == [(2_000,)]
        assert store.unsynced(TRIP, HONEST) == [unsent]
        # So does a page from another server: its marks are not held by this one.
        store.record_synced(HONEST, [unsent.id])
        assert store.count_unsynced(TRIP, HONEST) == 0  # (works the row out to the end)
        assert upto("SELECT seq FROM sync_upto").fetchall() == [(3_001,)]
        store.add_pulled(OTHER, theirs(10, 5_000), "db", "1")
        store.add_pulled(HONEST, theirs(10, 6_000), "db", "4")
        rows = dict(upto("SELECT server_no, seq FROM sync_upto").fetchall())
        assert rows == {1: 3_001}  # OTHER holds none of the first 3,001: no row for it
        assert store.count_unsynced(TRIP, HONEST) == 10
        assert store.count_unsynced(TRIP, OTHER) == 3_011


@pytest.mark.parametrize("before_these_tables", [False, True])
def test_a_store_that_cannot_write_still_counts_the_waiting_marks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before_these_tables: bool
) -> None:
    clock = FakeClock(T0)
    with MarkStore(tmp_path, clock=clock) as store:
        store.add_pulled(HONEST, theirs(10), "db", "1")
        store.mark(TRIP, "speech", True, "alice")
    if before_these_tables:  # a database of the previous release, on a read-only disk
        raw = sqlite3.connect(tmp_path / DB_NAME)
        raw.executescript("DROP TABLE sync_held; DROP TABLE sync_servers; DROP TABLE sync_upto;")
        raw.close()
    read_only_disk(monkeypatch)
    with MarkStore(tmp_path, clock=clock) as store:
        assert store.cannot_save is not None
        expected = 11 if before_these_tables else 1  # what the old tables said is held
        assert store.count_unsynced(TRIP, HONEST) == expected
        assert len(store.unsynced(TRIP, HONEST, 100)) == expected
