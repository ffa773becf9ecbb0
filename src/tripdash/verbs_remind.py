"""``tripdash remind``: the coming reminders of a trip, or a headless watch that fires them.

``tripdash remind PATH [--at TIME]`` lists what will fire (when, which stage, which
event). With ``--watch`` it runs until the trip ends, printing one line per reminder
and running the reminder command, for a laptop where no dashboard is open (under a
systemd user unit or tmux). It claims reminders in the same once-only record as the
dashboards, so between them each reminder fires once. The reminder options are
shared with the dashboard (:func:`add_reminder_options`, :func:`reminder_settings`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from tripdash.config import Config
    from tripdash.domain.clock import TripClock
    from tripdash.domain.loader import LoadResult
    from tripdash.domain.model import Event, Trip
    from tripdash.domain.records import Shift
    from tripdash.domain.reminders import ReminderSettings, StartOf
    from tripdash.domain.sources import TripSource
    from tripdash.domain.store import MarkStore

#: How often --watch looks at the clock, and (every few of these) at the trip file.
WATCH_STEP = 1.0
FILE_POLL_STEPS = 2
URL_POLL_STEPS = 60


def add_reminder_options(parser: argparse.ArgumentParser) -> None:
    """The reminder options, the same on the dashboard and on ``tripdash remind``."""
    group = parser.add_argument_group("reminders")
    group.add_argument(
        "--remind",
        action="append",
        default=[],
        metavar="STAGES",
        help="minutes before each event to remind, e.g. 15,5 (the default), or KIND=STAGES "
        "for one kind (travel=60 is the default; travel=off for none); off: no reminders. "
        "May be repeated.",
    )
    group.add_argument("--no-bell", action="store_true", help="do not ring the terminal bell")
    group.add_argument(
        "--no-desktop",
        "--no-osc",
        dest="no_desktop",
        action="store_true",
        help="send no desktop notification through the terminal (OSC 777 and OSC 9)",
    )
    group.add_argument(
        "--quiet",
        metavar="HH:MM-HH:MM",
        help="quiet hours, local time where the delegation is (e.g. 22:00-07:00): the "
        "dashboard notice only, no bell, desktop notification or command",
    )
    group.add_argument(
        "--reminder-command",
        metavar="CMD",
        help="a shell command run for each reminder, given the event in TRIPDASH_EVENT_* "
        "variables (killed after 10 s)",
    )
    group.add_argument(
        "--command-in-rehearsal",
        action="store_true",
        help="run the reminder command during a rehearsal (--at) too",
    )


def reminder_settings(args: argparse.Namespace, config: Config | None = None) -> ReminderSettings:
    """The settings of the config file (when given), changed by the options; UsageError
    (exit 2) when an option is wrong. Options win: flag, then environment, then file."""
    from tripdash.cli import UsageError
    from tripdash.domain.reminder_settings import (
        ReminderConfigError,
        ReminderSettings,
        apply_remind_options,
        parse_quiet,
    )

    try:
        base = ReminderSettings()
        if config is not None:
            base = ReminderSettings(
                enabled=config.remind,
                # The default kinds, and those whose stages the config changes (the
                # listing names exactly these).
                kinds=tuple(
                    {
                        **dict(base.kinds),
                        **{
                            kind: stages
                            for kind, stages in config.reminder_stages.items()
                            if stages != base.stages_for(kind)
                        },
                    }.items()
                ),
                bell=config.bell,
                desktop=config.osc,
                quiet=parse_quiet(config.quiet_hours) if config.quiet_hours else None,
                command=config.reminder_command,
            )
        settings = apply_remind_options(base, args.remind)
        return ReminderSettings(
            enabled=settings.enabled,
            stages=settings.stages,
            kinds=settings.kinds,
            bell=base.bell and not args.no_bell,
            desktop=base.desktop and not args.no_desktop,
            quiet=parse_quiet(args.quiet) if args.quiet else base.quiet,
            command=args.reminder_command or base.command,
            command_in_rehearsal=args.command_in_rehearsal,
        )
    except ReminderConfigError as exc:
        raise UsageError(str(exc)) from None


def remind_verb() -> tuple[argparse.ArgumentParser, Callable[[argparse.Namespace], int]]:
    """The parser of ``tripdash remind`` and its handler (for cli.VERBS)."""
    from tripdash import cli

    parser = cli._Parser(
        prog="tripdash remind",
        description="List a trip's coming reminders; with --watch, fire them headless until "
        "the trip ends (one line each, and the reminder command), sharing the dashboards' "
        "once-only record.",
        epilog="Exit status: 0 success (the trip ended, for --watch), 1 an invalid trip, "
        "2 a usage error.",
    )
    cli._path_argument(parser)
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="rehearse: start the clock at TIME (as for the dashboard) and let it run on",
    )
    parser.add_argument(
        "--watch", action="store_true", help="run until the trip ends, firing each reminder"
    )
    add_reminder_options(parser)
    cli._state_option(parser)
    cli._http_option(parser)
    cli._time_format_option(parser)
    return parser, cmd_remind


def _open_source(args: argparse.Namespace) -> tuple[TripSource, LoadResult]:
    """The trip's source and its first load (UsageError, TripInvalid, FetchFailed as cli)."""
    from tripdash import cli
    from tripdash.domain.sources import FetchError

    found = cli.locations([args.path])
    if len(found) > 1:
        names = ", ".join(Path(f).name for f in found)
        raise cli.UsageError(f"{args.path} holds {len(found)} trips ({names}): name one file")
    source = cli.make_source(found[0], args)
    try:
        loaded = source.load()
    except FetchError as exc:
        raise cli.FetchFailed(str(exc)) from None
    except OSError as exc:
        raise cli.UsageError(f"{found[0]}: {exc.strerror or exc}") from None
    assert loaded.result is not None
    return source, loaded.result


def cmd_remind(args: argparse.Namespace) -> int:
    from tripdash import cli
    from tripdash.domain.clock import TripClock
    from tripdash.domain.store import default_state_dir
    from tripdash.domain.times import system_clock

    config = cli.settings(args, exit_on_problem=False)
    settings = reminder_settings(args, config)
    at = None
    if args.at is not None:
        at = cli.parse_at(args.at)
    source, result = _open_source(args)
    cli._print_problems(result.warnings, sys.stderr)
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    clock = TripClock(system_clock, at)
    with cli.open_store(args) as store:
        if not args.watch:
            from tripdash.domain.late import lateness
            from tripdash.domain.records import RecordStore

            done = store.done_ids(result.trip.id)
            # At the expected times where the day runs late (the shifts in force).
            shifts = RecordStore(store, clock=system_clock).shifts(result.trip.id)
            expected = lateness(result.trip, shifts).expected_trip()
            return list_reminders(
                expected, settings, clock.now(), done, sys.stdout, config.time_format
            )
        watch = Watch(
            source, result.trip, settings, state_dir, clock, store, time_format=config.time_format
        )
        return watch.run()


def list_reminders(
    trip: Trip,
    settings: ReminderSettings,
    now: datetime,
    done: set[str],
    out: TextIO,
    time_format: int = 24,
) -> int:
    """Print the reminders still to fire after ``now``, soonest first (times of day in
    12- or 24-hour form: ``time_format``)."""
    from tripdash.domain.reminders import ReminderPlan
    from tripdash.domain.text import one_line
    from tripdash.domain.times import clock_time, day_marker, zone_abbrev

    print(f"Reminders for {one_line(trip.title)} ({settings.describe()})", file=out)
    if not settings.enabled:
        print("Reminders are off (--remind off).", file=out)
        return 0
    coming = ReminderPlan(trip, settings).upcoming(now, done)
    if not coming:
        print("No reminders to come.", file=out)
        return 0
    home = trip.home_tz
    # Home time on another date than the local one says so (+1d), in a column of its own
    # only when some reminder needs it.
    markers = [
        day_marker(r.at.astimezone(home), r.at.astimezone(r.event.place.tz).date()) for r in coming
    ]
    marker_w = max(map(len, markers))
    for r, marker in zip(coming, markers, strict=True):
        place = r.event.place.tz
        fires, fires_home = r.at.astimezone(place), r.at.astimezone(home)
        start = r.start.astimezone(place)
        fmt = time_format
        day = f"{marker:<{marker_w}} " if marker_w else ""
        print(
            f"{fires:%a %d %b} {clock_time(fires, fmt, pad=True)} {zone_abbrev(fires):<5} "
            f"{clock_time(fires_home, fmt, pad=True)} {zone_abbrev(fires_home):<5} {day}"
            f"{r.stage:>4} min before  {clock_time(start, fmt, pad=True)} "
            f"{zone_abbrev(start):<5} {one_line(r.event.title)}",
            file=out,
        )
    return 0


class _Stop(Exception):
    """SIGTERM (systemd stopping the unit): end the watch as if the trip had ended."""


class Watch:
    """``tripdash remind --watch``: the session's reminder logic without a screen."""

    def __init__(
        self,
        source: TripSource,
        trip: Trip,
        settings: ReminderSettings,
        state_dir: Path,
        clock: TripClock,
        store: MarkStore,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        sleep: Callable[[float], None] = time.sleep,
        time_format: int = 24,
    ) -> None:
        from tripdash.live import OpenTrip
        from tripdash.reminding import SessionReminders

        self.entry = OpenTrip(trip, source)
        self.clock = clock
        self.store = store
        self._shifts = self._read_shifts(trip)
        # Reminders count down to the expected times where the day runs late.
        self.reminders = SessionReminders(
            settings,
            state_dir,
            clock,
            real_clock=clock.real_now,
            start_of=self._start_of,
            time_format=time_format,
        )
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._sleep = sleep
        self._lock = threading.Lock()  # lines from command threads and the loop
        self._done = store.done_ids(trip.id)

    def _read_shifts(self, trip: Trip) -> dict[str, Shift]:
        from tripdash.domain.records import RecordStore

        return RecordStore(self.store, clock=self.clock.real_now).shifts(trip.id)

    def _start_of(self, trip: Trip) -> StartOf:
        """What the trip's reminders count down to: each event's expected start."""
        from tripdash.domain.late import lateness

        expected = {e.id: e for e in lateness(trip, self._shifts).expected_trip().events}

        def start(event: Event) -> datetime | None:
            moved = expected.get(event.id, event)
            return moved.start if moved.time_confirmed else None

        return start

    def say(self, text: str, *, error: bool = False) -> None:
        from tripdash.domain.text import one_line

        with self._lock:
            stream = self.err if error else self.out
            prefix = "tripdash: " if error else f"{self.clock.now():%Y-%m-%dT%H:%M:%SZ}  "
            print(prefix + one_line(text), file=stream, flush=True)

    def run(self) -> int:
        import signal
        from concurrent.futures import ThreadPoolExecutor

        from tripdash.domain.schedule import Schedule

        def stop(signum: int, frame: object) -> None:
            raise _Stop

        previous = signal.signal(signal.SIGTERM, stop)
        commands = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reminder-command")
        steps = 0
        try:
            title = self.entry.trip.title
            self.say(f"watching {title} ({self.reminders.settings.describe()})")
            while True:
                now = self.clock.now()
                last = Schedule.for_trip(self.entry.trip).last_instant
                if last is None or now >= last:
                    self.say(f"{title}: the trip has ended")
                    return 0
                self._tick(commands)
                steps += 1
                self._poll(steps)
                # To the next whole second of the real clock: a stage fires within one.
                real = self.clock.real_now()
                self._sleep(WATCH_STEP - real.microsecond / 1e6)
        except _Stop:
            self.say(f"{self.entry.trip.title}: stopped")
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            commands.shutdown(wait=True)  # a command is killed after 10 s at most
            self.reminders.close()

    def _tick(self, commands: ThreadPoolExecutor) -> None:
        if self.store.changed_elsewhere():
            self._done = self.store.done_ids(self.entry.trip.id)
            shifts = self._read_shifts(self.entry.trip)
            if shifts != self._shifts:  # `tripdash late` meanwhile
                self._shifts = shifts
                self.reminders.rearm(self.entry.key)
                self.say("the day runs late: reminders planned again at the expected times")
        tick = self.reminders.tick([self.entry], lambda key: self._done)
        for problem in tick.problems:
            self.say(problem, error=True)
        for alert in tick.alerts:
            self.say(alert.text)
            if alert.command is not None:
                commands.submit(self._run_command, alert.command, alert.environment)
        # Headless, nobody dismisses: a summary is printed once, then taken away.
        key = self.entry.key
        for notice in self.reminders.notices(key):
            if notice.is_summary:
                self.say(notice.text(self.clock.now(), self.entry.trip, self.reminders.time_format))
        while self.reminders.dismiss(key) is not None:
            pass

    def _run_command(self, command: str, environment: dict[str, str]) -> None:
        from tripdash.domain.reminders import run_command

        outcome = run_command(command, environment, timeout=self.reminders.settings.command_timeout)
        if not outcome.ok:
            self.say(outcome.message, error=True)

    def _poll(self, steps: int) -> None:
        """A new version of the trip file (or address): its reminders are planned again."""
        source = self.entry.source
        if source is None:
            return
        every = URL_POLL_STEPS if source.is_url else FILE_POLL_STEPS
        if steps % every or not source.looks_changed():
            return
        try:
            loaded = source.poll()
        except Exception as exc:  # a poll must never end the watch
            self.say(f"{source.display}: {exc}", error=True)
            return
        for problem in loaded.problems[:3]:
            self.say(f"new version not valid, keeping the current one: {problem}", error=True)
        if loaded.result is not None and loaded.result.trip != self.entry.trip:
            self.entry.trip = loaded.result.trip
            self.say(f"{source.display}: new version; reminders planned again")
