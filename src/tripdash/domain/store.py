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

A database that cannot be read (damaged, or written by a newer tripdash) is
never written to, not even opened for writing: it is moved aside exactly as it
was found, and :attr:`MarkStore.notice` says where. A database that is not
tripdash's (another program's SQLite file) is refused and left alone. A disk
that cannot be written to still lets the marks be read: :attr:`MarkStore.cannot_save`
says why no mark can be saved.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from tripdash.domain import safedir
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
-- Which marks a server holds, by the mark's row and a small number for the server:
-- keys that only grow, so pulling a million marks appends to this index instead of
-- inserting at random into one keyed by text (which cost as much as the marks
-- themselves). sync_known still answers for records, and for marks it recorded
-- before this table existed (it is read as well, never rewritten).
CREATE TABLE IF NOT EXISTS sync_servers (
    no     INTEGER PRIMARY KEY,
    server TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS sync_held (
    server_no INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (server_no, seq)
) WITHOUT ROWID;
-- A row number up to which every mark of a trip is held by a server (all rows are
-- held or do not read as marks): the waiting marks are looked for only after it, so a
-- round on a laptop of 1,000,000 synced marks does not read them all (it took seconds).
CREATE TABLE IF NOT EXISTS sync_upto (
    server_no INTEGER NOT NULL,
    trip_id   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (server_no, trip_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_checkpoints (
    server     TEXT NOT NULL,
    db         TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    PRIMARY KEY (server, db)
);
-- Notes, shifts and kinds from newer releases (see tripdash.domain.records): added
-- beside the marks, so an older tripdash reads such a database as before.
CREATE TABLE IF NOT EXISTS records (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL UNIQUE,
    kind    TEXT NOT NULL,
    trip_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    body    TEXT NOT NULL,
    at      TEXT NOT NULL,
    who     TEXT NOT NULL,
    hlc     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_trip ON records (trip_id, kind, hlc);
CREATE INDEX IF NOT EXISTS records_by_hlc ON records (hlc);
"""


def _epoch_ms(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)


#: The clock's range: the years 1900 to 2200, in ms since 1970.
HLC_FLOOR = _epoch_ms(1900)
HLC_CEILING = _epoch_ms(2200)
#: Never passed: twice the ceiling (room for 7 * 10**12 marks beyond it), 620 times
#: below 2**53.
HLC_LIMIT = 2 * HLC_CEILING


def new_id(hlc: int, noise: int | None = None) -> str:
    """A new mark's or record's id: 32 hex digits, its clock value first, then 80 random bits.

    Ids that grow with time, as UUIDv7's do, instead of random ones (uuid4): every laptop
    keeps an index of mark ids, and a pull inserts each pulled id into it. Random ids
    land anywhere in an index larger than the cache, so each one costs a page read and a
    page written at commit (37 µs a mark past 600,000, against 10 µs in time order, timed
    alone); ids in time order land near the end, where the last ones did. The team's
    marks reach a server roughly in the order they were made, so they come back so too.
    Older releases' ids (uuid4) stay as they are; both are 32 hex digits, which every
    release accepts. The clock value is shifted by the floor so that it is never negative
    (the years 1900-2200 and the room above, :data:`HLC_LIMIT`, fit in 12 hex digits).
    ``noise``, the 80 random bits, is given only by the benchmark (seeded, to repeat a run).
    """
    if noise is None:
        noise = int.from_bytes(os.urandom(10), "big")
    return f"{hlc - HLC_FLOOR:012x}{noise:020x}"


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


#: ``datetime.isoformat(timespec="microseconds")`` of a UTC time, spelt out (see stored_time).
_ISO_UTC = "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00"


def stored_time(dt: datetime) -> str:
    """The stored form of a time: UTC, to the microsecond, ``2023-01-17T14:15:00.000000+00:00``.

    A pull may format a million of them (those not pulled in this form already): a
    pulled mark's time is UTC already (validated so) and not converted again, and the
    text is made by ``%`` in 1.3 µs where ``isoformat(timespec=...)`` takes 3.1 µs (most
    of it reading its keyword).
    """
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return _ISO_UTC % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond)


#: A mark's fields in :class:`Mark`'s order and, last, its time as stored (see
#: :func:`stored_time`), as a pull validates them: a tuple is made in a fifth of the time
#: of a frozen dataclass, and a pull makes a million, most with their time in the stored
#: form already.
MarkFields = tuple[str, str, str, bool, datetime, str, int, str]


def mark_fields(mark: Mark) -> MarkFields:
    """A mark's fields as a tuple, in its order, then its time as stored."""
    return (
        mark.id,
        mark.trip_id,
        mark.item_id,
        mark.done,
        mark.at,
        mark.who,
        mark.hlc,
        stored_time(mark.at),
    )


def _stored_upto(conn: sqlite3.Connection, server_no: int, trip_id: str) -> int:
    """The row saved in ``sync_upto`` for a server and trip (0 when none is)."""
    row = conn.execute(
        "SELECT seq FROM sync_upto WHERE server_no = ? AND trip_id = ?", (server_no, trip_id)
    ).fetchone()
    return int(row[0]) if row else 0


def _move_upto(conn: sqlite3.Connection, server_no: int, trip_id: str, seq: int) -> None:
    """Save ``seq`` as the row up to which ``server_no`` holds every mark of ``trip_id``
    (inside a write transaction); the saved row only ever moves on."""
    conn.execute(
        "INSERT INTO sync_upto (server_no, trip_id, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (server_no, trip_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
        (server_no, trip_id, seq),
    )


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
#: The tables added after the first release (additive: see :func:`_set_up`).
_SYNC_TABLES = frozenset(
    {"sync_known", "sync_servers", "sync_held", "sync_upto", "sync_checkpoints", "records"}
)
#: A mark row ``m`` that the server numbered ``?`` (:meth:`MarkStore._server_no`, then
#: the server's URL) has shown it holds.
_HELD = (
    "(EXISTS (SELECT 1 FROM sync_held h WHERE h.server_no = ? AND h.seq = m.seq) "
    "OR EXISTS (SELECT 1 FROM sync_known k WHERE k.server = ? AND k.mark_id = m.id))"
)
#: A row in exactly the form tripdash writes (``stored_time``: UTC, microseconds), so that
#: :func:`_strict_mark` reads it whenever its text is UTF-8: checked by SQLite, fast.
#: (NULL for some damage: callers wrap it in IFNULL.)
_CANONICAL = (
    "(typeof(id) = 'text' AND length(id) > 0 AND typeof(trip_id) = 'text' "
    "AND length(trip_id) > 0 AND typeof(item_id) = 'text' AND length(item_id) > 0 "
    "AND typeof(who) = 'text' AND length(who) > 0 "
    "AND typeof(done) = 'integer' AND done IN (0, 1) "
    f"AND typeof(hlc) = 'integer' AND hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT} "
    "AND typeof(at) = 'text' AND length(CAST(at AS BLOB)) = 32 AND at GLOB "
    "'[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
    ".[0-9][0-9][0-9][0-9][0-9][0-9]+00:00' "
    "AND substr(at, 1, 4) BETWEEN '1900' AND '2199' AND substr(at, 12, 2) < '24' "
    "AND date(substr(at, 1, 10), '+0 days') = substr(at, 1, 10))"
)


class MarkStore:
    """The marks database of one state directory.

    Opening never writes to a database before it has passed the checks below, so a
    database that fails them is moved aside exactly as it was found:

    * it must carry tripdash's marker (:data:`APPLICATION_ID`, or be a database of an
      older tripdash, with its tables): another program's SQLite file is refused and
      left alone;
    * when it changed since tripdash last closed it cleanly (or was never closed
      cleanly), ``PRAGMA integrity_check``, which also compares every index with its
      table (``quick_check`` does not), and a look at every row;
    * its tables and schema version must be tripdash's.

    When the state directory or its disk cannot be written (read-only, full, no
    permission), the store opens read-only: the marks there are can be read, and
    :attr:`cannot_save` says why none can be saved.
    """

    def __init__(self, state_dir: Path, *, clock: Clock = system_clock) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME
        self._clock = clock
        #: Set when an unreadable database was moved aside (or an empty one replaced):
        #: tell the user.
        self.notice: str | None = None
        #: None while marks can be saved; else why they cannot (a read-only or full disk,
        #: no permission), in words for the dashboard's header and the commands.
        self.cannot_save: str | None = None
        #: Marks that could not be read (a damaged row): one message each, naming the
        #: file and the row. They are left out of :meth:`history`, never silently.
        self.unreadable_rows: list[str] = []
        self._bad_seqs: set[int] = set()
        self._verified: tuple[int, int] | None = None
        self._side_snapshot: dict[str, bytes] = {}
        self._conn = self._open()
        self._data_version = self._read_data_version()

    @property
    def writable(self) -> bool:
        """Whether marks can be saved (see :attr:`cannot_save` for why not)."""
        return self.cannot_save is None

    # -- opening ----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            safedir.private_dir(self.state_dir)
        except safedir.UnsafeLocation as exc:
            raise StoreError(f"cannot use state directory: {exc}") from None
        except OSError as exc:
            if exc.errno in _CANNOT_WRITE and not os.path.lexists(self.state_dir):
                # Nothing to read, and nowhere to write: an empty store that says so.
                self.cannot_save = (
                    f"marks cannot be saved: cannot create {self.state_dir} ({exc.strerror or exc})"
                )
                return self._memory()
            raise StoreError(
                f"cannot use state directory {self.state_dir}: {exc.strerror or exc}"
            ) from None
        with _DirectoryLock(self.state_dir):
            deadline = time.monotonic() + 10.0
            while True:
                try:
                    return self._connect()
                except _Unavailable as exc:
                    if not exc.busy or time.monotonic() > deadline:
                        raise StoreError(f"cannot open {self.path}: {exc.reason}") from None
                time.sleep(0.02)

    def _connect(self) -> sqlite3.Connection:
        """One attempt at opening (under the directory lock): check, then use."""
        found = self._inspect()
        if found is None:
            return self._start_new()
        if found.st_size == 0:
            moved = self._move_aside(found, created=())
            self.notice = (
                f"The marks database {self.path} was an empty file (0 bytes: no marks in it). "
                f"It was moved to {moved} and a new one was started."
            )
            return self._start_new()
        try:
            verdict = self._check(found)
        except _Unusable as exc:
            moved = self._move_aside(found, created=exc.created)
            self.notice = (
                f"The marks database {self.path} could not be read ({exc.reason}). It was "
                f"moved to {moved}, as it was, and a new, empty one was started."
            )
            return self._start_new()
        return self._use(found, verdict)

    def _inspect(self) -> os.stat_result | None:
        """The database file as found, or None; StoreError for one never to touch."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _Unavailable(exc.strerror or str(exc), busy=False) from None
        if stat.S_ISLNK(st.st_mode):
            raise StoreError(
                f"{self.path} is a symbolic link: refusing to use it (marks are kept only "
                "in a real file of the state directory)"
            )
        if stat.S_ISDIR(st.st_mode):  # not ours to chmod, nor to move
            raise _Unavailable(f"{self.path} is a directory", busy=False)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{self.path} is not a regular file: refusing to use it")
        if st.st_uid != safedir.current_uid() and safedir.current_uid() >= 0:
            raise StoreError(
                f"{self.path} belongs to another user (uid {st.st_uid}): refusing to use it"
            )
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(DB_NAME + suffix)
            if os.path.islink(side):
                raise StoreError(f"{side} is a symbolic link: refusing to use the database")
        return st

    def _check(self, found: os.stat_result) -> _Verdict:
        """Read the database without writing to it; raise _Unusable when it cannot be used."""
        wal = self.path.with_name(DB_NAME + "-wal")
        shm = self.path.with_name(DB_NAME + "-shm")
        had = {p: p.exists() for p in (wal, shm)}
        # Opened by a store of this process: never open its files other than through
        # SQLite (closing a descriptor of a file drops every lock the process holds on it).
        ours_open = (found.st_dev, found.st_ino) in _VERIFIED
        header = b"" if ours_open else _read_header(self.path)
        in_wal_mode = len(header) >= 20 and header[18] == 2 and header[19] == 2
        changed = not ours_open and self._changed_since_clean_close(found, wal_exists=had[wal])
        if changed and had[shm]:
            # Reading may rebuild the WAL index: keep it as found, for the moved-aside copy.
            with contextlib.suppress(OSError):
                self._side_snapshot["-shm"] = shm.read_bytes()
        # Nobody else can open it now (the directory lock), and with no WAL file no one
        # has it open: read it as an immutable file, which creates nothing beside it.
        # An empty WAL holds no commit, and on a disk nobody can write to (full, or
        # read-only) nobody can add one: the main file is then the whole database too,
        # and reading it through the WAL index would fail (a full disk cannot grow it).
        immutable = in_wal_mode and (
            not had[wal] or (_size(wal) == 0 and self._disk_refuses() is not None)
        )
        try:
            conn = _connect_uri(self.path, "ro", immutable=immutable)
        except sqlite3.Error as exc:
            raise _Unavailable(str(exc), busy=False) from None
        try:
            try:
                verdict = self._examine(conn, changed=changed)
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            kind = _error_kind(exc)
            if kind == "unreadable":
                raise _Unusable(_describe(exc), _created(had)) from None
            raise _Unavailable(str(exc), busy=kind == "busy") from None
        except _Unusable as exc:
            exc.created = _created(had)
            raise
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            # Damage SQLite itself lets through (a name that is not UTF-8, say).
            raise _Unusable(f"unreadable: {_describe(exc)}", _created(had)) from None
        return verdict

    def _examine(self, conn: sqlite3.Connection, *, changed: bool) -> _Verdict:
        conn.execute("PRAGMA busy_timeout = 10000")
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = {
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        legacy = app_id == 0 and {"meta", "marks"} <= tables
        if app_id != APPLICATION_ID and not legacy:
            what = "an empty SQLite database" if not tables else "another program's SQLite file"
            raise StoreError(
                f"{self.path} is not a tripdash marks database ({what}, "
                f"application id {app_id:#x}): left alone. Move it away, or keep marks "
                "elsewhere with --state-dir"
            )
        if changed:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
            if problems != ["ok"]:
                raise _Unusable("integrity check failed: " + "; ".join(problems[:3]))
        for table in ("meta", "marks"):
            if table not in tables:
                raise _Unusable(f"its {table} table is missing")
        columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(marks)")}
        missing = [c for c in _COLUMNS.split(", ") if c not in columns]
        if missing:
            raise _Unusable(f"the marks table lacks {', '.join(missing)}")
        version = self._schema_version(conn)
        if version is None:
            raise _Unusable("it has no schema version")
        if version > SCHEMA_VERSION:
            raise _Unusable(
                f"written by a newer tripdash (schema {version}; this one reads {SCHEMA_VERSION})"
            )
        if changed:
            self._scan_rows(conn)
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        return _Verdict(
            setup=app_id != APPLICATION_ID or not tables >= _SYNC_TABLES or mode != "wal",
            sync_tables=tables >= _SYNC_TABLES,
        )

    def _scan_rows(self, conn: sqlite3.Connection) -> None:
        """Every row that would not read as a mark, reported (not skipped silently).

        SQLite sorts the rows out itself (converting 100,000 rows in Python took
        seconds): those in the form tripdash writes (:data:`_CANONICAL`) need only their
        text checked as UTF-8, all of it at once; only the others are converted here,
        one by one, and reported when they cannot be read.
        """
        conn.text_factory = bytes
        try:
            others = f"SELECT seq, {_COLUMNS} FROM marks WHERE NOT IFNULL({_CANONICAL}, 0)"
            for row in conn.execute(others):
                self._convert(row)
            texts = " || x'00' || ".join(
                f"CAST({c} AS BLOB)" for c in ("id", "trip_id", "item_id", "who")
            )
            (blob,) = conn.execute(
                f"SELECT group_concat({texts}, x'00') FROM marks WHERE IFNULL({_CANONICAL}, 0)"
            ).fetchone()
            try:
                bytes(blob or b"").decode("utf-8")
            except UnicodeDecodeError:  # damaged text somewhere: find the rows, one by one
                canonical = f"SELECT seq, {_COLUMNS} FROM marks WHERE IFNULL({_CANONICAL}, 0)"
                for row in conn.execute(canonical):
                    self._convert(row)
        finally:
            conn.text_factory = str

    def _convert(self, row: tuple[object, ...]) -> Mark | None:
        """A row (seq first, text as bytes or str) as a Mark; None, and reported, if bad."""
        seq = row[0]
        try:
            return _strict_mark(tuple(_text(v) for v in row[1:]))
        except (ValueError, TypeError, OverflowError) as exc:
            if isinstance(seq, int) and seq not in self._bad_seqs:
                self._bad_seqs.add(seq)
                self.unreadable_rows.append(
                    f"{self.path}: mark #{seq} cannot be read ({exc}): left out"
                )
            return None

    def _changed_since_clean_close(self, found: os.stat_result, *, wal_exists: bool) -> bool:
        if wal_exists:
            return True  # open elsewhere, or not closed cleanly
        try:
            record = json.loads(safedir.read_file(self.path.with_name(CLEAN_NAME), limit=4096))
        except (OSError, ValueError):
            return True
        return bool(record != _fingerprint(found))

    def _use(self, found: os.stat_result, verdict: _Verdict) -> sqlite3.Connection:
        """Open a checked database for use: read-write when its disk allows, else read-only."""
        reason = self._why_read_only(found)
        if reason is None:
            try:
                conn = _connect_uri(self.path, "rw")
            except sqlite3.Error as exc:
                raise _Unavailable(str(exc), busy=False) from None
            try:
                _configure(conn)
                if verdict.setup:
                    _set_up(conn)
                self._tighten()
            except sqlite3.DatabaseError as exc:
                conn.close()
                kind = _error_kind(exc)
                if kind == "busy":
                    raise _Unavailable(str(exc), busy=True) from None
                if kind == "unreadable":
                    raise _Unavailable(str(exc), busy=False) from None
                reason = f"marks cannot be saved: {self.path}: {_describe(exc)}"
            else:
                self._remember_verified(found)
                return conn
        self.cannot_save = reason
        conn = self._read_only(verdict)
        self._remember_verified(found)
        return conn

    def _disk_refuses(self) -> str | None:
        """Why nobody can write to the state directory's disk (read-only, full), else None."""
        try:
            fs = os.statvfs(self.state_dir)
        except (OSError, AttributeError):
            return None
        if fs.f_flag & getattr(os, "ST_RDONLY", 1):
            return f"{self.state_dir} is on a read-only file system"
        if fs.f_bavail == 0:
            return f"the disk holding {self.state_dir} is full"
        return None

    def _why_read_only(self, found: os.stat_result) -> str | None:
        """Why the database cannot be written to, as far as the system says beforehand."""
        refused = self._disk_refuses()
        if refused is not None:
            return f"marks cannot be saved: {refused}"
        for where in (self.state_dir, self.path):
            if not os.access(where, os.W_OK):
                return f"marks cannot be saved: no permission to write {where}"
        return None

    def _read_only(self, verdict: _Verdict) -> sqlite3.Connection:
        """A connection that only reads (it writes nothing, not even beside the file)."""
        wal = self.path.with_name(DB_NAME + "-wal")
        last: sqlite3.Error | None = None
        # With commits in a WAL file, they must be read too (mode=ro). Without any, on a
        # disk nobody can write to, the main file is the whole database: read it as an
        # immutable file, which makes nothing beside it (a WAL index half made on a full
        # disk would stop every later opening until space is freed).
        if wal.exists() and not (_size(wal) == 0 and self._disk_refuses() is not None):
            attempts: tuple[bool, ...] = (False,)
        elif self._disk_refuses() is not None:
            attempts = (True, False)
        else:
            attempts = (False, True)
        for immutable in attempts:
            try:
                conn = _connect_uri(self.path, "ro", immutable=immutable)
                conn.execute("PRAGMA busy_timeout = 10000")
                conn.execute("SELECT COUNT(*) FROM marks").fetchone()
                if not verdict.sync_tables:
                    _temporary_sync_tables(conn)
                return conn
            except sqlite3.Error as exc:
                last = exc
                with contextlib.suppress(Exception):
                    conn.close()
        raise StoreError(f"cannot read {self.path}: {last}")

    def _memory(self) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        _set_up(conn)
        return conn

    def _start_new(self) -> sqlite3.Connection:
        """Create a new database: made complete under a temporary name, then linked into place.

        So no process ever finds a half-made database at the path (an empty file there is
        never tripdash's own work in progress).
        """
        reason = None
        try:
            fs = os.statvfs(self.state_dir)
            if fs.f_flag & getattr(os, "ST_RDONLY", 1):
                reason = f"{self.state_dir} is on a read-only file system"
        except (OSError, AttributeError):
            pass
        if reason is None:
            try:
                self._create()
            except (OSError, sqlite3.Error) as exc:
                if isinstance(exc, FileExistsError):
                    raise _Unavailable("created meanwhile", busy=True) from None
                if isinstance(exc, OSError) and exc.errno not in _CANNOT_WRITE:
                    raise StoreError(f"cannot create {self.path}: {exc.strerror or exc}") from None
                reason = _describe(exc) if isinstance(exc, sqlite3.Error) else exc.strerror
        if reason is not None:
            self.cannot_save = f"marks cannot be saved: cannot create {self.path} ({reason})"
            return self._memory()
        found = self._inspect()
        if found is None:
            raise _Unavailable("vanished after it was created", busy=True)
        return self._use(found, _Verdict(setup=False, sync_tables=True))

    def _create(self) -> None:
        for stale in self.state_dir.glob(f".{DB_NAME}.*.tmp*"):
            # Under the directory lock, a temporary database is a dead process's.
            with contextlib.suppress(OSError):
                stale.unlink()
        tmp = safedir.temporary_name(self.path)
        os.close(safedir.create_exclusive(tmp))
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous = FULL")
                _set_up(conn)
            finally:
                conn.close()
            _fsync(tmp)
            os.link(tmp, self.path)  # fails if the path exists: then nothing is replaced
            _fsync_dir(self.state_dir)
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def _tighten(self) -> None:
        # By name, never by opening: closing any descriptor of a file releases every POSIX
        # lock this process holds on it, SQLite's included. (No symbolic link: _inspect.)
        for suffix in ("", "-wal", "-shm"):
            path = self.path.with_name(DB_NAME + suffix)
            try:
                found = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(found.st_mode) and stat.S_IMODE(found.st_mode) != 0o600:
                os.chmod(path, 0o600)

    def _remember_verified(self, found: os.stat_result) -> None:
        self._verified = (found.st_dev, found.st_ino)
        _VERIFIED[self._verified] = _VERIFIED.get(self._verified, 0) + 1

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return None
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise _Unusable(f"unknown schema version {row[0]!r}") from None

    def _move_aside(self, found: os.stat_result, *, created: tuple[Path, ...]) -> Path:
        """Rename the database and its WAL files aside, exactly as they were found."""
        try:
            now = os.lstat(self.path)
        except OSError as exc:
            raise StoreError(f"{self.path}: {exc.strerror or exc}") from None
        if (now.st_dev, now.st_ino) != (found.st_dev, found.st_ino):
            raise _Unavailable("replaced while being checked", busy=True)
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{DB_NAME}.unreadable-{stamp}")
        n = 1
        while any(os.path.lexists(f"{target}{s}") for s in ("", "-wal", "-shm")):
            n += 1
            target = self.path.with_name(f"{DB_NAME}.unreadable-{stamp}-{n}")
        try:
            os.rename(self.path, target)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(DB_NAME + suffix)
                if side in created:
                    side.unlink(missing_ok=True)  # made by our reading: not part of what was found
                    continue
                if not side.exists():
                    continue
                kept = Path(f"{target}{suffix}")
                snapshot = self._side_snapshot.get(suffix)
                os.rename(side, kept)
                if snapshot is not None and kept.read_bytes() != snapshot:
                    safedir.write_file(kept, snapshot)  # the index as found, before reading
        except OSError as exc:
            raise StoreError(
                f"the marks database {self.path} cannot be read, and could not be moved "
                f"aside: {exc.strerror or exc}"
            ) from None
        _fsync_dir(self.state_dir)
        return target

    def close(self) -> None:
        """Close; after the last connection, note the file's state for the next opening."""
        self._conn.close()
        if self._verified is not None:
            count = _VERIFIED.get(self._verified, 1) - 1
            if count > 0:
                _VERIFIED[self._verified] = count
            else:
                _VERIFIED.pop(self._verified, None)
                if self.cannot_save is None:
                    self._note_clean_close()
            self._verified = None

    def _note_clean_close(self) -> None:
        # With no WAL file left, no connection has it open and every commit is in the
        # main file: the next opening may skip the full check if it finds it unchanged.
        if self.path.with_name(DB_NAME + "-wal").exists() or self._bad_seqs:
            return
        try:
            found = os.lstat(self.path)
            if not stat.S_ISREG(found.st_mode):
                return
            safedir.write_file(
                self.path.with_name(CLEAN_NAME), json.dumps(_fingerprint(found)).encode()
            )
        except OSError:
            pass  # the next opening checks in full: slower, never wrong

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
        if self.cannot_save is not None:
            # Trying again will not help here: say only why.
            raise StoreError(f"{failure.removesuffix('; try again')} ({self.cannot_save})")
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
            raise StoreError(f"{failure} ({self.path}: {exc})") from None

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
            mark = Mark(new_id(hlc), trip_id, item_id, bool(done), now, who, hlc)
            conn.execute(
                f"INSERT INTO marks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (mark.id, trip_id, item_id, int(done), stored_time(now), who, mark.hlc),
            )
        # (data_version is not re-read here: it only moves for other connections' commits,
        # and re-reading could swallow one that landed just before ours.)
        return mark

    def largest_hlc(self) -> int:
        """The marks' clock as it stands: the value a mark made now would pass."""
        return self._largest_hlc(self.connection)

    @staticmethod
    def _largest_hlc(conn: sqlite3.Connection) -> int:
        """The clock's latest value: the largest sane HLC of marks and records (one clock
        for both, so a mark made after seeing a note orders after it; older, forged rows
        ignored)."""
        sane = f"hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT}"
        row = conn.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(hlc) FROM marks WHERE {sane}), 0), "
            f"COALESCE((SELECT MAX(hlc) FROM records WHERE {sane}), 0))"
        ).fetchone()
        return int(row[0]) if row and row[0] else HLC_FLOOR

    def next_hlc(self, conn: sqlite3.Connection) -> int:
        """The clock value for a mark or record made now, inside a write transaction.

        The wall clock counts at most up to :data:`HLC_CEILING`; the value never passes
        :data:`HLC_LIMIT` (sqlite3.DataError, which the transaction reports).
        """
        wall_ms = min(int(self._clock().astimezone(UTC).timestamp() * 1000), HLC_CEILING)
        hlc = max(wall_ms, self._largest_hlc(conn) + 1)
        if hlc > HLC_LIMIT:  # 7 * 10**12 marks after the year 2200: never, but never past
            raise sqlite3.DataError(f"the marks' clock is at its limit ({HLC_LIMIT})")
        return hlc

    def write(self, failure: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction on the marks database, for the records beside the marks
        (:mod:`tripdash.domain.records`): refused with ``failure`` and the reason when the
        store is read-only; SQLite errors become StoreError."""
        return self._transaction(failure)

    @property
    def connection(self) -> sqlite3.Connection:
        """The store's connection, for reading the records beside the marks."""
        return self._conn

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
                (m.id, m.trip_id, m.item_id, int(m.done), stored_time(m.at), m.who, m.hlc),
            )
            added += cur.rowcount
        return added

    # -- reading ----------------------------------------------------------------------

    def history(self, trip_id: str) -> list[Mark]:
        """Every mark of a trip, oldest first, in the order all copies agree on."""
        query = f"SELECT seq, {_COLUMNS} FROM marks WHERE trip_id = ? ORDER BY hlc, who, id"
        try:
            try:
                rows = self._conn.execute(query, (trip_id,)).fetchall()
            except sqlite3.OperationalError as exc:
                if "decode" not in str(exc):
                    raise
                # Text that is not UTF-8 in some row: read every row as bytes, so the
                # others are kept and that one is reported.
                self._conn.text_factory = bytes
                try:
                    rows = self._conn.execute(query, (trip_id,)).fetchall()
                finally:
                    self._conn.text_factory = str
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the marks in {self.path}: {exc}") from None
        marks = []
        for row in rows:
            mark = self._convert(row)
            if mark is not None:
                marks.append(mark)
        return marks

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
        upto = self._held_upto(trip_id, server)
        # NOT INDEXED: the rows after ``upto`` are read by row number, not through an index.
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM marks m NOT INDEXED WHERE seq > ? AND trip_id = ? AND {_SANE} "
            f"AND (hlc, who, id) > (?, ?, ?) AND NOT {_HELD} "
            "ORDER BY hlc, who, id LIMIT ?",
            (upto, trip_id, hlc, who, ident, self._server_no(server), server, limit),
        ).fetchall()
        return list(_sane_marks(rows))

    def count_unsynced(self, trip_id: str, server: str) -> int:
        """How many of a trip's marks ``server`` has not shown it holds ("waiting")."""
        upto = self._held_upto(trip_id, server)
        row = self._conn.execute(
            f"SELECT COUNT(*) FROM marks m NOT INDEXED WHERE seq > ? AND trip_id = ? AND {_SANE} "
            f"AND NOT {_HELD}",
            (upto, trip_id, self._server_no(server), server),
        ).fetchone()
        return int(row[0]) if row else 0

    def _held_upto(self, trip_id: str, server: str) -> int:
        """A row number up to which every mark of ``trip_id`` is held by ``server``.

        Moved on from where it was last left (``sync_upto``) to just before the first
        mark not held, and saved when the store can write. Row numbers only grow and a
        mark once held stays held, so it never has to move back.
        """
        number = self._server_no(server)
        if number < 0:
            return 0
        conn = self._conn
        upto = _stored_upto(conn, number, trip_id)
        # One statement, so one snapshot: a mark added meanwhile is after both answers.
        first, newest = conn.execute(
            "SELECT (SELECT seq FROM marks m NOT INDEXED WHERE seq > ? AND trip_id = ? "
            f"AND {_SANE} AND NOT {_HELD} ORDER BY seq LIMIT 1), "
            "(SELECT IFNULL(MAX(seq), 0) FROM marks)",
            (upto, trip_id, number, server),
        ).fetchone()
        moved = int(newest) if first is None else int(first) - 1
        if moved > upto and self.cannot_save is None:
            # Only a shortcut: when it cannot be saved, the next call works it out again.
            with (
                contextlib.suppress(StoreError),
                self._transaction("sync state was not saved") as write,
            ):
                _move_upto(write, number, trip_id, moved)
        return max(moved, upto)

    def not_known(self, server: str, mark_ids: list[str]) -> list[str]:
        """Those of ``mark_ids`` that ``server`` has not shown it holds."""
        known: set[str] = set()
        number = self._server_no(server)
        for start in range(0, len(mark_ids), 500):
            chunk = mark_ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            known.update(
                str(r[0])
                for r in self._conn.execute(
                    f"SELECT mark_id FROM sync_known WHERE server = ? AND mark_id IN ({marks}) "
                    "UNION ALL SELECT m.id FROM marks m JOIN sync_held h "
                    f"ON h.server_no = ? AND h.seq = m.seq WHERE m.id IN ({marks})",
                    (server, *chunk, number, *chunk),
                )
            )
        return [m for m in mark_ids if m not in known]

    def wall_ms(self) -> int:
        """This laptop's wall clock (the injected one), in ms since 1970."""
        return int(self._clock().astimezone(UTC).timestamp() * 1000)

    def record_synced(self, server: str, mark_ids: Iterable[str]) -> None:
        """Remember that ``server`` has these marks or records (after it said so)."""
        ids = list(mark_ids)
        if not ids:
            return
        with self._transaction("sync state was not saved") as conn:
            number = self._server_no(server, conn)
            conn.executemany(
                "INSERT OR IGNORE INTO sync_held (server_no, seq) "
                "SELECT ?, seq FROM marks WHERE id = ?",
                [(number, ident) for ident in ids],
            )
            conn.executemany(  # records (not marks) are kept by id
                "INSERT OR IGNORE INTO sync_known (server, mark_id) "
                "SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM marks WHERE id = ?)",
                [(server, ident, ident) for ident in ids],
            )

    def _server_no(self, server: str, conn: sqlite3.Connection | None = None) -> int:
        """The small number :data:`sync_held` knows ``server`` by; given a write
        transaction's ``conn``, one is given to a server that has none (else -1: no
        mark is held by it)."""
        db = conn if conn is not None else self._conn
        row = db.execute("SELECT no FROM sync_servers WHERE server = ?", (server,)).fetchone()
        if row is not None:
            return int(row[0])
        if conn is None:
            return -1
        return int(
            conn.execute("INSERT INTO sync_servers (server) VALUES (?)", (server,)).lastrowid or 0
        )

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Settings of this connection for writing many marks (a pull), restored after.

        A page of pulled marks made by an older release (random ids, before
        :func:`new_id`) inserts at random into the index of mark ids; once it is larger
        than SQLite's default cache (2 MiB, reached at about 40,000 marks), every page
        re-read that index from the file and wrote a checkpoint of the log, and a pull of
        1,000,000 such marks spent twice as long in the kernel as in Python. A cache
        of up to 32 MiB (only what is used is allocated) and a checkpoint every 10,000
        pages (40 MiB of log) instead of 1,000 keep that work once per page. Every
        commit is still made durable as ever (synchronous=FULL).
        """
        conn = self._conn
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        checkpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        conn.execute("PRAGMA cache_size = -32768")
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(cache)}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")

    def add_pulled(
        self,
        server: str,
        marks: Sequence[Mark | MarkFields],
        db: str,
        checkpoint: str,
        *,
        also: Callable[[sqlite3.Connection], tuple[int, int, list[str]]] | None = None,
    ) -> tuple[int, int]:
        """Insert marks pulled from ``server`` and move its checkpoint, in one transaction.

        Returns (marks new here, conflicting): a pulled mark whose id is already here
        with other contents is a forgery and is not stored (the one here stays, and
        the server is not taken to hold it). Every other pulled mark is one the
        server has shown it holds. A crash before the commit leaves the old
        checkpoint, so the next round pulls the same changes again; inserting them
        twice is harmless (ids). ``also`` stores more of the page in the same
        transaction (the records): it returns (new, conflicting, ids the server holds).
        The marks come as :class:`Mark` or, from a pull, as :data:`MarkFields`.
        """
        added = conflicting = 0
        with self._transaction("pulled marks were not saved") as conn:
            if also is not None:
                _new, refused, held_ids = also(conn)
                conflicting += refused
                conn.executemany(
                    "INSERT OR IGNORE INTO sync_known (server, mark_id) VALUES (?, ?)",
                    [(server, ident) for ident in held_ids],
                )
            page: dict[str, MarkFields] = {}
            for m in marks:
                fields = mark_fields(m) if isinstance(m, Mark) else m
                first = page.setdefault(fields[0], fields)
                if first is not fields and first != fields:
                    conflicting += 1  # one id, two contents, in one page: the first stays
            number = self._server_no(server, conn)
            (before,) = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM marks").fetchone()
            # Inserted in id order (the index of ids is walked once, left to right); an id
            # already here is left as it is and looked at below.
            changes = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO marks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ident, trip, item, int(done), text, who, hlc)
                    for ident, (_, trip, item, done, _at, who, hlc, text) in sorted(page.items())
                ],
            )
            added = conn.total_changes - changes
            # The rows just added are the ones after ``before`` (row numbers only grow):
            # read in order, not looked up one by one in the index of ids; when every
            # mark of the page was new (a pull of others' marks, mostly) not read at all.
            others: list[str] = []
            if added != len(page):
                inserted = {
                    str(r[0]) for r in conn.execute("SELECT id FROM marks WHERE seq > ?", (before,))
                }
                # Those already here: in a pull, our own come back (few). Held if the
                # same, else a forgery (the one here stays, and is not taken as held).
                others = [ident for ident in page if ident not in inserted]
            conn.execute(
                "INSERT OR IGNORE INTO sync_held (server_no, seq) "
                "SELECT ?, seq FROM marks WHERE seq > ?",
                (number, before),
            )
            held: list[tuple[int, int]] = []
            for offset in range(0, len(others), 500):
                chunk = others[offset : offset + 500]
                query = (
                    f"SELECT seq, {_COLUMNS} FROM marks WHERE id IN ({', '.join('?' * len(chunk))})"
                )
                for row in conn.execute(query, chunk):
                    try:
                        # The marks compared, not the stored texts: the row's time is
                        # not formatted again (a damaged one could fail to be).
                        same = _row_to_mark(row[1:]) == Mark(*page[str(row[1])][:7])
                    except (ValueError, TypeError):
                        same = False
                    if same:
                        held.append((number, int(row[0])))
                    else:
                        conflicting += 1
            conn.executemany("INSERT OR IGNORE INTO sync_held (server_no, seq) VALUES (?, ?)", held)
            trips = {fields[1] for fields in page.values()}
            if added and len(trips) == 1:
                # Every row after ``before`` is a mark this server holds: when every mark
                # of the trip up to ``before`` was held as well, the row up to which they
                # all are moves past this page, so that the next round's count of waiting
                # marks does not read the page again (5 % of a large pull's time).
                (trip,) = trips
                if _stored_upto(conn, number, trip) >= before:
                    (last,) = conn.execute("SELECT MAX(seq) FROM marks").fetchone()
                    _move_upto(conn, number, trip, int(last))
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

    def changed_elsewhere(self) -> bool:
        """True once after another connection (process) committed marks. Cheap to poll."""
        current = self._read_data_version()
        if current != self._data_version:
            self._data_version = current
            return True
        return False


class _Unusable(Exception):
    """The database's contents cannot be used: it is to be moved aside."""

    def __init__(self, reason: str, created: tuple[Path, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        #: Files beside it that reading made (not part of what was found).
        self.created = created


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


# -- opening: helpers ------------------------------------------------------------------

#: The marker in the SQLite header (``PRAGMA application_id``) that says "tripdash marks".
APPLICATION_ID = 0x54524450  # "TRDP"
#: Beside the database: its size, time and inode when tripdash last closed it cleanly.
CLEAN_NAME = DB_NAME + ".clean"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: Reasons a file cannot be written that say nothing about its contents.
_CANNOT_WRITE = frozenset(
    {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
)
#: Databases (device, inode) that a store of this process has open, checked.
_VERIFIED: dict[tuple[int, int], int] = {}


@dataclass
class _Verdict:
    """What opening must still do to a database that passed the checks."""

    setup: bool  # add the marker, missing (additive) tables, switch to WAL
    sync_tables: bool


class _DirectoryLock:
    """An exclusive lock on the state directory while a store opens (creates, checks,
    moves aside): two tripdash processes never do that to the same database at once.

    ``flock`` needs no write access and is released when the process dies.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fd: int | None = None

    def __enter__(self) -> _DirectoryLock:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): SQLite's own locks still apply
            return self
        try:
            self.fd = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None


def _connect_uri(path: Path, mode: str, *, immutable: bool = False) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode={mode}" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None)


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 10000")
    # FULL: a committed mark survives a power cut, not only a crash.
    conn.execute("PRAGMA synchronous = FULL")


def _set_up(conn: sqlite3.Connection) -> None:
    """Tables, schema version and marker, in one transaction; then WAL.

    Every statement is IF NOT EXISTS: a database from before team sync gains its
    (additive) tables without a version change older readers would refuse.
    """
    # One transaction, statement by statement (executescript would commit early).
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if mode is None or str(mode[0]).lower() not in ("wal", "memory"):
        conn.execute("PRAGMA journal_mode = DELETE")


def _temporary_sync_tables(conn: sqlite3.Connection) -> None:
    """A read-only database from before team sync or notes: the tables it lacks, empty,
    in memory only (IF NOT EXISTS: a real table of the database is used as it is)."""
    tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for statement in _SCHEMA.split(";"):
        if "CREATE TABLE" not in statement:
            continue
        name = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        if (name.startswith("sync_") or name == "records") and name not in tables:
            conn.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE"))


def _read_header(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return b""
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    """The size of ``path`` (-1 when it cannot be had)."""
    try:
        return os.lstat(path).st_size
    except OSError:
        return -1


def _fingerprint(st: os.stat_result) -> dict[str, int]:
    return {
        "dev": st.st_dev,
        "ino": st.st_ino,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }


def _created(had: dict[Path, bool]) -> tuple[Path, ...]:
    return tuple(p for p, existed in had.items() if not existed and os.path.lexists(p))


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _text(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _strict_mark(values: tuple[object, ...]) -> Mark:
    """A row of :data:`_COLUMNS` as a Mark, refusing anything a tripdash never wrote."""
    ident, trip_id, item_id, done, at, who, hlc = values
    for name, value in (("id", ident), ("trip_id", trip_id), ("item_id", item_id), ("who", who)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} is not text")
    if done not in (0, 1) or isinstance(done, float):
        raise ValueError(f"done is {done!r}")
    if not isinstance(hlc, int):
        raise ValueError("hlc is not an integer")
    if not HLC_FLOOR <= hlc <= HLC_LIMIT:
        # Stored by an older tripdash from a forged document: it would freeze an item.
        raise ValueError(f"its clock {hlc} is out of range")
    if not isinstance(at, str):
        raise ValueError("at is not text")
    when = datetime.fromisoformat(at)
    if when.tzinfo is None:
        raise ValueError(f"at {at!r} has no offset")
    if not 1900 <= when.year < 2200:
        raise ValueError(f"at {at!r} is outside the years 1900-2200")
    return Mark(ident, trip_id, item_id, bool(done), when, who, hlc)  # type: ignore[arg-type]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable (where the system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
