"""Notes and running-late shifts: append-only records beside the marks, in the same store.

A record is immutable once committed, like a mark: its id, kind, trip, item, a small
JSON body, when (real time, UTC), who, and the hybrid logical clock value shared with
the marks (so every laptop orders marks and records the same way). Nothing is ever
updated or deleted: the state is computed from the records.

* A **note** on an event or a counterpart is a version of its text. Each version names
  the versions it replaces (the ones its writer saw). The note's current text is every
  version nobody has replaced yet: one, normally; two or more when two laptops edited
  before syncing. Both texts are kept and shown until someone saves a merged version,
  which replaces them all. An empty text is a deleted note (its history is kept).
* A **shift** says how late the day runs from an event on: ``minutes`` (0: back on
  time; negative: early), until an event or the end of that local day. A later shift
  from the same event replaces the earlier one (the latest by clock wins).
* Records of a kind this version does not know (from a newer laptop, through sync) are
  stored and passed on, never dropped.

The records live in the marks database (``records`` table, created when first needed),
written through their own connection, so a note is committed (WAL, ``synchronous=FULL``)
before it is shown, exactly as a mark is.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tripdash.domain.store import MarkStore, StoreError
from tripdash.domain.times import UTC, Clock

#: A note longer than this is refused (a readout is a few thousand characters).
MAX_NOTE_CHARS = 100_000
#: A shift of more than a day is a typo, not a delay.
MAX_SHIFT_MINUTES = 24 * 60

NOTE, SHIFT = "note", "shift"

_SCHEMA = """
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
CREATE INDEX IF NOT EXISTS records_by_trip ON records (trip_id, kind, hlc)
"""
_COLUMNS = "id, kind, trip_id, item_id, body, at, who, hlc"


class RecordError(ValueError):
    """A note or shift that cannot be recorded as given (nothing was stored)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One immutable entry: a note version, a shift, or a kind from a newer tripdash."""

    id: str
    kind: str
    trip_id: str
    item_id: str
    body: str  # JSON object, kept as written so unknown kinds pass on unchanged
    at: datetime  # UTC
    who: str
    hlc: int

    @property
    def order(self) -> tuple[int, str, str]:
        """The total order every copy agrees on (the same as the marks')."""
        return (self.hlc, self.who, self.id)

    @property
    def data(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class NoteVersion:
    """One current version of a note."""

    id: str
    text: str
    who: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    """How late the day runs from an event on (the latest shift from that event)."""

    id: str
    from_event: str
    minutes: int
    until_event: str | None
    who: str
    at: datetime
    hlc: int


def _unreplaced(versions: Iterable[Record]) -> list[Record]:
    """The versions no other version replaces, in clock order (deletions included)."""
    ordered = sorted(versions, key=lambda r: r.order)
    replaced: set[str] = set()
    for record in ordered:
        named = record.data.get("replaces", [])
        if isinstance(named, list):
            replaced.update(x for x in named if isinstance(x, str))
    return [record for record in ordered if record.id not in replaced]


def note_heads(versions: Iterable[Record]) -> list[NoteVersion]:
    """The current versions of one item's note: those no other version replaces.

    Empty texts (deletions) are left out; several heads are a conflict, in clock order.
    """
    heads = []
    for record in _unreplaced(versions):
        text = record.data.get("text")
        if isinstance(text, str) and text:
            heads.append(NoteVersion(record.id, text, record.who, record.at))
    return heads


def _shift_of(record: Record) -> Shift | None:
    data = record.data
    minutes = data.get("minutes")
    until = data.get("until")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        return None
    if abs(minutes) > MAX_SHIFT_MINUTES or not (until is None or isinstance(until, str)):
        return None
    return Shift(record.id, record.item_id, minutes, until, record.who, record.at, record.hlc)


def current_shifts(records: Iterable[Record]) -> dict[str, Shift]:
    """The shift in force from each event: the latest (by clock) from that event."""
    latest: dict[str, Shift] = {}
    for record in sorted(records, key=lambda r: r.order):
        shift = _shift_of(record)
        if shift is not None:
            latest[shift.from_event] = shift
    return latest


def _row(row: tuple[Any, ...]) -> Record:
    ident, kind, trip_id, item_id, body, at, who, hlc = row
    return Record(
        str(ident),
        str(kind),
        str(trip_id),
        str(item_id),
        str(body),
        datetime.fromisoformat(str(at)),
        str(who),
        int(hlc),
    )


class RecordStore:
    """The records of one state directory, beside (and ordered with) its marks."""

    def __init__(self, marks: MarkStore, *, clock: Clock) -> None:
        self.path = marks.path
        self._clock = clock
        try:
            self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._conn.execute("PRAGMA synchronous = FULL")
            with self._transaction("cannot prepare the notes table") as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot keep notes ({exc})") from None

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self, failure: str) -> Iterator[sqlite3.Connection]:
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

    # -- writing ----------------------------------------------------------------------

    def _add(self, kind: str, trip_id: str, item_id: str, body: dict[str, Any], who: str) -> Record:
        now = self._clock().astimezone(UTC)
        wall_ms = int(now.timestamp() * 1000)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        with self._transaction(f"the {kind} was not saved; try again") as conn:
            # One clock for marks and records: larger than every value seen on this laptop.
            (largest,) = conn.execute(
                "SELECT MAX(COALESCE((SELECT MAX(hlc) FROM marks), 0), "
                "COALESCE((SELECT MAX(hlc) FROM records), 0))"
            ).fetchone()
            record = Record(
                uuid.uuid4().hex, kind, trip_id, item_id, text, now, who, max(wall_ms, largest + 1)
            )
            conn.execute(
                f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    kind,
                    trip_id,
                    item_id,
                    text,
                    now.isoformat(timespec="microseconds"),
                    who,
                    record.hlc,
                ),
            )
        return record

    def save_note(self, trip_id: str, item_id: str, text: str, who: str) -> Record:
        """Commit a new version of a note, replacing every current version; then return it.

        Saving while versions conflict is what merges them. Raises RecordError for a
        text over :data:`MAX_NOTE_CHARS` and StoreError when it cannot be saved.
        """
        if len(text) > MAX_NOTE_CHARS:
            raise RecordError(
                f"a note holds at most {MAX_NOTE_CHARS:,} characters (this one has {len(text):,})"
            )
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise RecordError("the note holds characters that cannot be stored (lone surrogates)")
        replaces = [r.id for r in _unreplaced(self.records(trip_id, NOTE, item_id))]
        return self._add(NOTE, trip_id, item_id, {"text": text, "replaces": replaces}, who)

    def set_shift(
        self, trip_id: str, from_event: str, minutes: int, until_event: str | None, who: str
    ) -> Record:
        """Commit a shift: the day runs ``minutes`` late from ``from_event`` on."""
        if abs(minutes) > MAX_SHIFT_MINUTES:
            raise RecordError(
                f"a shift is at most {MAX_SHIFT_MINUTES // 60} hours either way "
                f"({minutes} minutes given)"
            )
        body = {"minutes": minutes, "until": until_event}
        return self._add(SHIFT, trip_id, from_event, body, who)

    def add_records(self, records: Iterable[Record]) -> int:
        """Insert records made elsewhere (sync); ids already present are skipped."""
        added = 0
        with self._transaction("records were not saved") as conn:
            for r in records:
                cur = conn.execute(
                    f"INSERT OR IGNORE INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.id,
                        r.kind,
                        r.trip_id,
                        r.item_id,
                        r.body,
                        r.at.astimezone(UTC).isoformat(timespec="microseconds"),
                        r.who,
                        r.hlc,
                    ),
                )
                added += cur.rowcount
        return added

    # -- reading ----------------------------------------------------------------------

    def records(
        self, trip_id: str, kind: str | None = None, item_id: str | None = None
    ) -> list[Record]:
        """A trip's records (of one kind, for one item), in the order all copies agree on."""
        sql = f"SELECT {_COLUMNS} FROM records WHERE trip_id = ?"
        args: list[object] = [trip_id]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if item_id is not None:
            sql += " AND item_id = ?"
            args.append(item_id)
        try:
            rows = self._conn.execute(sql + " ORDER BY hlc, who, id", args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: notes cannot be read ({exc})") from None
        return [_row(r) for r in rows]

    def notes(self, trip_id: str) -> dict[str, list[NoteVersion]]:
        """Every item's current note versions (items without a note left out)."""
        by_item: dict[str, list[Record]] = {}
        for record in self.records(trip_id, NOTE):
            by_item.setdefault(record.item_id, []).append(record)
        found = {item: note_heads(versions) for item, versions in by_item.items()}
        return {item: heads for item, heads in found.items() if heads}

    def shifts(self, trip_id: str) -> dict[str, Shift]:
        return current_shifts(self.records(trip_id, SHIFT))
