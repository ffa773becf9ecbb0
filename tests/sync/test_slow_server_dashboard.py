"""The dashboard while a sync round is stuck on a slow server: keys work, `q` quits.

The hostile server (:mod:`tests.sync.hostile`, on 127.0.0.1) answers ``_changes`` with
one space every 50 ms for ever: the body never ends and no read ever times out, so
the round stays in progress until its time limit (60 s by default). Nothing here
measures how long anything took: the tests assert what happened while the round was
still in progress (the cursor moved, a mark was committed, the app exited, the sync
thread and the server's answer were both still going).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from e2e.test_tmux import START_TIMEOUT, Terminal, details_pane
from fakes import FakeClock

from tripdash.domain.loader import load_trip
from tripdash.domain.store import MarkStore
from tripdash.domain.sync import SyncConfig, SyncLimits

from .hostile import Feed, HostileCouch, endless
from .test_sync import SIZE, T0, trip_file


def trickle(feed: Feed) -> None:
    """White space, one character at a time, for ever (until the client goes away)."""
    feed.write('{"results":[')
    endless((" " for _ in iter(int, 1)), feed, pause=0.05)


@pytest.fixture
def slow() -> Iterator[HostileCouch]:
    with HostileCouch() as server:
        server.feed = trickle
        yield server


async def _until(pilot: object, check: Callable[[], bool], what: str) -> None:
    """Let the app run until ``check()`` holds (polled; fails after many turns)."""
    for _ in range(300):
        if check():
            return
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    pytest.fail(f"never happened: {what}")


async def test_keys_move_the_cursor_and_q_quits_while_a_round_is_stuck(
    slow: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    from tripdash.app import make_app
    from tripdash.widgets.timeline import Timeline

    trip = load_trip(trip_file(tmp_path, trip_id)).trip
    # A round limit far beyond the test, so the round is in progress throughout.
    config = replace(SyncConfig.from_url(slow.url, env={}), limits=SyncLimits(seconds=3600))
    app = make_app(
        [trip], state_dir=tmp_path / "state", clock=FakeClock(T0), who="alice", sync=config
    )
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: slow.pages == 1, "the round asking for the change feed")
        round_thread = app.sync_thread
        assert isinstance(round_thread, threading.Thread) and round_thread.is_alive()

        timeline = app.screen.query_one(Timeline)
        start = timeline.cursor
        for _ in range(3):
            await pilot.press("j")
        await pilot.press("k")
        assert timeline.cursor == start + 2
        selected = timeline.selected
        assert selected is not None
        await pilot.press("space")  # a mark, committed while the round is stuck
        assert app.session.marks.done_ids(trip_id) == {selected.id}

        await pilot.press("s")  # sync now: no second round piles up behind the first
        await pilot.press("s")
        await pilot.pause()
        assert app.sync_thread is round_thread and slow.pages == 1

        assert round_thread.is_alive() and slow.cut_short == 0  # still in progress
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0 and app._exception is None
    # The app is gone; the round it left behind is still reading the endless answer.
    assert round_thread.is_alive() and slow.cut_short == 0 and slow.pages == 1
    with MarkStore(tmp_path / "state", clock=FakeClock(T0)) as store:
        assert store.done_ids(trip_id) == {selected.id}  # committed before it was shown

    slow.stop()  # the answer ends: the round fails, its thread ends (nothing leaks)
    round_thread.join(timeout=30)
    assert not round_thread.is_alive()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")
def test_the_real_program_quits_on_q_while_a_round_is_stuck(
    slow: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    """`tripdash TRIP --sync URL` in a real terminal: the process ends on `q` even though
    the round (limit 60 s) is still reading; a thread of asyncio's executor would have
    kept it alive until the limit, longer than the terminal harness waits (20 s)."""
    trip = trip_file(tmp_path, trip_id)
    terminal = Terminal(tmp_path)
    try:
        terminal.start([str(trip), "--at", "2023-01-17T09:10 America/New_York", "--sync", slow.url])
        terminal.wait_for(
            "the dashboard",
            lambda s: "Speech on UK foreign policy" in details_pane(s),
            timeout=START_TIMEOUT,
        )
        terminal.wait_for("the round to ask for the change feed", lambda s: slow.pages == 1)
        terminal.send("]")  # the next day: the screen still follows the keys
        terminal.wait_for(
            "Wednesday's first event in the details pane",
            lambda s: "Wreath-laying" in details_pane(s),
        )
        assert slow.cut_short == 0  # the round is still reading the answer
        terminal.send("q")
        assert terminal.wait_exit() == "EXIT:0"
        terminal.assert_no_traceback()
    finally:
        terminal.close()
    # The answer was cut by the program going away, not ended by the server.
    for _ in range(100):
        if slow.cut_short == 1:
            break
        time.sleep(0.05)
    assert (slow.pages, slow.cut_short) == (1, 1)
