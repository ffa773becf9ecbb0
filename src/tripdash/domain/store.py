"""Marks: an append-only history of "done" and "not done", in SQLite, that never loses one.

Every mark is an immutable row (trip id, item id, done, when, who, a unique id)
committed in its own transaction before anyone is told it exists. The state of
an item is its latest mark, ordered by a hybrid logical clock (HLC), then by
author, then by mark id, so that every copy of the same marks computes the same
state.

The HLC here is one integer of milliseconds: a new mark gets
``max(wall clock in ms, largest HLC in the database + 1)``. It follows real time
when clocks are right, never goes backwards on one machine, and a mark made
after seeing another always orders after it, so a laptop whose clock runs fast
cannot win forever: the next mark anywhere that has seen its marks goes past them.

It stays far below 2**53 (what every JSON client and CouchDB server carries
exactly): the wall clock counts at most up to :data:`HLC_CEILING` (the year
2200), sync accepts no clock beyond it (nor beyond a margin ahead of the
receiving laptop's wall clock), and a row beyond :data:`HLC_LIMIT` (written by an
older tripdash, which accepted anything below 2**53) is left out of the history
and of the clock, so it can neither freeze an item nor split the team.

A database that cannot be read (corrupt, or written by a newer tripdash) is
never overwritten: it is moved aside, and :attr:`MarkStore.notice` says where.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tripdash.domain.times import UTC, Clock, system_clock

SCHEMA_VERSION = 1
DB_NAME = "marks.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS marks (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL UNIQUE,
    trip_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    done    INTEGER NOT NULL CHECK (done IN (0, 1)),
    at      TEXT NOT NULL,
    who     TEXT NOT NULL,
    hlc     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS marks_by_trip ON marks (trip_id, hlc);
CREATE INDEX IF NOT EXISTS marks_by_hlc ON marks (hlc);
-- Team sync: which marks a server has (pushed by us or pulled from it), and where
-- in each server database's change feed we are (an opaque checkpoint).
CREATE TABLE IF NOT EXISTS sync_known (
    server  TEXT NOT NULL,
    mark_id TEXT NOT NULL,
    PRIMARY KEY (server, mark_id)
);
CREATE TABLE IF NOT EXISTS sync_checkpoints (
    server     TEXT NOT NULL,
    db         TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    PRIMARY KEY (server, db)
);
"""


def _epoch_ms(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)


#: The clock's range: the years 1900 to 2200, in ms since 1970.
HLC_FLOOR = _epoch_ms(1900)
HLC_CEILING = _epoch_ms(2200)
#: Never passed: twice the ceiling (room for 7 * 10**12 marks beyond it), 620 times
#: below 2**53.
HLC_LIMIT = 2 * HLC_CEILING
#: The rows every reader uses; any other (an older tripdash's forged pull) is ignored.
_SANE = (
    f"hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT} AND at >= '1900-' AND at < '2200-' "
    "AND typeof(at) = 'text' AND typeof(hlc) = 'integer'"
)


class StoreError(Exception):
    """The marks database cannot be used (and could not be safely replaced)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """One immutable entry of the history."""

    id: str
    trip_id: str
    item_id: str
    done: bool
    at: datetime  # real time of the mark, UTC
    who: str
    hlc: int

    @property
    def order(self) -> tuple[int, str, str]:
        """The total order every copy of the history agrees on."""
        return (self.hlc, self.who, self.id)


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$TRIPDASH_STATE_DIR``, else the platform's user state directory for tripdash."""
    env = os.environ if env is None else env
    override = env.get("TRIPDASH_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("tripdash", appauthor=False))


def default_author(env: Mapping[str, str] | None = None) -> str:
    """Who marks: the login name (``--as NAME`` overrides it on the command line)."""
    env = os.environ if env is None else env
    for name in ("TRIPDASH_AS", "LOGNAME", "USER", "USERNAME"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still mark, as "unknown"
        return "unknown"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _row_to_mark(row: tuple[object, ...]) -> Mark:
    ident, trip_id, item_id, done, at, who, hlc = row
    return Mark(
        str(ident),
        str(trip_id),
        str(item_id),
        bool(done),
        datetime.fromisoformat(str(at)),
        str(who),
        int(hlc),  # type: ignore[call-overload]
    )


def _sane_marks(rows: Iterable[tuple[object, ...]]) -> Iterator[Mark]:
    """The rows as marks, leaving out any an older tripdash stored that cannot be read."""
    for row in rows:
        try:
            mark = _row_to_mark(row)
        except (ValueError, TypeError):
            continue
        if mark.at.tzinfo is not None:
            yield mark


_COLUMNS = "id, trip_id, item_id, done, at, who, hlc"


class MarkStore:
    """The marks database of one state directory."""

    def __init__(self, state_dir: Path, *, clock: Clock = system_clock) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME
        self._clock = clock
        #: Set when an unreadable database was moved aside: tell the user.
        self.notice: str | None = None
        self._prepare_dir()
        self._conn = self._open()
        self._data_version = self._read_data_version()

    # -- opening ----------------------------------------------------------------------

    def _prepare_dir(self) -> None:
        try:
            self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.state_dir, 0o700)  # trip contents are sensitive
        except OSError as exc:
            raise StoreError(f"cannot use state directory {self.state_dir}: {exc}") from None

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect_patiently()
        except _Unusable as exc:
            moved = self._move_aside(exc.reason)
            self.notice = (
                f"The marks database could not be read ({exc.reason}). It was moved to "
                f"{moved} and a new, empty one was started."
            )
            try:
                return self._connect_patiently()
            except _Unusable as again:
                raise StoreError(f"{self.path}: {again.reason}") from None

    def _connect_patiently(self) -> sqlite3.Connection:
        """Connect, waiting out another process that holds a lock (it may be creating
        the database, or switching it to WAL, where SQLite does not wait by itself).

        A busy or unreachable database says nothing about its contents: it is never
        moved aside for that (it would be taken from under the process using it).
        """
        deadline = time.monotonic() + 10.0
        while True:
            try:
                return self._connect()
            except _Unavailable as exc:
                if not exc.busy or time.monotonic() > deadline:
                    raise StoreError(f"cannot open {self.path}: {exc.reason}") from None
            time.sleep(0.02)

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.path.is_dir():  # not ours to chmod, nor to move
                raise _Unavailable(f"{self.path} is a directory", busy=False)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            os.chmod(self.path, 0o600)
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise _Unavailable(str(exc), busy=False) from None
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            # FULL: a committed mark survives a power cut, not only a crash.
            conn.execute("PRAGMA synchronous = FULL")
            if mode is None or str(mode[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = DELETE")
            version = self._schema_version(conn)
            if version is not None and version > SCHEMA_VERSION:
                raise _Unusable(
                    f"written by a newer tripdash (schema {version}; this one reads "
                    f"{SCHEMA_VERSION})"
                )
            if version is None or not self._has_sync_tables(conn):
                # One transaction, statement by statement (executescript would commit early).
                # Every statement is IF NOT EXISTS: a database from before team sync gains
                # its (additive) tables without a version change older readers would refuse.
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                conn.execute("COMMIT")
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise _Unusable(f"integrity check failed: {check[0] if check else '?'}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            kind = _error_kind(exc)
            if kind == "unreadable":
                raise _Unusable(str(exc)) from None
            raise _Unavailable(str(exc), busy=kind == "busy") from None
        except _Unusable:
            conn.close()
            raise
        return conn

    @staticmethod
    def _has_sync_tables(conn: sqlite3.Connection) -> bool:
        row = conn.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('sync_known', 'sync_checkpoints')"
        ).fetchone()
        return bool(row and row[0] == 2)

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not has_meta:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            return int(row[0]) if row else None
        except ValueError:
            raise _Unusable(f"unknown schema version {row[0]!r}") from None

    def _move_aside(self, reason: str) -> Path:
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{DB_NAME}.unreadable-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{DB_NAME}.unreadable-{stamp}-{n}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(DB_NAME + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> MarkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def _transaction(self, failure: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any error.

        SQLite errors become :class:`StoreError` ("``failure`` (reason)"), so the
        caller reports them instead of showing anything as saved.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{failure} ({exc})") from None

    def mark(self, trip_id: str, item_id: str, done: bool, who: str) -> Mark:
        """Record a mark and commit it; only then return it."""
        now = self._clock().astimezone(UTC)
        wall_ms = min(int(now.timestamp() * 1000), HLC_CEILING)
        # Not committed, so not shown: the caller says so instead of showing a mark.
        with self._transaction("the mark was not saved; try again") as conn:
            largest = self._largest_hlc(conn)
            hlc = max(wall_ms, largest + 1)
            if hlc > HLC_LIMIT:  # 7 * 10**12 marks after the year 2200: never, but never past
                raise sqlite3.DataError(f"the marks' clock is at its limit ({HLC_LIMIT})")
            mark = Mark(uuid.uuid4().hex, trip_id, item_id, bool(done), now, who, hlc)
            conn.execute(
                f"INSERT INTO marks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (mark.id, trip_id, item_id, int(done), _iso(now), who, mark.hlc),
            )
        # (data_version is not re-read here: it only moves for other connections' commits,
        # and re-reading could swallow one that landed just before ours.)
        return mark

    @staticmethod
    def _largest_hlc(conn: sqlite3.Connection) -> int:
        """The clock's latest value: the largest sane HLC (older, forged rows ignored)."""
        row = conn.execute(
            f"SELECT MAX(hlc) FROM marks WHERE hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT}"
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else HLC_FLOOR

    def add_marks(self, marks: Iterable[Mark]) -> int:
        """Insert marks made elsewhere (sync); ids already present are skipped. Returns count."""
        with self._transaction("marks were not saved") as conn:
            return self._insert(conn, marks)

    @staticmethod
    def _insert(conn: sqlite3.Connection, marks: Iterable[Mark]) -> int:
        added = 0
        for m in marks:
            cur = conn.execute(
                f"INSERT OR IGNORE INTO marks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (m.id, m.trip_id, m.item_id, int(m.done), _iso(m.at), m.who, m.hlc),
            )
            added += cur.rowcount
        return added

    # -- reading ----------------------------------------------------------------------

    def history(self, trip_id: str) -> list[Mark]:
        """Every mark of a trip, oldest first, in the order all copies agree on.

        Rows an older tripdash stored from a forged document (a clock or time out of
        range) are left out: see :meth:`unreadable`.
        """
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM marks WHERE trip_id = ? AND {_SANE} ORDER BY hlc, who, id",
            (trip_id,),
        ).fetchall()
        return list(_sane_marks(rows))

    def unreadable(self, trip_id: str) -> int:
        """How many stored marks of a trip :meth:`history` leaves out."""
        (total,) = self._conn.execute(
            "SELECT COUNT(*) FROM marks WHERE trip_id = ?", (trip_id,)
        ).fetchone()
        return int(total) - len(self.history(trip_id))

    def state(self, trip_id: str) -> dict[str, Mark]:
        """The latest mark of each item of a trip."""
        latest: dict[str, Mark] = {}
        for mark in self.history(trip_id):
            latest[mark.item_id] = mark  # history is in order: the last one wins
        return latest

    def done_ids(self, trip_id: str) -> set[str]:
        """The items of a trip whose latest mark is "done"."""
        return {item for item, mark in self.state(trip_id).items() if mark.done}

    def _read_data_version(self) -> int:
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0]) if row else 0

    # -- team sync --------------------------------------------------------------------

    def unsynced(
        self,
        trip_id: str,
        server: str,
        limit: int = 500,
        *,
        after: tuple[int, str, str] | None = None,
    ) -> list[Mark]:
        """Marks of a trip that ``server`` has not shown it holds (oldest first), from
        just ``after`` an order key (:attr:`Mark.order`) when given."""
        hlc, who, ident = after if after is not None else (HLC_FLOOR - 1, "", "")
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM marks m WHERE trip_id = ? AND {_SANE} "
            "AND (hlc, who, id) > (?, ?, ?) AND NOT EXISTS "
            "(SELECT 1 FROM sync_known k WHERE k.server = ? AND k.mark_id = m.id) "
            "ORDER BY hlc, who, id LIMIT ?",
            (trip_id, hlc, who, ident, server, limit),
        ).fetchall()
        return list(_sane_marks(rows))

    def count_unsynced(self, trip_id: str, server: str) -> int:
        """How many of a trip's marks ``server`` has not shown it holds ("waiting")."""
        row = self._conn.execute(
            f"SELECT COUNT(*) FROM marks m WHERE trip_id = ? AND {_SANE} AND NOT EXISTS "
            "(SELECT 1 FROM sync_known k WHERE k.server = ? AND k.mark_id = m.id)",
            (trip_id, server),
        ).fetchone()
        return int(row[0]) if row else 0

    def not_known(self, server: str, mark_ids: list[str]) -> list[str]:
        """Those of ``mark_ids`` that ``server`` has not shown it holds."""
        known: set[str] = set()
        for start in range(0, len(mark_ids), 500):
            chunk = mark_ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            known.update(
                str(r[0])
                for r in self._conn.execute(
                    f"SELECT mark_id FROM sync_known WHERE server = ? AND mark_id IN ({marks})",
                    (server, *chunk),
                )
            )
        return [m for m in mark_ids if m not in known]

    def wall_ms(self) -> int:
        """This laptop's wall clock (the injected one), in ms since 1970."""
        return int(self._clock().astimezone(UTC).timestamp() * 1000)

    def record_synced(self, server: str, mark_ids: Iterable[str]) -> None:
        """Remember that ``server`` has these marks (after it said so)."""
        self._write_many(
            "INSERT OR IGNORE INTO sync_known (server, mark_id) VALUES (?, ?)",
            [(server, mark_id) for mark_id in mark_ids],
        )

    def add_pulled(
        self, server: str, marks: list[Mark], db: str, checkpoint: str
    ) -> tuple[int, int]:
        """Insert marks pulled from ``server`` and move its checkpoint, in one transaction.

        Returns (marks new here, conflicting): a pulled mark whose id is already here
        with other contents is a forgery and is not stored (the one here stays, and
        the server is not taken to hold it). Every other pulled mark is one the
        server has shown it holds. A crash before the commit leaves the old
        checkpoint, so the next round pulls the same changes again; inserting them
        twice is harmless (ids).
        """
        added = conflicting = 0
        with self._transaction("pulled marks were not saved") as conn:
            held = []
            for m in marks:
                new = self._insert(conn, [m])
                if not new:
                    row = conn.execute(
                        f"SELECT {_COLUMNS} FROM marks WHERE id = ?", (m.id,)
                    ).fetchone()
                    try:
                        same = row is not None and _row_to_mark(row) == m
                    except (ValueError, TypeError):
                        same = False
                    if not same:
                        conflicting += 1
                        continue
                added += new
                held.append((server, m.id))
            conn.executemany(
                "INSERT OR IGNORE INTO sync_known (server, mark_id) VALUES (?, ?)", held
            )
            conn.execute(
                "INSERT OR REPLACE INTO sync_checkpoints (server, db, checkpoint) VALUES (?, ?, ?)",
                (server, db, checkpoint),
            )
        return added, conflicting

    def checkpoint(self, server: str, db: str) -> str | None:
        row = self._conn.execute(
            "SELECT checkpoint FROM sync_checkpoints WHERE server = ? AND db = ?", (server, db)
        ).fetchone()
        return str(row[0]) if row else None

    def _write_many(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if rows:
            with self._transaction("sync state was not saved") as conn:
                conn.executemany(sql, rows)

    def changed_elsewhere(self) -> bool:
        """True once after another connection (process) committed marks. Cheap to poll."""
        current = self._read_data_version()
        if current != self._data_version:
            self._data_version = current
            return True
        return False


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Unavailable(Exception):
    """The database could not be used just now, for reasons other than its contents."""

    def __init__(self, reason: str, *, busy: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.busy = busy


# SQLite result codes that say nothing about the file's contents.
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
# SQLITE_PERM, NOMEM, READONLY, INTERRUPT, IOERR, FULL, CANTOPEN, PROTOCOL
_ENVIRONMENT_CODES = frozenset({3, 7, 8, 9, 10, 13, 14, 15})


def _error_kind(exc: sqlite3.DatabaseError) -> str:
    """``busy`` (try again), ``environment`` (give up, keep the file) or ``unreadable``."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is None:
        if not isinstance(exc, sqlite3.OperationalError):
            return "unreadable"
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return "busy"
        return "unreadable" if text.startswith("no such") else "environment"
    base = int(code) & 0xFF
    if base in _BUSY_CODES:
        return "busy"
    return "environment" if base in _ENVIRONMENT_CODES else "unreadable"
