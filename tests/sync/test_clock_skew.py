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

from tripdash.domain.clockskew import CLOCK_WARN_MS, clock_skew_ms, describe_skew
from tripdash.domain.sync import SyncResult, sync_once
from tripdash.domain.times import UTC
from tripdash.live import SyncState, describe_sync

from .conftest import PouchServer
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
SERVER_MS = int(datetime(2023, 1, 17, 14, tzinfo=UTC).timestamp() * 1000)


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
    state = SyncState(last_ok=datetime(2023, 1, 17, 14, tzinfo=UTC), skew_ms=26 * HOUR)
    text = describe_sync(state, datetime(2023, 1, 17, 14, 0, 12, tzinfo=UTC), UTC)
    assert text == "⇅ synced 12 s ago, ⚠ clock 26 h fast"
    # Offline, the last skew measured still stands: a clock does not come right by itself.
    offline = state.after(datetime(2023, 1, 17, 14, 5, tzinfo=UTC), None, _offline())
    assert offline.skew_ms == 26 * HOUR
    assert describe_sync(offline, offline.failing_since, UTC).endswith(  # type: ignore[arg-type]
        "⚠ clock 26 h fast"
    )


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
        assert f"⇅ synced 0 s ago, ⚠ clock {abs(hours)} h {fast}" in header_text(app)
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
