"""Team sync against a broken or hostile server: bounded, nothing forged stored, nothing
silently unsent.

The hostile server is our own (:mod:`tests.sync.hostile`, on 127.0.0.1); the honest
cases run against pouchdb-server. Bounds are proved with figures (counts, bytes,
allocated memory) and with an injected time source for the round's time limit, never
with the wall time a test took.
"""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import tripdash.domain.sync as sync_module
from tripdash.domain.store import HLC_CEILING, HLC_LIMIT, MarkStore
from tripdash.domain.sync import (
    PAGE,
    FeedParser,
    Skipped,
    SyncConfig,
    SyncError,
    SyncLimits,
    database_name,
    sync_once,
)

from .conftest import PouchServer
from .hostile import Feed, HostileCouch, change, endless, mark_doc
from .test_sync import (  # fixtures and helpers shared with the honest tests
    T0,
    Laptop,
    Run,
    assert_same_everywhere,
    laptops,
    trip_file,
    tripdash,
)

__all__ = ["laptops", "tripdash"]  # fixtures, used by name

T0_MS = int(T0.timestamp() * 1000)


class Ticker:
    """An injected time source for the round's limit: each reading moves it on by
    ``step`` seconds, so "60 s" is a count of readings (one per chunk read)."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 0.0
        self.step = step
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        self.now += self.step
        return self.now


def cfg(url: str, **limits: Any) -> SyncConfig:
    ticker = limits.pop("ticker", None)
    config = replace(SyncConfig.from_url(url, env={}), limits=SyncLimits(**limits))
    return replace(config, monotonic=ticker) if ticker is not None else config


@pytest.fixture
def hostile() -> Iterator[HostileCouch]:
    with HostileCouch() as server:
        yield server


def eventually(check: Callable[[], bool]) -> bool:
    """``check()`` holds now or soon (the server notices a closed connection when its
    next write fails)."""
    for _ in range(100):
        if check():
            return True
        time.sleep(0.05)
    return check()


def peak_bytes(run: Callable[[], Any]) -> tuple[Any, int]:
    """What ``run()`` returned, and the peak of memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# -- time --------------------------------------------------------------------------------


def test_a_feed_arriving_one_byte_at_a_time_stops_at_the_time_limit_and_keeps_its_changes(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    docs = [mark_doc(trip_id, n) for n in range(1, 51)]
    for doc in docs:
        hostile.store(doc)
    body = '{"results":[' + ",".join(change(n, d) for n, d in enumerate(docs, 1))
    body += '],"last_seq":50}'

    def slow(feed: Feed) -> None:
        for ch in body:
            feed.write(ch)
            feed.pause(0.002)

    hostile.feed = slow
    a = laptops("alice")
    ticker = Ticker(step=1.0)
    # 600 readings of the time source ("seconds"): 600 reads of at least a byte each.
    result = sync_once(a.store, trip_id, cfg(hostile.url, seconds=600, ticker=ticker))
    assert result.stopped == "the time limit of 600 s"
    assert "stopped at the time limit of 600 s: the next round goes on from there" in str(result)
    assert ticker.readings <= 610  # one reading per chunk, plus a few per request
    assert eventually(lambda: hostile.cut_short == 1)
    assert hostile.bytes_written < len(body) // 2
    kept = a.store.history(trip_id)
    assert 1 <= result.pulled == len(kept) < 25
    checkpoint = a.store.checkpoint(hostile.url, database_name(trip_id))
    assert checkpoint == str(len(kept))  # the seq of the last change read whole

    hostile.feed = None  # the same server, quick again: the next round goes on from there
    again = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (again.pulled, again.stopped) == (50 - len(kept), None)
    assert sorted(m.id for m in a.store.history(trip_id)) == [d["_id"] for d in docs]


def test_a_round_is_bounded_in_real_time_too_and_says_so(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    def trickle(feed: Feed) -> None:
        endless((" " for _ in iter(int, 1)), feed, pause=0.05)  # white space, for ever

    hostile.feed = trickle
    a = laptops("alice")
    result = sync_once(a.store, trip_id, cfg(hostile.url, seconds=1.5))  # the real clock
    assert result.stopped == "the time limit of 1.5 s"
    assert result.pulled == 0
    assert eventually(lambda: hostile.cut_short == 1)


def test_a_server_answering_full_pages_forever_stops_at_the_page_limit(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    def forever(feed: Feed) -> None:
        start = feed.since
        entries = [change(start + n, mark_doc(trip_id, start + n)) for n in range(1, PAGE + 1)]
        feed.write('{"results":[' + ",".join(entries) + f'],"last_seq":{start + PAGE}}}')

    hostile.feed = forever
    a = laptops("alice")
    result = sync_once(a.store, trip_id, cfg(hostile.url, pages=7))
    assert result.stopped == "the limit of 7 pages"
    assert hostile.pages == 7
    assert result.pulled == 7 * PAGE == len(a.store.history(trip_id))
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == str(7 * PAGE)
    again = sync_once(a.store, trip_id, cfg(hostile.url, pages=2))
    assert again.pulled == 2 * PAGE  # from where the last round stopped
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == str(9 * PAGE)


# -- memory ------------------------------------------------------------------------------


def test_an_endless_page_that_ignores_limit_is_cut_into_pages_with_flat_memory(
    hostile: HostileCouch,
    trip_id: str,
    laptops: Callable[..., Laptop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync_module, "PAGE", 500)  # pages of 500: 3 + 12 of them

    def endless_changes(feed: Feed) -> None:
        start = feed.since
        endless((change(n, mark_doc(trip_id, n)) for n in range(start + 1, 10**9)), feed)

    hostile.feed = endless_changes
    a = laptops("alice")

    def pull(changes: int) -> Any:
        return sync_once(a.store, trip_id, cfg(hostile.url, changes=changes))

    small, small_peak = peak_bytes(lambda: pull(1_500))
    assert small.stopped == "the limit of 1,500 changes"
    large, large_peak = peak_bytes(lambda: pull(6_000))
    assert large.stopped == "the limit of 6,000 changes"
    assert small.pulled + large.pulled == 7_500 == len(a.store.history(trip_id))
    # Each answer is cut after a page (PAGE + 1 changes), never read to its (absent) end.
    assert hostile.pages == 3 + 12
    assert eventually(lambda: hostile.cut_short == hostile.pages)
    # Four times the changes, not four times the memory: it is one page's worth.
    assert large_peak < 4 * 1024 * 1024
    assert large_peak < 1.5 * small_peak + 512 * 1024


def test_a_document_that_never_ends_is_stopped_at_the_byte_limit_with_flat_memory(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    good = change(1, mark_doc(trip_id, 1))
    chunk = "x" * 65536

    def endless_document(feed: Feed) -> None:
        feed.write('{"results":[' + good + ',{"seq":2,"doc":{"_id":"huge","who":"')
        while True:
            feed.write(chunk)

    hostile.feed = endless_document
    a = laptops("alice")
    limit = 16 * 1024 * 1024
    result, peak = peak_bytes(
        lambda: sync_once(a.store, trip_id, cfg(hostile.url, round_bytes=limit))
    )
    assert result.stopped == f"the limit of {limit:,} bytes read"
    assert result.pulled == 1  # what came before it is kept, with its checkpoint
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "1"
    assert hostile.bytes_written >= limit
    assert peak < 2 * 1024 * 1024  # 16 MiB went by; a little of it was ever held


def test_a_huge_or_deep_or_broken_document_is_skipped_with_its_seq_and_the_pull_goes_on(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    deep_text = '{"seq":2,"id":"deep","doc":{"_id":"deep","x":' + "[" * 3000 + "]" * 3000 + "}}"
    entries = [
        change(1, mark_doc(trip_id, 1)),
        deep_text,
        change(3, mark_doc(trip_id, 3, who="w" * 3_000_000)),  # 3 MB: too large to parse
        '{"seq":4,"id":"broken","doc":{"_id": nope, "x": [1, 2]}}',  # not JSON, balanced
        change(5, mark_doc(trip_id, 5)),
    ]

    body = ('{"results":[' + ",".join(entries) + '],"last_seq":5}').encode()
    hostile.feed = lambda f: f.write(body)  # made before measuring: the server is in-process
    a = laptops("alice")
    result, peak = peak_bytes(lambda: sync_once(a.store, trip_id, cfg(hostile.url)))
    assert (result.pulled, result.skipped, result.stopped) == (2, 3, None)
    assert "ignored 3 malformed documents" in str(result)
    assert sorted(m.id for m in a.store.history(trip_id)) == ["m00000001", "m00000005"]
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "5"
    assert peak < 2 * 1024 * 1024  # the 3 MB document was skipped as it streamed by

    # Cut just after the broken one: the checkpoint is its seq, so it is not read again.
    cut = ('{"results":[' + ",".join(entries[:4]) + ",").encode()
    hostile.feed = lambda f: f.write(cut)
    b = laptops("bob")
    with pytest.raises(SyncError):
        sync_once(b.store, trip_id, cfg(hostile.url))
    assert b.store.checkpoint(hostile.url, database_name(trip_id)) == "4"


def _seq_and_id(change: object) -> tuple[object, object]:
    """A change's ``seq`` and ``id``: read from the parsed object, or kept by the skipper."""
    if isinstance(change, dict):
        return change.get("seq"), change.get("id")
    if isinstance(change, Skipped):
        return change.seq, change.doc_id
    return None, None


def test_the_feed_parser_splits_any_chunking_the_same_way() -> None:
    text = (
        '{"last_seq": "9-abc", "results": [ {"seq": "1-a", "doc": {"k": "a\\"b\\\\"}}, 7, '
        '"s", {"seq": "3-c", "id": "_design/x", "doc": {"deep": '
        + "[" * 2000
        + "]" * 2000
        + '}}, {"id": "x", "seq": [1, "2"]} ], "pending": 0}'
    )
    whole = FeedParser(64 * 1024)
    expected = whole.feed(text) + whole.finish()
    assert [_seq_and_id(c)[0] for c in expected] == ["1-a", None, None, "3-c", [1, "2"]]
    assert expected[0]["doc"]["k"] == 'a"b\\'
    assert expected[1:3] == [7, "s"]
    # Too deep for Python 3.11's parser: skipped, its seq and id kept (a later Python may
    # parse it; either way they are read).
    assert _seq_and_id(expected[3]) == ("3-c", "_design/x")
    for size in (1, 2, 3, 7, 50):
        parser = FeedParser(100)  # a small cap: the deep one is skipped as it streams
        got = []
        for start in range(0, len(text), size):
            got += parser.feed(text[start : start + size])
        got += parser.finish()
        assert [_seq_and_id(c) for c in got] == [_seq_and_id(c) for c in expected]
        assert parser.last_seq == "9-abc"


# -- forged documents ----------------------------------------------------------------------


def test_forged_documents_are_refused_counted_and_never_crash_sync_log_or_agenda(
    hostile: HostileCouch,
    trip_id: str,
    tmp_path: Path,
    laptops: Callable[..., Laptop],
    tripdash: Callable[..., Run],
) -> None:
    a = laptops("alice")
    own = a.mark(trip_id, "csis-speech")  # a forgery of this one comes too
    good = [mark_doc(trip_id, n, item_id="csis-speech", hlc=T0_MS + 5000 + n) for n in (1, 2)]
    ahead_ms = T0_MS + 48 * 3600 * 1000
    ahead_at = (T0 + timedelta(hours=48)).isoformat()
    forged: list[str | bytes] = [
        change(3, mark_doc(trip_id, 3, who="\ud800")),  # a lone surrogate
        change(4, mark_doc(trip_id, 4, item_id="x\udfff")),
        change(5, mark_doc(trip_id, 5, who="PLACEHOLDER"))
        .encode()
        .replace(
            b"PLACEHOLDER",
            b"\xff\xfe",  # not UTF-8
        ),
        change(6, mark_doc(trip_id, 6, hlc=2**53 - 1)),
        change(7, mark_doc(trip_id, 7, at="9999-12-31T23:59:59+00:00", hlc=2**53 - 2)),
        change(8, mark_doc(trip_id, 8, at="0001-01-01T00:00:00+14:00")),
        change(9, mark_doc("another-trip", 9)),
        change(10, mark_doc(trip_id, 10, done="yes")),
        change(11, mark_doc(trip_id, 11, hlc=1.5)),
        change(12, mark_doc(trip_id, 12, who="w" * 10_000)),
        change(13, mark_doc(trip_id, 13, _id="an id with spaces")),
        change(14, mark_doc(trip_id, 14, item_id="a b")),
        change(15, mark_doc(trip_id, 15, evil=1)),
        change(16, mark_doc(trip_id, 16, hlc=T0_MS - 1000)),  # earlier than its own time
        change(17, {**mark_doc(trip_id, 17), "_id": own.id, "done": False}),  # forges ours
        change(18, mark_doc(trip_id, 18, at="2023-01-17T14:00:00")),  # no offset
        change(19, mark_doc(trip_id, 19, at=ahead_at, hlc=ahead_ms)),  # 48 h ahead: refused
        change(20, {"_id": "_design/x", "views": {}}),  # not counted
        json.dumps({"seq": 21, "id": "gone", "deleted": True, "doc": {"_id": "gone"}}),
    ]
    malformed = 16

    def feed(feed: Feed) -> None:
        feed.write('{"results":[' + change(1, good[0]))
        for item in forged:
            feed.write(b"," + (item if isinstance(item, bytes) else item.encode()))
        feed.write("," + change(22, good[1]) + '],"last_seq":22}')

    hostile.feed = feed
    hostile.readable = False  # it cannot show it holds alice's mark but by the feed
    result = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (result.pulled, result.skipped, result.ahead) == (2, malformed, 1)
    text = str(result)
    assert f"ignored {malformed} malformed documents" in text
    assert "refused 1 mark dated more than 24 h ahead of this laptop's clock" in text
    assert {m.id for m in a.store.history(trip_id)} == {own.id, *(d["_id"] for d in good)}
    assert a.store.state(trip_id)["csis-speech"].id == good[1]["_id"]
    assert [m for m in a.store.history(trip_id) if m.id == own.id] == [own]  # not replaced
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "22"
    assert max(m.hlc for m in a.store.history(trip_id)) < HLC_CEILING
    # The forgery of its mark did not count as the server holding it: still waiting.
    assert result.waiting == 1

    path = str(trip_file(tmp_path, trip_id))
    state = ("--state-dir", str(a.store.state_dir))
    a.close()
    log = tripdash("log", path, *state)
    assert log.code == 0 and log.err == ""
    assert len(log.out.splitlines()) == 3
    agenda = tripdash("agenda", path, "--json", *state)
    assert agenda.code == 0, agenda.err
    sync = tripdash("sync", path, "--sync", hostile.url, *state)
    assert sync.code == 0, sync.err


def test_rows_an_older_version_stored_from_forged_documents_are_ignored_everywhere(
    trip_id: str, tmp_path: Path, laptops: Callable[..., Laptop], tripdash: Callable[..., Run]
) -> None:
    a = laptops("alice")
    first = a.mark(trip_id, "csis-speech")
    a.close()
    with sqlite3.connect(a.store.path) as conn:  # as tripdash 0.1 pulled them
        rows = [
            ("poison-hlc", "blinken-bilateral", 1, "2023-01-17T14:00:00.000000+00:00", 2**53 - 1),
            ("poison-at", "joly-bilateral", 1, "9999-12-31T23:59:59.000000+00:00", T0_MS),
            ("poison-type", "joly-bilateral", 1, "yesterday", T0_MS),
        ]
        conn.executemany(
            "INSERT INTO marks (id, trip_id, item_id, done, at, who, hlc) "
            "VALUES (?, ?, ?, ?, ?, 'mallory', ?)",
            [(i, trip_id, item, d, at, hlc) for i, item, d, at, hlc in rows],
        )
    b = laptops("alice-again")
    store = MarkStore(a.store.state_dir, clock=b.clock)
    try:
        assert store.history(trip_id) == [first]
        assert store.unreadable(trip_id) == 3
        assert store.done_ids(trip_id) == {"csis-speech"}
        later = store.mark(trip_id, "blinken-bilateral", True, "alice")
        assert later.hlc == first.hlc + 1  # the poisoned clock is not followed
        assert store.unsynced(trip_id, "http://x", 100) == [first, later]  # never pushed
    finally:
        store.close()
    path = str(trip_file(tmp_path, trip_id))
    log = tripdash("log", path, "--state-dir", str(a.store.state_dir))
    # The good history is printed; each left-out row is reported with the path, and the
    # exit status says the history shown is not all there is.
    assert log.code == 1
    assert len(log.out.splitlines()) == 2
    assert log.err.count("cannot be read") == 3 and "left out" in log.err
    assert "out of range" in log.err and "1900-2200" in log.err


def test_every_laptop_agrees_after_a_forged_clock_near_2_to_the_53_arrives(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    db = database_name(trip_id)
    far = T0_MS + 3 * 24 * 3600 * 1000
    couch.post_docs(
        db,
        [
            mark_doc(trip_id, 1, item_id="e1", hlc=2**53 - 1),
            mark_doc(trip_id, 2, item_id="e2", at=(T0 + timedelta(days=3)).isoformat(), hlc=far),
        ],
    )
    a, b, c = laptops("alice"), laptops("bob"), laptops("carol", T0 + timedelta(hours=3))
    for laptop in (a, b, c):
        result = laptop.sync(trip_id, couch.url)
        assert (result.pulled, result.skipped, result.ahead) == (0, 1, 1)
    a.mark(trip_id, "e1")
    b.mark(trip_id, "e2")
    c.mark(trip_id, "e1", False)
    for laptop in (a, b, c, a, b):
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b, c)
    assert a.store.done_ids(trip_id) == {"e2"}  # carol's undo (3 h fast) is the latest
    assert all(m.hlc < HLC_CEILING < HLC_LIMIT < 2**53 // 600 for m in a.store.history(trip_id))


def test_a_laptop_whose_clock_is_77_years_fast_freezes_no_item_for_the_team(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a, b = laptops("alice"), laptops("bob")
    fast = laptops("zed", T0 + timedelta(days=365 * 77))
    fast.mark(trip_id, "csis-speech", True)
    assert fast.sync(trip_id, couch.url).pushed == 1
    a.mark(trip_id, "csis-speech", True)
    first = a.sync(trip_id, couch.url)
    assert first.ahead == 1 and "is a clock wrong?" in str(first)
    b.mark(trip_id, "csis-speech", False, after=60)
    for laptop in (b, a, b):
        laptop.sync(trip_id, couch.url)
    assert_same_everywhere(trip_id, a, b)
    assert a.store.done_ids(trip_id) == set()  # bob's undo stands; zed's mark did not win


# -- marks that never reach the team -----------------------------------------------------------


def test_a_server_that_drops_what_it_accepts_gets_the_marks_again_until_it_holds_them(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    hostile.keep = False  # "ok" to every push, and nothing kept
    a = laptops("alice")
    made = [a.mark(trip_id, f"item-{n}") for n in range(3)]
    for round_ in range(3):
        result = sync_once(a.store, trip_id, cfg(hostile.url))
        assert (result.pushed, result.waiting) == (3, 3)
        assert "3 still waiting" in str(result)
        assert hostile.docs_received == 3 * (round_ + 1)  # resent every round
    assert hostile.requests.count("POST _all_docs") == 3  # asked, and not found

    hostile.keep = True  # an honest server at last (or the same one, mended)
    result = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (result.pushed, result.waiting) == (3, 0)
    assert hostile.requests.count("POST _all_docs") == 3  # came back in the feed: no read
    again = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (again.pushed, again.waiting) == (0, 0)
    assert hostile.docs_received == 12
    assert sorted(hostile.docs) == sorted(m.id for m in made)


def test_a_mark_the_feed_does_not_show_is_confirmed_by_reading_its_id(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    hostile.feed = lambda f: f.write('{"results":[],"last_seq":0}')  # never shows a thing
    a = laptops("alice")
    a.mark(trip_id, "csis-speech")
    result = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (result.pushed, result.waiting) == (1, 0)
    assert hostile.requests[-1] == "POST _all_docs"

    hostile.readable = False  # now it keeps them but cannot show them: they wait
    a.mark(trip_id, "blinken-bilateral")
    result = sync_once(a.store, trip_id, cfg(hostile.url))
    assert (result.pushed, result.waiting) == (1, 1)


def test_a_round_stopped_before_its_marks_show_leaves_them_waiting(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    a = laptops("alice")
    a.mark(trip_id, "csis-speech")

    # The time runs out once the pull has begun: nothing has shown the server holds it.
    def clock() -> float:
        return 1000.0 if hostile.pages else 0.0

    hostile.feed = lambda f: endless((" " for _ in iter(int, 1)), f, pause=0.01)

    result = sync_once(a.store, trip_id, cfg(hostile.url, seconds=60, ticker=clock))
    assert result.stopped == "the time limit of 60 s"
    assert (result.pushed, result.waiting) == (1, 1)
    hostile.feed = None
    assert sync_once(a.store, trip_id, cfg(hostile.url)).waiting == 0


# -- messages ----------------------------------------------------------------------------------


def test_a_redirect_to_a_hostile_address_is_quoted_terminal_safe(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    hostile.redirect = "https://evil.example/\u009b31m\u202egnp.exe"
    a = laptops("alice")
    with pytest.raises(SyncError) as failed:
        sync_once(a.store, trip_id, cfg(hostile.url))
    message = str(failed.value)
    assert "redirects (HTTP 302)" in message
    for raw in ("\u009b", "\u202e"):
        assert raw not in message
    assert "evil.example/\\x9b31m\\u202egnp.exe" in message


def test_a_password_in_the_sync_url_is_warned_about_and_never_printed(
    hostile: HostileCouch, trip_id: str, tmp_path: Path, tripdash: Callable[..., Run]
) -> None:
    path = str(trip_file(tmp_path, trip_id))
    host = hostile.url.removeprefix("http://")
    state = ("--state-dir", str(tmp_path / "alice"))
    r = tripdash("sync", path, "--sync", f"http://someone:s3cret-pw@{host}", *state)
    assert r.code == 0
    assert "ps shows it" in r.err and "TRIPDASH_SYNC_PASSWORD" in r.err
    assert "s3cret-pw" not in r.err + r.out
    env = {"TRIPDASH_SYNC_USER": "someone", "TRIPDASH_SYNC_PASSWORD": "s3cret-pw"}
    r = tripdash("sync", path, "--sync", hostile.url, *state, env=env)
    assert (r.code, r.err) == (0, "")


def test_a_seq_that_cannot_be_sent_back_is_never_kept_as_the_checkpoint(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    """A lone surrogate, non-ASCII text or 5,000 characters as a seq: the marks are kept,
    the checkpoint stays at the last seq that can be asked for again, and the next round
    asks for it (a surrogate once crashed every later round in building the request)."""
    bad_seqs = ['"\\ud800"', '"caf\\u00e9"', '"' + "9" * 5_000 + '"']
    entries = [change(1, mark_doc(trip_id, 1))]
    for n, seq in enumerate(bad_seqs, start=2):
        text = change(n, mark_doc(trip_id, n))
        entries.append(text.replace(f'"seq": {n},', f'"seq": {seq},', 1))
    assert all(seq in entry for seq, entry in zip(bad_seqs, entries[1:], strict=True))
    body = ('{"results":[' + ",".join(entries) + '],"last_seq":' + bad_seqs[0] + "}").encode()
    asked: list[str] = []

    def feed(f: Feed) -> None:
        asked.append(f.params.get("since", ""))
        f.write(body)

    hostile.feed = feed
    a = laptops("alice")
    for _ in range(2):
        result = sync_once(a.store, trip_id, cfg(hostile.url))
        assert (result.pulled, result.skipped) in ((4, 0), (0, 0))
        assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "1"
    assert sorted(m.id for m in a.store.history(trip_id)) == [f"m{n:08d}" for n in (1, 2, 3, 4)]
    assert asked[-1] == "1"  # the second round went on from the last usable seq


def test_a_checkpoint_an_earlier_release_kept_with_a_lone_surrogate_starts_over() -> None:
    assert sync_module._since_param('"\\ud800"') == "0"
    assert sync_module._since_param('"12-g1AAA"') == "12-g1AAA"
    assert sync_module._since_param('[1, "a"]') == '[1, "a"]'
    assert sync_module._since_param("7") == "7"


def test_more_marks_waiting_than_a_round_may_push_go_in_turns_and_all_arrive(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    """A round stopped by the push limit still pulls and confirms what it sent, so the
    next round sends the marks after them (it once sent the same first ones for ever)."""
    a = laptops("alice")
    made = [a.mark(trip_id, f"item-{n}") for n in range(12)]
    results = []
    for _ in range(6):
        results.append(sync_once(a.store, trip_id, cfg(hostile.url, changes=5)))
        if results[-1].stopped is None:
            break
    assert [r.pushed for r in results] == [5, 5, 2]
    assert [r.waiting for r in results] == [7, 2, 0]
    assert results[0].stopped == "the limit of 5 marks pushed"
    assert "7 still waiting; stopped at the limit of 5 marks pushed" in str(results[0])
    assert hostile.docs_received == 12  # none sent twice
    assert sorted(hostile.docs) == sorted(m.id for m in made)


def test_a_status_line_and_headers_sent_a_byte_at_a_time_stop_at_the_time_limit(
    trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    """Each byte comes well within a read's timeout, so only the round's own limit, in
    real time, can end the wait (the checks between chunks of the body never run)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()
    answered: list[int] = []

    def serve() -> None:
        while not done.is_set():
            listener.settimeout(0.2)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            answered.append(1)
            with conn:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if done.is_set():
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        a = laptops("alice")
        a.mark(trip_id, "csis-speech")
        result = sync_once(a.store, trip_id, cfg(f"http://127.0.0.1:{port}", seconds=1.5))
        assert result.stopped == "the time limit of 1.5 s"
        assert answered == [1]  # one request, cut: not retried within the round
        assert result.waiting == 1
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


# -- the other byte limits -------------------------------------------------------------------


def test_a_small_answer_larger_than_its_limit_is_refused_with_a_message(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    hostile.info_padding = 300_000  # the database's info, 300 kB
    a = laptops("alice")
    a.mark(trip_id, "csis-speech")
    with pytest.raises(SyncError) as failed:
        sync_once(a.store, trip_id, cfg(hostile.url, answer_bytes=100_000))
    assert "the server's answer is larger than 100,000 bytes" in str(failed.value)
    assert a.store.count_unsynced(trip_id, hostile.url) == 1  # nothing counted as sent
    hostile.info_padding = 0
    assert sync_once(a.store, trip_id, cfg(hostile.url)).waiting == 0


def test_a_page_larger_than_its_byte_limit_is_cut_and_the_next_page_goes_on_from_there(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    docs = [mark_doc(trip_id, n) for n in range(1, 301)]

    def ignores_limit(feed: Feed) -> None:  # every change after ``since``, in one page
        entries = [change(n, doc) for n, doc in enumerate(docs, start=1) if n > feed.since]
        feed.write('{"results":[' + ",".join(entries) + '],"last_seq":300}')

    hostile.feed = ignores_limit
    a = laptops("alice")
    result = sync_once(a.store, trip_id, cfg(hostile.url, page_bytes=20_000))
    assert (result.pulled, result.skipped, result.stopped) == (300, 0, None)
    assert hostile.pages > 300 * len(change(1, docs[0])) // 20_000  # cut, page after page
    assert sorted(m.id for m in a.store.history(trip_id)) == sorted(d["_id"] for d in docs)
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "300"


def test_a_compressed_page_is_read_and_a_decompression_bomb_stays_small(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    """The client asks for no compression; a server that compresses all the same is read,
    never unpacked more than a chunk at a time: 200 MB of white space from 200 kB."""
    docs = [mark_doc(trip_id, n) for n in (1, 2)]
    page = '{"results":[' + ",".join(change(n, d) for n, d in enumerate(docs, 1)) + "],"
    hostile.changes_headers = {"Content-Encoding": "gzip"}
    hostile.feed = lambda f: f.write(gzip.compress((page + '"last_seq":2}').encode()))
    a = laptops("alice")
    assert sync_once(a.store, trip_id, cfg(hostile.url)).pulled == 2

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = packer.compress(b'{"results":[') + packer.compress(b" " * (200 * 1024 * 1024))
    bomb += packer.flush()
    assert len(bomb) < 300_000
    hostile.feed = lambda f: f.write(bomb)
    b = laptops("bob")

    def bombed() -> str:
        with pytest.raises(SyncError) as failed:
            sync_once(b.store, trip_id, cfg(hostile.url))
        return str(failed.value)

    message, peak = peak_bytes(bombed)
    assert "gave 33,554,432 bytes without a change in them" in message  # cut at its limit
    assert peak < 4 * 1024 * 1024

    hostile.feed = lambda f: f.write(b"\x1f\x8b\x08\x00 not gzip at all")
    with pytest.raises(SyncError) as failed:
        sync_once(b.store, trip_id, cfg(hostile.url))
    assert "compressed answer is corrupt" in str(failed.value)


def test_a_change_larger_than_a_page_s_byte_limit_is_still_skipped_to_its_end(
    hostile: HostileCouch, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    """The page's byte limit never strands the pull on one huge document: it is skipped
    as it streams, its seq passed, and the marks after it are read next."""
    huge = change(2, mark_doc(trip_id, 2, who="w" * 3_000_000))  # 3 MB, limit 1 MB
    entries = [change(1, mark_doc(trip_id, 1)), huge, change(3, mark_doc(trip_id, 3))]

    def ignores_limit(feed: Feed) -> None:
        feed.write('{"results":[' + ",".join(entries[feed.since :]) + '],"last_seq":3}')

    hostile.feed = ignores_limit
    a = laptops("alice")
    result = sync_once(a.store, trip_id, cfg(hostile.url, page_bytes=1_000_000))
    assert (result.pulled, result.skipped) == (2, 1)
    assert a.store.checkpoint(hostile.url, database_name(trip_id)) == "3"
