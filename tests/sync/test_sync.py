"""Team sync against a real CouchDB-compatible server (pouchdb-server on 127.0.0.1).

Each "laptop" is a state directory with its own :class:`MarkStore` and injected
clock. Faults are injected with httpx transports wrapped around the real network
transport, so the server really receives (or never receives) each request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import FakeClock

import tripdash.domain.sync as sync_module
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.store import Mark, MarkStore
from tripdash.domain.sync import (
    SyncConfig,
    SyncError,
    SyncResult,
    database_name,
    sync_once,
)

from .conftest import ROOT, PouchServer, at

T0 = at("2023-01-17T09:00 America/New_York")
FS_TRIP = ROOT / "trips" / "fs-north-america-2023-01.toml"
FS_ID = "fs-north-america-2023-01"


# -- helpers ----------------------------------------------------------------------------


def config(url: str, transport: httpx.BaseTransport | None = None) -> SyncConfig:
    """Plain config for ``url`` (no credentials taken from the real environment)."""
    return replace(SyncConfig.from_url(url, env={}), transport=transport)


class Laptop:
    """One member of the delegation: a state directory, a clock, a name."""

    def __init__(self, root: Path, who: str, clock_at: Any = T0) -> None:
        self.who = who
        self.clock = FakeClock(clock_at)
        self.store = MarkStore(root / f"laptop-{who}", clock=self.clock)

    def mark(self, trip_id: str, item: str, done: bool = True, *, after: float = 1.0) -> Mark:
        """Mark ``item``, ``after`` seconds after this laptop's previous action."""
        self.clock.advance(seconds=after)
        return self.store.mark(trip_id, item, done, self.who)

    def sync(self, trip_id: str, url: str, **kwargs: Any) -> SyncResult:
        return sync_once(self.store, trip_id, config(url, **kwargs))

    def ids(self, trip_id: str) -> set[str]:
        return {m.id for m in self.store.history(trip_id)}

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def laptops(tmp_path: Path) -> Iterable[Callable[..., Laptop]]:
    made: list[Laptop] = []

    def make(who: str, clock_at: Any = T0) -> Laptop:
        laptop = Laptop(tmp_path, who, clock_at)
        made.append(laptop)
        return laptop

    yield make
    for laptop in made:
        laptop.close()


class Wrapped(httpx.BaseTransport):
    """The real network transport, with hooks to break it the way networks break.

    ``before(index, request)`` runs before the request is sent (raise to "not reach
    the server"); ``after(index, request, response)`` runs once the full answer has
    arrived (raise to "lose the reply", or return another response to replace it).
    """

    def __init__(
        self,
        before: Callable[[int, httpx.Request], None] | None = None,
        after: Callable[[int, httpx.Request, httpx.Response], httpx.Response | None] | None = None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.before = before
        self.after = after
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = len(self.requests)
        self.requests.append(request)
        if self.before is not None:
            self.before(index, request)
        response = self.inner.handle_request(request)
        if self.after is None:
            return response
        response.read()
        replaced = self.after(index, request, response)
        if replaced is not None:
            return replaced
        # A fresh stream of what arrived (sync reads the raw stream, which read() used up).
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


def kind(request: httpx.Request) -> str:
    """``GET db`` / ``PUT db`` / ``POST _bulk_docs`` / ``GET _changes``."""
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{request.method} {last if last.startswith('_') else 'db'}"


def sent_docs(request: httpx.Request) -> list[dict[str, Any]]:
    return list(json.loads(request.content)["docs"])


def changes_since(server: PouchServer, db: str) -> list[tuple[int, str]]:
    """Every (seq, doc id) of the server's change feed (pouchdb-server's seqs are numbers)."""
    answer = server.get(f"/{db}/_changes")
    answer.raise_for_status()
    return [(int(c["seq"]), str(c["id"])) for c in answer.json()["results"]]


def assert_same_everywhere(trip_id: str, *laptops: Laptop) -> None:
    first = laptops[0].store
    for other in laptops[1:]:
        assert other.store.history(trip_id) == first.history(trip_id), other.who
        assert other.store.state(trip_id) == first.state(trip_id), other.who
        assert other.store.done_ids(trip_id) == first.done_ids(trip_id), other.who


# -- convergence --------------------------------------------------------------------------


def test_three_laptops_marking_offline_then_syncing_in_turns_converge(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a, b, c = laptops("alice", T0), laptops("bob", T0), laptops("carol", T0)
    made = [
        a.mark(trip_id, "csis-speech", True, after=0),  # 09:00:00
        a.mark(trip_id, "blinken-bilateral", True, after=60),  # 09:01:00
        b.mark(trip_id, "csis-speech", False, after=120),  # 09:02:00: after alice's
        b.mark(trip_id, "arlington-wreath", True, after=60),  # 09:03:00
        c.mark(trip_id, "joly-bilateral", True, after=240),  # 09:04:00
        c.mark(trip_id, "blinken-bilateral", False, after=60),  # 09:05:00
        c.mark(trip_id, "blinken-bilateral", True, after=60),  # 09:06:00
    ]
    # Nothing has left any laptop yet.
    assert [len(x.store.history(trip_id)) for x in (a, b, c)] == [2, 2, 3]

    # In turns: each pushes its own and pulls what is there.
    first = [a.sync(trip_id, couch.url), b.sync(trip_id, couch.url), c.sync(trip_id, couch.url)]
    assert [(r.pushed, r.pulled, r.skipped, r.waiting) for r in first] == [
        (2, 0, 0, 0),
        (2, 2, 0, 0),
        (3, 4, 0, 0),
    ]
    second = [a.sync(trip_id, couch.url), b.sync(trip_id, couch.url), c.sync(trip_id, couch.url)]
    assert [(r.pushed, r.pulled) for r in second] == [(0, 5), (0, 3), (0, 0)]
    # A third round moves nothing.
    third = [x.sync(trip_id, couch.url) for x in (a, b, c)]
    assert all((r.pushed, r.pulled, r.waiting) == (0, 0, 0) for r in third)

    assert_same_everywhere(trip_id, a, b, c)
    history = a.store.history(trip_id)
    assert {m.id for m in history} == {m.id for m in made}
    assert sorted(history, key=lambda m: m.order) == history
    assert sorted(history, key=lambda m: m.at) == history  # clocks were right: real order
    # Every mark kept as made (author, time, value), on every laptop.
    assert set(history) == set(made)
    assert a.store.done_ids(trip_id) == {"blinken-bilateral", "arlington-wreath", "joly-bilateral"}
    assert a.store.state(trip_id)["csis-speech"].who == "bob"
    assert couch.doc_count(database_name(trip_id)) == len(made)


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_concurrent_mark_and_unmark_resolve_the_same_way_everywhere(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop], first: str
) -> None:
    a, b, c = laptops("alice"), laptops("bob"), laptops("carol")
    # Offline: bob unmarks at 09:00:05, alice marks done at 09:00:10. Alice's is later.
    b.mark(trip_id, "csis-speech", False, after=5)
    later = a.mark(trip_id, "csis-speech", True, after=10)
    order = [a, b] if first == "alice" else [b, a]
    for laptop in [*order, *order, c]:
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b, c)
    assert a.store.state(trip_id)["csis-speech"] == later
    assert a.store.done_ids(trip_id) == {"csis-speech"}
    assert len(c.store.history(trip_id)) == 2


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_marks_at_the_same_millisecond_tie_break_by_author_everywhere(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop], first: str
) -> None:
    a, b, c = laptops("alice"), laptops("bob"), laptops("carol")
    mark_a = a.mark(trip_id, "csis-speech", True)
    mark_b = b.mark(trip_id, "csis-speech", False)
    assert mark_a.hlc == mark_b.hlc  # the same instant on both laptops
    order = [a, b] if first == "alice" else [b, a]
    for laptop in [*order, *order, c]:
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b, c)
    assert a.store.state(trip_id)["csis-speech"] == mark_b  # "bob" > "alice"
    assert a.store.done_ids(trip_id) == set()


def test_a_laptop_whose_clock_runs_hours_fast_does_not_win_forever(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a = laptops("alice", T0)
    b = laptops("bob", T0)
    fast = laptops("zed", T0 + timedelta(hours=3))  # and "zed" wins every tie
    wrong = fast.mark(trip_id, "csis-speech", True)
    fast.sync(trip_id, couch.url)

    # Bob, offline, unmarks a minute later in real time: concurrent with zed's mark as
    # far as anyone can tell, so the clock decides and zed's (3 h ahead) stays on top.
    offline = b.mark(trip_id, "csis-speech", False, after=60)
    # Alice syncs first, sees zed's mark, and unmarks two minutes later in real time.
    a.sync(trip_id, couch.url)
    assert a.store.done_ids(trip_id) == {"csis-speech"}
    fix = a.mark(trip_id, "csis-speech", False, after=120)
    assert fix.hlc > wrong.hlc  # ordered after what alice had seen...
    assert fix.at == T0 + timedelta(seconds=120)  # ...while its time stays the real one
    assert wrong.at - fix.at > timedelta(hours=2)

    for laptop in (a, b, fast, a, b):
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b, fast)
    assert fast.store.state(trip_id)["csis-speech"] == fix
    assert fast.store.done_ids(trip_id) == set()
    assert [m.id for m in fast.store.history(trip_id)] == [offline.id, wrong.id, fix.id]

    # Bob, now synced, marks it done again: his next mark also goes past zed's clock.
    again = b.mark(trip_id, "csis-speech", True, after=60)
    assert again.hlc > fix.hlc
    for laptop in (b, fast, a):
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b, fast)
    assert a.store.state(trip_id)["csis-speech"] == again


# -- lost replies and a server that goes away ---------------------------------------------------


def test_a_push_whose_reply_is_lost_is_retried_without_duplicates(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a, b = laptops("alice"), laptops("bob")
    made = [a.mark(trip_id, item) for item in ("csis-speech", "blinken-bilateral", "joly/trade")]
    db = database_name(trip_id)

    def lose_first_bulk_reply(index: int, request: httpx.Request, response: httpx.Response) -> None:
        if kind(request) == "POST _bulk_docs" and response.status_code == 201:
            raise httpx.ReadError("connection reset before the reply was read", request=request)

    transport = Wrapped(after=lose_first_bulk_reply)
    with pytest.raises(SyncError) as failed:
        a.sync(trip_id, couch.url, transport=transport)
    assert failed.value.offline
    assert "_bulk_docs" in str(failed.value)
    assert [kind(r) for r in transport.requests][-1] == "POST _bulk_docs"
    # The server has them all; alice does not know it, so they are still waiting.
    assert couch.doc_count(db) == 3
    assert a.store.count_unsynced(trip_id, couch.url) == 3

    newer = a.mark(trip_id, "arlington-wreath")
    retry = a.sync(trip_id, couch.url)
    # Three "conflict" answers (the server had them) count as delivered, not as pushed.
    assert (retry.pushed, retry.pulled, retry.waiting) == (1, 0, 0)
    assert couch.doc_count(db) == 4
    docs = couch.docs(db)
    assert sorted(d["_id"] for d in docs) == sorted(m.id for m in [*made, newer])
    assert all(d["_rev"].startswith("1-") for d in docs)  # never written twice
    again = a.sync(trip_id, couch.url)
    assert (again.pushed, again.pulled, again.waiting) == (0, 0, 0)

    assert b.sync(trip_id, couch.url).pulled == 4
    assert_same_everywhere(trip_id, a, b)


# The round of the fault test below, with PAGE = 4: bob has 5 marks of his own (two
# push batches) and the server 6 of alice's, so 11 changes to pull in three pages.
ROUND = [
    "GET db",
    "POST _bulk_docs",
    "POST _bulk_docs",
    "GET _changes",
    "GET _changes",
    "GET _changes",
]


@pytest.mark.parametrize("mode", ["never sent", "reply lost"])
@pytest.mark.parametrize("broken", range(len(ROUND)), ids=lambda i: f"{i}-{ROUND[i]}")
def test_a_connection_lost_at_any_request_loses_nothing_and_the_next_round_completes(
    couch: PouchServer,
    trip_id: str,
    laptops: Callable[..., Laptop],
    monkeypatch: pytest.MonkeyPatch,
    broken: int,
    mode: str,
) -> None:
    monkeypatch.setattr(sync_module, "PAGE", 4)
    db = database_name(trip_id)
    a, b = laptops("alice"), laptops("bob")
    for n in range(6):
        a.mark(trip_id, f"item-{n % 4}", n % 2 == 0)
    a.sync(trip_id, couch.url)
    own = [b.mark(trip_id, f"item-{n % 3}", n % 2 == 1) for n in range(5)]

    def before(index: int, request: httpx.Request) -> None:
        if index == broken and mode == "never sent":
            raise httpx.ConnectError("connection refused", request=request)

    def after(index: int, request: httpx.Request, response: httpx.Response) -> None:
        if index == broken and mode == "reply lost":
            raise httpx.ReadError("connection reset", request=request)

    transport = Wrapped(before, after)
    with pytest.raises(SyncError) as failed:
        b.sync(trip_id, couch.url, transport=transport)
    assert failed.value.offline
    assert [kind(r) for r in transport.requests] == ROUND[: broken + 1]

    # Nothing lost: bob's own marks are all there, ...
    assert {m.id for m in own} <= b.ids(trip_id)
    # ...every mark he believes the server has, it has, ...
    on_server = {d["_id"] for d in couch.docs(db)}
    waiting = {m.id for m in b.store.unsynced(trip_id, couch.url, 100)}
    assert {m.id for m in own} - waiting <= on_server
    # ...and his checkpoint never runs ahead of the marks he committed.
    checkpoint = b.store.checkpoint(couch.url, db)
    if checkpoint is not None:
        seen = {doc for seq, doc in changes_since(couch, db) if seq <= int(json.loads(checkpoint))}
        assert seen <= b.ids(trip_id)

    done = b.sync(trip_id, couch.url)
    assert done.waiting == 0
    assert b.sync(trip_id, couch.url).pulled == 0
    a.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b)
    assert len(a.store.history(trip_id)) == 11
    assert couch.doc_count(db) == 11


@pytest.mark.parametrize("when", ["after the first push batch", "between pull pages"])
def test_a_server_killed_mid_sync_loses_nothing_and_the_next_round_completes(
    start_server: Callable[..., PouchServer],
    trip_id: str,
    laptops: Callable[..., Laptop],
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    monkeypatch.setattr(sync_module, "PAGE", 20)
    server = start_server(persistent=True)  # a crashed CouchDB comes back with its data
    db = database_name(trip_id)
    a, b = laptops("alice"), laptops("bob")
    for n in range(50):
        a.mark(trip_id, f"item-{n % 7}", n % 3 != 0)
    a.sync(trip_id, server.url)
    own = [b.mark(trip_id, f"item-{n % 5}", n % 2 == 0) for n in range(30)]
    target = "POST _bulk_docs" if when.startswith("after the first push") else "GET _changes"

    def kill_after_first(index: int, request: httpx.Request, response: httpx.Response) -> None:
        if kind(request) == target and server.proc is not None:
            server.kill()  # the answer got through; the server is gone for the next one

    transport = Wrapped(after=kill_after_first)
    with pytest.raises(SyncError) as failed:
        b.sync(trip_id, server.url, transport=transport)
    assert failed.value.offline
    assert "cannot connect" in str(failed.value)
    assert [kind(r) for r in transport.requests].count(target) == 2  # the second one failed
    # The server took bob's marks (all 30, or the first 20) but has not shown it holds
    # them yet (they come after the page pulled in its feed): all still waiting.
    assert b.store.count_unsynced(trip_id, server.url) == 30
    if target == "POST _bulk_docs":
        assert server.proc is None
        assert len(b.store.history(trip_id)) == 30
    else:
        # The first page (alice's first 20 marks) is committed with its checkpoint.
        assert len(b.store.history(trip_id)) == 30 + 20
        assert b.store.checkpoint(server.url, db) == "20"
    assert {m.id for m in own} <= b.ids(trip_id)

    kept = (b.store.history(trip_id), b.store.count_unsynced(trip_id, server.url))
    with pytest.raises(SyncError) as down:  # still down: reported, nothing changes
        b.sync(trip_id, server.url)
    assert down.value.offline
    assert (b.store.history(trip_id), b.store.count_unsynced(trip_id, server.url)) == kept

    server.start()
    done = b.sync(trip_id, server.url)
    assert done.waiting == 0
    a.sync(trip_id, server.url)
    assert_same_everywhere(trip_id, a, b)
    assert len(a.store.history(trip_id)) == 80
    assert server.doc_count(db) == 80


# -- errors and garbage -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """Replace the answer to the first request of ``target`` with this one."""

    target: str
    status: int
    body: bytes | Callable[[httpx.Request], bytes]
    expect: str
    content_type: str = "application/json"


def _refuse_all(request: httpx.Request) -> bytes:
    return json.dumps(
        [{"id": d["_id"], "error": "forbidden", "reason": "no"} for d in sent_docs(request)]
    ).encode()


def _accept_first_only(request: httpx.Request) -> bytes:
    docs = sent_docs(request)
    answer = [{"ok": True, "id": docs[0]["_id"], "rev": "1-x"}]
    answer += [{"id": d["_id"], "error": "forbidden", "reason": "no"} for d in docs[1:]]
    return json.dumps(answer).encode()


BAD_ANSWERS = {
    "db 500": Bad("GET db", 500, b'{"error":"internal"}', "HTTP 500"),
    "db 401": Bad("GET db", 401, b'{"error":"unauthorized"}', "not allowed (HTTP 401)"),
    "db 403": Bad("GET db", 403, b'{"error":"forbidden"}', "not allowed (HTTP 403)"),
    "db html": Bad("GET db", 200, b"<html>Wi-Fi login</html>", "not JSON", "text/html"),
    "db empty": Bad("GET db", 200, b"", "not JSON"),
    "create 403": Bad("PUT db", 403, b'{"error":"forbidden"}', "not allowed (HTTP 403)"),
    "create 500": Bad("PUT db", 500, b"{}", "could not be created (HTTP 500)"),
    "push 500": Bad("POST _bulk_docs", 500, b"{}", "HTTP 500"),
    "push 401": Bad("POST _bulk_docs", 401, b"{}", "not allowed (HTTP 401)"),
    "push not json": Bad("POST _bulk_docs", 201, b"ok!", "not JSON"),
    "push dict": Bad("POST _bulk_docs", 201, b'{"ok": true}', "not a list of results"),
    "push empty": Bad("POST _bulk_docs", 201, b"[]", "accepted none"),
    "push junk items": Bad("POST _bulk_docs", 201, b'[1, null, "x", {}]', "accepted none"),
    "push refused": Bad("POST _bulk_docs", 201, _refuse_all, "accepted none"),
    "push partly": Bad("POST _bulk_docs", 201, _accept_first_only, "refused 2 mark(s)"),
    "pull 500": Bad("GET _changes", 500, b"{}", "HTTP 500"),
    "pull 401": Bad("GET _changes", 401, b"{}", "not allowed (HTTP 401)"),
    "pull not json": Bad("GET _changes", 200, b'{"results": [', "ends in the middle"),
    "pull deep json": Bad(
        "GET _changes", 200, b"[" * 100_000 + b"]" * 100_000, "is not a JSON object"
    ),
    "pull list": Bad("GET _changes", 200, b"[]", "not in the expected form"),
    "pull results dict": Bad(
        "GET _changes", 200, b'{"results": {}, "last_seq": 1}', "not in the expected form"
    ),
    "pull no last_seq": Bad("GET _changes", 200, b'{"results": []}', "no last_seq"),
}


@pytest.mark.parametrize("bad", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_server_answering_errors_or_garbage_is_reported_not_crashed_on(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop], bad: Bad
) -> None:
    a = laptops("alice")
    made = [a.mark(trip_id, item) for item in ("csis-speech", "blinken-bilateral", "joly/trade")]
    db = database_name(trip_id)
    if bad.target == "PUT db":
        pass  # the database does not exist yet: tripdash creates it
    elif bad.target != "GET db":
        couch.post_docs(db, [])  # it exists

    def replace_answer(index: int, request: httpx.Request, response: httpx.Response) -> Any:
        if kind(request) != bad.target or any(kind(r) == bad.target for r in seen[:index]):
            return None
        body = bad.body(request) if callable(bad.body) else bad.body
        return httpx.Response(bad.status, content=body, headers={"Content-Type": bad.content_type})

    transport = Wrapped(after=replace_answer)
    seen = transport.requests
    with pytest.raises(SyncError) as failed:
        a.sync(trip_id, couch.url, transport=transport)
    message = str(failed.value)
    assert bad.expect in message
    assert not failed.value.offline  # the server answered: not "offline"
    assert len(message) < 400 and "\n" not in message
    assert "Traceback" not in message

    # Nothing lost locally, and the next round with a sane server puts everything right.
    assert a.store.history(trip_id) == sorted(made, key=lambda m: m.order)
    result = a.sync(trip_id, couch.url)
    assert result.waiting == 0
    assert couch.doc_count(db) == 3
    b = laptops("bob")
    b.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b)


def _valid_doc(trip_id: str, ident: str, **changes: Any) -> dict[str, Any]:
    doc = {
        "_id": ident,
        "type": "tripdash.mark",
        "trip_id": trip_id,
        "item_id": "csis-speech",
        "done": True,
        "at": "2023-01-17T14:00:00+00:00",
        "who": "mallory",
        "hlc": 1673964000000,
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def test_documents_that_are_not_marks_are_skipped_and_counted(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    db = database_name(trip_id)
    garbage = [
        {"_id": "note", "text": "not a mark at all"},
        {"_id": "other-type", "type": "something.else", "done": True},
        _valid_doc(trip_id, "g-done-string", done="yes"),
        _valid_doc(trip_id, "g-done-int", done=1),
        _valid_doc(trip_id, "g-hlc-string", hlc="12"),
        _valid_doc(trip_id, "g-hlc-bool", hlc=True),
        _valid_doc(trip_id, "g-hlc-float", hlc=1.5),
        _valid_doc(trip_id, "g-hlc-huge", hlc=10**30),
        _valid_doc(trip_id, "g-hlc-negative-huge", hlc=-(10**30)),
        _valid_doc(trip_id, "g-no-who", who=None),
        _valid_doc(trip_id, "g-no-item", item_id=None),
        _valid_doc(trip_id, "g-empty-item", item_id=""),
        _valid_doc(trip_id, "g-naive-at", at="2023-01-17T14:00:00"),
        _valid_doc(trip_id, "g-bad-at", at="yesterday"),
        _valid_doc(trip_id, "g-at-number", at=12),
        _valid_doc(trip_id, "g-at-year-1", at="0001-01-01T00:00:00+14:00"),
        _valid_doc(trip_id, "g-at-year-9999", at="9999-12-31T23:59:59-14:00"),
        _valid_doc("another-trip", "g-other-trip"),
    ]
    good = [
        _valid_doc(trip_id, "good-1"),
        _valid_doc(trip_id, "good-2", item_id="joly/trade", done=False, hlc=1673964000001),
    ]
    not_counted = [{"_id": "_design/views", "views": {}}]
    couch.post_docs(db, [*garbage, *good, *not_counted])
    couch.post_docs(db, [{"_id": "gone", "type": "tripdash.mark"}])
    rev = couch.get(f"/{db}/gone").json()["_rev"]
    with httpx.Client(trust_env=False) as client:  # a deleted document: not reported
        assert client.delete(f"{couch.url}/{db}/gone", params={"rev": rev}).status_code == 200

    a = laptops("alice")
    result = a.sync(trip_id, couch.url)
    assert (result.pushed, result.pulled, result.skipped) == (0, 2, len(garbage))
    assert f"ignored {len(garbage)} malformed documents" in str(result)
    assert {m.id for m in a.store.history(trip_id)} == {"good-1", "good-2"}
    assert a.store.done_ids(trip_id) == {"csis-speech"}
    # The checkpoint moved past them: they are reported once, not every round.
    again = a.sync(trip_id, couch.url)
    assert (again.pulled, again.skipped) == (0, 0)
    # Marking after pulling still works (the pulled marks' clocks were sane).
    assert a.mark(trip_id, "csis-speech", False).hlc > 1673964000001


def test_garbage_entries_in_the_change_feed_itself_are_skipped(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    feed = {
        "results": [
            1,
            None,
            "x",
            [],
            {"id": "no-doc"},
            {"doc": "a string"},
            # CouchDB (not pouchdb-server) keeps integers of any size: none may reach
            # SQLite (64-bit) or push every later mark's clock out of range.
            {"doc": _valid_doc(trip_id, "hlc-2^63", hlc=2**63)},
            {"doc": _valid_doc(trip_id, "hlc-2^53", hlc=2**53)},
            {"doc": _valid_doc(trip_id, "hlc-negative", hlc=-1)},
            {"doc": _valid_doc(trip_id, "ok-1")},
        ],
        "last_seq": 7,
    }

    def fake_feed(index: int, request: httpx.Request, response: httpx.Response) -> Any:
        if kind(request) == "GET _changes":
            return httpx.Response(200, json=feed)
        return None

    a = laptops("alice")
    result = a.sync(trip_id, couch.url, transport=Wrapped(after=fake_feed))
    assert (result.pulled, result.skipped) == (1, 9)
    assert [m.id for m in a.store.history(trip_id)] == ["ok-1"]
    assert a.store.checkpoint(couch.url, database_name(trip_id)) == "7"


def test_a_feed_that_never_moves_on_does_not_loop_forever(
    couch: PouchServer,
    trip_id: str,
    laptops: Callable[..., Laptop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync_module, "PAGE", 2)
    page = {"results": [{"doc": _valid_doc(trip_id, f"m{n}")} for n in range(2)], "last_seq": 5}
    transport = Wrapped(
        after=lambda i, req, resp: (
            httpx.Response(200, json=page) if kind(req) == "GET _changes" else None
        )
    )
    a = laptops("alice")
    result = a.sync(trip_id, couch.url, transport=transport)
    assert result.pulled == 2
    assert [kind(r) for r in transport.requests].count("GET _changes") <= 2


# -- paging and checkpoints -----------------------------------------------------------------


def test_more_than_a_page_of_marks_pushes_and_pulls_in_pages(
    couch: PouchServer,
    trip_id: str,
    laptops: Callable[..., Laptop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A smaller page than the real one (2,000), so that three pages take 1,201 marks.
    monkeypatch.setattr(sync_module, "PAGE", 500)
    a, b = laptops("alice"), laptops("bob")
    for n in range(1201):
        a.mark(trip_id, f"item-{n % 40}", n % 3 != 0, after=0.001)
    pushing = Wrapped()
    pushed = a.sync(trip_id, couch.url, transport=pushing)
    assert (pushed.pushed, pushed.waiting) == (1201, 0)
    batches = [len(sent_docs(r)) for r in pushing.requests if kind(r) == "POST _bulk_docs"]
    assert batches == [500, 500, 201]

    pulling = Wrapped()
    pulled = b.sync(trip_id, couch.url, transport=pulling)
    assert (pulled.pushed, pulled.pulled, pulled.skipped) == (0, 1201, 0)
    pages = [r.url.params for r in pulling.requests if kind(r) == "GET _changes"]
    assert [p["limit"] for p in pages] == ["500"] * 3
    assert [p["include_docs"] for p in pages] == ["true"] * 3
    assert pages[0]["since"] == "0"
    assert len({p["since"] for p in pages}) == 3  # each page from where the last ended
    assert_same_everywhere(trip_id, a, b)
    db = database_name(trip_id)
    update_seq = couch.get(f"/{db}").json()["update_seq"]
    assert b.store.checkpoint(couch.url, db) == json.dumps(update_seq)

    quiet = Wrapped()
    again = b.sync(trip_id, couch.url, transport=quiet)
    assert (again.pushed, again.pulled) == (0, 0)
    assert [kind(r) for r in quiet.requests] == ["GET db", "GET _changes"]


def test_checkpoints_are_kept_per_server_and_database(
    couch: PouchServer,
    start_server: Callable[..., PouchServer],
    laptops: Callable[..., Laptop],
    trip_id: str,
) -> None:
    other_trip = f"{trip_id}-b"
    second = start_server()
    a, b = laptops("alice"), laptops("bob")
    for n in range(30):
        a.mark(trip_id, f"item-{n}")
    a.mark(other_trip, "elsewhere")
    a.sync(trip_id, couch.url)
    a.sync(other_trip, couch.url)
    db, other_db = database_name(trip_id), database_name(other_trip)
    assert a.store.checkpoint(couch.url, db) == "30"
    assert a.store.checkpoint(couch.url, other_db) == "1"

    # One trip's database never feeds another's.
    assert b.sync(trip_id, couch.url).pulled == 30
    assert b.store.checkpoint(couch.url, other_db) is None
    assert b.store.history(other_trip) == []
    assert b.sync(other_trip, couch.url).pulled == 1

    # Another server, where carol's two marks sit at seqs 1 and 2: far below the first
    # server's checkpoint of 30, which must not be used there.
    c = laptops("carol")
    late = [c.mark(trip_id, "late-1"), c.mark(trip_id, "late-2")]
    assert c.sync(trip_id, second.url).pushed == 2
    on_second = a.sync(trip_id, second.url)
    assert (on_second.pushed, on_second.pulled) == (30, 2)  # that server had none of hers
    assert {m.id for m in late} <= a.ids(trip_id)
    assert a.store.checkpoint(couch.url, db) == "30"  # untouched
    assert a.store.checkpoint(second.url, db) == "32"
    assert a.store.checkpoint(second.url, other_db) is None
    assert a.store.count_unsynced(trip_id, couch.url) == 2  # carol's: not on the first yet
    assert a.store.count_unsynced(trip_id, second.url) == 0
    assert a.sync(trip_id, couch.url).pushed == 2
    assert b.sync(trip_id, couch.url).pulled == 2
    assert_same_everywhere(trip_id, a, b)


# -- credentials ----------------------------------------------------------------------------

ADMIN = "alice"
PASSWORD = "p@ss:w/rd 9%"  # every character that must be escaped in a URL
PASSWORD_IN_URL = "p%40ss%3Aw%2Frd%209%25"


@pytest.fixture
def secured(start_server: Callable[..., PouchServer]) -> PouchServer:
    """A private server with an admin (and so no more "admin party")."""
    server = start_server()
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        answer = client.put(f"{server.url}/_config/admins/{ADMIN}", json=PASSWORD)
        assert answer.status_code == 200, answer.text
    return server


def _no_secret(text: str) -> None:
    for secret in (PASSWORD, PASSWORD_IN_URL, "p@ss", "w/rd", f"{ADMIN}:"):
        assert secret not in text


def test_credentials_from_the_url_or_environment_work_and_never_appear(
    secured: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    host = secured.url.removeprefix("http://")
    from_url = SyncConfig.from_url(f"http://{ADMIN}:{PASSWORD_IN_URL}@{host}", env={})
    assert from_url.url == secured.url
    assert (from_url.user, from_url.password) == (ADMIN, PASSWORD)
    _no_secret(repr(from_url))  # a traceback with locals shows the config
    env = {"TRIPDASH_SYNC_USER": ADMIN, "TRIPDASH_SYNC_PASSWORD": PASSWORD}
    from_env = SyncConfig.from_url(secured.url, env=env)
    assert (from_env.user, from_env.password) == (ADMIN, PASSWORD)

    a, b = laptops("alice"), laptops("bob")
    made = a.mark(trip_id, "csis-speech")
    pushed = sync_once(a.store, trip_id, from_url)
    assert pushed.pushed == 1
    _no_secret(str(pushed))
    assert sync_once(b.store, trip_id, from_env).pulled == 1
    assert b.store.history(trip_id) == [made]

    # Only members may read: the database is closed to anyone else.
    with httpx.Client(trust_env=False, auth=(ADMIN, PASSWORD)) as client:
        security = {"admins": {"names": [], "roles": []}, "members": {"names": ["x"], "roles": []}}
        db = database_name(trip_id)
        assert client.put(f"{secured.url}/{db}/_security", json=security).status_code == 200

    c = laptops("carol")
    c.mark(trip_id, "joly/trade")
    for wrong in (
        SyncConfig.from_url(f"http://{ADMIN}:nope-{PASSWORD_IN_URL}@{host}", env={}),
        SyncConfig.from_url(secured.url, env={**env, "TRIPDASH_SYNC_PASSWORD": "x" + PASSWORD}),
        SyncConfig.from_url(secured.url, env={}),  # no credentials at all
    ):
        with pytest.raises(SyncError) as refused:
            sync_once(c.store, trip_id, wrong)
        message = str(refused.value)
        assert "not allowed (HTTP 401)" in message
        assert "TRIPDASH_SYNC_USER" in message  # says what to check
        _no_secret(message)
        _no_secret(repr(wrong))
        assert not refused.value.offline
    assert c.store.count_unsynced(trip_id, secured.url) == 1


def test_credentials_never_appear_when_the_server_is_down_or_failing(
    closed_url: str, couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a = laptops("alice")
    a.mark(trip_id, "csis-speech")
    for base in (closed_url, couch.url):
        host = base.removeprefix("http://")
        cfg = SyncConfig.from_url(f"http://{ADMIN}:{PASSWORD_IN_URL}@{host}", env={})
        if base == couch.url:
            cfg = replace(
                cfg,
                transport=Wrapped(after=lambda i, r, resp: httpx.Response(500, text=str(r.url))),
            )
        with pytest.raises(SyncError) as failed:
            sync_once(a.store, trip_id, cfg)
        _no_secret(str(failed.value))
        _no_secret(repr(failed.value))
        assert failed.value.offline == (base == closed_url)


# -- the command line -------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str


def trip_file(tmp_path: Path, trip_id: str) -> Path:
    """The bundled Foreign Secretary trip under this test's trip id (its own database)."""
    text = FS_TRIP.read_text(encoding="utf-8")
    assert text.count(f'id = "{FS_ID}"') == 1
    path = tmp_path / f"{trip_id}.toml"
    path.write_text(text.replace(f'id = "{FS_ID}"', f'id = "{trip_id}"'), encoding="utf-8")
    return path


@pytest.fixture
def tripdash(tmp_path: Path) -> Callable[..., Run]:
    """``python -m tripdash ARGS`` with a private $HOME; never a traceback."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TRIPDASH_") and k not in ("NO_COLOR", "FORCE_COLOR")
    }
    base.update(
        HOME=str(home),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        TZ="Pacific/Chatham",
        PYTHONIOENCODING="utf-8",
        NO_COLOR="1",
    )

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "tripdash", *args],
            cwd=ROOT,
            env={**base, **(env or {})},
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def test_cli_sync_prints_what_moved_and_log_shows_every_author(
    couch: PouchServer, trip_id: str, tmp_path: Path, tripdash: Callable[..., Run]
) -> None:
    path = str(trip_file(tmp_path, trip_id))
    alice = ("--state-dir", str(tmp_path / "alice"))
    bob = ("--state-dir", str(tmp_path / "bob"))
    assert tripdash("mark", path, "csis-speech", *alice, "--as", "alice").code == 0
    assert tripdash("mark", path, "blinken-bilateral", *bob, "--as", "bob").code == 0
    assert tripdash("mark", path, "csis-speech", "--undo", *bob, "--as", "bob").code == 0

    where = f"{trip_id} <-> {couch.url}/{database_name(trip_id)}"
    r = tripdash("sync", path, "--sync", couch.url, *alice)
    assert (r.code, r.err) == (0, "")
    assert r.out == f"{where}: pushed 1 mark(s), pulled 0 new mark(s)\n"
    r = tripdash("sync", path, *bob, env={"TRIPDASH_SYNC_URL": couch.url})
    assert (r.code, r.err) == (0, "")
    assert r.out == f"{where}: pushed 2 mark(s), pulled 1 new mark(s)\n"
    r = tripdash("sync", path, "--sync", couch.url, *alice)
    assert r.out == f"{where}: pushed 0 mark(s), pulled 2 new mark(s)\n"

    log = tripdash("log", path, *alice)
    assert log.code == 0, log.err
    lines = log.out.splitlines()
    assert len(lines) == 3
    assert "alice" in lines[0] and "done" in lines[0] and "csis-speech" in lines[0]
    assert "bob" in lines[1] and "blinken-bilateral" in lines[1]
    assert "bob" in lines[2] and "undone" in lines[2] and "csis-speech" in lines[2]
    assert tripdash("log", path, *bob).out == log.out


def test_cli_sync_with_the_server_down_says_how_many_marks_wait(
    closed_url: str, trip_id: str, tmp_path: Path, tripdash: Callable[..., Run]
) -> None:
    path = str(trip_file(tmp_path, trip_id))
    sd = ("--state-dir", str(tmp_path / "alice"))
    for item in ("csis-speech", "blinken-bilateral"):
        assert tripdash("mark", path, item, *sd, "--as", "alice").code == 0
    host = closed_url.removeprefix("http://")
    env = {"TRIPDASH_SYNC_URL": f"http://{ADMIN}:{PASSWORD_IN_URL}@{host}"}
    r = tripdash("sync", path, *sd, env=env)
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith("tripdash: sync failed: ")
    assert "cannot connect" in r.err
    assert "2 mark(s) waiting to be sent" in r.err
    _no_secret(r.err)
    env = {
        "TRIPDASH_SYNC_URL": closed_url,
        "TRIPDASH_SYNC_USER": ADMIN,
        "TRIPDASH_SYNC_PASSWORD": PASSWORD,
    }
    r = tripdash("sync", path, *sd, env=env)
    assert r.code == 1 and "2 mark(s) waiting" in r.err
    _no_secret(r.err)
    # The marks are still there, and still shown.
    assert len(tripdash("log", path, *sd).out.splitlines()) == 2


# -- the dashboard ---------------------------------------------------------------------------

SIZE = (110, 32)


def load(path: Path) -> Trip:
    return load_trip(path).trip


async def synced(app: Any, pilot: Any) -> None:
    """Let the sync workers finish and the header tick (once a second) show the outcome."""
    await app.workers.wait_for_complete()
    await pilot.pause(1.2)


async def eventually(pilot: Any, check: Callable[[], bool], seconds: float = 5.0) -> None:
    """``check()`` holds now or within ``seconds`` (a loaded CI machine may tick late)."""
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await pilot.pause(0.1)
    assert check()


def header_text(app: Any) -> str:
    from tripdash.widgets.header import TripHeader

    header = app.screen.query_one(TripHeader)
    return f"{header.sync_text}\n{header.text().plain}"


async def test_dashboard_shows_another_laptops_synced_mark(
    couch: PouchServer, trip_id: str, tmp_path: Path, laptops: Callable[..., Laptop]
) -> None:
    from tripdash.app import make_app

    trip = load(trip_file(tmp_path, trip_id))
    app = make_app(
        [trip],
        state_dir=tmp_path / "state",
        clock=FakeClock(T0),
        who="alice",
        sync=config(couch.url),
    )
    bob = laptops("bob", T0 + timedelta(minutes=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # the first round, at start
        await pilot.press("space")  # alice marks the selected event (the CSIS speech)
        assert app.session.marks.done_ids(trip_id) == {"csis-speech"}

        bob.mark(trip_id, "blinken-press-conference")
        assert bob.sync(trip_id, couch.url).pushed == 1
        await pilot.press("s")
        await synced(app, pilot)
        await eventually(pilot, lambda: "⇅ synced" in header_text(app))
        assert app.session.marks.done_ids(trip_id) == {"csis-speech", "blinken-press-conference"}
        state = app.session.open_trips[0].sync
        assert state.error is None and state.waiting == 0
        assert "⇅ synced just now" in header_text(app)
    assert app._exception is None

    # Alice's mark made in the dashboard reached the server.
    assert bob.sync(trip_id, couch.url).pulled == 1
    assert bob.store.done_ids(trip_id) == {"csis-speech", "blinken-press-conference"}


async def test_dashboard_shows_offline_since_and_marks_waiting(
    closed_url: str, trip_id: str, tmp_path: Path
) -> None:
    from tripdash.app import make_app

    trip = load(trip_file(tmp_path, trip_id))
    with MarkStore(tmp_path / "state", clock=FakeClock(T0)) as store:
        store.mark(trip_id, "blinken-bilateral", True, "alice")
    clock = FakeClock(T0 + timedelta(minutes=7))  # 14:07 in London, the trip's home
    app = make_app(
        [trip], state_dir=tmp_path / "state", clock=clock, who="alice", sync=config(closed_url)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await synced(app, pilot)
        await eventually(pilot, lambda: "⇅ offline" in header_text(app))
        state = app.session.open_trips[0].sync
        assert state.offline and state.waiting == 1
        assert "⇅ offline since 14:07, 1 mark waiting" in header_text(app)

        clock.advance(minutes=3)
        await pilot.press("space")  # a new mark while offline: waits too
        await pilot.press("s")
        await synced(app, pilot)
        await eventually(pilot, lambda: "2 marks waiting" in header_text(app))
        assert app.session.open_trips[0].sync.waiting == 2
        text = header_text(app)
        assert "⇅ offline since 14:07, 2 marks waiting" in text  # since the first failure
        assert app.session.marks.done_ids(trip_id) == {"blinken-bilateral", "csis-speech"}

        # A note saved offline waits as well, and is said apart from the marks.
        app.session.save_note(app.session.keys[0], "csis-speech", "Q&A ran long")
        await pilot.press("s")
        await synced(app, pilot)
        waiting = "⇅ offline since 14:07, 2 marks and 1 note or shift waiting"
        await eventually(pilot, lambda: waiting in header_text(app))
    assert app._exception is None


async def test_dashboard_shows_a_failing_server_and_keeps_running(
    couch: PouchServer, trip_id: str, tmp_path: Path
) -> None:
    from tripdash.app import make_app

    trip = load(trip_file(tmp_path, trip_id))
    broken = Wrapped(
        after=lambda i, r, resp: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)
    )
    app = make_app(
        [trip],
        state_dir=tmp_path / "state",
        clock=FakeClock(T0),
        who="alice",
        sync=config(couch.url, transport=broken),
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await synced(app, pilot)
        await eventually(pilot, lambda: "⇅ sync failed: " in header_text(app))
        assert "not JSON" in app.session.open_trips[0].sync.error
        await pilot.press("space")  # still usable
        assert app.session.marks.done_ids(trip_id) == {"csis-speech"}
    assert app._exception is None
