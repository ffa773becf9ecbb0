"""Reminders without the UI: settings, the staged schedule, the tracker, the session's part.

Every instant comes from an injected clock; the tracker is walked second by second
where it matters, and its cost is checked by counting bisections, never by timing.
"""

from __future__ import annotations

import os
import stat
import time as timer
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClock

from tripdash.domain.clock import TripClock
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.reminder_record import LIVE, REHEARSAL, MemoryRecord, ReminderRecord
from tripdash.domain.reminders import (
    QuietHours,
    Reminder,
    ReminderConfigError,
    ReminderPlan,
    ReminderSettings,
    ReminderTracker,
    apply_remind_options,
    command_environment,
    countdown,
    desktop_notification,
    missed_text,
    parse_quiet,
    reminder_text,
    run_command,
)
from tripdash.domain.times import UTC, parse_instant
from tripdash.reminding import SessionReminders

ROOT = Path(__file__).resolve().parent.parent
FS_TRIP = ROOT / "trips" / "fs-north-america-2023-01.toml"
SEOUL_TRIP = ROOT / "trips" / "secstate-seoul-anchorage-2021-03.toml"
DST_TRIP = ROOT / "tests" / "data" / "dst-mid-trip.toml"


def at(text: str) -> datetime:
    return parse_instant(text)


def trip(path: Path = FS_TRIP) -> Trip:
    return load_trip(path).trip


def fired(plan: ReminderPlan) -> list[tuple[str, int, str]]:
    return [(r.event.id, r.stage, r.at.isoformat()) for r in plan.reminders]


# -- settings --------------------------------------------------------------------------


def test_default_stages_are_15_and_5_and_60_for_travel() -> None:
    settings = ReminderSettings()
    assert settings.stages_for("speech") == (15, 5)
    assert settings.stages_for("meeting") == (15, 5)
    assert settings.stages_for("travel") == (60,)
    assert settings.describe() == "15, 5 min before; travel: 60 min"


def test_remind_options_set_default_and_per_kind_stages() -> None:
    settings = apply_remind_options(ReminderSettings(), ["10", "travel=90,30", "press=20,5,20"])
    assert settings.stages_for("meeting") == (10,)
    assert settings.stages_for("travel") == (90, 30)
    assert settings.stages_for("press") == (20, 5)  # farthest first, each once
    off = apply_remind_options(settings, ["off"])
    assert not off.enabled
    no_travel = apply_remind_options(ReminderSettings(), ["travel=off"])
    assert no_travel.enabled and no_travel.stages_for("travel") == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("travle=60", "unknown event kind 'travle' (did you mean 'travel'?)"),
        ("0", "from 1 to 10080, not 0"),
        ("15,abc", "not 'abc'"),
        ("-5", "not '-5'"),
        ("99999", "from 1 to 10080, not 99999"),
        ("15,,5", "not ''"),
        ("\x1b[31m", "not '\\x1b[31m'"),
    ],
)
def test_bad_remind_options_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ReminderConfigError) as caught:
        apply_remind_options(ReminderSettings(), [value])
    assert message in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_settings_built_directly_are_checked_too() -> None:
    # What the config file will do: build the frozen settings itself.
    with pytest.raises(ReminderConfigError, match="unknown event kind 'flight'"):
        ReminderSettings(kinds=(("flight", (60,)),))
    with pytest.raises(ReminderConfigError, match="whole number of minutes"):
        ReminderSettings(stages=(2.5,))  # type: ignore[arg-type]
    with pytest.raises(ReminderConfigError, match="command is empty"):
        ReminderSettings(command="  ")


def test_quiet_hours_run_over_midnight_and_are_checked() -> None:
    quiet = parse_quiet("22:00-07:00")
    assert str(quiet) == "22:00-07:00"
    ny = trip().places[0].tz
    assert quiet.covers(datetime(2023, 1, 17, 23, 30, tzinfo=ny))
    assert quiet.covers(datetime(2023, 1, 17, 6, 59, tzinfo=ny))
    assert not quiet.covers(datetime(2023, 1, 17, 7, 0, tzinfo=ny))
    assert not quiet.covers(datetime(2023, 1, 17, 21, 59, tzinfo=ny))
    day = QuietHours(time(12, 0), time(13, 0))
    assert day.covers(datetime(2023, 1, 17, 12, 30, tzinfo=ny))
    assert not day.covers(datetime(2023, 1, 17, 13, 0, tzinfo=ny))
    for bad in ("22-7", "25:00-07:00", "22:00", "07:00-07:00"):
        with pytest.raises(ReminderConfigError):
            parse_quiet(bad)


# -- the plan --------------------------------------------------------------------------


def test_plan_has_timed_confirmed_events_only() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    # The speech (09:15 EST) and the press conference (15:30 EST); every other event of
    # the bundled trip is TBC, so it gets no timed reminder.
    assert fired(plan) == [
        ("csis-speech", 15, "2023-01-17T14:00:00+00:00"),
        ("csis-speech", 5, "2023-01-17T14:10:00+00:00"),
        ("blinken-press-conference", 15, "2023-01-17T20:15:00+00:00"),
        ("blinken-press-conference", 5, "2023-01-17T20:25:00+00:00"),
    ]


def test_plan_across_both_march_dst_changes() -> None:
    plan = ReminderPlan(trip(DST_TRIP), ReminderSettings())
    got = fired(plan)
    # Cancelled (committee), tentative (un-dinner) and TBC (press-stakeout, roundtable)
    # events get none; times in UTC were worked out by hand (see the fixture's comments).
    assert got == [
        ("cabinet", 15, "2023-03-10T09:15:00+00:00"),
        ("cabinet", 5, "2023-03-10T09:25:00+00:00"),
        ("travel-london-new-york", 60, "2023-03-11T10:00:00+00:00"),
        # 10:00 EDT, after the US change, is 14:00 UTC.
        ("un-briefing", 15, "2023-03-13T13:45:00+00:00"),
        ("un-briefing", 5, "2023-03-13T13:55:00+00:00"),
        ("travel-new-york-london", 60, "2023-03-14T22:30:00+00:00"),
        ("commons-statement", 15, "2023-03-16T12:15:00+00:00"),
        ("commons-statement", 5, "2023-03-16T12:25:00+00:00"),
        # 10:00 BST, after the UK change, is 09:00 UTC.
        ("select-committee", 15, "2023-03-27T08:45:00+00:00"),
        ("select-committee", 5, "2023-03-27T08:55:00+00:00"),
    ]
    custom = ReminderPlan(
        trip(DST_TRIP), apply_remind_options(ReminderSettings(), ["10", "travel=90,30"])
    )
    travel = [(e, s, a) for e, s, a in fired(custom) if e.startswith("travel")]
    assert travel == [
        ("travel-london-new-york", 90, "2023-03-11T09:30:00+00:00"),
        ("travel-london-new-york", 30, "2023-03-11T10:30:00+00:00"),
        ("travel-new-york-london", 90, "2023-03-14T22:00:00+00:00"),
        ("travel-new-york-london", 30, "2023-03-14T23:00:00+00:00"),
    ]


def test_dst_trip_texts_use_the_offsets_of_the_day() -> None:
    plan = ReminderPlan(trip(DST_TRIP), ReminderSettings())
    home = trip(DST_TRIP).home_tz
    by = {(r.event.id, r.stage): r for r in plan.reminders}
    briefing = by[("un-briefing", 5)]
    assert reminder_text(briefing, briefing.at, home) == (
        "In 5 min, 10:00 EDT / 14:00 GMT: Briefing with the Secretary-General, New York"
    )
    committee = by[("select-committee", 15)]
    assert reminder_text(committee, committee.at, home) == (
        "In 15 min, 10:00 BST / 10:00 BST: Select committee evidence session, London"
    )


def test_date_line_trip_reminders_in_true_time_order() -> None:
    seoul = trip(SEOUL_TRIP)
    plan = ReminderPlan(seoul, ReminderSettings())
    instants = [r.at for r in plan.reminders]
    assert instants == sorted(instants)
    ids = [r.event.id for r in plan.reminders if r.stage == 5]
    # Seoul's 18 March comes first, Anchorage's 18 March (after the date line) after it.
    assert ids == [
        "two-plus-two",
        "sma-initialing",
        "joint-press-availability",
        "alliance-youth-outreach",
        "journalists-roundtable",
        "moon-meeting",
        "china-meeting",
        "second-session",
    ]
    by = {(r.event.id, r.stage): r for r in plan.reminders}
    first = by[("two-plus-two", 5)]
    # 09:30 KST is 00:30 UTC, 20:30 EDT the evening before at home.
    assert reminder_text(first, first.at, seoul.home_tz).startswith(
        "In 5 min, 09:30 KST / 20:30 EDT -1d: 2+2 meeting"
    )
    china = by[("china-meeting", 15)]
    assert china.start == datetime(2021, 3, 18, 21, 20, tzinfo=UTC)
    assert reminder_text(china, china.at, seoul.home_tz).startswith(
        "In 15 min, 13:20 AKDT / 17:20 EDT: Meeting with Yang Jiechi"
    )


def test_the_start_lookup_is_a_parameter() -> None:
    # What running late will plug in: an expected start for some events.
    fs = trip()
    late = {"csis-speech": timedelta(minutes=20)}

    def expected(event: Any) -> datetime | None:
        if not event.time_confirmed:
            return None
        return event.start.astimezone(UTC) + late.get(event.id, timedelta(0))

    plan = ReminderPlan(fs, ReminderSettings(), expected)
    assert fired(plan)[:2] == [
        ("csis-speech", 15, "2023-01-17T14:20:00+00:00"),
        ("csis-speech", 5, "2023-01-17T14:30:00+00:00"),
    ]


# -- the tracker -----------------------------------------------------------------------


class CountingPlan(ReminderPlan):
    """A plan that counts its bisections: what a check costs, without timing it."""

    bisections = 0

    def index_after(self, instant: float, lo: int = 0) -> int:
        self.bisections += 1
        return super().index_after(instant, lo)


def walk(
    tracker: ReminderTracker, start: datetime, seconds: int, done: frozenset[str] = frozenset()
) -> list[tuple[str, int, datetime]]:
    out = []
    for s in range(seconds):
        now = start + timedelta(seconds=s)
        check = tracker.check(now, done)
        assert not check.missed, (now, check)
        out += [(r.event.id, r.stage, now) for r in check.due]
    return out


def test_walking_the_clock_fires_each_stage_once_at_its_second() -> None:
    plan = CountingPlan(trip(), ReminderSettings())
    start = at("2023-01-17T08:50 America/New_York")
    tracker = ReminderTracker(plan, start)
    plan.bisections = 0
    got = walk(tracker, start, 8 * 3600)
    assert got == [
        ("csis-speech", 15, at("2023-01-17T09:00 America/New_York")),
        ("csis-speech", 5, at("2023-01-17T09:10 America/New_York")),
        ("blinken-press-conference", 15, at("2023-01-17T15:15 America/New_York")),
        ("blinken-press-conference", 5, at("2023-01-17T15:25 America/New_York")),
    ]
    # 28,800 checks, one bisection per reminder that came: the others compared one number.
    assert plan.bisections == 4


def test_done_events_get_no_reminder() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    start = at("2023-01-17T08:50 America/New_York")
    got = walk(ReminderTracker(plan, start), start, 3600, frozenset({"csis-speech"}))
    assert got == []
    assert [r.event.id for r in plan.upcoming(start, {"csis-speech"})] == [
        "blinken-press-conference",
        "blinken-press-conference",
    ]


def test_cancelled_tentative_and_tbc_events_get_none() -> None:
    plan = ReminderPlan(trip(DST_TRIP), ReminderSettings())
    ids = {r.event.id for r in plan.reminders}
    assert not ids & {"committee", "un-dinner", "press-stakeout", "roundtable"}
    fs_ids = {r.event.id for r in ReminderPlan(trip(), ReminderSettings()).reminders}
    assert fs_ids == {"csis-speech", "blinken-press-conference"}  # the rest are TBC


def test_off_means_no_reminders() -> None:
    plan = ReminderPlan(trip(), apply_remind_options(ReminderSettings(), ["off"]))
    assert len(plan) == 0


def test_after_a_sleep_passed_reminders_are_missed_not_fired() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    tracker = ReminderTracker(plan, at("2023-01-17T08:50 America/New_York"))
    # The laptop sleeps from 08:50 to 09:12: both stages of the 09:15 speech passed.
    check = tracker.check(at("2023-01-17T09:12 America/New_York"))
    assert check.due == ()
    assert [(r.event.id, r.stage) for r in check.missed] == [
        ("csis-speech", 15),
        ("csis-speech", 5),
    ]
    assert not check.opening
    # Nothing more until the press conference.
    assert not tracker.check(at("2023-01-17T09:13 America/New_York"))


def test_a_reminder_less_than_a_minute_late_still_fires_and_supersedes() -> None:
    plan = ReminderPlan(trip(), apply_remind_options(ReminderSettings(), ["6,5"]))
    tracker = ReminderTracker(plan, at("2023-01-17T09:08:50 America/New_York"))
    # A stall of 70 s: the 6-minute stage (09:09:00) is exactly a minute old and the
    # 5-minute one (09:10:00) has just come: only the nearer one is shown.
    check = tracker.check(at("2023-01-17T09:10:00 America/New_York"))
    assert [(r.event.id, r.stage) for r in check.due] == [("csis-speech", 5)]
    assert [(r.event.id, r.stage) for r in check.superseded] == [("csis-speech", 6)]
    assert check.missed == ()


def test_an_event_that_started_during_the_gap_is_missed() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    tracker = ReminderTracker(plan, at("2023-01-17T09:09:30 America/New_York"))
    check = tracker.check(at("2023-01-17T09:15:10 America/New_York"))
    assert check.due == ()
    assert [r.stage for r in check.missed] == [5]


def test_since_makes_the_first_check_report_what_passed_while_closed() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    since = at("2023-01-17T08:55 America/New_York")
    tracker = ReminderTracker(plan, at("2023-01-17T09:20 America/New_York"), since)
    check = tracker.check(at("2023-01-17T09:20 America/New_York"))
    assert check.opening and [r.stage for r in check.missed] == [15, 5]
    assert not tracker.check(at("2023-01-17T09:20:01 America/New_York"))


def test_the_clock_going_back_arms_the_stages_ahead_again() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    tracker = ReminderTracker(plan, at("2023-01-17T09:09:59 America/New_York"))
    assert [r.stage for r in tracker.check(at("2023-01-17T09:10 America/New_York")).due] == [5]
    assert not tracker.check(at("2023-01-17T09:05 America/New_York"))  # rehearsal: -15 min
    assert [r.stage for r in tracker.check(at("2023-01-17T09:10 America/New_York")).due] == [5]


# -- text ------------------------------------------------------------------------------


def test_reminder_text_as_the_notice_shows_it() -> None:
    plan = ReminderPlan(trip(), ReminderSettings())
    five = plan.reminders[1]
    home = trip().home_tz
    assert reminder_text(five, five.at, home) == (
        "In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy priorities, "
        "Centre for Strategic & International Studies"
    )
    # Rounded up: 4 min 30 s left still reads 5 min; the last seconds read 1 min.
    assert countdown(five.start, five.at + timedelta(seconds=30)) == "In 5 min"
    assert countdown(five.start, five.start - timedelta(seconds=5)) == "In 1 min"
    assert countdown(five.start, five.start) == "Starting now"
    assert countdown(five.start, five.start - timedelta(minutes=65)) == "In 1 h 05 min"
    # A stage a day ahead names the day.
    day_ahead = Reminder(five.start - timedelta(days=1), five.event, 1440, five.start)
    assert reminder_text(day_ahead, day_ahead.at, home).startswith(
        "In 24 h, Tue 09:15 EST / 14:15 GMT:"
    )


def test_hostile_text_is_escaped_everywhere() -> None:
    fs = trip()
    event = replace(fs.events[0], title="Speech\x1b]0;pwned\x07\u202e", venue="CSIS\x9b31m")
    start = event.start.astimezone(UTC)
    r = Reminder(start - timedelta(minutes=5), event, 5, start)
    text = reminder_text(r, r.at, fs.home_tz)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\x9b" not in text
    assert "Speech\\x1b]0,pwned" not in text and "Speech\\x1b]0;pwned\\x07\\u202e" in text
    osc = desktop_notification("Reminder; of\x07 trip", text)
    # Exactly the framing: two sequences, each one ESC and one BEL; nothing else.
    assert osc.count("\x1b") == 2 and osc.count("\x07") == 2
    assert all(c >= " " or c in "\x1b\x07" for c in osc)
    assert osc.startswith("\x1b]777;notify;Reminder, of\\x07 trip;In 5 min")
    assert "\x1b]9;tripdash: In 5 min" in osc
    wrapped = desktop_notification("t", "b", tmux=True)
    assert wrapped.count("\x1bPtmux;") == 2
    env = command_environment(r, fs, text, rehearsal=False)
    assert all(v.isprintable() for v in env.values())
    assert env["TRIPDASH_EVENT_TITLE"] == "Speech\\x1b]0;pwned\\x07\\u202e"
    assert env["TRIPDASH_EVENT_START"] == "2023-01-17T14:15:00+00:00"
    assert env["TRIPDASH_EVENT_LOCAL_TIME"] == "2023-01-17 09:15 EST"
    assert env["TRIPDASH_REMINDER_MINUTES"] == "5"


def test_missed_summary_names_three_events_and_counts_the_rest() -> None:
    plan = ReminderPlan(trip(SEOUL_TRIP), ReminderSettings())
    now = plan.reminders[-1].start + timedelta(minutes=1)
    text = missed_text(plan.reminders, "while closed", now)
    assert text.startswith("16 reminders missed while closed: 09:30 KST 2+2 meeting")
    assert text.endswith("; and 5 more")
    assert text.count("started") == 3


# -- the command -----------------------------------------------------------------------


def test_command_gets_the_fields_and_failures_are_explained(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    ok = run_command(
        f'printf "%s|%s" "$TRIPDASH_EVENT_TITLE" "$TRIPDASH_REMINDER_MINUTES" > {out}',
        {"TRIPDASH_EVENT_TITLE": "Speech", "TRIPDASH_REMINDER_MINUTES": "5"},
    )
    assert ok.ok and out.read_text() == "Speech|5"
    failed = run_command("echo first >&2; echo 'no such phone' >&2; exit 3", {})
    assert not failed.ok and failed.returncode == 3
    assert failed.message == "reminder command failed (exit status 3): no such phone"
    hostile = run_command("printf 'x\\033[2J' >&2; exit 1", {})
    assert "\x1b" not in hostile.message and "\\x1b[2J" in hostile.message


def test_a_hanging_command_is_killed_with_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    outcome = run_command(f"sleep 60 & echo $! > {pid_file}; wait", {}, timeout=0.5)
    assert outcome.timed_out and not outcome.ok
    assert "killed" in outcome.message
    child = int(pid_file.read_text())
    # The whole process group was killed, the shell's child too: gone, or a zombie
    # waiting for init (polled, since its exit follows the signal by a moment).
    deadline = timer.monotonic() + 10
    while timer.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(") ", 1)[1].startswith(("Z", "X")):
                    break
        except FileNotFoundError:
            break
        timer.sleep(0.02)
    else:
        pytest.fail(f"child {child} of the killed command still runs")


def test_a_command_leaving_a_helper_behind_is_done_when_its_shell_exits(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    outcome = run_command(f"sleep 30 & echo $! > {pid_file}", {}, timeout=5)
    assert outcome.ok, outcome
    os.kill(int(pid_file.read_text()), 9)


# -- the session's reminders -------------------------------------------------------------


class Entry:
    """An open trip, as the session hands it (key and trip)."""

    def __init__(self, trip: Trip, key: str = "k") -> None:
        self.trip = trip
        self.key = key


def reminders_for(
    tmp_path: Path,
    clock: FakeClock,
    settings: ReminderSettings | None = None,
    *,
    rehearse_at: datetime | None = None,
) -> SessionReminders:
    return SessionReminders(
        settings or ReminderSettings(command="true"),
        tmp_path / "state",
        TripClock(clock, rehearse_at),
        real_clock=clock,
    )


def nothing_done(key: str) -> frozenset[str]:
    return frozenset()


def test_session_fires_once_even_when_the_clock_goes_back(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    assert not rem.tick(entries, nothing_done).alerts
    clock.at = at("2023-01-17T09:10 America/New_York")
    tick = rem.tick(entries, nothing_done)
    assert [a.text for a in tick.alerts] == [
        "In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy priorities, "
        "Centre for Strategic & International Studies"
    ]
    alert = tick.alerts[0]
    assert alert.bell and alert.desktop and alert.command == "true"
    assert alert.environment["TRIPDASH_EVENT_ID"] == "csis-speech"
    assert tick.changed == {"k"}
    assert rem.texts("k") == [alert.text]
    clock.at = at("2023-01-17T09:05 America/New_York")
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    assert not rem.tick(entries, nothing_done).alerts  # claimed already
    rem.close()


def test_a_second_process_does_not_fire_what_the_first_fired(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    first, second = reminders_for(tmp_path, clock), reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    first.tick(entries, nothing_done)
    second.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    alerts = first.tick(entries, nothing_done).alerts + second.tick(entries, nothing_done).alerts
    assert len(alerts) == 1
    first.close()
    second.close()


def test_the_notice_stays_until_the_event_starts_and_counts_down(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10:30 America/New_York")
    assert rem.tick(entries, nothing_done).changed == set()  # still "In 5 min"
    clock.at = at("2023-01-17T09:11:00 America/New_York")
    assert rem.tick(entries, nothing_done).changed == {"k"}
    assert rem.texts("k")[0].startswith("In 4 min, ")
    clock.at = at("2023-01-17T09:15 America/New_York")
    assert rem.tick(entries, nothing_done).changed == {"k"}
    assert rem.texts("k") == []
    rem.close()


def test_marking_the_event_done_takes_its_notice_away(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    rem.tick(entries, nothing_done)
    assert rem.texts("k")
    clock.at = at("2023-01-17T09:10:01 America/New_York")
    assert rem.tick(entries, lambda key: {"csis-speech"}).changed == {"k"}
    assert rem.texts("k") == []


def test_dismiss_and_snooze(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T08:59:59 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:00 America/New_York")
    rem.tick(entries, nothing_done)
    assert rem.can_snooze("k")
    snoozed = rem.snooze("k")
    assert snoozed is not None and rem.texts("k") == []
    clock.at = at("2023-01-17T09:04:59 America/New_York")
    rem.tick(entries, nothing_done)
    assert rem.texts("k") == []
    clock.at = at("2023-01-17T09:05 America/New_York")
    assert rem.tick(entries, nothing_done).changed == {"k"}
    assert rem.texts("k")[0].startswith("In 10 min, 09:15 EST")
    assert rem.dismiss("k") is not None
    assert rem.texts("k") == [] and rem.dismiss("k") is None
    # The next stage brings a new notice.
    clock.at = at("2023-01-17T09:10 America/New_York")
    assert len(rem.tick(entries, nothing_done).alerts) == 1
    assert rem.texts("k")[0].startswith("In 5 min")


def test_a_new_start_rearms_the_stages_still_ahead(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T08:59:59 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    fs = trip()
    entry: Any = Entry(fs)
    rem.tick([entry], nothing_done)
    clock.at = at("2023-01-17T09:00 America/New_York")
    assert len(rem.tick([entry], nothing_done).alerts) == 1  # 15 min before 09:15
    # A new version at 09:02 moves the speech to 09:40: the 15-minute stage is ahead again.
    speech = fs.events[0]
    moved = replace(speech, start=speech.start + timedelta(minutes=25), order=None)
    entry.trip = replace(fs, events=(moved, *fs.events[1:]))
    clock.at = at("2023-01-17T09:02 America/New_York")
    tick = rem.tick([entry], nothing_done)
    assert tick.alerts == [] and rem.texts("k") == []  # the old notice's start is gone
    fired_at = []
    for minute in range(3, 40):
        clock.at = at(f"2023-01-17T09:{minute:02d} America/New_York")
        fired_at += [(minute, a.text[:9]) for a in rem.tick([entry], nothing_done).alerts]
    assert fired_at == [(25, "In 15 min"), (35, "In 5 min,")]
    # Moved earlier to 09:45 from 09:40 at 09:36: 09:30 (15 min) is past, 09:40 (5) ahead.
    entry.trip = replace(
        fs, events=(replace(speech, start=speech.start + timedelta(minutes=30)), *fs.events[1:])
    )
    clock.at = at("2023-01-17T09:36 America/New_York")
    assert rem.tick([entry], nothing_done).alerts == []
    clock.at = at("2023-01-17T09:40 America/New_York")
    assert [a.text[:8] for a in rem.tick([entry], nothing_done).alerts] == ["In 5 min"]


def test_missed_after_sleep_is_one_summary(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T08:50 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T15:27 America/New_York")  # slept through the day
    tick = rem.tick(entries, nothing_done)
    assert tick.alerts == []
    assert rem.texts("k") == [
        "4 reminders missed while the laptop slept: 09:15 EST Speech on UK foreign policy "
        "priorities (started 6 h 12 min ago); 15:30 EST Joint press conference with "
        "Secretary Blinken (in 3 min)"
    ]
    notice = rem.notices("k")[0]
    assert notice.is_summary and not rem.can_snooze("k")
    assert notice.event(clock.at) is not None
    assert notice.event(clock.at).id == "blinken-press-conference"  # type: ignore[union-attr]


def test_missed_while_closed_is_shown_by_the_next_dashboard_once(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T08:50 America/New_York"))
    entries: Any = [Entry(trip())]
    rem = reminders_for(tmp_path, clock)
    rem.tick(entries, nothing_done)
    rem.close()  # says it watched until 08:50
    clock.at = at("2023-01-17T09:20 America/New_York")
    reopened = reminders_for(tmp_path, clock)
    reopened.tick(entries, nothing_done)
    assert reopened.texts("k") == [
        "2 reminders missed while closed: 09:15 EST Speech on UK foreign policy priorities "
        "(started 5 min ago)"
    ]
    reopened.close()
    again = reminders_for(tmp_path, clock)
    again.tick(entries, nothing_done)
    assert again.texts("k") == []  # claimed as missed by the one before
    again.close()


def test_a_dashboard_opened_for_the_first_time_reports_nothing_missed(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T16:00 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    rem.tick([Entry(trip())], nothing_done)  # type: ignore[list-item]
    assert rem.texts("k") == []


def test_rehearsal_fires_without_the_command_and_keeps_its_own_record(tmp_path: Path) -> None:
    real = FakeClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    start = at("2023-01-17T09:09:58 America/New_York")
    rem = reminders_for(tmp_path, real, rehearse_at=start)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    real.at += timedelta(seconds=2)
    (alert,) = rem.tick(entries, nothing_done).alerts
    assert alert.command is None and alert.bell and alert.desktop
    rem.close()
    with ReminderRecord(tmp_path / "state") as record:
        assert record.claimed(REHEARSAL, "fs-north-america-2023-01") == {
            ("csis-speech", 5, "2023-01-17T14:15:00+00:00")
        }
        assert record.claimed(LIVE, "fs-north-america-2023-01") == set()
    asked = reminders_for(
        tmp_path / "other",
        real,
        ReminderSettings(command="true", command_in_rehearsal=True),
        rehearse_at=start,
    )
    asked.tick(entries, nothing_done)
    real.at += timedelta(seconds=2)
    (alert,) = asked.tick(entries, nothing_done).alerts
    assert alert.command == "true"
    assert alert.environment["TRIPDASH_REHEARSAL"] == "1"


def test_a_rehearsal_jump_skips_into_a_summary(tmp_path: Path) -> None:
    real = FakeClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    rem = reminders_for(tmp_path, real, rehearse_at=at("2023-01-17T08:50 America/New_York"))
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    rem._clock.shift(timedelta(minutes=60))  # the `>` key
    rem.tick(entries, nothing_done)
    assert rem.texts("k")[0].startswith(
        "2 reminders missed when the rehearsal clock jumped: 09:15 EST Speech"
    )
    # Back to real time: a jump of years, and no summary of it.
    rem._clock.go_live()
    assert rem.tick(entries, nothing_done).alerts == []
    assert len(rem.texts("k")) == 1


def test_quiet_hours_keep_only_the_notice(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    settings = ReminderSettings(command="true", quiet=parse_quiet("09:00-09:30"))
    rem = reminders_for(tmp_path, clock, settings)
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    (alert,) = rem.tick(entries, nothing_done).alerts
    assert not alert.bell and not alert.desktop and alert.command is None
    assert rem.texts("k")  # the notice still shows
    # 09:00-09:30 in London (home) would not cover it: the delegation's local time counts.
    assert not rem.quiet_now(trip(), at("2023-01-17T09:10 Europe/London"))


def test_no_bell_no_desktop_switches(tmp_path: Path) -> None:
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    rem = reminders_for(tmp_path, clock, ReminderSettings(bell=False, desktop=False))
    entries: Any = [Entry(trip())]
    rem.tick(entries, nothing_done)
    clock.at = at("2023-01-17T09:10 America/New_York")
    (alert,) = rem.tick(entries, nothing_done).alerts
    assert not alert.bell and not alert.desktop and alert.command is None


# -- the record ------------------------------------------------------------------------


def test_record_file_modes_and_claims(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with ReminderRecord(state) as record:
        ident = ("csis-speech", 5, "2023-01-17T14:15:00+00:00")
        assert record.claim(LIVE, "t", [ident, ident], "fired") == [True, False]
        assert record.claim(LIVE, "t", [ident], "fired") == [False]
        assert record.claim(REHEARSAL, "t", [ident], "fired") == [True]
        assert record.claim(LIVE, "other", [ident], "fired") == [True]
        record.watched(LIVE, "t", datetime(2023, 1, 17, 14, 0, tzinfo=UTC))
        record.watched(LIVE, "t", datetime(2023, 1, 17, 13, 0, tzinfo=UTC))
        assert record.watched_until(LIVE, "t") == datetime(2023, 1, 17, 14, 0, tzinfo=UTC)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "reminders.sqlite3").stat().st_mode) == 0o600


def _claim_in_process(args: tuple[str, int]) -> int:
    state, n = args
    with ReminderRecord(Path(state)) as record:
        idents = [(f"ev-{i}", 5, "2023-01-17T14:15:00+00:00") for i in range(n)]
        got = 0
        for ident in idents:  # one at a time, as the dashboards tick
            got += sum(record.claim(LIVE, "t", [ident], "fired"))
        return got


def test_exactly_one_process_gets_each_claim(tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        counts = pool.map(_claim_in_process, [(str(tmp_path / "state"), 40)] * 4)
    assert sum(counts) == 40


def test_an_unreadable_record_is_moved_aside(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "reminders.sqlite3").write_bytes(b"not a database at all, " * 100)
    clock = FakeClock(datetime(2023, 1, 17, 12, 0, tzinfo=UTC))
    with ReminderRecord(state, clock=clock) as record:
        assert record.notice is not None and "moved to" in record.notice
        assert record.claim(LIVE, "t", [("e", 5, "s")], "fired") == [True]
    aside = state / "reminders.sqlite3.unreadable-20230117T120000Z"
    assert aside.read_bytes().startswith(b"not a database")


def test_memory_record_when_the_state_dir_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    clock = FakeClock(at("2023-01-17T09:09:59 America/New_York"))
    rem = SessionReminders(
        ReminderSettings(), blocker / "state", TripClock(clock), real_clock=clock
    )
    entries: Any = [Entry(trip())]
    tick = rem.tick(entries, nothing_done)
    assert tick.problems and "kept in memory" in tick.problems[0]
    assert isinstance(rem.record, MemoryRecord)
    clock.at = at("2023-01-17T09:10 America/New_York")
    assert len(rem.tick(entries, nothing_done).alerts) == 1


def test_a_stage_between_opening_and_the_first_tick_still_fires(tmp_path: Path) -> None:
    # A slow start: the session opens at 09:09:58, its first tick comes at 09:10:03.
    clock = FakeClock(at("2023-01-17T09:09:58 America/New_York"))
    rem = reminders_for(tmp_path, clock)
    clock.at = at("2023-01-17T09:10:03 America/New_York")
    (alert,) = rem.tick([Entry(trip())], nothing_done).alerts  # type: ignore[list-item]
    assert alert.text.startswith("In 5 min, 09:15 EST")
