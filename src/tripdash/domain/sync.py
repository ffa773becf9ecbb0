"""Team sync: marks shared across a delegation's laptops through a CouchDB server.

Sync copies immutable marks, never edits them. One round:

1. **push** the trip's local marks the server has not yet shown it holds, with
   ``POST /{db}/_bulk_docs``, each document's ``_id`` being the mark's id. A
   retry after a lost reply is harmless: the server answers "conflict" for a
   mark it already has.
2. **pull** the marks we do not have, with
   ``GET /{db}/_changes?since=CHECKPOINT&include_docs=true&limit=N``, page by
   page; what each page brought and its checkpoint (kept locally, opaque) are
   committed together, so a crash or a lost connection at any moment loses
   nothing and the next round resumes.
3. **confirm**: a mark counts as synced only once the server has *shown* that it
   holds it: it came back in the change feed, or a read of its id
   (``POST /{db}/_all_docs`` with its key) returns the same document. A server
   that answers "ok" and drops the document gets the mark again next round,
   and until then it is counted as waiting.

The server is not trusted, neither to be honest nor to be quick:

* one round is bounded in time (:attr:`SyncLimits.seconds`, checked between
  every chunk read, and every read's timeout shortened to what is left), in
  pages, changes and bytes; a round stopped by a limit keeps what it pulled,
  with its checkpoint, says so in its result, and the next round goes on;
* the change feed is read as a stream and split into its changes without
  recursion, one change at a time, so memory stays flat however long the feed,
  however large or deep a document; a change that cannot be parsed is skipped
  and counted, and the checkpoint passes it;
* every document is validated strictly (:func:`validate_mark`) before it is
  stored: one that is not a well-formed mark of this trip is refused and counted;
  one whose clock is more than :data:`CLOCK_MARGIN_MS` ahead of this laptop's
  wall clock is refused too (and counted apart: a wrong clock somewhere), so the
  hybrid logical clock stays far below 2**53 (see :mod:`tripdash.domain.store`);
* every message that quotes the server goes through :mod:`tripdash.domain.text`.

Every laptop computes the same state from the same marks (the latest by hybrid
logical clock, then author, then id: see :mod:`tripdash.domain.store`).

Notes and shifts (:mod:`tripdash.domain.records`) travel the same way, beside the
marks, as documents of type ``tripdash.record`` with the record's id as ``_id``,
its kind and its body (a JSON object): pushed, pulled with the same checkpoint in
the same transactions, confirmed, validated as strictly (:func:`validate_record`).
A record of a kind this release does not know is validated as far as the common
fields go, stored, and pushed on like any other, never dropped. A laptop of the
previous release reads such a document as "not a mark": it counts it once among
the malformed documents, stores nothing, and its checkpoint passes it, so its
marks keep syncing.
One database per trip: ``tripdash-<trip id>``. Credentials come from the URL or
``TRIPDASH_SYNC_USER`` / ``TRIPDASH_SYNC_PASSWORD`` and never appear in a message.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from tripdash.domain import records as records_module
from tripdash.domain.clockskew import CLOCK_MARGIN_MS, clock_skew_ms, describe_skew
from tripdash.domain.fetch import FetchError, check_allowed, redact
from tripdash.domain.records import KIND, MAX_BODY_CHARS, Record, RecordStore, body_problem
from tripdash.domain.store import (
    HLC_CEILING,
    HLC_FLOOR,
    Mark,
    MarkFields,
    MarkStore,
    StoreError,
    stored_time,
)
from tripdash.domain.text import escaped
from tripdash.domain.times import UTC

#: Changes asked for per page (``limit=``), and marks pushed per request. Each page is
#: one transaction: at 500 a pull of 100,000 marks spent half its time committing.
PAGE = 2000
CONNECT_SECONDS = 5.0
READ_SECONDS = 20.0
DOC_TYPE = "tripdash.mark"
RECORD_TYPE = "tripdash.record"
#: Largest sizes of a mark's text fields (characters).
MAX_ID = 200
MAX_WHO = 200
MAX_AT = 40


class SyncError(Exception):
    """A round failed; the message is safe to show (no credentials, terminal-safe).

    ``offline`` is True when the server could not be reached at all (no network,
    a timeout), as opposed to a server that answered with an error.
    """

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class SyncLimits:
    """What one round may cost at most. The defaults suit a real delegation's server."""

    seconds: float = 60.0  # the whole round, every request and read included
    pages: int = 1000  # change-feed pages per round
    changes: int = 200_000  # changes read per round (and marks pushed per round)
    round_bytes: int = 512 * 1024 * 1024  # bytes read per round, every answer included
    page_bytes: int = 32 * 1024 * 1024  # one change-feed page (checked between changes and chunks)
    # One change parsed whole; a larger one is skipped. Room for the longest note
    # (100,000 characters, even each one a control character escaped as \u001b) and
    # CouchDB's fields, and no more (memory stays flat however large a document).
    change_chars: int = 640 * 1024
    answer_bytes: int = 8 * 1024 * 1024  # any other answer (database info, push results)


@dataclass(frozen=True)
class SyncConfig:
    """Where to sync, and as whom, within which limits."""

    url: str  # the server's base address, credentials removed
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a traceback
    allow_http: bool = False
    transport: httpx.BaseTransport | None = None  # tests
    limits: SyncLimits = field(default_factory=SyncLimits)
    #: Seconds for the round's time limit (tests inject one that they move).
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def server(self) -> str:
        """The key local sync state is kept under (never holds credentials)."""
        return self.url.rstrip("/")

    @classmethod
    def from_url(
        cls, url: str, env: Mapping[str, str] | None = None, *, allow_http: bool = False
    ) -> SyncConfig:
        """Read the address, taking credentials out of it (or from the environment)."""
        env = os.environ if env is None else env
        parts = urlsplit(url)
        # In a URL they are percent-encoded (a "@" or ":" in a password must be).
        user = unquote(parts.username or "") or env.get("TRIPDASH_SYNC_USER") or None
        password = unquote(parts.password or "") or env.get("TRIPDASH_SYNC_PASSWORD") or None
        return cls(redact(url), user, password, allow_http)


def url_has_password(url: str) -> bool:
    """True when ``url`` carries a password (visible to other users in ``ps``)."""
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def database_name(trip_id: str) -> str:
    """``tripdash-<trip id>``, in the characters CouchDB allows in a database name."""
    cleaned = re.sub(r"[^a-z0-9_$()+\-]", "_", trip_id.lower())
    return f"tripdash-{cleaned}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class SyncResult:
    """What one round moved, refused and left waiting."""

    pushed: int  # marks the server accepted that it did not have before
    pulled: int  # marks new to this laptop
    skipped: int  # documents in the feed refused as malformed (reported, ignored)
    waiting: int  # local marks the server has not shown it holds
    ahead: int = 0  # marks refused: their clock is too far ahead of this laptop's
    stopped: str | None = None  # the limit that ended the round early, if one did
    records_pushed: int = 0  # notes, shifts (and other records) the server accepted anew
    records_pulled: int = 0  # records new to this laptop
    records_waiting: int = 0  # local records the server has not shown it holds
    #: How far this laptop's clock is ahead of the server's (negative: behind), from the
    #: ``Date`` of the server's first answer; None when it sent none that reads.
    skew_ms: int | None = None
    #: How far the marks' clock (the latest made or seen here) is ahead of the server's.
    marks_ahead_ms: int | None = None

    def __str__(self) -> str:
        text = f"pushed {self.pushed} mark(s), pulled {self.pulled} new mark(s)"
        if self.records_pushed or self.records_pulled:
            text += (
                f", pushed {self.records_pushed} and pulled {self.records_pulled} "
                "note(s) or shift(s)"
            )
        if self.skipped:
            text += f", ignored {_plural(self.skipped, 'malformed document')}"
        if self.ahead:
            text += (
                f", refused {_plural(self.ahead, 'mark')} dated more than "
                f"{CLOCK_MARGIN_MS // 3_600_000} h ahead of this laptop's clock "
                "(is a clock wrong?)"
            )
        if self.waiting or self.records_waiting:
            text += f"; {self.waiting + self.records_waiting} still waiting"
        if self.stopped:
            text += f"; stopped at {self.stopped}: the next round goes on from there"
        skew = describe_skew(self.skew_ms, marks_ahead_ms=self.marks_ahead_ms)
        if skew:
            text += f"; {skew}"
        return text


# -- documents ------------------------------------------------------------------------


def _doc(mark: Mark) -> dict[str, Any]:
    return {
        "_id": mark.id,
        "type": DOC_TYPE,
        "trip_id": mark.trip_id,
        "item_id": mark.item_id,
        "done": mark.done,
        "at": mark.at.isoformat(),
        "who": mark.who,
        "hlc": mark.hlc,
    }


_FIELDS = frozenset({"_id", "type", "trip_id", "item_id", "done", "at", "who", "hlc"})
#: What CouchDB itself may add to a document it returns.
_COUCH_FIELDS = frozenset(
    {"_rev", "_revisions", "_conflicts", "_deleted_conflicts", "_local_seq", "_attachments"}
)
_ALLOWED_FIELDS = _FIELDS | _COUCH_FIELDS
#: A mark id: tripdash makes 32 hex digits; any short id of these characters is accepted
#: (CouchDB reserves a leading "_").
_MARK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
#: An item id as the trip files allow: no "/", space or control character (see schema.py).
_PART_CHARS = 200
_PART = rf"[^/\s\x00-\x1f\x7f-\x9f\ud800-\udfff]{{1,{_PART_CHARS}}}"
_ITEM_ID = re.compile(f"{_PART}(?:/{_PART})?")
_UNSAFE_WHO = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_AHEAD = "ahead"
#: A time in exactly the form :func:`stored_time` writes (ASCII digits, UTC, microseconds;
#: hours 00-23, as Python 3.14's parser also takes 24:00 for the next midnight).
_STORED_AT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}\+00:00"
)


#: The longest item id :data:`_ITEM_ID` accepts (two parts and the "/").
_MAX_ITEM = 2 * _PART_CHARS + 1
#: A pulled document's keys in the usual case: the mark's fields and CouchDB's ``_rev``.
_USUAL_KEYS = len(_FIELDS) + 1


@lru_cache(maxsize=8192)
def _item_ok(item: str) -> bool:
    # A round's marks name a few thousand items again and again: each is checked once.
    # Only strings short enough to be valid reach here, as the cache keeps what it is
    # given (refused ones too): at most 8,192 of 401 characters, a few MiB at worst.
    return _ITEM_ID.fullmatch(item) is not None


@lru_cache(maxsize=1024)
def _who_ok(who: str) -> bool:
    # A delegation's dozen authors: each checked once (short strings only, as above).
    return _UNSAFE_WHO.search(who) is None


def validate_mark(doc: Any, trip_id: str, *, newest_ms: int) -> Mark | str:
    """A mark from a pulled document, or why it is refused.

    As strict as a trip file: exactly the mark's fields (and CouchDB's own), each of
    its type; ids well formed; text of bounded size, with no lone surrogate (it cannot
    be stored or shown); ``at`` an aware time in the years 1900-2200; ``hlc`` an
    integer no earlier than ``at`` (as every mark is made) and no later than
    ``newest_ms`` (this laptop's wall clock plus the margin). A refusal for that last
    reason is ``"ahead"``.
    """
    found = validate_mark_fields(doc, trip_id, newest_ms)
    return found if isinstance(found, str) else Mark(*found[:7])


def validate_mark_fields(doc: Any, trip_id: str, newest_ms: int) -> MarkFields | str:
    """:func:`validate_mark` giving the mark's fields as a tuple (a pull's million)."""
    if not isinstance(doc, dict):
        return "not a document"
    if doc.get("type") != DOC_TYPE:
        return "not a mark"
    try:
        ident, trip, item, done, at, who, hlc = (
            doc["_id"],
            doc["trip_id"],
            doc["item_id"],
            doc["done"],
            doc["at"],
            doc["who"],
            doc["hlc"],
        )
    except KeyError:
        return "not the fields of a mark"
    # Every field of a mark is there; the usual document has just ``_rev`` besides,
    # seen without comparing its keys as sets.
    if not (len(doc) == _USUAL_KEYS and "_rev" in doc) and not doc.keys() <= _ALLOWED_FIELDS:
        return "not the fields of a mark"
    if not (
        isinstance(ident, str)
        and isinstance(trip, str)
        and isinstance(item, str)
        and isinstance(at, str)
        and isinstance(who, str)
    ):
        return "a text field is not text"
    if not isinstance(done, bool) or not isinstance(hlc, int) or isinstance(hlc, bool):
        return "done or hlc of the wrong type"
    if trip != trip_id:
        return "a mark of another trip"
    if not _MARK_ID.fullmatch(ident) or len(item) > _MAX_ITEM or not _item_ok(item):
        return "an id that is not well formed"
    if not 0 < len(who) <= MAX_WHO or not _who_ok(who):
        return "an author that is not well formed"
    if len(at) > MAX_AT:
        return "a time that is not well formed"
    try:
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            return "a time without a UTC offset"
        if when.tzinfo is not UTC:
            when = when.astimezone(UTC)
    except (ValueError, OverflowError):
        return "a time that is not well formed"
    if not 1900 <= when.year < 2200:
        return "a time outside the years 1900-2200"
    made_ms = int(when.timestamp() * 1000)  # as MarkStore.mark computes it
    if not HLC_FLOOR <= made_ms <= hlc <= HLC_CEILING:
        return "a clock out of range"
    if hlc > newest_ms:
        return _AHEAD
    # The time as the store keeps it: most servers return it as it was pushed, in that
    # form already (then it is the text of ``when``, as parsed above), and formatting a
    # million of them again is 4 % of a pull.
    text = at if _STORED_AT.fullmatch(at) else stored_time(when)
    return (ident, trip, item, done, when, who, hlc, text)


#: What a push sends: marks, or records (notes, shifts).
_Sent = TypeVar("_Sent", Mark, Record)


def _record_doc(record: Record) -> dict[str, Any]:
    return {
        "_id": record.id,
        "type": RECORD_TYPE,
        "kind": record.kind,
        "trip_id": record.trip_id,
        "item_id": record.item_id,
        "body": json.loads(record.body),
        "at": record.at.isoformat(),
        "who": record.who,
        "hlc": record.hlc,
    }


_RECORD_FIELDS = frozenset(
    {"_id", "type", "kind", "trip_id", "item_id", "body", "at", "who", "hlc"}
)


def validate_record(doc: Any, trip_id: str, *, newest_ms: int) -> Record | str:
    """A note, shift or other record from a pulled document, or why it is refused.

    As strict as :func:`validate_mark` for the fields every record has (exactly
    those fields and CouchDB's; ids, author, time and clock as for a mark), plus a
    kind's name, and a body that is a JSON object of bounded size with no lone
    surrogate; the body of a note or a shift must also be one (see
    :func:`tripdash.domain.records.body_problem`). Other kinds' bodies pass as they are.
    """
    if not isinstance(doc, dict) or doc.get("type") != RECORD_TYPE:
        return "not a record"
    extra = set(doc) - _RECORD_FIELDS - _COUCH_FIELDS
    if extra or not set(doc) >= _RECORD_FIELDS:
        return "not the fields of a record"
    kind, body = doc["kind"], doc["body"]
    if not isinstance(kind, str) or not KIND.fullmatch(kind):
        return "a record kind that is not well formed"
    if not isinstance(body, dict):
        return "a record body that is not an object"
    # As a mark: the same fields, the same rules (done stands in, always well formed).
    as_mark = {k: doc[k] for k in ("_id", "trip_id", "item_id", "at", "who", "hlc")}
    mark = validate_mark({**as_mark, "type": DOC_TYPE, "done": True}, trip_id, newest_ms=newest_ms)
    if not isinstance(mark, Mark):
        return mark.replace("a mark", "a record") if mark != _AHEAD else _AHEAD
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        return "a record body that cannot be stored"
    if len(text) > MAX_BODY_CHARS:
        return "a record body that is too large"
    problem = body_problem(kind, body)
    if problem is not None:
        return problem
    return Record(mark.id, kind, mark.trip_id, mark.item_id, text, mark.at, mark.who, mark.hlc)


# -- the change feed, split without recursion -------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'["{}\[\],:]')
_IN_STRING = re.compile(r'["\\]')
_DECODER = json.JSONDecoder()
#: The comma between two changes, with the white space around it.
_NEXT = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
#: Keys of a change whose values the skipper keeps (short ones only).
_KEPT = frozenset({"seq", "id"})
_KEPT_CHARS = 1024


class FeedError(Exception):
    """The change feed is not JSON in the form of CouchDB's; the message says how."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A change of the feed that could not be parsed, with what could be read of it
    without parsing it: its ``seq`` and ``id`` (None when they could not be read)."""

    seq: Any
    doc_id: Any = None


class _Skipper:
    """Finds the end of one JSON value in a stream without parsing it: no recursion, no
    buffering, any size or depth. Keeps the short ``seq`` and ``id`` of an object."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = False
        self.scalar = False
        self.object = False
        self.in_string = False
        self.expect_key = False
        self.in_key = False
        self.key: str | None = None
        self.capturing = False
        self.parts: list[str] = []
        self.size = 0
        self.fields: dict[str, str] = {}

    def _keep(self, text: str) -> None:
        self.size += len(text)
        if self.size <= _KEPT_CHARS:
            self.parts.append(text)

    def _take(self) -> str | None:
        text = "".join(self.parts) if self.size <= _KEPT_CHARS else None
        self.parts, self.size = [], 0
        return text

    def _end_value(self, buf: str, start: int, stop: int) -> None:
        if self.capturing:
            self._keep(buf[start:stop])
            text = self._take()
            if text is not None and self.key is not None:
                self.fields[self.key] = text
            self.capturing = False
        self.key = None

    def scan(self, buf: str, pos: int) -> tuple[int, bool]:
        """Scan ``buf`` from ``pos``: (where the value ends, True), or (where to go on
        with the next buffer, False)."""
        n = len(buf)
        start = pos  # of the text being kept (a key or a kept value), in this buffer
        while pos < n:
            if self.in_string:
                m = _IN_STRING.search(buf, pos)
                if m is None:
                    pos = n
                    break
                if m.group() == "\\":
                    if m.start() + 1 >= n:  # the escaped character is in the next chunk
                        pos = m.start()
                        break
                    pos = m.start() + 2
                    continue
                self.in_string = False
                pos = m.end()
                if self.depth == 0:
                    return pos, True  # the value was a string
                if self.in_key:
                    self._keep(buf[start : m.start()])
                    raw = self._take()
                    self.in_key = False
                    try:
                        self.key = json.loads(f'"{raw}"') if raw is not None else None
                    except ValueError:
                        self.key = None
                continue
            if not self.started:
                ws = _WS.match(buf, pos)
                pos = ws.end() if ws else pos
                if pos >= n:
                    break
                self.started = True
                first = buf[pos]
                if first in "{[":
                    self.depth, self.object, self.expect_key = 1, first == "{", first == "{"
                    pos += 1
                elif first == '"':
                    self.in_string = True
                    pos += 1
                else:
                    self.scalar = True
                continue
            m = _STRUCTURE.search(buf, pos)
            if m is None:
                pos = n
                break
            c, i = m.group(), m.start()
            if self.scalar:  # a number, true, false, null: ends where the next item begins
                return i, True
            pos = m.end()
            if c == '"':
                self.in_string = True
                if self.depth == 1 and self.object and self.expect_key:
                    self.in_key, self.expect_key = True, False
                    start = pos
            elif c in "{[":
                self.depth += 1
            elif c == ":":
                if self.depth == 1 and self.object and self.key in _KEPT:
                    self.capturing = True
                    start = pos
            elif c == ",":
                if self.depth == 1:
                    self._end_value(buf, start, i)
                    self.expect_key = self.object
            else:  # } or ]
                if self.depth == 1:
                    self._end_value(buf, start, i)
                self.depth -= 1
                if self.depth == 0:
                    return pos, True
        if self.in_key or self.capturing:
            self._keep(buf[start:pos])
        return pos, False

    def change(self) -> Skipped:
        def read(key: str) -> Any:
            try:
                return json.loads(self.fields[key]) if key in self.fields else None
            except (ValueError, RecursionError):
                return None

        return Skipped(read("seq"), read("id"))


class FeedParser:
    """CouchDB's ``{"results": [...], "last_seq": ...}``, fed text as it arrives.

    :meth:`feed` returns the changes completed so far; each is parsed on its own (C
    speed) when it is at most ``change_chars`` long and nests no deeper than Python's
    parser allows, and returned as the parsed value; else skipped by
    :class:`_Skipper` and returned as :class:`Skipped`. The parser holds at most
    one unfinished change of at most ``change_chars`` (plus the chunk being read):
    memory stays flat.
    """

    def __init__(self, change_chars: int) -> None:
        self.change_chars = change_chars
        self.buf = ""
        self.pos = 0
        self.state = "start"
        self.key: str | None = None
        self.has_results = False
        self.has_last_seq = False
        self.last_seq: Any = None
        self.skipper: _Skipper | None = None

    @property
    def finished(self) -> bool:
        """True once the closing brace has been read."""
        return self.state == "end"

    @property
    def skipping(self) -> bool:
        """True while a change too large to keep is being skipped as it streams by."""
        return self.state == "skip"

    def feed(self, text: str) -> list[Any]:
        """Take the next piece of the answer; return the changes it completed."""
        self.buf = self.buf[self.pos :] + text if self.pos < len(self.buf) else text
        self.pos = 0
        out: list[Any] = []
        self._run(out, final=False)
        return out

    def finish(self) -> list[Any]:
        """The answer has ended: return the last changes, or raise :class:`FeedError`."""
        out: list[Any] = []
        self._run(out, final=True)
        if self.state != "end":
            raise FeedError("the answer ends in the middle")
        if not self.has_results:
            raise FeedError("the answer has no list of results")
        if not self.has_last_seq:
            raise FeedError("the answer has no last_seq")
        return out

    def _char(self) -> str | None:
        ws = _WS.match(self.buf, self.pos)
        self.pos = ws.end() if ws else self.pos
        return self.buf[self.pos] if self.pos < len(self.buf) else None

    def _run(self, out: list[Any], *, final: bool) -> None:
        while True:
            state = self.state
            if state == "skip":
                assert self.skipper is not None
                self.pos, done = self.skipper.scan(self.buf, self.pos)
                if not done:
                    return
                out.append(self.skipper.change())
                self.skipper = None
                self.state = "elem_sep"
                continue
            c = self._char()
            if c is None:
                return
            if state == "start":
                if c != "{":
                    raise FeedError("the answer is not a JSON object")
                self.pos += 1
                self.state = "key_or_end"
            elif state in ("key_or_end", "key"):
                if c == "}" and state == "key_or_end":
                    self.pos += 1
                    self.state = "end"
                elif c == '"':
                    value = self._small_value(final)
                    if value is None:
                        return
                    self.key = value[0] if isinstance(value[0], str) else None
                    self.state = "colon"
                else:
                    raise FeedError("the answer is not JSON")
            elif state == "colon":
                if c != ":":
                    raise FeedError("the answer is not JSON")
                self.pos += 1
                self.state = "value"
            elif state == "value":
                if self.key == "results":
                    if c != "[":
                        raise FeedError("its results are not a list")
                    self.has_results = True
                    self.pos += 1
                    self.state = "elem_first"
                else:
                    value = self._small_value(final)
                    if value is None:
                        return
                    if self.key == "last_seq":
                        self.has_last_seq, self.last_seq = True, value[0]
                    self.state = "after_value"
            elif state == "after_value":
                if c not in ",}":
                    raise FeedError("the answer is not JSON")
                self.pos += 1
                self.state = "key" if c == "," else "end"
            elif state == "elem_first":
                if c == "]":
                    self.pos += 1
                    self.state = "after_value"
                else:
                    self.state = "elem"
            elif state == "elem":
                if not self._element(out, final):
                    return
            elif state == "elem_sep":
                if c not in ",]":
                    raise FeedError("its results are not a JSON list")
                self.pos += 1
                self.state = "elem" if c == "," else "after_value"
            else:  # end: only white space may follow
                raise FeedError("the answer goes on after its end")

    def _small_value(self, final: bool) -> tuple[Any] | None:
        """A key or a top-level value other than the results (short), or None: wait."""
        try:
            value, end = _DECODER.raw_decode(self.buf, self.pos)
        except (ValueError, RecursionError):
            value, end = None, -1
        if end != -1 and (end < len(self.buf) or final):
            self.pos = end
            return (value,)
        if final or len(self.buf) - self.pos > self.change_chars:
            raise FeedError("the answer is not JSON")
        return None

    def _element(self, out: list[Any], final: bool) -> bool:
        """Read the change at ``pos`` (and those straight after it); False when more
        text is needed first."""
        buf = self.buf
        # The changes of a chunk are read here one after another, past their commas,
        # without a turn of the state machine each (a third of the parser's time).
        while True:
            try:
                value, end = _DECODER.raw_decode(buf, self.pos)
                if end - self.pos > self.change_chars:
                    raise ValueError("too large")
                # A number at the end of the text may go on in the next chunk.
                if not (isinstance(value, (dict, list, str)) or end < len(buf) or final):
                    break
            except (ValueError, RecursionError):
                break
            out.append(value)  # no object around it: 200,000 of them a round
            self.pos = end
            self.state = "elem_sep"
            after = _NEXT.match(buf, end)
            if after is None:
                return True
            self.pos = after.end()  # as "elem_sep" then "elem" would have read it
            self.state = "elem"
            if self.pos >= len(buf):
                return False
        skipper = _Skipper()
        end, done = skipper.scan(self.buf, self.pos)
        if done:  # complete, but not JSON (or too deep or too large for parsing): skipped
            out.append(skipper.change())
            self.pos = end
            self.state = "elem_sep"
            return True
        if final:
            raise FeedError("the answer ends in the middle")
        if len(self.buf) - self.pos > self.change_chars:
            # Too large to keep: skip the rest of it as it streams by.
            self.skipper = skipper
            self.pos = end
            self.state = "skip"
            return True
        return False


# -- talking to the server --------------------------------------------------------------


class _Stop(Exception):
    """A limit of the round was reached (not an error: the round ends early)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Round:
    """The budget of one round: time, pages, changes, bytes."""

    def __init__(self, config: SyncConfig) -> None:
        self.limits = config.limits
        self.monotonic = config.monotonic
        self.deadline = self.monotonic() + self.limits.seconds
        self.bytes = 0
        self.pages = 0
        self.changes = 0

    def remaining(self) -> float:
        left = self.deadline - self.monotonic()
        if left <= 0:
            raise _Stop(f"the time limit of {self.limits.seconds:g} s")
        return left

    def read(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.round_bytes:
            raise _Stop(f"the limit of {self.limits.round_bytes:,} bytes read")

    def page(self) -> None:
        if self.pages >= self.limits.pages:
            raise _Stop(f"the limit of {self.limits.pages:,} pages")
        self.pages += 1

    def change(self) -> None:
        if self.changes >= self.limits.changes:
            raise _Stop(f"the limit of {self.limits.changes:,} changes")
        self.changes += 1


class _Decoder:
    """The body's content coding undone with bounded output (no decompression bomb)."""

    def __init__(self, coding: str) -> None:
        coding = coding.strip().lower()
        if coding in ("", "identity"):
            self.zlib = None
        elif coding in ("gzip", "x-gzip"):
            self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self.zlib = zlib.decompressobj()
        else:
            raise SyncError(f"the server's answer is in an unknown coding ({escaped(coding)})")

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self.zlib is None:
            yield data
            return
        try:
            while data:
                out = self.zlib.decompress(data, 65536)
                data = self.zlib.unconsumed_tail
                if out:
                    yield out
        except zlib.error:
            raise SyncError("the server's compressed answer is corrupt") from None


class _Server:
    def __init__(self, config: SyncConfig, db: str, clock: Callable[[], int]) -> None:
        try:
            check_allowed(config.url, allow_http=config.allow_http)
        except FetchError as exc:
            raise SyncError(escaped(str(exc))) from None
        auth = (config.user, config.password or "") if config.user else None
        self.base = f"{config.url.rstrip('/')}/{quote(db, safe='')}"
        self.client = httpx.Client(
            auth=auth,
            transport=config.transport,
            follow_redirects=False,
            trust_env=False,
            # identity: a compressed body's size says nothing of what it unpacks to.
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
        )
        # The round's time limit in real time, for what the chunk-by-chunk checks cannot
        # see: a status line and headers sent a byte at a time (each read waits at most
        # READ_SECONDS, but a byte every few seconds would hold the round for hours).
        # A second after the limit (the checks between chunks come first when chunks
        # come), the round's connections are shut, which ends any read.
        self._sockets: list[Any] = []
        #: The ``Date`` header of the server's first answer, and this laptop's clock
        #: when it came (``clock`` is the store's wall clock, in ms).
        self.date: tuple[str, int] | None = None
        self.clock = clock
        self._lock = threading.Lock()
        self._expired = False
        self._watchdog = threading.Timer(config.limits.seconds + 1.0, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: keep the socket of each connection opened."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self._expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def close(self) -> None:
        self._watchdog.cancel()
        self.client.close()

    @contextmanager
    def stream(
        self, rnd: _Round, method: str, path: str, **kwargs: Any
    ) -> Iterator[Iterator[bytes]]:
        """The answer's body, chunk by chunk, each counted and the clock checked."""
        url = f"{self.base}{path}"
        left = rnd.remaining()
        timeout = httpx.Timeout(min(READ_SECONDS, left), connect=min(CONNECT_SECONDS, left))
        try:
            with self.client.stream(
                method, url, timeout=timeout, extensions={"trace": self._trace}, **kwargs
            ) as response:
                if self.date is None:
                    self.date = (response.headers.get("date", ""), self.clock())
                _check_status(url, response)
                decoder = _Decoder(response.headers.get("content-encoding", ""))

                def chunks() -> Iterator[bytes]:
                    if response.is_stream_consumed:  # a transport that read it (tests)
                        whole = response.content
                        for start in range(0, len(whole), 65536):
                            rnd.read(len(whole[start : start + 65536]))
                            yield whole[start : start + 65536]
                            rnd.remaining()
                        return
                    # No chunk size: httpx would gather that much before yielding, and
                    # a trickling server would never reach the time check.
                    for raw in response.iter_raw():
                        rnd.read(len(raw))
                        yield from decoder.decode(raw)
                        rnd.remaining()
                    if self._expired:  # its end was the connection shut at the time limit
                        rnd.remaining()

                yield chunks()
        except httpx.TimeoutException:
            rnd.remaining()  # the round's own limit, if that is what the timeout was
            raise SyncError(f"{_where(url)}: timed out", offline=True) from None
        except httpx.HTTPError as exc:
            if self._expired:
                rnd.remaining()  # its connection was shut at the round's time limit
            text = escaped((str(exc) or type(exc).__name__).splitlines()[0][:200])
            raise SyncError(f"{_where(url)}: cannot connect ({text})", offline=True) from None

    def request(self, rnd: _Round, method: str, path: str, **kwargs: Any) -> Any:
        """A small JSON answer (at most ``answer_bytes``)."""
        limit = rnd.limits.answer_bytes
        body = bytearray()
        with self.stream(rnd, method, path, **kwargs) as chunks:
            for data in chunks:
                body += data
                if len(body) > limit:
                    raise SyncError(
                        f"{_where(self.base + path)}: the server's answer is larger than "
                        f"{limit:,} bytes"
                    )
        try:
            return json.loads(bytes(body))
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise SyncError(
                f"{_where(self.base + path)}: the server's answer is not JSON"
            ) from None


def _shut(sock: Any) -> None:
    """End every read and write on a socket now (from another thread)."""
    with suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status in (401, 403):
        raise SyncError(
            f"{_where(url)}: not allowed (HTTP {status}): check "
            "TRIPDASH_SYNC_USER and TRIPDASH_SYNC_PASSWORD, and that this user is a "
            "member of the database"
        )
    if 300 <= status < 400:
        target = _where(response.headers.get("location", "?")[:500])
        raise SyncError(
            f"{_where(url)}: the server redirects (HTTP {status}) to {target}: "
            "give that address with --sync"
        )
    if status >= 400:
        raise _HttpError(status, f"{_where(url)}: HTTP {status}")


class _HttpError(SyncError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _where(url: str) -> str:
    """The address for a message: no credentials, no query, terminal-safe."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host += f":{parts.port}"
        text = urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:  # a Location that is no address at all
        text = url if "@" not in url else "(an address)"
    return escaped(text)


# -- one round --------------------------------------------------------------------------


def sync_once(
    store: MarkStore,
    trip_id: str,
    config: SyncConfig,
    records: RecordStore | None = None,
) -> SyncResult:
    """One round of push, pull and confirm for one trip, within ``config.limits``.

    Marks first, then the records (notes, shifts, kinds of newer releases) through
    ``records`` (by default, a record store on ``store``).

    Raises :class:`SyncError` when the round fails; what it pulled or confirmed
    before that is kept. A round ended by a limit returns normally, its result's
    ``stopped`` saying which.
    """
    db = database_name(trip_id)
    rnd = _Round(config)
    server = _Server(config, db, store.wall_ms)
    key = config.server
    pull = _Pull()
    pushed = records_pushed = 0
    stopped: str | None = None
    if records is None:
        # Sync only reads and inserts records; the clock is the store's.
        records = RecordStore(
            store, clock=lambda: datetime.fromtimestamp(store.wall_ms() / 1000, UTC)
        )
    try:
        try:
            _ensure_database(server, rnd, db)
            pushed, sent, stopped = _push(server, rnd, store, trip_id, key)
            records_pushed, sent_records, records_stopped = _push_records(
                server, rnd, records, trip_id, key
            )
            stopped = stopped or records_stopped
            try:
                with store.bulk_writes():
                    _pull(server, rnd, store, trip_id, key, db, pull)
            except _Stop as stop:
                # What was sent is still confirmed, while the round has time left: a
                # pull that always stops at its limit must not keep it waiting for ever.
                stopped = stop.reason
            _confirm(server, rnd, store, key, sent)
            _confirm(server, rnd, store, key, sent_records)
        except _Stop as stop:
            stopped = stopped or stop.reason
    except StoreError as exc:
        raise SyncError(str(exc)) from None
    except httpx.HTTPError as exc:  # e.g. a body cut off mid-read
        text = escaped(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        raise SyncError(f"the connection failed during sync ({text})", offline=True) from None
    finally:
        server.close()
    return SyncResult(
        pushed,
        pull.pulled,
        pull.malformed,
        store.count_unsynced(trip_id, key),
        pull.ahead,
        stopped,
        records_pushed,
        pull.records,
        records.count_unsynced(trip_id, key),
        clock_skew_ms(*server.date) if server.date is not None else None,
        clock_skew_ms(server.date[0], store.largest_hlc()) if server.date is not None else None,
    )


def _ensure_database(server: _Server, rnd: _Round, db: str) -> None:
    try:
        server.request(rnd, "GET", "")
    except _HttpError as exc:
        if exc.status != 404:
            raise
        try:
            server.request(rnd, "PUT", "")
        except _HttpError as again:
            if again.status != 412:  # 412: created meanwhile by another laptop
                raise SyncError(
                    f"the database {db} does not exist and could not be created "
                    f"(HTTP {again.status}): ask the server's admin to create it"
                ) from None


def _push(
    server: _Server, rnd: _Round, store: MarkStore, trip_id: str, key: str
) -> tuple[int, dict[str, Mark], str | None]:
    """Send the marks the server has not shown it holds (see :func:`_push_all`)."""

    def waiting(limit: int, after: tuple[int, str, str] | None) -> Sequence[Mark]:
        return store.unsynced(trip_id, key, limit, after=after)

    return _push_all(server, rnd, waiting, _doc, "marks", "mark(s)")


def _push_records(
    server: _Server, rnd: _Round, records: RecordStore, trip_id: str, key: str
) -> tuple[int, dict[str, Record], str | None]:
    """Send the records the server has not shown it holds (see :func:`_push_all`)."""

    def waiting(limit: int, after: tuple[int, str, str] | None) -> Sequence[Record]:
        return records.unsynced(trip_id, key, limit, after=after)

    return _push_all(server, rnd, waiting, _record_doc, "notes or shifts", "note(s) or shift(s)")


def _push_all(
    server: _Server,
    rnd: _Round,
    waiting: Callable[[int, tuple[int, str, str] | None], Sequence[_Sent]],
    to_doc: Callable[[_Sent], dict[str, Any]],
    plural: str,
    some: str,
) -> tuple[int, dict[str, _Sent], str | None]:
    """Send what ``waiting`` gives (in order, a page at a time), up to the round's limit;
    return (accepted as new, sent, the limit that stopped it or None).

    A push stopped by the limit lets the round go on to pull and confirm what it sent:
    those are then held, and the next round sends the ones after them (a round that
    stopped here once sent the same first ones for ever)."""
    pushed = 0
    sent: dict[str, _Sent] = {}
    after: tuple[int, str, str] | None = None
    while True:
        room = rnd.limits.changes - len(sent)
        batch = waiting(max(1, min(PAGE, room)), after)
        if not batch:
            return pushed, sent, None
        if room <= 0:
            return pushed, sent, f"the limit of {rnd.limits.changes:,} {plural} pushed"
        after = batch[-1].order
        answer = server.request(
            rnd, "POST", "/_bulk_docs", json={"docs": [to_doc(one) for one in batch]}
        )
        if not isinstance(answer, list):
            raise SyncError("the server's answer to a push is not a list of results")
        wanted = {one.id: one for one in batch}
        accepted = 0
        for item in answer:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            one = wanted.get(item["id"])
            if one is None:
                continue
            if item.get("ok") is True:
                pushed += 1
            elif item.get("error") != "conflict":  # conflict: it had it (a lost reply)
                continue
            sent[one.id] = one
            accepted += 1
        if not accepted:
            raise SyncError(f"the server accepted none of the {plural} pushed to it")
        if accepted < len(batch):
            raise SyncError(f"the server refused {len(batch) - accepted} {some}; they stay waiting")


@dataclass
class _Pull:
    pulled: int = 0
    malformed: int = 0
    ahead: int = 0
    records: int = 0


def _pull(
    server: _Server,
    rnd: _Round,
    store: MarkStore,
    trip_id: str,
    key: str,
    db: str,
    out: _Pull,
) -> None:
    since = store.checkpoint(key, db) or "0"
    while True:
        rnd.page()
        checkpoint, complete, count = _pull_page(server, rnd, store, trip_id, key, db, since, out)
        if checkpoint == since or (complete and count < PAGE):
            return
        since = checkpoint


def _pull_page(
    server: _Server,
    rnd: _Round,
    store: MarkStore,
    trip_id: str,
    key: str,
    db: str,
    since: str,
    out: _Pull,
) -> tuple[str, bool, int]:
    """One page: its changes committed with the checkpoint after the last one read.

    Returns (checkpoint, whether the page was read to its end, changes in it). A
    page of more than :data:`PAGE` changes (a server that ignores ``limit``) or
    ``page_bytes`` is cut there; the next page goes on from the last change read.
    """
    parser = FeedParser(rnd.limits.change_chars)
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape")  # bad bytes: refused
    marks: list[MarkFields] = []
    pulled_records: list[Record] = []
    last_seq: Any = None
    count = 0
    complete = False
    newest = store.wall_ms() + CLOCK_MARGIN_MS
    page_bytes = 0

    def take(changes: list[Any]) -> bool:
        """Handle changes; False once the page must be cut."""
        nonlocal last_seq, count
        for change in changes:
            rnd.change()
            count += 1
            _classify(change, trip_id, newest, marks, out, pulled_records)
            if type(change) is dict:
                seq = change.get("seq")
            else:
                seq = change.seq if isinstance(change, Skipped) else None
            if seq is not None and (type(seq) is int or _resendable(seq)):
                last_seq = seq
            if count >= PAGE + 1 or page_bytes > rnd.limits.page_bytes:
                return False
        return True

    def commit() -> str:
        checkpoint = since
        if complete and parser.has_last_seq and _resendable(parser.last_seq):
            checkpoint = json.dumps(parser.last_seq)
        elif last_seq is not None:
            checkpoint = json.dumps(last_seq)
        new_records = 0

        def also(conn: Any) -> tuple[int, int, list[str]]:
            nonlocal new_records
            found = records_module.insert(conn, pulled_records)
            new_records = found[0]
            return found

        added, conflicting = store.add_pulled(key, marks, db, checkpoint, also=also)
        out.pulled += added
        out.records += new_records
        out.malformed += conflicting
        return checkpoint

    params = {"since": _since_param(since), "include_docs": "true", "limit": str(PAGE)}
    try:
        with server.stream(rnd, "GET", "/_changes", params=params) as chunks:
            for data in chunks:
                page_bytes += len(data)
                if not take(parser.feed(text.decode(data))):
                    break
                if page_bytes > rnd.limits.page_bytes and not parser.skipping:
                    # Checked after each change (in ``take``, to cut the page there)
                    # and here: a page of white space completes no change. (A change
                    # too large to parse is skipped to its end, however long, so that
                    # the checkpoint can pass it.)
                    if count == 0:
                        raise SyncError(
                            f"the server's change feed gave {rnd.limits.page_bytes:,} "
                            "bytes without a change in them"
                        )
                    break
            else:
                if take(parser.feed(text.decode(b"", final=True))):
                    take(parser.finish())
                    complete = True
    except FeedError as exc:
        checkpoint = commit()
        if checkpoint != since:
            return checkpoint, False, count  # a later page may be sane
        raise SyncError(f"the server's change feed is not in the expected form: {exc}") from None
    except (SyncError, _Stop, httpx.HTTPError):
        commit()
        raise
    return commit(), complete, count


def _classify(
    value: Any,
    trip_id: str,
    newest: int,
    marks: list[MarkFields],
    out: _Pull,
    records: list[Record] | None = None,
) -> None:
    """Sort one change of the feed (as :class:`FeedParser` gives it) into ``marks`` or
    ``records``, or count it as refused; deletions and design documents are passed by."""
    if type(value) is not dict:
        if not (
            isinstance(value, Skipped)
            and isinstance(value.doc_id, str)
            and value.doc_id.startswith("_design/")
        ):
            out.malformed += 1
        return
    doc = value.get("doc")
    ident = value.get("id")
    if (
        value.get("deleted") is True
        or (isinstance(doc, dict) and doc.get("_deleted") is True)
        or (isinstance(ident, str) and ident.startswith("_design/"))
    ):
        return  # not marks: nothing to report
    if records is not None and isinstance(doc, dict) and doc.get("type") == RECORD_TYPE:
        record = validate_record(doc, trip_id, newest_ms=newest)
        if isinstance(record, Record):
            records.append(record)
        elif record == _AHEAD:
            out.ahead += 1
        else:
            out.malformed += 1
        return
    mark = validate_mark_fields(doc, trip_id, newest)
    if type(mark) is tuple:
        marks.append(mark)
    elif mark == _AHEAD:
        out.ahead += 1
    else:
        out.malformed += 1


def _confirm(
    server: _Server,
    rnd: _Round,
    store: MarkStore,
    key: str,
    sent: Mapping[str, Mark] | Mapping[str, Record],
) -> None:
    """Ask for the marks or records sent this round that did not come back in the feed:
    held once the server's copy has exactly the fields that were sent."""
    unseen = store.not_known(key, list(sent))
    for start in range(0, len(unseen), PAGE):
        ids = unseen[start : start + PAGE]
        answer = server.request(
            rnd, "POST", "/_all_docs", params={"include_docs": "true"}, json={"keys": ids}
        )
        rows = answer.get("rows") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise SyncError("the server's answer to a read is not in the expected form")
        held = []
        for row in rows:
            doc = row.get("doc") if isinstance(row, dict) else None
            if not isinstance(doc, dict) or not isinstance(doc.get("_id"), str):
                continue
            one = sent.get(doc["_id"])
            if isinstance(one, Mark):
                fields, expected = _FIELDS, _doc(one)
            elif isinstance(one, Record):
                fields, expected = _RECORD_FIELDS, _record_doc(one)
            else:
                continue
            if {k: doc.get(k) for k in fields} == expected:
                held.append(one.id)
        store.record_synced(key, held)


#: The longest seq kept as a checkpoint (CouchDB's are under 200 characters): it is sent
#: back in the URL of every later page.
_MAX_SEQ_CHARS = 1024


def _resendable(seq: Any) -> bool:
    """Whether a seq from the feed can be kept as the checkpoint and asked for again.

    Text must be short ASCII (CouchDB's are): a lone surrogate in one once made every
    later round fail in building its request, on every laptop; anything else must be
    short as JSON."""
    if type(seq) is int:
        return True
    if isinstance(seq, str):
        return seq.isascii() and len(seq) <= _MAX_SEQ_CHARS
    try:
        return len(json.dumps(seq)) <= _MAX_SEQ_CHARS
    except (TypeError, ValueError, RecursionError):
        return False


def _since_param(checkpoint: str) -> str:
    """The stored checkpoint as the ``since`` parameter (numbers and strings both occur)."""
    try:
        value = json.loads(checkpoint)
    except (ValueError, RecursionError):
        return checkpoint if _resendable(checkpoint) else "0"
    if not _resendable(value):
        # Kept by an earlier release (a lone surrogate cannot be sent): from the start
        # again, which pulls nothing twice (ids), rather than fail every round.
        return "0"
    return value if isinstance(value, str) else json.dumps(value)
