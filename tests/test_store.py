"""Unit tests of the marks store (:mod:`tripdash.domain.store`).

Every store here gets an injected clock (an aware UTC datetime that a test moves
by hand): nothing reads the real time. Every state directory is under tmp_path.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes import FakeClock

from tripdash.domain.store import (
    DB_NAME,
    HLC_CEILING,
    HLC_FLOOR,
    HLC_LIMIT,
    SCHEMA_VERSION,
    Mark,
    MarkStore,
    StoreError,
    default_author,
    default_state_dir,
    new_id,
    stored_time,
)
from tripdash.domain.times import UTC

REPO = Path(__file__).resolve().parent.parent
FS = "trips/fs-north-america-2023-01.toml"
FS_ID = "fs-north-america-2023-01"
T0 = datetime(2023, 1, 17, 14, 15, tzinfo=UTC)


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(state_dir: Path, clock: FakeClock) -> Iterator[MarkStore]:
    with MarkStore(state_dir, clock=clock) as s:
        yield s


def moved_aside(state_dir: Path) -> list[Path]:
    return sorted(p for p in state_dir.iterdir() if p.name.startswith(f"{DB_NAME}.unreadable-"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- marking and reading ---------------------------------------------------------------


def test_a_new_store_is_empty(store: MarkStore) -> None:
    assert store.notice is None
    assert store.history(FS_ID) == []
    assert store.state(FS_ID) == {}
    assert store.done_ids(FS_ID) == set()
    assert not store.changed_elsewhere()


def test_mark_records_who_when_and_what(store: MarkStore, clock: FakeClock) -> None:
    m = store.mark(FS_ID, "csis-speech", True, "alice")
    assert (m.trip_id, m.item_id, m.done, m.who) == (FS_ID, "csis-speech", True, "alice")
    assert m.at == T0 and m.at.utcoffset() == timedelta(0)
    assert m.hlc == ms(T0)
    assert len(m.id) >= 16
    assert store.history(FS_ID) == [m]
    assert store.state(FS_ID) == {"csis-speech": m}
    assert store.done_ids(FS_ID) == {"csis-speech"}


def test_clock_in_another_zone_is_stored_as_utc(state_dir: Path) -> None:
    from zoneinfo import ZoneInfo

    local = T0.astimezone(ZoneInfo("America/New_York"))
    with MarkStore(state_dir, clock=lambda: local) as s:
        m = s.mark(FS_ID, "csis-speech", True, "alice")
        (stored,) = s.history(FS_ID)
    assert m.at == T0 and stored.at == T0
    assert stored.at.utcoffset() == timedelta(0)


def test_mark_is_committed_before_it_returns(store: MarkStore) -> None:
    m = store.mark(FS_ID, "csis-speech", True, "alice")
    # A separate connection (as another process would) already sees it.
    raw = sqlite3.connect(store.path)
    try:
        rows = raw.execute("SELECT id, item_id, done, who FROM marks").fetchall()
    finally:
        raw.close()
    assert rows == [(m.id, "csis-speech", 1, "alice")]


def test_latest_mark_wins(store: MarkStore, clock: FakeClock) -> None:
    store.mark(FS_ID, "csis-speech", True, "alice")
    clock.advance(minutes=1)
    store.mark(FS_ID, "blinken/indo-pacific", True, "alice")
    clock.advance(minutes=1)
    last = store.mark(FS_ID, "csis-speech", False, "bob")
    assert store.done_ids(FS_ID) == {"blinken/indo-pacific"}
    assert store.state(FS_ID)["csis-speech"] == last
    clock.advance(minutes=1)
    store.mark(FS_ID, "csis-speech", True, "carol")
    assert store.done_ids(FS_ID) == {"csis-speech", "blinken/indo-pacific"}
    assert store.state(FS_ID)["csis-speech"].who == "carol"


def test_history_is_append_only(store: MarkStore, clock: FakeClock) -> None:
    made = []
    for done in (True, False, True, False):
        made.append(store.mark(FS_ID, "csis-speech", done, "alice"))
        clock.advance(seconds=5)
    history = store.history(FS_ID)
    assert history == made  # unmarking adds a row; nothing is updated or deleted
    assert [m.done for m in history] == [True, False, True, False]
    assert len({m.id for m in history}) == 4
    assert store.done_ids(FS_ID) == set()
    assert list(store.state(FS_ID)) == ["csis-speech"]


def test_history_and_state_are_per_trip(store: MarkStore) -> None:
    store.mark(FS_ID, "csis-speech", True, "alice")
    store.mark("other-trip", "csis-speech", False, "alice")
    store.mark("other-trip", "x", True, "alice")
    assert store.done_ids(FS_ID) == {"csis-speech"}
    assert store.done_ids("other-trip") == {"x"}
    assert [m.item_id for m in store.history(FS_ID)] == ["csis-speech"]
    assert store.history("no-such-trip") == []


def test_marks_survive_reopening(state_dir: Path, clock: FakeClock) -> None:
    with MarkStore(state_dir, clock=clock) as s:
        a = s.mark(FS_ID, "csis-speech", True, "alice")
        clock.advance(seconds=1)
        b = s.mark(FS_ID, "joly/indo-pacific", True, "bob")
    with MarkStore(state_dir, clock=clock) as s:
        assert s.notice is None
        assert s.history(FS_ID) == [a, b]
        assert s.done_ids(FS_ID) == {"csis-speech", "joly/indo-pacific"}


# -- the hybrid logical clock ----------------------------------------------------------


def test_hlc_follows_the_clock_when_it_is_right(store: MarkStore, clock: FakeClock) -> None:
    a = store.mark(FS_ID, "csis-speech", True, "alice")
    clock.advance(minutes=3)
    b = store.mark(FS_ID, "csis-speech", False, "alice")
    assert (a.hlc, b.hlc) == (ms(T0), ms(T0 + timedelta(minutes=3)))


def test_hlc_never_goes_backwards_when_the_clock_does(store: MarkStore, clock: FakeClock) -> None:
    first = store.mark(FS_ID, "csis-speech", True, "alice")
    clock.advance(hours=-1)  # NTP step, or someone set the laptop clock back
    second = store.mark(FS_ID, "csis-speech", False, "alice")
    clock.advance(days=-30)
    third = store.mark(FS_ID, "blinken-press-conference", True, "alice")
    assert first.hlc < second.hlc < third.hlc
    assert second.hlc == first.hlc + 1 and third.hlc == second.hlc + 1
    # The real time of each mark is what the clock said, even if it went back.
    assert second.at == T0 - timedelta(hours=1)
    # The mark made last is the one that counts, whatever the clock said.
    assert store.history(FS_ID) == [first, second, third]
    assert store.done_ids(FS_ID) == {"blinken-press-conference"}
    # Same clock reading twice in a row (a frozen or coarse clock) still orders.
    fourth = store.mark(FS_ID, "csis-speech", True, "alice")
    fifth = store.mark(FS_ID, "csis-speech", False, "alice")
    assert third.hlc < fourth.hlc < fifth.hlc
    assert "csis-speech" not in store.done_ids(FS_ID)


def test_hlc_orders_after_a_mark_from_a_fast_clock(store: MarkStore, clock: FakeClock) -> None:
    future = T0 + timedelta(days=10)  # a laptop whose clock runs ten days fast
    fast = Mark("f" * 32, FS_ID, "csis-speech", True, future, "laptop", ms(future))
    assert store.add_marks([fast]) == 1
    assert store.done_ids(FS_ID) == {"csis-speech"}
    # Here the clock is right; the next mark still goes past the fast one.
    ours = store.mark(FS_ID, "csis-speech", False, "alice")
    assert ours.hlc == fast.hlc + 1
    assert ours.at == T0
    assert store.history(FS_ID) == [fast, ours]
    assert store.done_ids(FS_ID) == set()
    # Not only the item it marked: any later mark orders after everything seen.
    other = store.mark(FS_ID, "blinken-press-conference", True, "alice")
    assert other.hlc > ours.hlc


def test_ids_grow_with_the_clock_and_are_32_hex_digits(store: MarkStore, clock: FakeClock) -> None:
    # Time-ordered ids (the clock value first) keep a pull's inserts into the id index
    # near its end; random ids cost a page read and write each once the index is large.
    made = []
    for step in (0, 1, 1, -60, 0, 3600):  # the clock going back still orders (the HLC does)
        clock.advance(seconds=step)
        made.append(store.mark(FS_ID, "csis-speech", True, "alice"))
    ids = [m.id for m in made]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)
    # The first 12 digits are the clock value; the rest is random, so two marks in the
    # same millisecond on two laptops still differ.
    assert int(ids[0][:12], 16) == made[0].hlc - HLC_FLOOR
    assert len({new_id(made[0].hlc)[12:] for _ in range(1000)}) == 1000


def test_ids_are_never_negative_or_too_long_across_the_clock_range() -> None:
    # The years 1900-2200 and the room above them all fit in the 12 digits, in order.
    values = [HLC_FLOOR, ms(T0), HLC_CEILING, HLC_LIMIT]
    ids = [new_id(v) for v in values]
    assert all(len(i) == 32 and not i.startswith("-") for i in ids)
    assert ids == sorted(ids)


def test_hlc_is_across_trips(store: MarkStore) -> None:
    a = store.mark("other-trip", "x", True, "alice")
    b = store.mark(FS_ID, "csis-speech", True, "alice")
    assert b.hlc > a.hlc


def test_order_is_the_same_in_every_copy(tmp_path: Path, clock: FakeClock) -> None:
    """hlc, then who, then id: a tie on hlc is broken the same way everywhere."""
    hlc = ms(T0)
    marks = [
        Mark("b" * 32, FS_ID, "csis-speech", True, T0, "zoe", hlc),
        Mark("c" * 32, FS_ID, "csis-speech", False, T0, "adam", hlc),
        Mark("a" * 32, FS_ID, "csis-speech", True, T0, "adam", hlc),
        Mark("d" * 32, FS_ID, "arlington-wreath", True, T0, "adam", hlc - 1),
    ]
    with (
        MarkStore(tmp_path / "one", clock=clock) as one,
        MarkStore(tmp_path / "two", clock=clock) as two,
    ):
        one.add_marks(marks)
        for m in reversed(marks):
            two.add_marks([m])
        expected = [marks[3], marks[2], marks[1], marks[0]]
        assert one.history(FS_ID) == expected
        assert two.history(FS_ID) == expected
        assert one.state(FS_ID) == two.state(FS_ID)
        assert one.state(FS_ID)["csis-speech"].who == "zoe"
        assert one.done_ids(FS_ID) == two.done_ids(FS_ID) == {"csis-speech", "arlington-wreath"}


# -- add_marks ---------------------------------------------------------------------------


def test_add_marks_is_idempotent(tmp_path: Path, clock: FakeClock) -> None:
    with MarkStore(tmp_path / "a", clock=clock) as a, MarkStore(tmp_path / "b", clock=clock) as b:
        a.mark(FS_ID, "csis-speech", True, "alice")
        clock.advance(seconds=1)
        a.mark(FS_ID, "blinken/indo-pacific", True, "alice")
        theirs = a.history(FS_ID)
        assert b.add_marks(theirs) == 2
        assert b.add_marks(theirs) == 0  # same ids again: nothing added
        assert b.add_marks(list(reversed(theirs))) == 0
        assert b.history(FS_ID) == theirs
        clock.advance(seconds=1)
        new = a.mark(FS_ID, "csis-speech", False, "alice")
        assert b.add_marks(a.history(FS_ID)) == 1  # only the one it did not have
        assert b.history(FS_ID) == a.history(FS_ID)
        assert len({m.id for m in b.history(FS_ID)}) == 3
        assert b.state(FS_ID)["csis-speech"] == new
        assert b.add_marks([]) == 0


def test_add_marks_keeps_the_marks_exactly(store: MarkStore) -> None:
    at = datetime(2023, 1, 17, 20, 30, 0, 123456, tzinfo=UTC)
    m = Mark("0123456789abcdef" * 2, FS_ID, "joly/cptpp-accession", False, at, "Zoë", 42)
    store.add_marks([m])
    assert store.history(FS_ID) == [m]


# -- orphans -----------------------------------------------------------------------------


def test_marks_for_items_not_in_the_trip_are_kept(store: MarkStore, clock: FakeClock) -> None:
    store.mark(FS_ID, "csis-speech", True, "alice")
    clock.advance(minutes=1)
    gone = store.mark(FS_ID, "dinner-that-was-cancelled", True, "bob")
    clock.advance(minutes=1)
    store.mark(FS_ID, "blinken/point-removed-from-file", True, "bob")
    assert gone in store.history(FS_ID)
    assert store.done_ids(FS_ID) == {
        "csis-speech",
        "dinner-that-was-cancelled",
        "blinken/point-removed-from-file",
    }


def test_log_shows_orphaned_marks(tmp_path: Path, clock: FakeClock) -> None:
    state_dir = tmp_path / "state"
    with MarkStore(state_dir, clock=clock) as s:
        s.mark(FS_ID, "csis-speech", True, "alice")
        clock.advance(minutes=1)
        s.mark(FS_ID, "dinner-that-was-cancelled", True, "bob")
        clock.advance(minutes=1)
        s.mark(FS_ID, "blinken/point-removed-from-file", False, "carol")
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONIOENCODING": "utf-8",
    }
    env.pop("TRIPDASH_STATE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tripdash", "log", FS, "--state-dir", str(state_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    assert "csis-speech" in lines[0] and "orphaned" not in lines[0]
    assert "dinner-that-was-cancelled" in lines[1] and "orphaned" in lines[1]
    assert "blinken/point-removed-from-file" in lines[2] and "orphaned" in lines[2]
    # T0 is 14:15 UTC: 09:15 EST where the delegation was (Washington), 14:15 GMT at home.
    assert lines[0].startswith("Tue 17 Jan 2023 09:15 EST  14:15 GMT")
    assert lines[2].startswith("Tue 17 Jan 2023 09:17 EST  14:17 GMT")


# -- files and permissions ---------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A careless umask (0): the store must still keep its files private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_directory_and_files_are_private(
    state_dir: Path, clock: FakeClock, open_umask: None
) -> None:
    with MarkStore(state_dir / "nested", clock=clock) as s:
        s.mark(FS_ID, "csis-speech", True, "alice")
        assert s.path == state_dir / "nested" / DB_NAME
        assert mode(state_dir / "nested") == 0o700
        assert mode(s.path) == 0o600
        for suffix in ("-wal", "-shm"):
            side = s.path.with_name(DB_NAME + suffix)
            if side.exists():
                assert mode(side) == 0o600, side
        assert s.path.with_name(DB_NAME + "-wal").exists()  # WAL mode while open


def test_existing_loose_permissions_are_tightened(
    state_dir: Path, clock: FakeClock, open_umask: None
) -> None:
    with MarkStore(state_dir, clock=clock) as s:
        s.mark(FS_ID, "csis-speech", True, "alice")
    os.chmod(state_dir, 0o755)
    os.chmod(state_dir / DB_NAME, 0o644)
    with MarkStore(state_dir, clock=clock) as s:
        assert s.notice is None
        assert mode(state_dir) == 0o700
        assert mode(s.path) == 0o600
        assert s.done_ids(FS_ID) == {"csis-speech"}


def test_unusable_state_dir_is_a_store_error(tmp_path: Path, clock: FakeClock) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="a-file"):
        MarkStore(blocker, clock=clock)
    with pytest.raises(StoreError):
        MarkStore(blocker / "below", clock=clock)
    assert blocker.read_text() == "not a directory"


# -- unreadable databases are moved aside, never overwritten ---------------------------


GARBAGE = bytes(range(256)) * 40 + b"these are not the marks you are looking for" * 10


@pytest.mark.parametrize(
    "content",
    [GARBAGE, b"SQLite format 3\x00" + GARBAGE],
    ids=["garbage", "garbage-with-sqlite-header"],
)
def test_corrupt_database_is_moved_aside(state_dir: Path, clock: FakeClock, content: bytes) -> None:
    state_dir.mkdir(mode=0o700)
    (state_dir / DB_NAME).write_bytes(content)
    with MarkStore(state_dir, clock=clock) as s:
        (moved,) = moved_aside(state_dir)
        assert moved.read_bytes() == content  # the original, byte for byte
        assert s.notice is not None
        assert str(moved) in s.notice
        assert "moved" in s.notice
        # A new, empty store that works.
        assert s.history(FS_ID) == []
        m = s.mark(FS_ID, "csis-speech", True, "alice")
        assert s.history(FS_ID) == [m]
        assert mode(s.path) == 0o600
    with MarkStore(state_dir, clock=clock) as s:
        assert s.notice is None
        assert s.done_ids(FS_ID) == {"csis-speech"}
    assert moved.read_bytes() == content


def test_a_truncated_database_is_moved_aside(state_dir: Path, clock: FakeClock) -> None:
    with MarkStore(state_dir, clock=clock) as s:
        for i in range(300):
            s.mark(FS_ID, f"item-{i}-" + "x" * 200, True, "alice")
    path = state_dir / DB_NAME
    whole = path.read_bytes()
    assert len(whole) > 8 * 4096
    half = whole[: len(whole) // 2]
    path.write_bytes(half)
    with MarkStore(state_dir, clock=clock) as s:
        (moved,) = moved_aside(state_dir)
        assert moved.read_bytes() == half
        assert s.notice is not None and str(moved) in s.notice
        assert s.history(FS_ID) == []


def test_moving_aside_twice_in_the_same_second_overwrites_nothing(
    state_dir: Path, clock: FakeClock
) -> None:
    state_dir.mkdir(mode=0o700)
    (state_dir / DB_NAME).write_bytes(b"first" + GARBAGE)
    MarkStore(state_dir, clock=clock).close()
    (state_dir / DB_NAME).write_bytes(b"second" + GARBAGE)
    with MarkStore(state_dir, clock=clock) as s:  # the clock has not moved
        first, second = moved_aside(state_dir)
        assert {first.read_bytes(), second.read_bytes()} == {
            b"first" + GARBAGE,
            b"second" + GARBAGE,
        }
        assert s.notice is not None
        assert str(second if second.read_bytes().startswith(b"second") else first) in s.notice


@pytest.mark.parametrize("version", ["99", str(SCHEMA_VERSION + 1), "not-a-number"])
def test_database_from_a_newer_version_is_moved_aside(
    state_dir: Path, clock: FakeClock, version: str
) -> None:
    with MarkStore(state_dir, clock=clock) as s:
        kept = s.mark(FS_ID, "csis-speech", True, "alice")
    raw = sqlite3.connect(state_dir / DB_NAME)
    with raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    raw.close()
    before = (state_dir / DB_NAME).read_bytes()
    with MarkStore(state_dir, clock=clock) as s:
        (moved,) = moved_aside(state_dir)
        assert s.notice is not None and str(moved) in s.notice
        if version != "not-a-number":
            assert "newer" in s.notice
        assert moved.read_bytes() == before
        assert s.history(FS_ID) == []
        s.mark(FS_ID, "arlington-wreath", True, "bob")
    # The moved-aside database still holds its marks, for a newer tripdash to read.
    raw = sqlite3.connect(f"file:{moved}?mode=ro", uri=True)
    try:
        assert raw.execute("SELECT id FROM marks").fetchall() == [(kept.id,)]
        assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            version,
        )
    finally:
        raw.close()


def test_a_healthy_database_is_never_moved(state_dir: Path, clock: FakeClock) -> None:
    for _ in range(3):
        with MarkStore(state_dir, clock=clock) as s:
            assert s.notice is None
            s.mark(FS_ID, "csis-speech", True, "alice")
    assert moved_aside(state_dir) == []
    # The database, and the note of its last clean close (what lets an opening skip the
    # full integrity check).
    assert sorted(p.name for p in state_dir.iterdir()) == [DB_NAME, DB_NAME + ".clean"]


def test_an_empty_file_is_said_and_replaced(state_dir: Path, clock: FakeClock) -> None:
    state_dir.mkdir(mode=0o700)
    (state_dir / DB_NAME).write_bytes(b"")
    with MarkStore(state_dir, clock=clock) as s:
        assert s.notice is not None
        assert "empty file (0 bytes" in s.notice and str(s.path) in s.notice
        s.mark(FS_ID, "csis-speech", True, "alice")
    (moved,) = moved_aside(state_dir)
    assert moved.read_bytes() == b""
    with MarkStore(state_dir, clock=clock) as s:
        assert s.notice is None
        assert s.done_ids(FS_ID) == {"csis-speech"}


class _FailingConnection(sqlite3.Connection):
    """Fails the switch to WAL as another process's lock or a failing disk would."""

    error = "database is locked"
    failures = 0

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA journal_mode") and type(self).failures > 0:
            type(self).failures -= 1
            raise sqlite3.OperationalError(type(self).error)
        return super().execute(sql, *args)  # type: ignore[arg-type]


@pytest.fixture
def failing_connect(monkeypatch: pytest.MonkeyPatch) -> type[_FailingConnection]:
    real = sqlite3.connect

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        return real(*args, factory=_FailingConnection, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(sqlite3, "connect", connect)
    _FailingConnection.failures = 0
    _FailingConnection.error = "database is locked"
    return _FailingConnection


def test_a_locked_database_is_waited_for_not_moved_aside(
    state_dir: Path, clock: FakeClock, failing_connect: type[_FailingConnection]
) -> None:
    """Another process creating the database holds a lock SQLite does not wait for."""
    with MarkStore(state_dir, clock=clock) as s:
        kept = s.mark(FS_ID, "csis-speech", True, "alice")
    failing_connect.failures = 3
    with MarkStore(state_dir, clock=clock) as s:
        assert failing_connect.failures == 0
        assert s.notice is None
        assert s.history(FS_ID) == [kept]
    assert moved_aside(state_dir) == []


def test_a_failing_disk_is_an_error_not_a_reason_to_move_the_database(
    state_dir: Path, clock: FakeClock, failing_connect: type[_FailingConnection]
) -> None:
    with MarkStore(state_dir, clock=clock) as s:
        s.mark(FS_ID, "csis-speech", True, "alice")
    before = (state_dir / DB_NAME).read_bytes()
    failing_connect.error = "disk I/O error"
    failing_connect.failures = 1
    with pytest.raises(StoreError, match="disk I/O error"):
        MarkStore(state_dir, clock=clock)
    assert moved_aside(state_dir) == []
    assert (state_dir / DB_NAME).read_bytes() == before
    with MarkStore(state_dir, clock=clock) as s:  # once the disk is back, all is there
        assert s.notice is None
        assert s.done_ids(FS_ID) == {"csis-speech"}


def test_a_directory_in_place_of_the_database_is_not_moved(
    state_dir: Path, clock: FakeClock
) -> None:
    (state_dir / DB_NAME).mkdir(parents=True)
    (state_dir / DB_NAME / "keep.txt").write_text("mine")
    os.chmod(state_dir / DB_NAME, 0o750)
    with pytest.raises(StoreError, match="directory"):
        MarkStore(state_dir, clock=clock)
    assert mode(state_dir / DB_NAME) == 0o750  # left alone, not chmodded to 0600
    assert (state_dir / DB_NAME / "keep.txt").read_text() == "mine"
    assert moved_aside(state_dir) == []


# -- seeing other processes' marks -----------------------------------------------------


def test_changed_elsewhere_once_per_outside_commit(state_dir: Path, clock: FakeClock) -> None:
    with MarkStore(state_dir, clock=clock) as a, MarkStore(state_dir, clock=clock) as b:
        assert not a.changed_elsewhere()
        assert not b.changed_elsewhere()
        b.mark(FS_ID, "csis-speech", True, "bob")
        assert a.changed_elsewhere()
        assert not a.changed_elsewhere()  # only once
        assert a.done_ids(FS_ID) == {"csis-speech"}
        assert not b.changed_elsewhere()  # its own mark is not "elsewhere"
        # Its own marks do not count either, before or after reading.
        a.mark(FS_ID, "arlington-wreath", True, "alice")
        assert not a.changed_elsewhere()
        assert b.changed_elsewhere()
        assert not b.changed_elsewhere()
        # Two commits elsewhere before a poll: still one True, then quiet.
        b.mark(FS_ID, "csis-speech", False, "bob")
        b.mark(FS_ID, "joly/indo-pacific", True, "bob")
        assert a.changed_elsewhere()
        assert not a.changed_elsewhere()
        assert a.done_ids(FS_ID) == b.done_ids(FS_ID) == {"arlington-wreath", "joly/indo-pacific"}


def test_changed_elsewhere_sees_add_marks_from_another_store(
    state_dir: Path, clock: FakeClock
) -> None:
    with MarkStore(state_dir, clock=clock) as a, MarkStore(state_dir, clock=clock) as b:
        b.add_marks([Mark("e" * 32, FS_ID, "csis-speech", True, T0, "sync", ms(T0))])
        assert a.changed_elsewhere()
        assert not a.changed_elsewhere()
        assert a.done_ids(FS_ID) == {"csis-speech"}


# -- defaults ----------------------------------------------------------------------------


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_state_dir({"TRIPDASH_STATE_DIR": str(tmp_path / "x")}) == tmp_path / "x"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir({"TRIPDASH_STATE_DIR": "~/marks"}) == tmp_path / "home" / "marks"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    if sys.platform.startswith("linux"):
        assert default_state_dir({}) == tmp_path / "xdg-state" / "tripdash"
        assert default_state_dir({"TRIPDASH_STATE_DIR": ""}) == tmp_path / "xdg-state" / "tripdash"


def test_default_author() -> None:
    assert default_author({"TRIPDASH_AS": "duty", "LOGNAME": "l", "USER": "u"}) == "duty"
    assert default_author({"LOGNAME": "l", "USER": "u"}) == "l"
    assert default_author({"USER": "u", "USERNAME": "w"}) == "u"
    assert default_author({"USERNAME": "w"}) == "w"
    assert isinstance(default_author({}), str) and default_author({})


@pytest.mark.parametrize(
    "when",
    [
        datetime(2023, 1, 17, 14, 15, tzinfo=UTC),  # no microseconds: still written out
        datetime(2023, 1, 17, 14, 15, 9, 123456, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2023, 3, 12, 3, 30, 1, 5, tzinfo=ZoneInfo("America/New_York")),
        datetime(2023, 1, 18, 5, 45, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    ],
)
def test_stored_times_are_what_isoformat_gives_in_utc(when: datetime) -> None:
    assert stored_time(when) == when.astimezone(UTC).isoformat(timespec="microseconds")
