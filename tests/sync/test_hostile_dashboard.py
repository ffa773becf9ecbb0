"""The dashboard against a hostile server: forged documents, a server that drops marks.

The issue's cases as the dashboard meets them (``tripdash sync`` and ``log`` meet them in
tests/sync/test_hostile.py): documents that once crashed every start (a lone surrogate,
a clock near 2**53, a time in the year 9999, nesting 3,000 deep, bytes that are not
UTF-8) are refused and counted in the header, and the app keeps running, now and at
the next start; marks a lying server says it took stay "waiting" in the header until
a server shows it holds them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeClock

from tripdash.domain.loader import load_trip
from tripdash.domain.sync import SyncConfig, SyncLimits

from .hostile import Feed, HostileCouch, change, mark_doc
from .test_sync import SIZE, T0, eventually, header_text, synced, trip_file


@pytest.fixture
def hostile() -> Iterator[HostileCouch]:
    with HostileCouch() as server:
        yield server


def forged_feed(trip_id: str) -> bytes:
    good = mark_doc(trip_id, 1, item_id="blinken-bilateral", who="bob")
    entries = [
        change(1, good).encode(),
        change(2, mark_doc(trip_id, 2, who="\ud800")).encode("utf-8", "surrogatepass"),
        change(3, mark_doc(trip_id, 3, item_id="csis-speech", hlc=2**53 - 1)).encode(),
        change(4, mark_doc(trip_id, 4, at="9999-12-31T23:59:59+00:00", hlc=2**53 - 2)).encode(),
        b'{"seq":5,"id":"deep","doc":{"_id":"deep","x":' + b"[" * 3000 + b"]" * 3000 + b"}}",
        change(6, mark_doc(trip_id, 6, who="PLACEHOLDER"))
        .encode()
        .replace(b"PLACEHOLDER", b"\xff"),
        change(7, mark_doc(trip_id, 7, done="yes")).encode(),
    ]
    return b'{"results":[' + b",".join(entries) + b'],"last_seq":7}'


async def test_forged_documents_are_counted_in_the_header_and_never_crash_the_dashboard(
    hostile: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    from tripdash.app import make_app

    body = forged_feed(trip_id)
    hostile.feed = lambda feed: feed.write(body) if feed.since == 0 else honest_empty(feed)
    trip = load_trip(trip_file(tmp_path, trip_id)).trip
    config = SyncConfig.from_url(hostile.url, env={})
    for start in range(2):  # the first start pulls them; the next start must still run
        app = make_app(
            [trip], state_dir=tmp_path / "state", clock=FakeClock(T0), who="alice", sync=config
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await synced(app, pilot)
            await eventually(pilot, lambda app=app: "⇅ synced" in header_text(app))
            text = header_text(app)
            if start == 0:
                assert "6 bad documents ignored" in text
            else:  # the checkpoint passed them: never read again
                assert "ignored" not in text
            assert app.session.marks.done_ids(trip_id) == {"blinken-bilateral"}
            await pilot.press("space")  # still usable: alice marks the CSIS speech
            assert app.session.marks.done_ids(trip_id) == {"blinken-bilateral", "csis-speech"}
            await pilot.press("space")  # and unmarks it
        assert app._exception is None
    assert hostile.pages == 2


def honest_empty(feed: Feed) -> None:
    feed.write(f'{{"results":[],"last_seq":{feed.since}}}')


async def test_marks_a_lying_server_drops_stay_waiting_in_the_header(
    hostile: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    from tripdash.app import make_app

    hostile.keep = False  # "ok" to every push, and nothing kept
    trip = load_trip(trip_file(tmp_path, trip_id)).trip
    config = SyncConfig.from_url(hostile.url, env={})
    app = make_app(
        [trip], state_dir=tmp_path / "state", clock=FakeClock(T0), who="alice", sync=config
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await synced(app, pilot)
        await pilot.press("space")  # the CSIS speech, done
        for _ in range(2):
            await pilot.press("s")
            await synced(app, pilot)
            await eventually(pilot, lambda: "1 mark waiting" in header_text(app))
        assert "⇅ synced" in header_text(app)  # the server answered: not offline
        assert len(hostile.received_ids) == 2 and len(set(hostile.received_ids)) == 1  # resent

        hostile.keep = True  # mended: the next round's push is kept and shows in the feed
        await pilot.press("s")
        await synced(app, pilot)
        await eventually(pilot, lambda: "waiting" not in header_text(app))
        assert app.session.open_trips[0].sync.waiting == 0
        assert len(hostile.docs) == 1
    assert app._exception is None


async def test_keys_are_answered_while_a_round_waits_on_a_server_that_trickles(
    hostile: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    # The slow server (a byte at a time): the round runs in a worker thread, so
    # the cursor moves and a mark is committed and shown while it is still reading.
    from tripdash.app import make_app
    from tripdash.widgets.timeline import Timeline

    reading, finished = threading.Event(), threading.Event()

    def trickle(feed: Feed) -> None:
        reading.set()
        try:
            feed.write('{"results":[')
            while True:  # until the round's time limit closes the connection
                feed.pause(0.2)
                feed.write(" ")
        finally:
            finished.set()

    hostile.feed = trickle
    trip = load_trip(trip_file(tmp_path, trip_id)).trip
    config = replace(SyncConfig.from_url(hostile.url, env={}), limits=SyncLimits(seconds=6.0))
    app = make_app(
        [trip], state_dir=tmp_path / "state", clock=FakeClock(T0), who="alice", sync=config
    )
    async with app.run_test(size=SIZE) as pilot:
        await eventually(pilot, reading.is_set)
        timeline = app.screen.query_one(Timeline)
        first = timeline.selected.id
        await pilot.press("j")
        moved = timeline.selected.id
        assert moved != first
        await pilot.press("space")
        assert app.session.marks.done_ids(trip_id) == {moved}
        assert not finished.is_set()  # all of it while the round was still reading
        await synced(app, pilot)  # the time limit ends the round; the app goes on
        assert finished.is_set()
        # What was read is kept, the rest comes next round; alice's mark is still to send.
        await eventually(pilot, lambda: "in part: more next round" in header_text(app))
        assert "1 mark waiting" in header_text(app)
    assert app._exception is None
