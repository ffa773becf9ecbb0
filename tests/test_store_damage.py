"""The marks database when it is damaged, foreign, empty or planted: never written, never lost.

Every damaged sample is made here with the sqlite3 module (or by changing bytes of
a real database, seeded). What a store finds unusable is moved aside byte for byte
as found (its WAL files too), another program's database is refused and left
alone, and every read error names the file instead of raising a traceback.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakes import run_tripdash

from tripdash.domain.store import (
    APPLICATION_ID,
    CLEAN_NAME,
    DB_NAME,
    MarkStore,
    StoreError,
    _fingerprint,
)
from tripdash.domain.times import UTC

REPO = Path(__file__).resolve().parent.parent
FS = "trips/fs-north-america-2023-01.toml"
FS_ID = "fs-north-america-2023-01"
T0 = datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
ROUNDS = 300  # as many damaged databases as the attack run made
ITEMS = ["csis-speech", "blinken-press-conference", "arlington-wreath", "blinken/indo-pacific"]


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def make_marks(state_dir: Path, n: int = 50) -> list[str]:
    """A healthy, cleanly closed database with ``n`` marks; their ids."""
    with MarkStore(state_dir, clock=Clock()) as s:
        return [s.mark(FS_ID, ITEMS[i % len(ITEMS)], i % 3 != 0, "alice").id for i in range(n)]


def moved_aside(state_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in state_dir.iterdir()
        if p.name.startswith(f"{DB_NAME}.unreadable-") and p.name[-4:] not in ("-wal", "-shm")
    )


def files(state_dir: Path) -> dict[str, bytes]:
    """Every file of the state directory and its bytes."""
    return {p.name: p.read_bytes() for p in state_dir.iterdir() if p.is_file()}


def hide_rows_from_index(db: Path, index: str, rows: list[tuple[object, ...]], table: str) -> None:
    """Insert rows the index does not know of: the index no longer matches its table.

    The index's schema entry is taken out, the rows inserted (so SQLite does not keep
    the index up to date), and the entry put back: exactly the damage that hides rows
    from every query using the index, which ``PRAGMA quick_check`` does not see.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    entry = conn.execute(
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master WHERE name = ?", (index,)
    ).fetchone()
    assert entry is not None
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("DELETE FROM sqlite_master WHERE name = ?", (index,))
    conn.close()
    conn = sqlite3.connect(db, isolation_level=None)
    marks = ",".join("?" * len(rows[0]))
    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", entry)
    conn.close()
    check = sqlite3.connect(db)
    try:
        assert check.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        assert check.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    finally:
        check.close()


def mark_rows(start: int, n: int, trip: str = FS_ID) -> list[tuple[object, ...]]:
    at = T0.isoformat(timespec="microseconds")
    return [
        (start + i, f"{start + i:032x}", trip, "csis-speech", 1, at, "bob", 10**13 + start + i)
        for i in range(n)
    ]


# -- damaged indexes ---------------------------------------------------------------------


def test_a_damaged_index_is_caught_and_the_file_moved_aside_as_found(tmp_path: Path) -> None:
    """The attack run's case: an index that hid 45 of 50 marks from `tripdash log`."""
    state = tmp_path / "state"
    make_marks(state, 5)
    db = state / DB_NAME
    hide_rows_from_index(db, "marks_by_trip", mark_rows(1000, 45), "marks")
    before = files(state)
    with MarkStore(state, clock=Clock()) as s:
        (moved,) = moved_aside(state)
        assert s.notice is not None
        assert "integrity check failed" in s.notice and str(moved) in s.notice
        assert s.history(FS_ID) == []  # a new database, not the damaged one
    assert moved.read_bytes() == before[DB_NAME]


def test_a_damaged_metadata_index_gets_no_write_before_the_move(tmp_path: Path) -> None:
    """Before: tripdash inserted a duplicate schema row into it, then moved it aside."""
    state = tmp_path / "state"
    make_marks(state, 3)
    db = state / DB_NAME
    conn = sqlite3.connect(db)
    (rootpage,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'meta'"
    ).fetchone()
    conn.close()
    # Change the key in the index's page only: the row is still in the table, but the
    # index no longer finds it (a lookup by key says "none").
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    page = slice((rootpage - 1) * page_size, rootpage * page_size)
    at = data[page].index(b"schema_version") + (rootpage - 1) * page_size
    data[at + len("schema_versio")] = ord("N")
    db.write_bytes(bytes(data))
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert check.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    check.close()
    before = db.read_bytes()
    with MarkStore(state, clock=Clock()) as s:
        (moved,) = moved_aside(state)
        assert s.notice is not None and "integrity check failed" in s.notice
    assert moved.read_bytes() == before
    raw = sqlite3.connect(f"file:{moved}?mode=ro", uri=True)
    try:
        assert raw.execute("SELECT COUNT(*) FROM meta").fetchone() == (1,)  # no duplicate
    finally:
        raw.close()


def test_the_full_check_runs_when_the_file_changed_since_the_last_clean_close(
    tmp_path: Path,
) -> None:
    """An unchanged file (the note of its last clean close matches) is not checked again."""
    state = tmp_path / "state"
    make_marks(state, 3)
    db = state / DB_NAME
    hide_rows_from_index(db, "marks_by_trip", mark_rows(1000, 2), "marks")
    # Forge the note so that it matches the damaged file: the opening trusts it, skips the
    # full check and opens the file (this is what the note buys: no check on each start).
    note = json.dumps(_fingerprint(os.lstat(db))).encode()
    (state / CLEAN_NAME).write_bytes(note)
    with MarkStore(state, clock=Clock()) as s:
        assert s.notice is None
    assert moved_aside(state) == []
    # Any real change (here: the note no longer matches) and the check runs, and catches it.
    (state / CLEAN_NAME).write_bytes(note.replace(b'"size": ', b'"size": 1'))
    with MarkStore(state, clock=Clock()) as s:
        assert s.notice is not None and "integrity check failed" in s.notice
    assert len(moved_aside(state)) == 1


def test_the_wal_files_are_moved_aside_byte_for_byte(tmp_path: Path) -> None:
    """A damaged database left open (a crash): its -wal and -shm go aside with it, unchanged."""
    work = tmp_path / "work"
    make_marks(work, 5)
    hide_rows_from_index(work / DB_NAME, "marks_by_trip", mark_rows(1000, 10), "marks")
    holder = sqlite3.connect(work / DB_NAME, isolation_level=None)
    try:
        holder.execute(
            "INSERT INTO marks VALUES (5000, ?, ?, 'arlington-wreath', 1, ?, 'carol', ?)",
            ("f" * 32, FS_ID, T0.isoformat(), 10**14),
        )
        state = tmp_path / "state"
        state.mkdir(mode=0o700)
        for suffix in ("", "-wal", "-shm"):  # what a crash leaves, as it is
            shutil.copyfile(work / (DB_NAME + suffix), state / (DB_NAME + suffix))
    finally:
        holder.close()
    found = files(state)
    assert len(found[DB_NAME + "-wal"]) > 0
    with MarkStore(state, clock=Clock()) as s:
        (moved,) = moved_aside(state)
        assert s.notice is not None
    assert moved.read_bytes() == found[DB_NAME]
    assert Path(f"{moved}-wal").read_bytes() == found[DB_NAME + "-wal"]
    assert Path(f"{moved}-shm").read_bytes() == found[DB_NAME + "-shm"]


# -- hand-made damage --------------------------------------------------------------------


def test_a_dropped_table_is_moved_aside_as_found(tmp_path: Path) -> None:
    state = tmp_path / "state"
    make_marks(state, 3)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("DROP TABLE marks")
    conn.commit()
    conn.close()
    before = (state / DB_NAME).read_bytes()
    with MarkStore(state, clock=Clock()) as s:
        (moved,) = moved_aside(state)
        assert s.notice is not None and "marks table is missing" in s.notice
    assert moved.read_bytes() == before


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("done", 7, "done is 7"),
        ("at", "yesterday", "Invalid isoformat"),
        ("at", "2023-01-17T14:15:00", "no offset"),
        ("hlc", "soon", "hlc is not an integer"),
        ("who", b"\xff\xfe not utf-8", "codec can't decode"),
        ("id", None, "id is not text"),
    ],
)
def test_a_row_that_cannot_be_read_is_reported_not_skipped(
    tmp_path: Path, column: str, value: object, said: str
) -> None:
    state = tmp_path / "state"
    ids = make_marks(state, 6)
    conn = sqlite3.connect(state / DB_NAME)
    if column == "id":  # NOT NULL: only a damaged file, or another program, can do this
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, 'id      TEXT NOT NULL UNIQUE', "
            "'id      TEXT UNIQUE') WHERE name = 'marks'"
        )
        conn.commit()
        conn.close()
        conn = sqlite3.connect(state / DB_NAME)
    conn.execute("PRAGMA ignore_check_constraints = ON")  # done IN (0, 1)
    if isinstance(value, bytes):
        conn.execute(f"UPDATE marks SET {column} = CAST(? AS TEXT) WHERE seq = 3", (value,))
    else:
        conn.execute(f"UPDATE marks SET {column} = ? WHERE seq = 3", (value,))
    conn.commit()
    conn.close()
    with MarkStore(state, clock=Clock()) as s:
        assert moved_aside(state) == []  # its other marks are fine: kept, and shown
        history = s.history(FS_ID)
        assert [m.id for m in history] == ids[:2] + ids[3:]
        (problem,) = s.unreadable_rows
        assert str(s.path) in problem and "mark #3" in problem and said in problem
        s.history(FS_ID)
        assert len(s.unreadable_rows) == 1  # reported once, however often it is read


def test_log_reports_an_unreadable_row_and_exits_1(tmp_path: Path) -> None:
    state = tmp_path / "state"
    make_marks(state, 4)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("UPDATE marks SET at = 'garbage' WHERE seq = 2")
    conn.commit()
    conn.close()
    proc = run_cli("log", FS, "--state-dir", str(state))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{state / DB_NAME}: mark #2 cannot be read" in proc.stderr
    assert len(proc.stdout.splitlines()) == 3  # the other three marks


# -- random damage -----------------------------------------------------------------------


def test_random_byte_damage_never_raises_and_never_hides_marks(tmp_path: Path) -> None:
    """Seeded: damage bytes of a real database; every outcome is said, none is silent."""
    template = tmp_path / "template"
    ids = make_marks(template, 50)
    good = (template / DB_NAME).read_bytes()
    rng = random.Random(20230117)
    outcomes: dict[str, int] = {}
    for round_no in range(ROUNDS):
        state = tmp_path / f"s{round_no}"
        state.mkdir(mode=0o700)
        damaged = bytearray(good)
        for _ in range(rng.choice([1, 1, 2, 8])):
            offset = rng.randrange(len(damaged))
            damaged[offset] = rng.randrange(256)
        (state / DB_NAME).write_bytes(bytes(damaged))
        try:
            with MarkStore(state, clock=Clock()) as s:
                if s.notice is not None:
                    (moved,) = moved_aside(state)
                    assert moved.read_bytes() == bytes(damaged)
                    outcomes["moved aside"] = outcomes.get("moved aside", 0) + 1
                    continue
                try:
                    seen = [m.id for m in s.history(FS_ID)]
                except StoreError as exc:
                    assert str(state / DB_NAME) in str(exc)
                    outcomes["read error said"] = outcomes.get("read error said", 0) + 1
                    continue
                # Opened as sound: every mark is there, or each one missing is reported.
                lost = set(ids) - set(seen)
                assert len(lost) <= len(s.unreadable_rows), (round_no, lost)
                key = "reported rows" if s.unreadable_rows else "intact"
                outcomes[key] = outcomes.get(key, 0) + 1
        except StoreError as exc:
            assert str(state) in str(exc), exc
            outcomes["refused"] = outcomes.get("refused", 0) + 1
    assert sum(outcomes.values()) == ROUNDS
    assert outcomes.get("moved aside", 0) > 0, outcomes


# -- another program's database, an empty one --------------------------------------------


def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    db = state / DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Ann', '555')")
    conn.commit()
    conn.close()
    os.chmod(db, 0o644)
    before = files(state)
    with pytest.raises(StoreError, match="not a tripdash marks database") as caught:
        MarkStore(state, clock=Clock())
    assert str(db) in str(caught.value)
    assert files(state) == before  # not changed, not moved, no WAL files made
    assert (db.stat().st_mode & 0o777) == 0o644


def test_an_empty_sqlite_database_is_not_adopted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("PRAGMA user_version = 7")  # a valid database file with no tables
    conn.close()
    before = files(state)
    with pytest.raises(StoreError, match="an empty SQLite database"):
        MarkStore(state, clock=Clock())
    assert files(state) == before


def test_a_database_of_an_older_tripdash_is_adopted(tmp_path: Path) -> None:
    """Before the marker: tripdash's tables, application id 0. It gets the marker."""
    state = tmp_path / "state"
    ids = make_marks(state, 3)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("PRAGMA application_id = 0")
    conn.execute("DROP TABLE sync_known")
    conn.commit()
    conn.close()
    with MarkStore(state, clock=Clock()) as s:
        assert s.notice is None
        assert [m.id for m in s.history(FS_ID)] == ids
    conn = sqlite3.connect(state / DB_NAME)
    try:
        assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert conn.execute("SELECT COUNT(*) FROM sync_known").fetchone() == (0,)
    finally:
        conn.close()


def test_a_new_database_carries_the_marker(tmp_path: Path) -> None:
    with MarkStore(tmp_path / "state", clock=Clock()) as s:
        conn = sqlite3.connect(s.path)
        try:
            assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        finally:
            conn.close()
    # Made whole under a temporary name: nothing else is left in the directory.
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [DB_NAME, CLEAN_NAME]


# -- the command line on damaged files ---------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_tripdash(*args, env=env)


@pytest.mark.parametrize("verb", ["log", "agenda", "mark"])
def test_commands_on_a_damaged_database_say_so_without_a_traceback(
    tmp_path: Path, verb: str
) -> None:
    state = tmp_path / "state"
    make_marks(state, 5)
    hide_rows_from_index(state / DB_NAME, "marks_by_trip", mark_rows(1000, 5), "marks")
    before = (state / DB_NAME).read_bytes()
    args = [verb, FS] + (["csis-speech"] if verb == "mark" else []) + ["--state-dir", str(state)]
    proc = run_cli(*args)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "could not be read (integrity check failed" in proc.stderr
    (moved,) = moved_aside(state)
    assert str(moved) in proc.stderr
    assert moved.read_bytes() == before


def test_commands_refuse_another_programs_database(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    conn = sqlite3.connect(state / DB_NAME)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    proc = run_cli("log", FS, "--state-dir", str(state))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "not a tripdash marks database" in proc.stderr
