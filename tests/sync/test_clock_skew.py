"""A laptop whose clock is far from the sync server's is told, and told what it means.

The team refuses marks dated more than 24 h ahead of each laptop's own clock; a laptop
whose clock runs that fast would otherwise never learn that its marks reach nobody.
Its measure is the server's HTTP ``Date``. The laptops' clocks here are set from the
server's own ``Date`` (never from this machine's clock).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tripdash.domain.clockskew import (
    CLOCK_WARN_MS,
    NEAR,
    OFF,
    REFUSED,
    clock_skew_ms,
    describe_skew,
    skew_level,
)
from tripdash.domain.sync import SyncResult, sync_once
from tripdash.domain.times import UTC
from tripdash.live import SyncState, describe_sync

from .conftest import ROOT, PouchServer
from .test_sync import (  # fixtures and helpers shared with the honest tests
    Laptop,
    config,
    eventually,
    header_text,
    laptops,
    load,
    synced,
    trip_file,
)

__all__ = ["laptops"]  # the fixture, used by name

HOUR = 3_600_000
DATE = "Tue, 17 Jan 2023 14:00:00 GMT"
SERVER = datetime(2023, 1, 17, 14, tzinfo=UTC)
SERVER_MS = int(SERVER.timestamp() * 1000)


def test_the_skew_is_read_from_the_date_header() -> None:
    # The header is to the second: the server's clock was within that second (its middle).
    assert clock_skew_ms(DATE, SERVER_MS + 500) == 0
    assert clock_skew_ms(DATE, SERVER_MS + 26 * HOUR) == 26 * HOUR - 500
    assert clock_skew_ms(DATE, SERVER_MS - 3 * HOUR) == -3 * HOUR - 500
    assert clock_skew_ms("Tue, 17 Jan 2023 09:00:00 -0500", SERVER_MS + 500) == 0
    for bad in (None, "", "yesterday", "Tue, 99 Foo 2023 14:00:00 GMT", DATE + " " * 100):
        assert clock_skew_ms(bad, SERVER_MS) is None, bad


def test_what_a_skew_means_is_worded_by_how_far_and_which_way() -> None:
    assert describe_skew(None) == describe_skew(CLOCK_WARN_MS) == describe_skew(-60_000) == ""
    late = describe_skew(-(3 * HOUR + 5 * 60_000))
    assert late.startswith("this laptop's clock is 3 h 05 min behind the sync server's: set")
    assert "refuse" not in late
    near = describe_skew(23 * HOUR)
    assert near.startswith("this laptop's clock is 23 h ahead of") and "refuse" not in near
    far = describe_skew(26 * HOUR)
    assert far.startswith("this laptop's clock is 26 h ahead of the sync server's: the team")
    assert "refuse marks, notes and shifts dated more than 24 h ahead" in far
    assert "those made here do not reach them" in far
    assert describe_skew(26 * HOUR, short=True) == "⚠ clock 26 h fast"
    assert describe_skew(-3 * HOUR, short=True) == "⚠ clock 3 h slow"
    slow = describe_skew(-26 * HOUR)
    assert slow.startswith("this laptop's clock is 26 h behind the sync server's: this laptop")
    assert "refuses marks, notes and shifts dated more than 24 h ahead of its clock" in slow
    # Set right after running 26 h fast: the marks' clock keeps that time, and the team
    # still refuses what is made here.
    stale = describe_skew(3000, marks_ahead_ms=26 * HOUR)
    assert stale.startswith("the marks, notes and shifts made here are dated up to 26 h ahead")
    assert "refuse those more than 24 h ahead" in stale
    assert describe_skew(3000, True, marks_ahead_ms=26 * HOUR) == "⚠ marks dated 26 h ahead"
    assert describe_skew(3000, marks_ahead_ms=23 * HOUR) == ""  # accepted: nothing to say

    start = datetime(2023, 1, 17, 14, tzinfo=UTC)
    state = SyncState().after(start, SyncResult(0, 0, 0, 0, skew_ms=26 * HOUR), None)
    text = describe_sync(state, datetime(2023, 1, 17, 14, 0, 12, tzinfo=UTC), UTC)
    # First: the header cuts this text from its end.
    assert text == "⚠ clock 26 h fast · ⇅ synced just now"
    # Offline, the last skew measured still stands: a clock does not come right by itself.
    offline = state.after(datetime(2023, 1, 17, 14, 5, tzinfo=UTC), None, _offline())
    assert offline.skew_ms == 26 * HOUR
    assert describe_sync(offline, offline.failing_since, UTC).startswith(  # type: ignore[arg-type]
        "⚠ clock 26 h fast · ⇅ offline since 14:05"
    )


def test_a_level_reached_holds_until_the_clock_is_a_minute_inside_it() -> None:
    level = NEAR
    seen = []
    for seconds in (119, 121, 119.5, 120.2, 75, 59):  # the Date's second, and delays, wobble
        level = skew_level(int(seconds * 1000), None, level)
        seen.append(level)
    assert seen == [NEAR, OFF, OFF, OFF, OFF, NEAR]
    assert skew_level(24 * HOUR + 1000, None, OFF) == REFUSED
    assert skew_level(24 * HOUR - 30_000, None, REFUSED) == REFUSED  # inside by 30 s: held
    assert skew_level(24 * HOUR - 90_000, None, REFUSED) == OFF
    assert skew_level(1000, 24 * HOUR + 1000) == REFUSED  # the marks' clock alone


def test_the_clock_is_told_once_per_laptop_and_again_when_worse(tmp_path: Path) -> None:
    from fakes import FakeClock

    from tripdash.domain.loader import load_trip
    from tripdash.session import DashboardOptions, Session, SyncOutcome

    trips = ROOT / "trips"
    session = Session(
        [
            load_trip(trips / "fs-north-america-2023-01.toml").trip,
            load_trip(trips / "secstate-seoul-anchorage-2021-03.toml").trip,
        ],
        DashboardOptions(state_dir=tmp_path / "state", clock=FakeClock(SERVER)),
    )
    first, second = session.keys
    offline = SyncOutcome(None, _offline(), 0)

    def ok(ms: int) -> SyncOutcome:
        return SyncOutcome(SyncResult(0, 0, 0, 0, skew_ms=ms), None, 0)

    def told(round_: dict[str, SyncOutcome]) -> list[str]:
        return [text for title, text in session.record_sync(round_) if title == "Clock"]

    try:
        # One trip offline when the clock is first seen: told once, not again when the
        # other trip sees it, nor for two trips whose measures round to other minutes.
        assert len(told({first: ok(23 * HOUR), second: offline})) == 1
        assert told({first: ok(23 * HOUR + 40_000), second: ok(23 * HOUR)}) == []
        # Past 24 h fast the team refuses this laptop's marks: that is told.
        (worse,) = told({first: ok(26 * HOUR), second: ok(26 * HOUR + 30_000)})
        assert worse.startswith("This laptop's clock is 26 h ahead") and "refuse" in worse
        assert told({first: ok(26 * HOUR), second: ok(26 * HOUR)}) == []
        # Set right on both: nothing to say; off again later: told again.
        assert told({first: ok(1000), second: ok(1000)}) == []
        assert len(told({first: ok(-5 * 60_000), second: ok(-5 * 60_000)})) == 1
    finally:
        session.close()


def _offline():  # type: ignore[no-untyped-def]
    from tripdash.domain.sync import SyncError

    return SyncError("no network", offline=True)


def test_a_server_without_a_date_says_nothing_of_clocks(tmp_path: Path) -> None:
    # A mock CouchDB that sends no Date: the round works and no skew is claimed.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/_changes"):
            return httpx.Response(200, json={"results": [], "last_seq": 0})
        return httpx.Response(200, json={"db_name": "x"})

    laptop = Laptop(tmp_path, "alice")
    try:
        cfg = config("http://127.0.0.1:9/", transport=httpx.MockTransport(answer))
        result = sync_once(laptop.store, "t-nodate", cfg)
    finally:
        laptop.close()
    assert result.skew_ms is None and "clock" not in str(result)


def _server_now(couch: PouchServer) -> datetime:
    """The server's clock, from its own Date header."""
    date = couch.get("/").headers["date"]
    return email.utils.parsedate_to_datetime(date)


def test_a_laptop_26_hours_fast_is_told_its_marks_reach_nobody(
    couch: PouchServer, trip_id: str, laptops: Callable[..., Laptop]
) -> None:
    now = _server_now(couch)
    fast = laptops("fast", now + timedelta(hours=26))
    right = laptops("right", now)
    fast.mark(trip_id, "csis-speech")
    told = fast.sync(trip_id, couch.url)
    assert told.pushed == 1
    assert told.skew_ms is not None and abs(told.skew_ms - 26 * HOUR) < 30_000
    assert "this laptop's clock is 26 h ahead of the sync server's: the team's laptops " in str(
        told
    )
    # ...and it is true: the laptop with a right clock refuses that mark.
    pulled = right.sync(trip_id, couch.url)
    assert (pulled.pulled, pulled.ahead) == (0, 1)
    assert pulled.skew_ms is not None and abs(pulled.skew_ms) < 30_000
    assert "sync server's" not in str(pulled)
    # Its clock set right, its next mark still carries the marks' clock (26 h ahead),
    # and is refused in turn: the laptop is still told, though its clock is right.
    fast.clock.at = _server_now(couch)
    fast.mark(trip_id, "blinken-bilateral")
    still = fast.sync(trip_id, couch.url)
    assert still.skew_ms is not None and abs(still.skew_ms) < 30_000
    assert still.marks_ahead_ms is not None and abs(still.marks_ahead_ms - 26 * HOUR) < 60_000
    assert "the marks, notes and shifts made here are dated up to 26 h ahead" in str(still)
    assert right.sync(trip_id, couch.url).ahead == 1


@pytest.mark.parametrize("hours", [26, -3])
async def test_the_dashboard_says_so_in_the_header_and_once_in_a_notice(
    couch: PouchServer, trip_id: str, tmp_path: Path, hours: int
) -> None:
    from fakes import FakeClock

    from tripdash.app import make_app

    clock = FakeClock(_server_now(couch) + timedelta(hours=hours))
    trip = load(trip_file(tmp_path, trip_id))
    app = make_app(
        [trip], state_dir=tmp_path / "state", clock=clock, who="alice", sync=config(couch.url)
    )
    notices: list[tuple[str, str]] = []
    real_notify = app.notify

    def notify(message: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        notices.append((kwargs.get("title", ""), message))
        real_notify(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    way = "ahead of" if hours > 0 else "behind"
    async with app.run_test(size=(160, 32)) as pilot:
        await pilot.pause()
        await synced(app, pilot)
        await eventually(pilot, lambda: "⚠ clock" in header_text(app))
        fast = "fast" if hours > 0 else "slow"
        assert f"⚠ clock {abs(hours)} h {fast} · ⇅ synced just now" in header_text(app)
        await pilot.press("s")  # a second round: the notice is not repeated
        await synced(app, pilot)
    assert app._exception is None
    clock_notices = [text for title, text in notices if title == "Clock"]
    assert len(clock_notices) == 1, notices
    assert clock_notices[0].startswith(f"This laptop's clock is {abs(hours)} h {way} the sync")
    assert ("refuse marks" in clock_notices[0]) == (hours > 24)


def test_the_result_carries_the_skew_into_its_words() -> None:
    result = SyncResult(0, 0, 0, 0, skew_ms=-(2 * CLOCK_WARN_MS))
    assert str(result).endswith(
        "; this laptop's clock is 4 min behind the sync server's: "
        + (
            "set it right (what is on now and next, and the time of every mark made here, "
            "come from it)"
        )
    )
