"""``tripdash remind``: the listing and its errors through the real entry point, and the
headless watch, in process with an injected clock and sleep (and once as a real
process, to see SIGTERM end it cleanly and the record shared across runs).
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakes import FakeClock, run_tripdash

from tripdash.domain.clock import TripClock
from tripdash.domain.reminders import ReminderSettings, apply_remind_options
from tripdash.domain.sources import TripSource
from tripdash.domain.store import MarkStore
from tripdash.domain.times import UTC, parse_instant
from tripdash.verbs_remind import Watch

REPO = Path(__file__).resolve().parent.parent
FS = "trips/fs-north-america-2023-01.toml"

SMALL = """
[trip]
id = "watch-test"
title = "Watch test"
home_tz = "Europe/London"

[[places]]
id = "paris"
name = "Paris"
tz = "Europe/Paris"

[[events]]
id = "briefing"
title = "Briefing"
place = "paris"
start = 2023-03-01T10:00:00
end = 2023-03-01T10:10:00
venue = "Quai d'Orsay"

[[events]]
id = "flight"
title = "Flight home"
place = "paris"
start = 2023-03-01T11:00:00
end = 2023-03-01T11:30:00
kind = "travel"
"""


def run(*args: str, state: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_tripdash(*args, "--state-dir", str(state), timeout=timeout)


def test_a_reminder_on_another_date_at_home_says_so(tmp_path: Path) -> None:
    """23:15 in New York is 04:15 the next morning in London: "+1d", in a column of its
    own (only when some reminder needs one)."""
    path = tmp_path / "late.toml"
    path.write_text(
        SMALL.replace(
            'id = "paris"\nname = "Paris"\ntz = "Europe/Paris"',
            'id = "paris"\nname = "New York"\ntz = "America/New_York"',
        )
        .replace("T10:00", "T23:30")
        .replace("T10:10", "T23:40"),
        encoding="utf-8",
    )
    r = run("remind", str(path), "--at", "2023-03-01T08:00 America/New_York", state=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Wed 01 Mar 23:15 EST   04:15 GMT   +1d   15 min before  23:30 EST   Briefing" in lines
    assert any(line.startswith("Wed 01 Mar 10:00 EST   15:00 GMT         ") for line in lines)


def test_listing_the_coming_reminders(tmp_path: Path) -> None:
    r = run("remind", FS, "--at", "2023-01-17T09:05 America/New_York", state=tmp_path / "s")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Reminders for Foreign Secretary: Washington DC and Toronto "
        "(15, 5 min before; travel: 60 min)",
        "Tue 17 Jan 09:10 EST   14:10 GMT      5 min before  09:15 EST   "
        "Speech on UK foreign policy priorities",
        "Tue 17 Jan 15:15 EST   20:15 GMT     15 min before  15:30 EST   "
        "Joint press conference with Secretary Blinken",
        "Tue 17 Jan 15:25 EST   20:25 GMT      5 min before  15:30 EST   "
        "Joint press conference with Secretary Blinken",
    ]
    # A done event's reminders are not listed.
    assert run("mark", FS, "blinken-press-conference", state=tmp_path / "s").returncode == 0
    r = run("remind", FS, "--at", "2023-01-17T09:05 America/New_York", state=tmp_path / "s")
    assert len(r.stdout.splitlines()) == 2
    off = run("remind", FS, "--remind", "off", state=tmp_path / "s")
    assert off.returncode == 0 and "Reminders are off" in off.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--remind", "travle=60"], "unknown event kind 'travle' (did you mean 'travel'?)"),
        (["--remind", "0"], "--remind '0': a stage is a number of minutes from 1 to 10080"),
        (["--quiet", "22-7"], "--quiet '22-7': give a local-time window such as 22:00-07:00"),
        (["--at", "2023-01-17T09:05"], "--at: '2023-01-17T09:05' has no offset or zone"),
        (["--reminder-command", " "], "the reminder command is empty"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    r = run("remind", FS, *args, state=tmp_path / "s")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    # The dashboard takes the same options and says the same before starting.
    if args[0] != "--at":
        d = run(FS, *args, state=tmp_path / "s")
        assert d.returncode == 2 and message in d.stderr


def test_watch_after_the_trip_ends_at_once(tmp_path: Path) -> None:
    r = run("remind", FS, "--watch", "--at", "2023-02-01T12:00Z", state=tmp_path / "s")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].endswith("the trip has ended")


class Stepper:
    """The watch's sleep: moves the injected clock instead of waiting."""

    def __init__(self, clock: FakeClock, hooks: dict[datetime, object] | None = None) -> None:
        self.clock = clock
        self.hooks = hooks or {}
        self.sleeps = 0

    def __call__(self, seconds: float) -> None:
        assert 0 < seconds <= 1
        self.sleeps += 1
        self.clock.at += timedelta(seconds=seconds)
        hook = self.hooks.pop(self.clock.at, None)
        if callable(hook):
            hook()


def watch(
    tmp_path: Path, settings: ReminderSettings, start: str, hooks: dict[datetime, object] | None
) -> tuple[int, str, str, Stepper]:
    path = tmp_path / "trip.toml"
    if not path.exists():
        path.write_text(SMALL, encoding="utf-8")
    source = TripSource(str(path))
    loaded = source.load()
    assert loaded.result is not None
    real = FakeClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    stepper = Stepper(real, hooks)
    clock = TripClock(real, parse_instant(start))
    out, err = io.StringIO(), io.StringIO()
    with MarkStore(tmp_path / "state", clock=real) as store:
        w = Watch(
            source,
            loaded.result.trip,
            settings,
            tmp_path / "state",
            clock,
            store,
            out=out,
            err=err,
            sleep=stepper,
        )
        code = w.run()
    return code, out.getvalue(), err.getvalue(), stepper


def test_watch_fires_each_stage_once_runs_the_command_and_ends_with_the_trip(
    tmp_path: Path,
) -> None:
    log = tmp_path / "commands.log"
    settings = ReminderSettings(
        command=f'echo "$TRIPDASH_EVENT_ID $TRIPDASH_REMINDER_MINUTES" >> {log}',
        command_in_rehearsal=True,
    )
    code, out, err, stepper = watch(tmp_path, settings, "2023-03-01T09:40 Europe/Paris", None)
    assert code == 0, err
    lines = out.splitlines()
    assert lines == [
        "2023-03-01T08:40:00Z  watching Watch test (15, 5 min before; travel: 60 min)",
        "2023-03-01T08:45:00Z  In 15 min, 10:00 CET / 09:00 GMT: Briefing, Quai d'Orsay",
        "2023-03-01T08:55:00Z  In 5 min, 10:00 CET / 09:00 GMT: Briefing, Quai d'Orsay",
        "2023-03-01T09:00:00Z  In 1 h, 11:00 CET / 10:00 GMT: Flight home, Paris",
        "2023-03-01T10:30:00Z  Watch test: the trip has ended",
    ]
    assert sorted(log.read_text().splitlines()) == ["briefing 15", "briefing 5", "flight 60"]
    assert stepper.sleeps == 110 * 60  # one look a second from 09:40 to 11:30
    # Run again over the same hours: the record says every one already fired.
    code, out, err, _ = watch(tmp_path, settings, "2023-03-01T09:40 Europe/Paris", None)
    assert code == 0 and len(out.splitlines()) == 2, out


def test_watch_follows_a_new_version_and_done_marks(tmp_path: Path) -> None:
    path = tmp_path / "trip.toml"
    path.write_text(SMALL, encoding="utf-8")
    with MarkStore(tmp_path / "state") as store:
        store.mark("watch-test", "briefing", True, "alice")

    def move_flight() -> None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("T11:00:00", "T11:10:00"), encoding="utf-8")

    hooks: dict[datetime, object] = {datetime(2026, 12, 1, 12, 10, tzinfo=UTC): move_flight}
    code, out, err, _ = watch(tmp_path, ReminderSettings(), "2023-03-01T09:40 Europe/Paris", hooks)
    assert code == 0, err
    lines = [line.split("  ", 1)[1] for line in out.splitlines()]
    assert lines == [
        "watching Watch test (15, 5 min before; travel: 60 min)",
        f"{path}: new version; reminders planned again",
        "In 1 h, 11:10 CET / 10:10 GMT: Flight home, Paris",
        "Watch test: the trip has ended",
    ]


def test_watch_prints_one_summary_for_a_sleep(tmp_path: Path) -> None:
    # A live clock this time (no --at): 09:50 in Paris, and the laptop sleeps an hour.
    path = tmp_path / "trip.toml"
    path.write_text(SMALL, encoding="utf-8")
    source = TripSource(str(path))
    loaded = source.load()
    assert loaded.result is not None
    real = FakeClock(datetime(2023, 3, 1, 8, 50, tzinfo=UTC))

    def sleep_an_hour() -> None:
        real.at += timedelta(hours=1)

    stepper = Stepper(real, {datetime(2023, 3, 1, 8, 51, tzinfo=UTC): sleep_an_hour})
    out, err = io.StringIO(), io.StringIO()
    with MarkStore(tmp_path / "state", clock=real) as store:
        w = Watch(
            source,
            loaded.result.trip,
            apply_remind_options(ReminderSettings(), ["5"]),
            tmp_path / "state",
            TripClock(real),
            store,
            out=out,
            err=err,
            sleep=stepper,
        )
        assert w.run() == 0, err.getvalue()
    lines = [line.split("  ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[1:] == [
        "2 reminders missed while the laptop slept: 10:00 CET Briefing (started 51 min ago); "
        "11:00 CET Flight home (in 9 min)",
        "Watch test: the trip has ended",
    ]


def test_a_real_watch_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tripdash",
            "remind",
            FS,
            "--watch",
            "--at",
            "2023-01-17T09:09:58 America/New_York",
            "--state-dir",
            str(tmp_path / "s"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert "watching Foreign Secretary" in first
    second = proc.stdout.readline()  # the 09:10 stage, two seconds later
    assert second.endswith(
        "In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy priorities, "
        "Centre for Strategic & International Studies\n"
    )
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.endswith("Foreign Secretary: Washington DC and Toronto: stopped\n")


def test_watch_follows_a_shift_made_meanwhile(tmp_path: Path) -> None:
    from tripdash.domain.records import RecordStore

    def run_late() -> None:  # `tripdash late` in another process, during the watch
        clock = FakeClock(datetime(2026, 12, 1, 12, 5, tzinfo=UTC))
        with MarkStore(tmp_path / "state", clock=clock) as store:
            RecordStore(store, clock=clock).set_shift("watch-test", "briefing", 20, None, "ps")

    hooks: dict[datetime, object] = {datetime(2026, 12, 1, 12, 2, tzinfo=UTC): run_late}
    code, out, err, _ = watch(tmp_path, ReminderSettings(), "2023-03-01T09:40 Europe/Paris", hooks)
    assert code == 0, err
    lines = [line.split("  ", 1)[1] for line in out.splitlines()]
    assert lines == [
        "watching Watch test (15, 5 min before; travel: 60 min)",
        "the day runs late: reminders planned again at the expected times",
        # The flight does not move (travel); the briefing's stages fire at its new time,
        # the one planned for 09:45 never.
        "In 1 h, 11:00 CET / 10:00 GMT: Flight home, Paris",
        "In 15 min, 10:20 CET / 09:20 GMT: Briefing, Quai d'Orsay",
        "In 5 min, 10:20 CET / 09:20 GMT: Briefing, Quai d'Orsay",
        "Watch test: the trip has ended",
    ]
