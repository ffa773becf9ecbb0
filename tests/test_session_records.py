"""The session's notes and shifts without the pilot: expected times, one undo history,
reminders at the expected time, records from another process, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakes import FakeClock

from tripdash.domain.late import ShiftInvalid
from tripdash.domain.loader import load_trip
from tripdash.domain.records import RecordError, RecordStore
from tripdash.domain.reminder_settings import ReminderSettings
from tripdash.domain.store import MarkStore
from tripdash.domain.times import UTC
from tripdash.session import DashboardOptions, Session

ROOT = Path(__file__).resolve().parent.parent
LATE_DAY = ROOT / "tests" / "data" / "late-day.toml"
# 09:20 in Washington: the CSIS speech (09:15-10:00) is on.
NOW = datetime(2023, 1, 17, 14, 20, tzinfo=UTC)


def _session(tmp_path: Path, **options: object) -> tuple[Session, str, FakeClock]:
    clock = FakeClock(NOW)
    settings = DashboardOptions(
        state_dir=tmp_path / "state",
        who="alice",
        clock=clock,
        **options,  # type: ignore[arg-type]
    )
    session = Session([load_trip(LATE_DAY).trip], settings)
    return session, session.keys[0], clock


def _start(session: Session, key: str, event_id: str) -> datetime:
    (event,) = [e for e in session.schedule(key).trip.events if e.id == event_id]
    return event.start.astimezone(UTC)


def test_a_shift_moves_the_expected_times_and_never_the_plan(tmp_path: Path) -> None:
    session, key, _ = _session(tmp_path)
    assert session.default_shift_event(key).id == "csis-speech"  # type: ignore[union-attr]
    session.shift(key, "csis-speech", 20)
    assert _start(session, key, "think-tank") == datetime(2023, 1, 17, 16, 20, tzinfo=UTC)
    # The trip as planned is untouched; the flight does not move.
    (planned,) = [e for e in session.trip(key).events if e.id == "think-tank"]
    assert planned.start.astimezone(UTC) == datetime(2023, 1, 17, 16, 0, tzinfo=UTC)
    assert _start(session, key, "flight-toronto") == datetime(2023, 1, 17, 20, 0, tzinfo=UTC)
    # The speech was on when the shift was recorded: it began on time and overruns.
    (speech,) = [e for e in session.schedule(key).trip.events if e.id == "csis-speech"]
    assert speech.start.astimezone(UTC) == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
    assert speech.end.astimezone(UTC) == datetime(2023, 1, 17, 15, 20, tzinfo=UTC)  # type: ignore[union-attr]
    assert session.schedule(key).in_progress(NOW) == [speech]
    assert session.lateness(key).delays["csis-speech"].shift.begun
    late = session.lateness(key)
    assert late.minutes("blinken-bilateral") == 20 and late.minutes("reception") == 0
    assert [str(o) for o in late.overlaps] == ["Blinken bilateral now overlaps Flight to Toronto"]
    extra = session.annotations(key, "think-tank")
    assert extra.minutes == 20 and extra.since == "Speech at CSIS"
    session.close()


def test_the_expected_trip_is_made_once_per_change(tmp_path: Path) -> None:
    session, key, _ = _session(tmp_path)
    assert session.expected_trip(key) is session.trip(key)  # nothing moved: the plan itself
    session.shift(key, "csis-speech", 20)
    first = session.expected_trip(key)
    assert first is not session.trip(key) and session.expected_trip(key) is first
    session.shift(key, "csis-speech", 30)
    assert session.expected_trip(key) is not first
    session.close()


def test_one_undo_history_over_marks_and_shifts(tmp_path: Path) -> None:
    session, key, _ = _session(tmp_path)
    session.toggle(key, "breakfast")
    session.shift(key, "csis-speech", 20)
    session.shift(key, "csis-speech", 35)
    session.toggle(key, "csis-speech")
    assert session.undo(key).item_id == "csis-speech"  # type: ignore[union-attr]
    assert session.done_ids(key) == {"breakfast"}
    assert session.undo(key).minutes == 20  # type: ignore[union-attr]
    assert session.lateness(key).minutes("think-tank") == 20
    assert session.undo(key).minutes == 0  # type: ignore[union-attr]  # back on time
    assert session.lateness(key).delays == {}
    assert session.undo(key).item_id == "breakfast"  # type: ignore[union-attr]
    assert session.undo(key) is None
    assert session.redo(key).item_id == "breakfast"  # type: ignore[union-attr]
    assert session.redo(key).minutes == 20  # type: ignore[union-attr]
    # A new shift clears what could be redone, marks included.
    session.shift(key, "think-tank", 5)
    assert session.redo(key) is None
    # Every step is a record: the history keeps them all (nothing is deleted).
    store = RecordStore(MarkStore(tmp_path / "state", clock=FakeClock(NOW)), clock=FakeClock(NOW))
    assert len(store.records("late-day", "shift")) == 6
    assert store.shifts("late-day")["csis-speech"].minutes == 20
    store.close()
    session.close()


@pytest.mark.parametrize(
    ("from_event", "minutes", "until", "error", "words"),
    [
        ("nope", 20, None, ShiftInvalid, "no event 'nope'"),
        ("flight-toronto", 20, None, ShiftInvalid, "does not move"),
        ("wreath", 20, None, ShiftInvalid, "does not move"),
        ("think-tank", 20, "csis-speech", ShiftInvalid, "comes before"),
        ("csis-speech", 24 * 60 + 1, None, RecordError, "at most 24 hours"),
    ],
)
def test_a_refused_shift_stores_nothing(
    tmp_path: Path,
    from_event: str,
    minutes: int,
    until: str | None,
    error: type[Exception],
    words: str,
) -> None:
    session, key, _ = _session(tmp_path)
    with pytest.raises(error) as caught:
        session.shift(key, from_event, minutes, until)
    assert words in str(caught.value)
    assert session.lateness(key).delays == {}
    assert session.undo(key) is None  # nothing recorded, nothing to undo
    session.close()


def test_reminders_come_at_the_expected_time(tmp_path: Path) -> None:
    """The round table's 15-minute reminder: 11:05 as it now runs, not 10:45 as planned."""
    settings = ReminderSettings()
    session, key, clock = _session(tmp_path, reminders=settings)
    session.shift(key, "csis-speech", 20)
    session.remind()  # the first tick: reminders start
    clock.at = datetime(2023, 1, 17, 15, 46, tzinfo=UTC)  # 10:46 EST: planned stage passed
    titles = [a.title for a in session.remind().alerts]
    assert not any("Round table" in t for t in titles), titles
    clock.at = datetime(2023, 1, 17, 16, 5, 30, tzinfo=UTC)  # 11:05:30 EST
    texts = [a.text for a in session.remind().alerts]
    assert any("Round table" in t for t in texts), texts
    session.close()


def test_notes_and_shifts_from_another_process_are_seen_on_the_next_poll(
    tmp_path: Path,
) -> None:
    session, key, _ = _session(tmp_path)
    assert session.notes(key) == {} and session.lateness(key).delays == {}
    assert session.poll_marks() == []
    other = RecordStore(MarkStore(tmp_path / "state", clock=FakeClock(NOW)), clock=FakeClock(NOW))
    other.save_note("late-day", "blinken", "Readout: warm", "bob")
    other.set_shift("late-day", "think-tank", 10, None, "bob")
    other.close()
    assert session.poll_marks() == [key]
    (version,) = session.note(key, "blinken")
    assert version.text == "Readout: warm" and version.who == "bob"
    assert session.lateness(key).minutes("think-tank") == 10
    assert _start(session, key, "think-tank") == datetime(2023, 1, 17, 16, 10, tzinfo=UTC)
    assert session.poll_marks() == []  # nothing new since
    session.close()


def test_a_note_is_committed_before_the_session_returns(tmp_path: Path) -> None:
    session, key, _ = _session(tmp_path)
    (version,) = session.save_note(key, "csis-speech", "Went well\n\nQuestions on Iran")
    assert version.who == "alice"
    other = RecordStore(MarkStore(tmp_path / "state", clock=FakeClock(NOW)), clock=FakeClock(NOW))
    assert other.notes("late-day")["csis-speech"][0].text == "Went well\n\nQuestions on Iran"
    other.close()
    extra = session.annotations(key, "csis-speech")
    assert extra.notes == (("Your note (Tue 17 Jan 14:20 GMT)", "Went well\n\nQuestions on Iran"),)
    session.close()


def test_a_shift_changes_the_default_event_as_time_goes_on(tmp_path: Path) -> None:
    session, key, clock = _session(tmp_path)
    clock.at = NOW + timedelta(hours=1)  # 10:20 EST: between the speech and the round table
    assert session.default_shift_event(key).id == "think-tank"  # type: ignore[union-attr]
    session.close()


def test_a_shift_from_an_event_still_to_come_moves_its_start(tmp_path: Path) -> None:
    session, key, _ = _session(tmp_path)
    shift = session.shift(key, "think-tank", 15)
    assert not shift.begun
    assert _start(session, key, "think-tank") == datetime(2023, 1, 17, 16, 15, tzinfo=UTC)
    assert _start(session, key, "csis-speech") == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
    assert session.schedule(key).find_next(NOW).id == "think-tank"  # type: ignore[union-attr]
    session.close()
