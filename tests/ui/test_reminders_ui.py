"""Pilot and snapshot tests of reminders: the notice, its keys, bell, OSC, command, summary.

The clock is a FakeClock moved by the test; ``app.check_reminders()`` is the app's
once-a-second check, called directly after each move so nothing waits for a timer.
Headless, Textual's bell and driver write nothing: both are replaced by recorders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tripdash.app import TripDashApp, make_app
from tripdash.domain.reminder_record import LIVE, ReminderRecord
from tripdash.domain.reminders import ReminderSettings
from tripdash.screens.event import EventScreen
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.reminder import ReminderNotice
from tripdash.widgets.timeline import Timeline

from .conftest import FakeClock, at, trip

SPEECH_5 = (
    "In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy priorities, "
    "Centre for Strategic & International Studies"
)


class Recorded:
    """What the app sent to the terminal: bells and escape sequences."""

    def __init__(self, app: TripDashApp) -> None:
        self.bells = 0
        self.written: list[str] = []
        app.bell = self._bell  # type: ignore[method-assign]
        app.write_to_terminal = self.written.append  # type: ignore[method-assign]

    def _bell(self) -> None:
        self.bells += 1


def _app(tmp_path: Path, when: str, **kwargs: Any) -> tuple[TripDashApp, FakeClock]:
    clock = FakeClock(at(when))
    app = make_app([trip()], clock=clock, state_dir=tmp_path / "state", **kwargs)
    return app, clock


def _notice(app: TripDashApp) -> ReminderNotice:
    return app.screen.query_one(ReminderNotice)


def _keys(app: TripDashApp) -> list[str]:
    return [item.description for item in app.screen.query_one(KeyBar).items]


async def _move(app: TripDashApp, pilot: Any, clock: FakeClock, when: str) -> None:
    clock.at = at(when)
    app.check_reminders()
    await pilot.pause()


async def test_the_notice_comes_with_bell_and_desktop_notification(tmp_path: Path) -> None:
    app, clock = _app(tmp_path, "2023-01-17T09:09:58 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        sent = Recorded(app)
        await _move(app, pilot, clock, "2023-01-17T09:09:59 America/New_York")
        assert not _notice(app).display and "Dismiss" not in _keys(app)
        await _move(app, pilot, clock, "2023-01-17T09:10:00 America/New_York")
        notice = _notice(app)
        assert notice.display and notice.lines == (SPEECH_5,)
        assert sent.bells == 1
        (osc,) = sent.written
        assert osc.startswith("\x1b]777;notify;Reminder: Foreign Secretary: Washington DC and")
        assert f"\x1b]9;tripdash: {SPEECH_5}\x07" in osc
        assert _keys(app)[:4] == ["Details", "Dismiss", "Snooze 5 min", "Event"]
        # The next seconds change nothing and ring nothing.
        await _move(app, pilot, clock, "2023-01-17T09:10:20 America/New_York")
        assert sent.bells == 1 and len(sent.written) == 1
        await _move(app, pilot, clock, "2023-01-17T09:11:00 America/New_York")
        assert notice.lines[0].startswith("In 4 min, 09:15 EST")
        # The event starts: the notice goes, and so do its keys.
        await _move(app, pilot, clock, "2023-01-17T09:15:00 America/New_York")
        assert not notice.display and "Dismiss" not in _keys(app)


async def test_dismiss_and_snooze_keys(tmp_path: Path) -> None:
    app, clock = _app(tmp_path, "2023-01-17T08:59:59 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, "2023-01-17T09:00:00 America/New_York")
        assert _notice(app).lines[0].startswith("In 15 min, 09:15 EST")
        await pilot.press("z")
        assert not _notice(app).display
        assert any("Snoozed until 09:05 EST" in n.message for n in app._notifications)
        await _move(app, pilot, clock, "2023-01-17T09:04:59 America/New_York")
        assert not _notice(app).display
        await _move(app, pilot, clock, "2023-01-17T09:05:00 America/New_York")
        assert _notice(app).lines[0].startswith("In 10 min, 09:15 EST")
        await pilot.press("escape")
        assert not _notice(app).display
        assert "Dismiss" not in _keys(app)
        await pilot.press("escape")  # nothing to dismiss: nothing happens
        assert not app._exception


async def test_open_the_event_from_the_notice(tmp_path: Path) -> None:
    app, clock = _app(tmp_path, "2023-01-17T15:14:59 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, "2023-01-17T15:15:00 America/New_York")
        assert "Joint press conference" in _notice(app).lines[0]
        app.screen.query_one(Timeline).select(0)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EventScreen)
        assert app.screen.event.id == "blinken-press-conference"
        await pilot.press("escape")
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected is not None and timeline.selected.id == "blinken-press-conference"
        assert not _notice(app).display  # opened: seen


async def test_a_marked_event_loses_its_notice(tmp_path: Path) -> None:
    app, clock = _app(tmp_path, "2023-01-17T09:09:59 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, "2023-01-17T09:10:00 America/New_York")
        timeline = app.screen.query_one(Timeline)
        timeline.select(0)
        assert timeline.selected is not None and timeline.selected.id == "csis-speech"
        await pilot.press("x")
        await _move(app, pilot, clock, "2023-01-17T09:10:01 America/New_York")
        assert not _notice(app).display


async def test_the_command_runs_in_a_worker_and_its_failure_is_told(tmp_path: Path) -> None:
    out = tmp_path / "ran.txt"
    settings = ReminderSettings(command=f'echo "$TRIPDASH_EVENT_TITLE" >> {out}; exit 4')
    app, clock = _app(tmp_path, "2023-01-17T09:09:59 America/New_York", reminders=settings)
    async with app.run_test(size=(120, 34)) as pilot:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, "2023-01-17T09:10:00 America/New_York")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert out.read_text() == "Speech on UK foreign policy priorities\n"
        errors = [(n.title, n.message) for n in app._notifications if n.severity == "error"]
        assert errors == [("Reminder command", "reminder command failed (exit status 4)")]


async def test_quiet_hours_and_switches_keep_the_notice_only(tmp_path: Path) -> None:
    out = tmp_path / "ran.txt"
    settings = ReminderSettings(bell=False, desktop=False, command=f"touch {out}")
    from tripdash.domain.reminders import parse_quiet

    quiet = ReminderSettings(command=f"touch {out}", quiet=parse_quiet("22:00-09:30"))
    for name, reminders in (("switches", settings), ("quiet", quiet)):
        app, clock = _app(
            tmp_path / name, "2023-01-17T09:09:59 America/New_York", reminders=reminders
        )
        async with app.run_test(size=(120, 34)) as pilot:
            sent = Recorded(app)
            app.check_reminders()
            await _move(app, pilot, clock, "2023-01-17T09:10:00 America/New_York")
            await app.workers.wait_for_complete()
            assert _notice(app).lines == (SPEECH_5,)
            if reminders is quiet:
                assert sent.bells == 0 and sent.written == [] and not out.exists()
            else:
                assert sent.bells == 0 and sent.written == []
                assert out.exists()  # the command still runs with --no-bell --no-desktop
                out.unlink()


async def test_a_rehearsal_never_runs_the_command_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "ran.txt"
    real = FakeClock(datetime(2026, 12, 1, 12, 0).astimezone())
    start = at("2023-01-17T09:09:59 America/New_York")
    app = make_app(
        [trip()],
        clock=real,
        at=start,
        state_dir=tmp_path / "state",
        reminders=ReminderSettings(command=f"touch {out}"),
    )
    async with app.run_test(size=(120, 34)) as pilot:
        sent = Recorded(app)
        app.check_reminders()
        real.at = real.at.replace(second=1)
        app.check_reminders()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _notice(app).lines == (SPEECH_5,) and sent.bells == 1
        assert not out.exists()


def _watched_until(tmp_path: Path, when: str) -> None:
    with ReminderRecord(tmp_path / "state") as record:
        record.watched(LIVE, "fs-north-america-2023-01", at(when))


async def test_missed_while_closed_is_one_summary_without_a_bell(tmp_path: Path) -> None:
    _watched_until(tmp_path, "2023-01-17T08:55 America/New_York")
    app, clock = _app(tmp_path, "2023-01-17T15:27 America/New_York")
    async with app.run_test(size=(120, 34)) as pilot:
        sent = Recorded(app)
        await _move(app, pilot, clock, "2023-01-17T15:27 America/New_York")
        assert _notice(app).lines == (
            "4 reminders missed while closed: 09:15 EST Speech on UK foreign policy priorities "
            "(started 6 h 12 min ago); 15:30 EST Joint press conference with Secretary "
            "Blinken (in 3 min)",
        )
        assert sent.bells == 0 and sent.written == []
        assert _notice(app).border_title == "Missed reminders"
        # No snooze for a summary; `e` opens the event still ahead.
        assert "Snooze 5 min" in _keys(app)
        bar = app.screen.query_one(KeyBar).items
        assert not next(i for i in bar if i.description == "Snooze 5 min").enabled
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EventScreen)
        assert app.screen.event.id == "blinken-press-conference"


async def test_a_reminder_for_another_trip_comes_as_a_toast_too(tmp_path: Path) -> None:
    from .conftest import SEOUL_TRIP

    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    app = make_app([trip(), trip(SEOUL_TRIP)], clock=clock, state_dir=tmp_path / "state")
    async with app.run_test(size=(120, 34)) as pilot:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, "2023-01-17T09:10:00 America/New_York")
        # The picker is in front: the reminder comes as a toast as well.
        assert [n.message for n in app._notifications] == [SPEECH_5]
        await pilot.press("enter")  # opens the first trip: in progress first... the FS trip
        await pilot.pause()
        assert _notice(app).lines == (SPEECH_5,)


def _snap_reminder(
    tmp_path: Path, when_before: str, when: str, snap: Callable[..., None], **kw: Any
) -> None:
    app, clock = _app(tmp_path, when_before)

    async def run_before(pilot: Any) -> None:
        Recorded(app)
        app.check_reminders()
        await _move(app, pilot, clock, when)

    snap(app, terminal_size=(120, 34), run_before=run_before, **kw)


def test_reminder_notice_snapshot(tmp_path: Path, snap: Callable[..., None]) -> None:
    # 09:10 EST (14:10 GMT): "In 5 min, 09:15 EST / 14:15 GMT: Speech ...", keys in the bar.
    _snap_reminder(
        tmp_path, "2023-01-17T09:09:59 America/New_York", "2023-01-17T09:10 America/New_York", snap
    )


def test_missed_summary_snapshot(tmp_path: Path, snap: Callable[..., None]) -> None:
    # Closed from 08:55 to 09:20 EST: both stages of the 09:15 speech were missed.
    _watched_until(tmp_path, "2023-01-17T08:55 America/New_York")
    _snap_reminder(
        tmp_path, "2023-01-17T09:20 America/New_York", "2023-01-17T09:20 America/New_York", snap
    )
