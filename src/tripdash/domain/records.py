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

The records live in the marks database (its ``records`` table, see
:mod:`tripdash.domain.store`) and are written through the marks store's own connection
and transactions, so every guarantee of the marks holds for them: committed (WAL,
``synchronous=FULL``) before it is shown; a read-only or full disk lets them be read
and refuses writes with a clear message; one hybrid logical clock for marks and
records, within the same ceiling; a row that cannot be read is reported, not raised.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tripdash.domain.store import HLC_FLOOR, HLC_LIMIT, MarkStore, StoreError, new_id
from tripdash.domain.times import UTC, Clock

#: A note longer than this is refused (a readout is a few thousand characters).
MAX_NOTE_CHARS = 100_000
#: A shift of more than a day is a typo, not a delay.
MAX_SHIFT_MINUTES = 24 * 60
#: A record's stored body (JSON) at most: a longest note, every character escaped.
MAX_BODY_CHARS = 8 * MAX_NOTE_CHARS
#: The versions one note version may name as replaced.
MAX_REPLACES = 1000

NOTE, SHIFT = "note", "shift"
KNOWN_KINDS = frozenset({NOTE, SHIFT})
#: A kind's name: this release writes "note" and "shift"; newer ones may add others.
KIND = re.compile(r"[a-z][a-z0-9_.-]{0,39}")

_COLUMNS = "id, kind, trip_id, item_id, body, at, who, hlc"
_INSERT = f"INSERT OR IGNORE INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


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
    #: The body already parsed (set when read from the store): not part of its identity.
    parsed: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def order(self) -> tuple[int, str, str]:
        """The total order every copy agrees on (the same as the marks')."""
        return (self.hlc, self.who, self.id)

    @property
    def data(self) -> dict[str, Any]:
        """The body as a dict ({} when it is not a JSON object)."""
        if self.parsed is not None:
            return self.parsed
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
    #: Recorded while the from-event was on: it began on time and overruns, so its
    #: start stays and only its end moves (the events after it move whole).
    begun: bool = False


def body_problem(kind: str, body: object) -> str | None:
    """Why a record's body is not one this release can use, or None.

    Bodies of unknown kinds need only be JSON objects (they are kept and passed on);
    a note needs its text (at most :data:`MAX_NOTE_CHARS`) and the ids it replaces, a
    shift its minutes (at most a day either way) and its until-event or null.
    """
    if not isinstance(body, dict):
        return "its body is not an object"
    if kind == NOTE:
        text, replaces = body.get("text"), body.get("replaces", [])
        if not isinstance(text, str) or len(text) > MAX_NOTE_CHARS:
            return "a note without text, or longer than a note may be"
        if not isinstance(replaces, list) or len(replaces) > MAX_REPLACES:
            return "a note whose replaced versions are not a list"
        if not all(isinstance(x, str) and 0 < len(x) <= 200 for x in replaces):
            return "a note whose replaced versions are not ids"
    elif kind == SHIFT:
        minutes, until = body.get("minutes"), body.get("until")
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            return "a shift whose minutes are not a whole number"
        if abs(minutes) > MAX_SHIFT_MINUTES:
            return "a shift of more than a day"
        if not (until is None or (isinstance(until, str) and 0 < len(until) <= 401)):
            return "a shift whose until-event is not an id"
        if not isinstance(body.get("begun", False), bool):
            return "a shift whose begun flag is not true or false"
    return None


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
    if body_problem(SHIFT, data) is not None:
        return None
    until = data.get("until")
    return Shift(
        record.id,
        record.item_id,
        int(data["minutes"]),
        until,
        record.who,
        record.at,
        record.hlc,
        data.get("begun", False) is True,
    )


def current_shifts(records: Iterable[Record]) -> dict[str, Shift]:
    """The shift in force from each event: the latest (by clock) from that event."""
    latest: dict[str, Shift] = {}
    for record in sorted(records, key=lambda r: r.order):
        if record.kind != SHIFT:
            continue
        shift = _shift_of(record)
        if shift is not None:
            latest[shift.from_event] = shift
    return latest


def _text(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def strict_record(values: Sequence[object]) -> Record:
    """A row of the records table as a Record, refusing anything a tripdash never wrote.

    Raises ValueError (or UnicodeDecodeError) saying what is wrong.
    """
    ident, kind, trip_id, item_id, body, at, who, hlc = (_text(v) for v in values)
    for name, value in (
        ("id", ident),
        ("kind", kind),
        ("trip_id", trip_id),
        ("item_id", item_id),
        ("who", who),
        ("body", body),
    ):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} is not text")
    if not isinstance(hlc, int) or isinstance(hlc, bool):
        raise ValueError("hlc is not an integer")
    if not HLC_FLOOR <= hlc <= HLC_LIMIT:
        raise ValueError(f"its clock {hlc} is out of range")
    if not isinstance(at, str):
        raise ValueError("at is not text")
    when = datetime.fromisoformat(at)
    if when.tzinfo is None:
        raise ValueError(f"at {at!r} has no offset")
    if not 1900 <= when.year < 2200:
        raise ValueError(f"at {at!r} is outside the years 1900-2200")
    assert isinstance(body, str) and isinstance(kind, str)  # checked above (for mypy)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ValueError("its body is not JSON") from None
    problem = body_problem(kind, parsed)
    if problem is not None:
        raise ValueError(problem)
    assert isinstance(parsed, dict)  # body_problem checked it
    return Record(
        str(ident),
        kind,
        str(trip_id),
        str(item_id),
        body,
        when.astimezone(UTC),
        str(who),
        hlc,
        parsed,
    )


def insert(conn: sqlite3.Connection, records: Iterable[Record]) -> tuple[int, int, list[str]]:
    """Insert records made elsewhere inside an open transaction.

    Returns (new here, refused, ids now held): a record whose id is here already with
    other contents is a forgery and is refused (the one here stays).
    """
    added = refused = 0
    held: list[str] = []
    for r in records:
        row = (
            r.id,
            r.kind,
            r.trip_id,
            r.item_id,
            r.body,
            r.at.astimezone(UTC).isoformat(timespec="microseconds"),
            r.who,
            r.hlc,
        )
        cur = conn.execute(_INSERT, row)
        if not cur.rowcount:
            found = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE id = ?", (r.id,)).fetchone()
            try:
                same = found is not None and strict_record(found) == r
            except ValueError:
                same = False
            if not same:
                refused += 1
                continue
        added += cur.rowcount
        held.append(r.id)
    return added, refused, held


class RecordStore:
    """The records of one state directory, beside (and ordered with) its marks.

    It has no connection of its own: it reads and writes through the marks store, which
    owns the database (close that one; :meth:`close` here closes nothing).
    """

    def __init__(self, marks: MarkStore, *, clock: Clock) -> None:
        self.marks = marks
        self.path = marks.path
        self._clock = clock
        #: Records that could not be read (a damaged row): one message each, naming the
        #: file and the row. They are left out, never silently.
        self.unreadable_rows: list[str] = []
        self._bad_seqs: set[int] = set()

    @property
    def cannot_save(self) -> str | None:
        """None while notes and shifts can be saved; else why not (as for marks)."""
        return self.marks.cannot_save

    def close(self) -> None:
        """Nothing to close: the marks store owns the connection."""

    # -- writing ----------------------------------------------------------------------

    def _add(
        self,
        kind: str,
        trip_id: str,
        item_id: str,
        body: Callable[[sqlite3.Connection], dict[str, Any]],
        who: str,
    ) -> Record:
        """Commit one record; ``body`` makes its body inside the write transaction."""
        if not trip_id or not item_id:
            raise RecordError(f"a {kind} needs a trip and an item")
        if not who or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in who):
            raise RecordError(f"{who!r} cannot be an author (empty, or control characters)")
        now = self._clock().astimezone(UTC)
        if not 1900 <= now.year < 2200:
            raise RecordError(f"this laptop's clock says {now:%Y-%m-%d}: set it right first")
        with self.marks.write(f"the {kind} was not saved") as conn:
            text = json.dumps(body(conn), ensure_ascii=False, separators=(",", ":"))
            hlc = self.marks.next_hlc(conn)
            record = Record(new_id(hlc), kind, trip_id, item_id, text, now, who, hlc)
            conn.execute(
                _INSERT.replace("OR IGNORE ", ""),
                (
                    record.id,
                    kind,
                    trip_id,
                    item_id,
                    text,
                    now.isoformat(timespec="microseconds"),
                    who,
                    hlc,
                ),
            )
        return record

    def save_note(
        self,
        trip_id: str,
        item_id: str,
        text: str,
        who: str,
        *,
        replaces: Sequence[str] | None = None,
    ) -> Record:
        """Commit a new version of a note, replacing every current version; then return it.

        Saving while versions conflict is what merges them; an empty text deletes the
        note (its versions stay in the history). ``replaces``: the ids of the versions
        the writer saw (an editor opened earlier), so that a version saved meanwhile
        elsewhere stays as a second version rather than vanish; by default, every
        version current at the moment of saving. Control characters are stored as
        typed (they are escaped when shown). Raises RecordError for a text over
        :data:`MAX_NOTE_CHARS` and StoreError when it cannot be saved.
        """
        if not isinstance(text, str):
            raise RecordError("a note is text")
        if len(text) > MAX_NOTE_CHARS:
            raise RecordError(
                f"a note holds at most {MAX_NOTE_CHARS:,} characters (this one has {len(text):,})"
            )
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise RecordError("the note holds characters that cannot be stored (lone surrogates)")
        if replaces is not None and len(replaces) > MAX_REPLACES:
            raise RecordError(f"a note replaces at most {MAX_REPLACES} versions")

        def body(conn: sqlite3.Connection) -> dict[str, Any]:
            # The versions current when it commits (inside the transaction: two savers
            # on this laptop see each other), unless the writer says which it saw.
            seen = replaces
            if seen is None:
                seen = [r.id for r in _unreplaced(self._read(conn, trip_id, NOTE, item_id))]
            return {"text": text, "replaces": list(seen)}

        return self._add(NOTE, trip_id, item_id, body, who)

    def set_shift(
        self,
        trip_id: str,
        from_event: str,
        minutes: int,
        until_event: str | None,
        who: str,
        *,
        begun: bool = False,
    ) -> Record:
        """Commit a shift: the day runs ``minutes`` late from ``from_event`` on.

        ``begun``: the from-event was on when the shift was recorded (it overruns: its
        start stays, its end moves). Check the events against the trip first
        (``late.check_shift``); this refuses only what no trip allows: not a whole
        number, or more than a day either way.
        """
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise RecordError(f"a shift is a whole number of minutes ({minutes!r} given)")
        if abs(minutes) > MAX_SHIFT_MINUTES:
            raise RecordError(
                f"a shift is at most {MAX_SHIFT_MINUTES // 60} hours either way "
                f"({minutes} minutes given)"
            )
        if until_event is not None and not until_event:
            raise RecordError("the until-event of a shift cannot be empty")
        body: dict[str, Any] = {"minutes": minutes, "until": until_event}
        if begun:
            body["begun"] = True  # only when set: the previous release's bodies stay as they were
        return self._add(SHIFT, trip_id, from_event, lambda _conn: body, who)

    def add_records(self, records: Iterable[Record]) -> int:
        """Insert records made elsewhere (sync); ids already present are skipped."""
        with self.marks.write("records were not saved") as conn:
            added, _refused, _held = insert(conn, records)
        return added

    # -- reading ----------------------------------------------------------------------

    def _read(
        self,
        conn: sqlite3.Connection,
        trip_id: str,
        kind: str | None = None,
        item_id: str | None = None,
    ) -> list[Record]:
        sql = f"SELECT seq, {_COLUMNS} FROM records WHERE trip_id = ?"
        args: list[object] = [trip_id]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if item_id is not None:
            sql += " AND item_id = ?"
            args.append(item_id)
        sql += " ORDER BY hlc, who, id"
        try:
            try:
                rows = conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if "decode" not in str(exc):
                    raise
                # Text that is not UTF-8 in some row: read every row as bytes, so the
                # others are kept and that one is reported.
                conn.text_factory = bytes
                try:
                    rows = conn.execute(sql, args).fetchall()
                finally:
                    conn.text_factory = str
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: notes cannot be read ({exc})") from None
        found = []
        for row in rows:
            seq = row[0]
            try:
                found.append(strict_record(row[1:]))
            except (ValueError, TypeError, OverflowError) as exc:
                if isinstance(seq, int) and seq not in self._bad_seqs:
                    self._bad_seqs.add(seq)
                    message = f"{self.path}: record #{seq} cannot be read ({exc}): left out"
                    self.unreadable_rows.append(message)
                    if message not in self.marks.unreadable_rows:  # said once per store
                        self.marks.unreadable_rows.append(message)
        return found

    def records(
        self, trip_id: str, kind: str | None = None, item_id: str | None = None
    ) -> list[Record]:
        """A trip's records (of one kind, for one item), in the order all copies agree on.

        A row that cannot be read is left out and reported in :attr:`unreadable_rows`.
        """
        return self._read(self.marks.connection, trip_id, kind, item_id)

    def notes(self, trip_id: str) -> dict[str, list[NoteVersion]]:
        """Every item's current note versions (items without a note left out)."""
        by_item: dict[str, list[Record]] = {}
        for record in self.records(trip_id, NOTE):
            by_item.setdefault(record.item_id, []).append(record)
        found = {item: note_heads(versions) for item, versions in by_item.items()}
        return {item: heads for item, heads in found.items() if heads}

    def note(self, trip_id: str, item_id: str) -> list[NoteVersion]:
        """One item's current note versions ([] when it has none)."""
        return note_heads(self.records(trip_id, NOTE, item_id))

    def shifts(self, trip_id: str) -> dict[str, Shift]:
        """The shift in force from each event (the latest from that event)."""
        return current_shifts(self.records(trip_id, SHIFT))

    # -- team sync --------------------------------------------------------------------

    def unsynced(
        self,
        trip_id: str,
        server: str,
        limit: int = 500,
        *,
        after: tuple[int, str, str] | None = None,
    ) -> list[Record]:
        """Records of a trip (every kind) that ``server`` has not shown it holds, oldest
        first, from just ``after`` an order key when given."""
        hlc, who, ident = after if after is not None else (HLC_FLOOR - 1, "", "")
        rows = self.marks.connection.execute(
            f"SELECT seq, {_COLUMNS} FROM records r WHERE trip_id = ? "
            f"AND hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT} "
            "AND (hlc, who, id) > (?, ?, ?) AND NOT EXISTS "
            "(SELECT 1 FROM sync_known k WHERE k.server = ? AND k.mark_id = r.id) "
            "ORDER BY hlc, who, id LIMIT ?",
            (trip_id, hlc, who, ident, server, limit),
        ).fetchall()
        found = []
        for row in rows:
            try:
                found.append(strict_record(row[1:]))
            except (ValueError, TypeError, OverflowError):
                continue  # reported by records(); never sent
        return found

    def count_unsynced(self, trip_id: str, server: str) -> int:
        """How many of a trip's records ``server`` has not shown it holds."""
        row = self.marks.connection.execute(
            "SELECT COUNT(*) FROM records r WHERE trip_id = ? "
            f"AND hlc BETWEEN {HLC_FLOOR} AND {HLC_LIMIT} AND NOT EXISTS "
            "(SELECT 1 FROM sync_known k WHERE k.server = ? AND k.mark_id = r.id)",
            (trip_id, server),
        ).fetchone()
        return int(row[0]) if row else 0
