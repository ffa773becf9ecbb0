"""Team sync: marks shared across a delegation's laptops through a CouchDB server.

Sync copies immutable marks, never edits them. One round:

1. **push** the trip's local marks the server does not have, with
   ``POST /{db}/_bulk_docs``, each document's ``_id`` being the mark's id. A
   retry after a lost reply is harmless: the server answers "conflict" for a
   mark it already has, which counts as delivered.
2. **pull** the marks we do not have, with
   ``GET /{db}/_changes?since=CHECKPOINT&include_docs=true&limit=N``, page by
   page; each page and its checkpoint (kept locally, opaque) are committed
   together, so a crash or a lost connection at any moment loses nothing and
   the next round resumes.

Every laptop computes the same state from the same marks (the latest by hybrid
logical clock, then author, then id: see :mod:`tripdash.domain.store`).
One database per trip: ``tripdash-<trip id>``. Credentials come from the URL or
``TRIPDASH_SYNC_USER`` / ``TRIPDASH_SYNC_PASSWORD`` and never appear in a message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from tripdash.domain.fetch import FetchError, check_allowed, redact
from tripdash.domain.store import Mark, MarkStore, StoreError
from tripdash.domain.times import UTC

PAGE = 500
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
DOC_TYPE = "tripdash.mark"
#: A pulled mark's HLC must be below this: JavaScript's largest safe integer, what any
#: CouchDB client carries exactly. Real ones (ms since 1970) are far below; a larger one
#: would not fit SQLite's 64-bit integers, or leave later marks (largest + 1) no room.
MAX_HLC = 2**53


class SyncError(Exception):
    """A round failed; the message is safe to show (no credentials).

    ``offline`` is True when the server could not be reached at all (no network,
    a timeout), as opposed to a server that answered with an error.
    """

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class SyncConfig:
    """Where to sync, and as whom."""

    url: str  # the server's base address, credentials removed
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a traceback
    allow_http: bool = False
    transport: httpx.BaseTransport | None = None  # tests

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


def database_name(trip_id: str) -> str:
    """``tripdash-<trip id>``, in the characters CouchDB allows in a database name."""
    cleaned = re.sub(r"[^a-z0-9_$()+\-]", "_", trip_id.lower())
    return f"tripdash-{cleaned}"


@dataclass(frozen=True)
class SyncResult:
    """What one round moved."""

    pushed: int  # marks the server did not have before
    pulled: int  # marks new to this laptop
    skipped: int  # documents in the feed that were not valid marks (reported, ignored)
    waiting: int  # local marks the server still does not have

    def __str__(self) -> str:
        text = f"pushed {self.pushed} mark(s), pulled {self.pulled} new mark(s)"
        if self.skipped:
            text += f", ignored {self.skipped} document(s) that are not marks"
        if self.waiting:
            text += f"; {self.waiting} still waiting"
        return text


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


def _mark(doc: Any, trip_id: str) -> Mark | None:
    """A mark from a pulled document, or None when it is not a valid one of this trip."""
    if not isinstance(doc, dict) or doc.get("type") != DOC_TYPE:
        return None
    try:
        at = datetime.fromisoformat(str(doc["at"]))
        if at.tzinfo is None:
            return None
        at = at.astimezone(UTC)  # OverflowError at the edges of the calendar
        mark = Mark(
            str(doc["_id"]),
            str(doc["trip_id"]),
            str(doc["item_id"]),
            doc["done"],
            at,
            str(doc["who"]),
            doc["hlc"],
        )
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    if (
        not isinstance(mark.done, bool)
        or not isinstance(mark.hlc, int)
        or isinstance(mark.hlc, bool)
        or not 0 <= mark.hlc < MAX_HLC
    ):
        return None
    return mark if mark.trip_id == trip_id and mark.id and mark.item_id else None


class _Server:
    def __init__(self, config: SyncConfig, db: str) -> None:
        try:
            check_allowed(config.url, allow_http=config.allow_http)
        except FetchError as exc:
            raise SyncError(str(exc)) from None
        auth = (config.user, config.password or "") if config.user else None
        self.base = f"{config.url.rstrip('/')}/{quote(db, safe='')}"
        self.client = httpx.Client(
            auth=auth,
            timeout=TIMEOUT,
            transport=config.transport,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base}{path}"
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise SyncError(f"{_where(url)}: timed out", offline=True) from None
        except httpx.HTTPError as exc:
            text = (str(exc) or type(exc).__name__).splitlines()[0][:200]
            raise SyncError(f"{_where(url)}: cannot connect ({text})", offline=True) from None
        if response.status_code == 401 or response.status_code == 403:
            raise SyncError(
                f"{_where(url)}: not allowed (HTTP {response.status_code}): check "
                "TRIPDASH_SYNC_USER and TRIPDASH_SYNC_PASSWORD, and that this user is a "
                "member of the database"
            )
        if 300 <= response.status_code < 400:
            target = _where(response.headers.get("location", "?"))
            raise SyncError(
                f"{_where(url)}: the server redirects (HTTP {response.status_code}) to {target}: "
                "give that address with --sync"
            )
        if response.status_code >= 400:
            raise _HttpError(response.status_code, f"{_where(url)}: HTTP {response.status_code}")
        try:
            return response.json()
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise SyncError(f"{_where(url)}: the server's answer is not JSON") from None


class _HttpError(SyncError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _where(url: str) -> str:
    """The address for a message: no credentials, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def sync_once(store: MarkStore, trip_id: str, config: SyncConfig) -> SyncResult:
    """One round of push then pull for one trip. Raises :class:`SyncError`."""
    db = database_name(trip_id)
    server = _Server(config, db)
    try:
        _ensure_database(server, db)
        pushed = _push(server, store, trip_id, config.server)
        pulled, skipped = _pull(server, store, trip_id, config.server, db)
    except StoreError as exc:
        raise SyncError(str(exc)) from None
    except httpx.HTTPError as exc:  # e.g. a body cut off mid-read
        raise SyncError(f"the connection failed during sync ({exc})", offline=True) from None
    finally:
        server.close()
    return SyncResult(pushed, pulled, skipped, store.count_unsynced(trip_id, config.server))


def _ensure_database(server: _Server, db: str) -> None:
    try:
        server.request("GET", "")
    except _HttpError as exc:
        if exc.status != 404:
            raise
        try:
            server.request("PUT", "")
        except _HttpError as again:
            if again.status != 412:  # 412: created meanwhile by another laptop
                raise SyncError(
                    f"the database {db} does not exist and could not be created "
                    f"(HTTP {again.status}): ask the server's admin to create it"
                ) from None


def _push(server: _Server, store: MarkStore, trip_id: str, key: str) -> int:
    pushed = 0
    while True:
        batch = store.unsynced(trip_id, key, PAGE)
        if not batch:
            return pushed
        answer = server.request("POST", "/_bulk_docs", json={"docs": [_doc(m) for m in batch]})
        if not isinstance(answer, list):
            raise SyncError("the server's answer to a push is not a list of results")
        delivered: list[str] = []
        wanted = {m.id for m in batch}
        for item in answer:
            if not isinstance(item, dict) or item.get("id") not in wanted:
                continue
            if item.get("ok") is True:
                delivered.append(str(item["id"]))
                pushed += 1
            elif item.get("error") == "conflict":
                delivered.append(str(item["id"]))  # the server had it: an earlier, lost reply
        if not delivered:
            raise SyncError("the server accepted none of the marks pushed to it")
        store.record_synced(key, delivered)
        if len(delivered) < len(batch):
            raise SyncError(
                f"the server refused {len(batch) - len(delivered)} mark(s); they stay waiting"
            )


def _pull(server: _Server, store: MarkStore, trip_id: str, key: str, db: str) -> tuple[int, int]:
    pulled = skipped = 0
    since = store.checkpoint(key, db) or "0"
    while True:
        answer = server.request(
            "GET",
            "/_changes",
            params={"since": _since_param(since), "include_docs": "true", "limit": str(PAGE)},
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise SyncError("the server's change feed is not in the expected form")
        results = answer["results"]
        marks: list[Mark] = []
        for change in results:
            doc = change.get("doc") if isinstance(change, dict) else None
            if isinstance(doc, dict) and (
                doc.get("_deleted") or str(doc.get("_id", "")).startswith("_design/")
            ):
                continue  # not marks: nothing to report
            mark = _mark(doc, trip_id)
            if mark is None:
                skipped += 1
            else:
                marks.append(mark)
        last = answer.get("last_seq")
        if last is None:
            raise SyncError("the server's change feed has no last_seq")
        checkpoint = json.dumps(last)
        pulled += store.add_pulled(key, marks, db, checkpoint)
        if not results or checkpoint == since or len(results) < PAGE:
            return pulled, skipped
        since = checkpoint


def _since_param(checkpoint: str) -> str:
    """The stored checkpoint as the ``since`` parameter (numbers and strings both occur)."""
    try:
        value = json.loads(checkpoint)
    except ValueError:
        return checkpoint
    return value if isinstance(value, str) else json.dumps(value)
