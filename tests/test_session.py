"""The session without the pilot: marking, undo and redo, new versions, sync outcomes."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakes import FakeClock

from tripdash.domain.loader import load_trip
from tripdash.domain.sources import Loaded, SourceStatus, TripSource
from tripdash.domain.store import MarkStore
from tripdash.domain.sync import SyncError, SyncResult
from tripdash.domain.times import UTC
from tripdash.live import OpenTrip, SyncState, describe_sync
from tripdash.session import DashboardOptions, Session, SyncOutcome

ROOT = Path(__file__).resolve().parent.parent
FS_TRIP = ROOT / "trips" / "fs-north-america-2023-01.toml"
NOW = datetime(2023, 1, 17, 17, 0, tzinfo=UTC)


def _file_session(tmp_path: Path) -> tuple[Session, Path, FakeClock]:
    path = tmp_path / "fs.toml"
    shutil.copy(FS_TRIP, path)
    source = TripSource(str(path))
    loaded = source.load()
    assert loaded.result is not None
    clock = FakeClock(NOW)
    options = DashboardOptions(state_dir=tmp_path / "state", who="alice", clock=clock)
    return Session([OpenTrip(loaded.result.trip, source)], options), path, clock


def test_a_mark_is_committed_to_the_store_before_the_session_returns(tmp_path: Path) -> None:
    session, _, _ = _file_session(tmp_path)
    key = session.keys[0]
    mark = session.toggle(key, "csis-speech")
    assert mark.done and mark.who == "alice" and mark.trip_id == "fs-north-america-2023-01"
    assert session.done_ids(key) == {"csis-speech"}
    # Another connection sees it at once: it is in the database, not only in memory.
    other = MarkStore(tmp_path / "state", clock=FakeClock(NOW))
    try:
        assert other.done_ids("fs-north-america-2023-01") == {"csis-speech"}
    finally:
        other.close()
        session.close()


def test_undo_and_redo_many_steps_deep(tmp_path: Path) -> None:
    session, _, _ = _file_session(tmp_path)
    key = session.keys[0]
    session.toggle(key, "csis-speech")
    session.toggle(key, "blinken-bilateral")
    session.toggle(key, "csis-speech")  # not done again
    assert session.done_ids(key) == {"blinken-bilateral"}
    assert session.undo(key) is not None
    assert session.done_ids(key) == {"csis-speech", "blinken-bilateral"}
    assert session.undo(key) is not None
    assert session.undo(key) is not None
    assert session.done_ids(key) == set()
    assert session.undo(key) is None  # nothing left
    assert session.redo(key) is not None
    assert session.done_ids(key) == {"csis-speech"}
    # A new mark clears what could be redone.
    session.toggle(key, "blinken-press-conference")
    assert session.redo(key) is None
    session.close()


def _poll_after_edit(path: Path, session: Session, old: str, new: str) -> Loaded:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    source = session.open_trips[0].source
    assert source is not None
    return source.poll()


def test_a_new_version_is_applied_with_its_changes(tmp_path: Path) -> None:
    session, path, _ = _file_session(tmp_path)
    key = session.keys[0]
    loaded = _poll_after_edit(
        path, session, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00"
    )
    applied = session.apply(key, loaded)
    assert applied is not None and applied.new_version and not applied.problems
    assert [c.kind for c in applied.changes] == ["moved"]
    assert session.trip(key) is loaded.result.trip  # type: ignore[union-attr]
    assert [s.change for s in session.changes] == applied.changes
    assert session.changes[0].seen_at == NOW  # seen at the real clock's time
    session.close()


def test_an_invalid_version_keeps_the_trip_in_use(tmp_path: Path) -> None:
    session, path, _ = _file_session(tmp_path)
    key = session.keys[0]
    before = session.trip(key)
    loaded = _poll_after_edit(path, session, 'tz = "America/New_York"', 'tz = "Mars/Olympus"')
    applied = session.apply(key, loaded)
    assert applied is not None and not applied.new_version and applied.problems
    assert session.trip(key) is before
    assert session.changes == []
    session.close()


def test_another_trip_waits_for_a_yes_then_marks_follow_the_key(tmp_path: Path) -> None:
    session, path, _ = _file_session(tmp_path)
    key = session.keys[0]
    session.toggle(key, "csis-speech")
    loaded = _poll_after_edit(
        path, session, 'id = "fs-north-america-2023-01"', 'id = "fs-north-america-renamed"'
    )
    applied = session.apply(key, loaded)
    # A file that now holds another trip (another id) is not applied silently.
    assert applied is not None and not applied.new_version
    assert applied.another_trip is not None
    assert applied.another_trip.new_id == "fs-north-america-renamed"
    assert session.trip(key).id == "fs-north-america-2023-01"
    assert session.waiting_keys() == [key]
    source = session.entry(key).source
    assert source is not None
    accepted = session.apply(key, source.accept_new_trip())
    assert accepted is not None and accepted.new_version
    assert accepted.replaced == ("fs-north-america-2023-01", session.trip(key).title)
    assert accepted.changes == []  # another trip, not a list of changes to the old one
    assert session.trip(key).id == "fs-north-america-renamed"
    assert session.waiting_keys() == []
    assert session.done_ids(key) == set()  # the old id's marks stay under the old id
    mark = session.toggle(key, "blinken-bilateral")
    assert mark.trip_id == "fs-north-america-renamed"
    assert session.marks.done_ids("fs-north-america-2023-01") == {"csis-speech"}
    session.close()


def test_a_sync_outcome_is_kept_per_trip_and_worded_for_the_header(tmp_path: Path) -> None:
    session, _, clock = _file_session(tmp_path)
    key = session.keys[0]
    home = session.trip(key).home_tz
    ok = SyncOutcome(SyncResult(pushed=2, pulled=1, skipped=0, waiting=0), None, 0)
    assert session.record_sync({key: ok}) == []
    assert describe_sync(session.entry(key).sync, NOW, home) == "⇅ synced just now"
    clock.at = NOW + timedelta(minutes=5)
    offline = SyncOutcome(None, SyncError("no connection", offline=True), 3)
    assert session.record_sync({key: offline}) == []  # offline is said in the header only
    state = session.entry(key).sync
    assert state.offline and state.waiting == 3 and state.last_ok == NOW
    assert describe_sync(state, clock.at, home) == "⇅ offline since 17:05, 3 marks waiting"
    # Notes and shifts wait too, and are counted apart from marks.
    with_notes = SyncOutcome(None, SyncError("no connection", offline=True), 3, 1)
    session.record_sync({key: with_notes})
    text = describe_sync(session.entry(key).sync, clock.at, home)
    assert text == "⇅ offline since 17:05, 3 marks and 1 note or shift waiting"
    only_notes = SyncOutcome(None, SyncError("no connection", offline=True), 0, 2)
    session.record_sync({key: only_notes})
    text = describe_sync(session.entry(key).sync, clock.at, home)
    assert text == "⇅ offline since 17:05, 2 notes or shifts waiting"
    failed = SyncOutcome(None, SyncError("server said 401 Unauthorized"), 3)
    assert session.record_sync({key: failed}) == [("Sync failed", "server said 401 Unauthorized")]
    assert session.record_sync({key: failed}) == []  # the same error is not repeated
    assert session.record_sync({"no-such-key": ok}) == []
    session.close()


def test_entry_of_an_unknown_key_is_an_error(tmp_path: Path) -> None:
    session, _, _ = _file_session(tmp_path)
    with pytest.raises(KeyError):
        session.entry("elsewhere")
    assert session.find("elsewhere") is None
    assert session.apply("elsewhere", Loaded(None, SourceStatus())) is None
    session.close()


def test_trips_are_ordered_in_progress_then_upcoming_then_past(tmp_path: Path) -> None:
    trips = [load_trip(p).trip for p in sorted((ROOT / "trips").glob("*.toml"))]
    options = DashboardOptions(state_dir=tmp_path / "state", clock=FakeClock(NOW))
    session = Session(trips, options)
    # 17 Jan 2023: the FS trip is on; the 2021 and 2016 trips are past, latest first.
    assert [e.trip.id for e in session.open_trips] == [
        "fs-north-america-2023-01",
        "secstate-seoul-anchorage-2021-03",
        "canada-pm-tokyo-2016-05",
    ]
    session.close()


def test_the_sync_text_changes_once_a_minute_at_most() -> None:
    # A count of seconds redrew the header every second; within the minute it is "just
    # now", then whole minutes.
    start = datetime(2023, 1, 17, 14, tzinfo=UTC)
    state = SyncState().after(start, SyncResult(0, 0, 0, 0), None)
    texts = {describe_sync(state, start + timedelta(seconds=s), UTC) for s in range(60)}
    assert texts == {"⇅ synced just now"}
    assert describe_sync(state, start + timedelta(seconds=61), UTC) == "⇅ synced 1 min ago"
    assert describe_sync(state, start + timedelta(minutes=3, seconds=59), UTC) == (
        "⇅ synced 3 min ago"
    )
