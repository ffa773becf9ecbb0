"""Notes and shifts through team sync, against pouchdb-server on 127.0.0.1.

Two laptops exchange notes and shifts both ways; a conflicting edit stays two
versions on both; a record of a kind this release does not know is stored and
passed on; a laptop of the previous release (tests/sync/previous_release) keeps
syncing its marks against a database that holds records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import FakeClock

from tripdash.domain.records import MAX_NOTE_CHARS, NOTE, SHIFT, RecordStore
from tripdash.domain.store import MarkStore
from tripdash.domain.sync import RECORD_TYPE, SyncConfig, SyncResult, database_name, sync_once

from .conftest import PouchServer, at
from .previous_release import store as old_store
from .previous_release import sync as old_sync

T0 = at("2023-01-17T09:00 America/New_York")


def config(url: str, transport: httpx.BaseTransport | None = None) -> SyncConfig:
    return replace(SyncConfig.from_url(url, env={}), transport=transport)


class Laptop:
    """A state directory with its marks and records stores and its own clock."""

    def __init__(self, root: Path, who: str) -> None:
        self.who = who
        self.clock = FakeClock(T0)
        self.marks = MarkStore(root / f"laptop-{who}", clock=self.clock)
        self.records = RecordStore(self.marks, clock=self.clock)

    def note(self, trip_id: str, item: str, text: str) -> str:
        self.clock.advance(seconds=1)
        return self.records.save_note(trip_id, item, text, self.who).id

    def shift(self, trip_id: str, event: str, minutes: int, until: str | None = None) -> str:
        self.clock.advance(seconds=1)
        return self.records.set_shift(trip_id, event, minutes, until, self.who).id

    def sync(self, trip_id: str, url: str) -> SyncResult:
        return sync_once(self.marks, trip_id, config(url), self.records)

    def state(self, trip_id: str) -> tuple[Any, ...]:
        notes = {
            item: [(v.id, v.text, v.who) for v in versions]
            for item, versions in self.records.notes(trip_id).items()
        }
        shifts = {
            k: (s.id, s.minutes, s.until_event) for k, s in self.records.shifts(trip_id).items()
        }
        every = [(r.id, r.kind, r.body, r.hlc) for r in self.records.records(trip_id)]
        return notes, shifts, every, self.marks.state(trip_id)


@pytest.fixture
def laptops(tmp_path: Path) -> Iterable[Callable[[str], Laptop]]:
    made: list[Laptop] = []

    def make(who: str) -> Laptop:
        made.append(Laptop(tmp_path, who))
        return made[-1]

    yield make
    for laptop in made:
        laptop.marks.close()


def test_notes_and_shifts_both_ways_and_a_retry_changes_nothing(
    couch: PouchServer, trip_id: str, laptops: Callable[[str], Laptop]
) -> None:
    a, b = laptops("alice"), laptops("bob")
    a.note(trip_id, "csis-speech", "Raised CPTPP.\n\nAsked about \x1b[31m Ukraine.")
    a.shift(trip_id, "csis-speech", 20)
    a.marks.mark(trip_id, "csis-speech", True, "alice")
    # The longest note travels too, even all control characters (\u001b in JSON: six
    # characters each, within SyncLimits.change_chars).
    long = a.note(trip_id, "blinken", "\x1b" * MAX_NOTE_CHARS)
    first = a.sync(trip_id, couch.url)
    assert (first.pushed, first.records_pushed, first.records_waiting) == (1, 3, 0)
    assert "pushed 3 and pulled 0 note(s) or shift(s)" in str(first)
    got = b.sync(trip_id, couch.url)
    assert (got.pulled, got.records_pulled, got.skipped) == (1, 3, 0)
    b.note(trip_id, "joly", "Trade.")
    b.shift(trip_id, "csis-speech", 35)  # replaces alice's 20, being later
    b.sync(trip_id, couch.url)
    back = a.sync(trip_id, couch.url)
    assert back.records_pulled == 2
    assert a.state(trip_id) == b.state(trip_id)
    assert a.records.shifts(trip_id)["csis-speech"].minutes == 35
    assert a.records.note(trip_id, "blinken")[0].id == long
    db = database_name(trip_id)
    count = couch.doc_count(db)
    assert count == 6
    # Stable ids: pushing everything again (its sync state lost) adds nothing.
    a.marks.connection.execute("DELETE FROM sync_known")
    a.marks.connection.execute("DELETE FROM sync_held")
    again = a.sync(trip_id, couch.url)
    assert (again.pushed, again.records_pushed, again.records_waiting) == (0, 0, 0)
    assert couch.doc_count(db) == count
    docs = [d for d in couch.docs(db) if d.get("type") == RECORD_TYPE]
    assert {d["kind"] for d in docs} == {NOTE, SHIFT}
    assert all(isinstance(d["body"], dict) for d in docs)


def test_a_conflicting_edit_is_kept_as_two_versions_until_merged(
    couch: PouchServer, trip_id: str, laptops: Callable[[str], Laptop]
) -> None:
    a, b = laptops("alice"), laptops("bob")
    a.note(trip_id, "blinken", "Indo-Pacific.")
    a.sync(trip_id, couch.url)
    b.sync(trip_id, couch.url)
    a.note(trip_id, "blinken", "Indo-Pacific: agreed.")
    b.note(trip_id, "blinken", "Indo-Pacific: deferred.")
    for laptop in (a, b, a):
        laptop.sync(trip_id, couch.url)
    for laptop in (a, b):
        texts = [v.text for v in laptop.records.note(trip_id, "blinken")]
        assert sorted(texts) == ["Indo-Pacific: agreed.", "Indo-Pacific: deferred."]
    assert a.state(trip_id) == b.state(trip_id)
    b.note(trip_id, "blinken", "Agreed, then deferred.")
    b.sync(trip_id, couch.url)
    a.sync(trip_id, couch.url)
    for laptop in (a, b):
        assert [v.text for v in laptop.records.note(trip_id, "blinken")] == [
            "Agreed, then deferred."
        ]


def _record_doc(trip: str, ident: str, **changes: Any) -> dict[str, Any]:
    doc = {
        "_id": ident,
        "type": RECORD_TYPE,
        "kind": "photo",
        "trip_id": trip,
        "item_id": "csis-speech",
        "body": {"caption": "At the lectern", "nested": {"list": [1, 2.5, None, "x"]}},
        "at": "2023-01-17T14:00:00+00:00",
        "who": "carol",
        "hlc": 1673964000000,
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def test_unknown_kinds_are_stored_and_passed_on_and_bad_records_refused(
    couch: PouchServer,
    start_server: Callable[..., PouchServer],
    trip_id: str,
    laptops: Callable[[str], Laptop],
) -> None:
    db = database_name(trip_id)
    future = _record_doc(trip_id, "future-kind")
    bad = [
        _record_doc(trip_id, "r-kind", kind="Not A Kind"),
        _record_doc(trip_id, "r-body", body="text"),
        _record_doc(trip_id, "r-extra", extra=1),
        _record_doc(trip_id, "r-no-kind", kind=None),
        _record_doc(trip_id, "r-other-trip", trip_id="another"),
        _record_doc(trip_id, "r-hlc", hlc=2**60),
        _record_doc(trip_id, "r-hlc-before-at", hlc=1673964000000 - 1),
        _record_doc(trip_id, "r-naive", at="2023-01-17T14:00:00"),
        _record_doc(trip_id, "r-who", who="ev\x1bil"),
        _record_doc(trip_id, "r-note-long", kind=NOTE, body={"text": "y" * (MAX_NOTE_CHARS + 1)}),
        _record_doc(trip_id, "r-note-int", kind=NOTE, body={"text": 5, "replaces": []}),
        _record_doc(trip_id, "r-note-replaces", kind=NOTE, body={"text": "x", "replaces": "a"}),
        _record_doc(trip_id, "r-shift-day", kind=SHIFT, body={"minutes": 1441, "until": None}),
        _record_doc(trip_id, "r-shift-bool", kind=SHIFT, body={"minutes": True, "until": None}),
        _record_doc(trip_id, "r-shift-until", kind=SHIFT, body={"minutes": 5, "until": 3}),
    ]
    ahead = _record_doc(trip_id, "r-ahead", hlc=int((T0 + timedelta(days=3)).timestamp() * 1000))
    couch.post_docs(db, [future, *bad, ahead])
    a = laptops("alice")
    result = a.sync(trip_id, couch.url)
    assert (result.records_pulled, result.skipped, result.ahead) == (1, len(bad), 1)
    (kept,) = a.records.records(trip_id)
    assert kept.kind == "photo" and json.loads(kept.body) == future["body"]
    assert a.records.notes(trip_id) == {} and a.records.shifts(trip_id) == {}
    # Passed on to another server exactly as it came, and from there to another laptop.
    other = start_server()
    pushed = sync_once(a.marks, trip_id, config(other.url), a.records)
    assert pushed.records_pushed == 1
    (doc,) = [d for d in other.docs(db) if not d["_id"].startswith("_")]
    assert {k: doc[k] for k in future} == future
    b = laptops("bob")
    assert b.sync(trip_id, other.url).records_pulled == 1
    assert b.state(trip_id) == a.state(trip_id)
    # The checkpoint passed them all: nothing counted twice.
    again = a.sync(trip_id, couch.url)
    assert (again.records_pulled, again.skipped, again.ahead) == (0, 0, 0)


def test_the_previous_release_keeps_syncing_its_marks(
    couch: PouchServer, trip_id: str, laptops: Callable[[str], Laptop], tmp_path: Path
) -> None:
    a = laptops("alice")
    a.note(trip_id, "csis-speech", "A note the old release cannot read.")
    a.shift(trip_id, "csis-speech", 20)
    a.marks.mark(trip_id, "csis-speech", True, "alice")
    a.sync(trip_id, couch.url)
    couch.post_docs(database_name(trip_id), [_record_doc(trip_id, "future-kind")])

    clock = FakeClock(T0 + timedelta(minutes=5))
    old = old_store.MarkStore(tmp_path / "old-laptop", clock=clock)
    try:
        old_config = replace(old_sync.SyncConfig.from_url(couch.url, env={}))
        first = old_sync.sync_once(old, trip_id, old_config)
        # Its marks arrive; the three records are set aside as "not a mark", once.
        assert (first.pulled, first.skipped) == (1, 3)
        assert old.done_ids(trip_id) == {"csis-speech"}
        old.mark(trip_id, "csis-speech", False, "old")
        second = old_sync.sync_once(old, trip_id, old_config)
        assert (second.pushed, second.pulled, second.skipped, second.waiting) == (1, 0, 0, 0)
        tables = {
            r[0] for r in old._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert "records" not in tables
    finally:
        old.close()
    back = a.sync(trip_id, couch.url)
    assert (back.pulled, back.records_pulled) == (1, 1)  # its mark; the future kind
    assert a.marks.done_ids(trip_id) == set()
    assert len(a.records.records(trip_id)) == 3  # nothing of ours was lost or changed
    assert couch.doc_count(database_name(trip_id)) == 5
