"""Which reminders fired: a once-only record shared by every tripdash on this laptop.

Two dashboards and ``tripdash remind --watch`` may all watch the same trip, and a
dashboard may be quit and opened again: each reminder must still fire exactly
once. Before firing one, a process *claims* it: ``INSERT OR IGNORE`` of its key
(clock, trip id, event id, stage, start instant) into an SQLite file of its own
in the state directory (``reminders.sqlite3``, WAL, ``synchronous=FULL``, file
0600 in a 0700 directory), committed at once. Only the process whose insert
added the row (``rowcount`` 1) fires it. The start instant is part of the key,
so an event that moves gets its stages again.

Rehearsals claim under a clock of their own (``rehearsal``), so rehearsing a trip
never uses up its real reminders. The record also keeps, per trip, until when a
live clock watched it, so a dashboard opened later can say what was missed while
none was open.

A file that cannot be read (not a database, written by a newer tripdash) is moved
aside, never overwritten, and :attr:`ReminderRecord.notice` says where. When the
state directory cannot hold it at all, :class:`MemoryRecord` keeps claims for this
process only (the caller says that reminders may then repeat elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tripdash.domain import safedir
from tripdash.domain.times import UTC, Clock, system_clock

DB_NAME = "reminders.sqlite3"
SCHEMA_VERSION = 1
LIVE, REHEARSAL = "live", "rehearsal"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    clock    TEXT NOT NULL,
    trip_id  TEXT NOT NULL,
    event_id TEXT NOT NULL,
    stage    INTEGER NOT NULL,
    start    TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    at       TEXT NOT NULL,
    pid      INTEGER NOT NULL,
    PRIMARY KEY (clock, trip_id, event_id, stage, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watched (
    clock   TEXT NOT NULL,
    trip_id TEXT NOT NULL,
    until   TEXT NOT NULL,
    PRIMARY KEY (clock, trip_id)
) WITHOUT ROWID;
"""

#: One reminder's key without the clock and trip: (event id, stage, start ISO instant).
Ident = tuple[str, int, str]


class RecordError(Exception):
    """The record cannot be used (and could not be safely replaced)."""


class Record(Protocol):
    """What the reminder logic needs of a record (the SQLite one, or one in memory)."""

    notice: str | None

    def claim(
        self, clock: str, trip_id: str, idents: Sequence[Ident], outcome: str
    ) -> list[bool]: ...

    def watched_until(self, clock: str, trip_id: str) -> datetime | None: ...

    def watched(self, clock: str, trip_id: str, until: datetime) -> None: ...

    def close(self) -> None: ...


def _iso(dt: datetime) -> str:
    # One fixed format, so that ISO strings compare as the instants do (MAX in SQL).
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


class ReminderRecord:
    """The once-only record in ``state_dir`` (see the module's docstring)."""

    def __init__(self, state_dir: Path, *, clock: Clock = system_clock) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME
        self._clock = clock
        self.notice: str | None = None
        try:
            # Checked as the marks' directory is: the user's own, private, links followed
            # only to the user's own (what is on the programme is sensitive).
            safedir.private_dir(self.state_dir)
        except OSError as exc:
            raise RecordError(f"cannot use state directory {self.state_dir}: {exc}") from None
        try:
            self._conn = self._connect_patiently()
        except _Unreadable as exc:
            moved = self._move_aside()
            self.notice = (
                f"The reminders record could not be read ({exc}). It was moved to {moved} "
                "and a new one was started."
            )
            try:
                self._conn = self._connect_patiently()
            except _Unreadable as again:
                raise RecordError(f"{self.path}: {again}") from None

    def _connect_patiently(self) -> sqlite3.Connection:
        # Another process may be creating the file or switching it to WAL, where SQLite
        # does not wait by itself: retry for a while, as the marks store does.
        deadline = time.monotonic() + 10.0
        while True:
            try:
                return self._connect()
            except _Busy as exc:
                if time.monotonic() > deadline:
                    raise RecordError(f"cannot open {self.path}: {exc}") from None
            time.sleep(0.02)

    def _refuse_links(self) -> None:
        """A link planted at the record or its WAL files is never written through."""
        for suffix in ("", "-wal", "-shm"):
            path = self.path.with_name(self.path.name + suffix)
            if os.path.islink(path):
                raise RecordError(f"{path} is a symbolic link: refusing to use it")

    def _connect(self) -> sqlite3.Connection:
        try:
            self._refuse_links()
            if self.path.is_dir():
                raise RecordError(f"cannot open {self.path}: it is a directory")
            if not self.path.exists():
                with contextlib.suppress(FileExistsError):  # made meanwhile: used as found
                    os.close(safedir.create_exclusive(self.path))
            self._refuse_links()
            os.chmod(self.path, 0o600)  # a regular file (no link: just checked)
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RecordError(f"cannot open {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = DELETE")
            # FULL: a claim that returned survives a power cut, so nothing fires twice.
            conn.execute("PRAGMA synchronous = FULL")
            version = self._schema_version(conn)
            if version is not None and version > SCHEMA_VERSION:
                raise _Unreadable(
                    f"written by a newer tripdash (schema {version}; this one reads "
                    f"{SCHEMA_VERSION})"
                )
            if version is None:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                conn.execute("COMMIT")
            conn.execute("SELECT COUNT(*) FROM claims WHERE 0").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise _Busy(str(exc)) from None
            if isinstance(exc, sqlite3.OperationalError) and not text.startswith("no such"):
                raise RecordError(f"cannot open {self.path}: {exc}") from None
            raise _Unreadable(str(exc)) from None
        except _Unreadable:
            conn.close()
            raise
        return conn

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
            raise _Unreadable(f"unknown schema version {row[0]!r}") from None

    def _move_aside(self) -> Path:
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

    # -- claims -------------------------------------------------------------------------

    def claim(self, clock: str, trip_id: str, idents: Sequence[Ident], outcome: str) -> list[bool]:
        """Claim reminders in one committed transaction; True for each this process got.

        ``outcome`` (``fired``, ``missed``, ``superseded``) is kept for the curious.
        Raises RecordError when it cannot be written (then nothing was claimed).
        """
        if not idents:
            return []
        now = _iso(self._clock())
        pid = os.getpid()
        conn = self._conn
        got: list[bool] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for event_id, stage, start in idents:
                    cur = conn.execute(
                        "INSERT OR IGNORE INTO claims "
                        "(clock, trip_id, event_id, stage, start, outcome, at, pid) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (clock, trip_id, event_id, stage, start, outcome, now, pid),
                    )
                    got.append(cur.rowcount == 1)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise RecordError(f"the reminders record could not be written ({exc})") from None
        return got

    def claimed(self, clock: str, trip_id: str) -> set[Ident]:
        """Every claimed reminder of a trip (for ``tripdash remind``'s listing)."""
        rows = self._conn.execute(
            "SELECT event_id, stage, start FROM claims WHERE clock = ? AND trip_id = ?",
            (clock, trip_id),
        ).fetchall()
        return {(str(e), int(s), str(t)) for e, s, t in rows}

    # -- watching -----------------------------------------------------------------------

    def watched_until(self, clock: str, trip_id: str) -> datetime | None:
        """Until when some process watched this trip's reminders (None: never)."""
        row = self._conn.execute(
            "SELECT until FROM watched WHERE clock = ? AND trip_id = ?", (clock, trip_id)
        ).fetchone()
        return datetime.fromisoformat(str(row[0])) if row else None

    def watched(self, clock: str, trip_id: str, until: datetime) -> None:
        """Say that this trip's reminders were watched until ``until`` (the latest wins)."""
        conn = self._conn
        try:
            # Written once a minute from the UI thread: without the fsync FULL costs (in
            # WAL, NORMAL syncs at checkpoints). Losing the last minute of it to a power
            # cut only shortens a "missed while closed" summary; claims stay FULL.
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                conn.execute(
                    "INSERT INTO watched (clock, trip_id, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (clock, trip_id) DO UPDATE SET until = MAX(until, excluded.until)",
                    (clock, trip_id, _iso(until)),
                )
            finally:
                conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise RecordError(f"the reminders record could not be written ({exc})") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ReminderRecord:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryRecord:
    """Claims kept in this process only: when the state directory cannot hold the file."""

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice
        self._claims: set[tuple[str, str, Ident]] = set()
        self._watched: dict[tuple[str, str], datetime] = {}

    def claim(self, clock: str, trip_id: str, idents: Sequence[Ident], outcome: str) -> list[bool]:
        got = []
        for ident in idents:
            key = (clock, trip_id, ident)
            got.append(key not in self._claims)
            self._claims.add(key)
        return got

    def watched_until(self, clock: str, trip_id: str) -> datetime | None:
        return self._watched.get((clock, trip_id))

    def watched(self, clock: str, trip_id: str, until: datetime) -> None:
        key = (clock, trip_id)
        before = self._watched.get(key)
        self._watched[key] = until if before is None or until > before else before

    def close(self) -> None:
        pass


def open_record(state_dir: Path, *, clock: Clock = system_clock) -> Record:
    """The record of ``state_dir``; one in memory (with a notice) when that cannot be had."""
    try:
        return ReminderRecord(state_dir, clock=clock)
    except RecordError as exc:
        return MemoryRecord(
            f"{exc}. Reminders are kept in memory: another tripdash on this laptop may "
            "show them again."
        )


class _Unreadable(Exception):
    """The file is not a usable record (its contents, not the environment)."""


class _Busy(Exception):
    """Another process holds a lock: try again."""
