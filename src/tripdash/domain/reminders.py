"""Reminders before events: the staged schedule, the tracker, what a reminder says.

Every confirmed, timed event that is not cancelled gets *stages*: by default a
reminder 15 and 5 minutes before it starts, and 60 minutes before a travel event
(:class:`ReminderSettings`, in :mod:`tripdash.domain.reminder_settings`, filled from
the command line today and from the config file later). A :class:`ReminderPlan`
holds every reminder of one version of a trip, sorted by when it fires; a
:class:`ReminderTracker` walks it as the clock moves. Each second it compares the
clock with one instant, the next reminder's, so its cost does not grow with the
trip; when that instant passes, :mod:`bisect` finds what passed.

What a reminder counts down to is a function parameter (:data:`StartOf`): the
programme's start today (:func:`scheduled_start`), an expected start once running
late is tracked. A start that changes gives new reminders (the once-only record in
:mod:`tripdash.domain.reminder_record` is keyed by the start instant too), so the
stages still ahead at the new time fire again.

A reminder is *due* when its moment has just come; one whose moment passed more
than :data:`GRACE` ago (the laptop slept, the app was closed, a rehearsal clock
jumped), or whose event has started, is *missed*: the caller shows one summary of
the missed ones, never a burst.

Nothing here reads the clock or imports the UI; the user command runs in a
subprocess (:func:`run_command`), killed after ten seconds.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tripdash.domain.model import EVENT_KINDS, Event, Status, Trip
from tripdash.domain.reminder_settings import (
    COMMAND_TIMEOUT,
    DEFAULT_KIND_STAGES,
    DEFAULT_STAGES,
    MAX_STAGE_MINUTES,
    QuietHours,
    ReminderConfigError,
    ReminderSettings,
    apply_remind_options,
    parse_quiet,
    parse_stages,
)
from tripdash.domain.text import one_line
from tripdash.domain.times import UTC, clock_time, day_marker, humanize_delta, zone_abbrev

#: How late a reminder may still be shown as one: later than this it is *missed*.
GRACE = timedelta(seconds=60)
#: How many events a summary of missed reminders names before "and N more".
SUMMARY_NAMES = 3

#: What a reminder counts down to for one event: its start as an aware instant, or None
#: when it has no time to count down to (TBC).
StartOf = Callable[[Event], "datetime | None"]

__all__ = [
    "COMMAND_TIMEOUT",
    "DEFAULT_KIND_STAGES",
    "DEFAULT_STAGES",
    "GRACE",
    "MAX_STAGE_MINUTES",
    "Check",
    "CommandOutcome",
    "QuietHours",
    "Reminder",
    "ReminderConfigError",
    "ReminderPlan",
    "ReminderSettings",
    "ReminderTracker",
    "StartOf",
    "apply_remind_options",
    "command_environment",
    "countdown",
    "desktop_notification",
    "eligible",
    "missed_text",
    "parse_quiet",
    "parse_stages",
    "reminder_text",
    "run_command",
    "scheduled_start",
    "when_label",
    "where_label",
]


# -- the schedule of reminders ----------------------------------------------------------------


def scheduled_start(event: Event) -> datetime | None:
    """The programme's start of ``event`` (aware); None when its time is TBC."""
    return event.start if event.time_confirmed else None


def eligible(event: Event) -> bool:
    """Whether an event gets reminders at all: confirmed (not tentative or cancelled), timed."""
    return event.status is Status.CONFIRMED and event.time_confirmed


@dataclass(frozen=True, slots=True)
class Reminder:
    """One stage of one event: it fires at ``at``, ``stage`` minutes before ``start``."""

    at: datetime  # UTC
    event: Event
    stage: int
    start: datetime  # UTC: what it counts down to (see StartOf)

    @property
    def ident(self) -> tuple[str, int, str]:
        """What the once-only record keys it by (with the trip id): a new start, a new key."""
        return (self.event.id, self.stage, self.start.isoformat())


class ReminderPlan:
    """Every reminder of one version of a trip, sorted by when it fires.

    Built once per version: rows of plain numbers (when it fires and starts, as
    timestamps; which event; which stage), sorted, so that 10,000 events plan in a few
    milliseconds. :class:`Reminder` objects are made only for the rows asked for.
    Asking for the next reminder after an instant is a bisection.
    """

    def __init__(
        self, trip: Trip, settings: ReminderSettings, start_of: StartOf = scheduled_start
    ) -> None:
        self.trip = trip
        self.settings = settings
        rows: list[tuple[float, float, int, int]] = []
        starts: dict[int, datetime] = {}
        if settings.enabled:
            by_kind = {kind: settings.stages_for(kind) for kind in EVENT_KINDS}
            default = settings.stages_for("")
            confirmed = Status.CONFIRMED
            for position, event in enumerate(trip.events):
                if event.status is not confirmed or not event.time_confirmed:
                    continue
                start = start_of(event)
                if start is None:
                    continue
                # .timestamp() of an aware datetime is its instant, whatever its zone.
                instant = start.timestamp()
                starts[position] = start
                for stage in by_kind.get(event.kind, default):
                    rows.append((instant - stage * 60, instant, position, stage))
        rows.sort()  # by when it fires, then when it starts, then programme order
        self._rows = rows
        self._starts = starts
        self._times = [row[0] for row in rows]
        self._made: list[Reminder] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def _reminder(self, index: int) -> Reminder:
        _, _, position, stage = self._rows[index]
        start = self._starts[position].astimezone(UTC)
        return Reminder(start - timedelta(minutes=stage), self.trip.events[position], stage, start)

    def between(self, first: int, end: int) -> list[Reminder]:
        """The reminders of rows ``first`` to ``end`` (exclusive), in firing order."""
        return [self._reminder(i) for i in range(first, min(end, len(self._rows)))]

    @property
    def reminders(self) -> list[Reminder]:
        """Every reminder, in firing order (for listings; the tracker asks for few)."""
        if self._made is None:
            self._made = self.between(0, len(self._rows))
        return self._made

    def index_after(self, instant: float, lo: int = 0) -> int:
        """The index of the first reminder firing strictly after ``instant`` (a timestamp)."""
        return bisect.bisect_right(self._times, instant, lo)

    def time_at(self, index: int) -> float:
        """When reminder ``index`` fires (a timestamp); infinity past the last one."""
        return self._times[index] if index < len(self._times) else math.inf

    def upcoming(
        self, now: datetime, done: Collection[str] = (), limit: int | None = None
    ) -> list[Reminder]:
        """The reminders still to fire after ``now``, soonest first, done events left out."""
        out: list[Reminder] = []
        events = self.trip.events
        for i in range(self.index_after(now.timestamp()), len(self._rows)):
            if events[self._rows[i][2]].id in done:
                continue
            out.append(self._reminder(i))
            if limit is not None and len(out) >= limit:
                break
        return out


@dataclass(frozen=True)
class Check:
    """What passed since the last look: reminders to fire now, and missed ones.

    ``superseded`` are stages that passed together with a nearer stage of the same
    event (only the nearest is shown). ``opening`` says the missed ones passed while
    no dashboard was open (the first look after opening), rather than while it slept.
    """

    due: tuple[Reminder, ...] = ()
    superseded: tuple[Reminder, ...] = ()
    missed: tuple[Reminder, ...] = ()
    opening: bool = False

    def __bool__(self) -> bool:
        return bool(self.due or self.superseded or self.missed)


NOTHING = Check()


class ReminderTracker:
    """Walks one :class:`ReminderPlan` as the clock moves; :meth:`check` once a second.

    ``since`` is where the first check starts from: when someone last watched these
    reminders (the once-only record says), or when the app opened. What passed since
    is due at the first check when still within :data:`GRACE`, else missed
    (``opening``: while closed). Without it, nothing before ``now`` counts.
    """

    def __init__(
        self,
        plan: ReminderPlan,
        now: datetime,
        since: datetime | None = None,
        *,
        opening: bool = True,
    ) -> None:
        self.plan = plan
        start = since if since is not None and since < now else now
        self._opening = opening and since is not None and since < now
        self._seek(start.timestamp())

    def _seek(self, instant: float) -> None:
        self._last = instant
        self._cursor = self.plan.index_after(instant)
        self._next = self.plan.time_at(self._cursor)

    @property
    def next_at(self) -> float:
        """When the next reminder fires (a timestamp; infinity when none is left)."""
        return self._next

    def rebase(self, now: datetime) -> None:
        """Start again from ``now``: nothing before it is due or missed (a new version, going
        back to real time)."""
        self._opening = False
        self._seek(now.timestamp())

    def check(self, now: datetime, done: Collection[str] = ()) -> Check:
        """What passed since the last check. O(1) unless a reminder's moment has come."""
        instant = now.timestamp()
        if instant < self._last:
            # The clock went back (a rehearsal key): the stages ahead are armed again;
            # the once-only record keeps any that already fired from firing twice.
            self._seek(instant)
            return NOTHING
        self._last = instant
        if instant < self._next:
            return NOTHING
        end = self.plan.index_after(instant, self._cursor)
        passed = self.plan.between(self._cursor, end)
        self._cursor = end
        self._next = self.plan.time_at(end)
        opening, self._opening = self._opening, False
        nearest: dict[str, Reminder] = {}
        superseded: list[Reminder] = []
        missed: list[Reminder] = []
        late = instant - GRACE.total_seconds()
        start_bound = now.astimezone(UTC)
        for r in passed:  # in firing order: a later stage of an event is a nearer one
            if r.event.id in done:
                continue
            if r.start <= start_bound or r.at.timestamp() < late:
                missed.append(r)
                continue
            before = nearest.get(r.event.id)
            if before is not None:
                superseded.append(before)
            nearest[r.event.id] = r
        if not nearest and not missed:
            return NOTHING
        return Check(tuple(nearest.values()), tuple(superseded), tuple(missed), opening)


# -- what a reminder says -------------------------------------------------------------------


def countdown(start: datetime, now: datetime) -> str:
    """``In 5 min`` (minutes rounded up, so a 5-minute reminder reads 5), ``In 1 h 05 min``,
    ``Starting now``."""
    seconds = (start.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    if seconds <= 0:
        return "Starting now"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"In {minutes} min"
    hours, mins = divmod(minutes, 60)
    return f"In {hours} h {mins:02d} min" if mins else f"In {hours} h"


def when_label(
    start: datetime, event: Event, home: ZoneInfo, now: datetime, time_format: int = 24
) -> str:
    """``09:15 EST / 14:15 GMT``: local time at the event's place and home time (``+1d``
    when the home date differs); the weekday first when it is not today there. In 12-hour
    form (``time_format``) ``9:15 am EST / 2:15 pm GMT``."""
    local = start.astimezone(event.place.tz)
    at_home = start.astimezone(home)
    marker = day_marker(at_home, local.date())
    day = "" if now.astimezone(event.place.tz).date() == local.date() else f"{local:%a} "
    home_text = f"{clock_time(at_home, time_format)} {zone_abbrev(at_home)}" + (
        f" {marker}" if marker else ""
    )
    return f"{day}{clock_time(local, time_format)} {zone_abbrev(local)} / {home_text}"


def where_label(event: Event) -> str:
    """The venue, else the place's name (outside text, made safe)."""
    return one_line(event.venue or event.place.name)


def reminder_text(reminder: Reminder, now: datetime, home: ZoneInfo, time_format: int = 24) -> str:
    """``In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy priorities, CSIS``."""
    event = reminder.event
    when = when_label(reminder.start, event, home, now, time_format)
    return (
        f"{countdown(reminder.start, now)}, {when}: {one_line(event.title)}, {where_label(event)}"
    )


def missed_text(missed: Sequence[Reminder], why: str, now: datetime, time_format: int = 24) -> str:
    """``2 reminders missed while closed: 09:15 EST Speech… (started 5 min ago); …``.

    One entry per event (the nearest stage), soonest first; at most
    :data:`SUMMARY_NAMES` are named, then "and N more".
    """
    events: dict[str, Reminder] = {}
    for r in missed:
        events[r.event.id] = r
    ordered = sorted(events.values(), key=lambda r: (r.start, r.event.index))
    now = now.astimezone(UTC)
    names = []
    for r in ordered[:SUMMARY_NAMES]:
        local = r.start.astimezone(r.event.place.tz)
        if r.start <= now:
            state = f"started {humanize_delta(now - r.start)} ago"
        else:
            state = countdown(r.start, now).replace("In ", "in ")
        clock = clock_time(local, time_format)
        names.append(f"{clock} {zone_abbrev(local)} {one_line(r.event.title)} ({state})")
    more = len(ordered) - len(names)
    tail = f"; and {more} more" if more else ""
    count = len(missed)
    return f"{count} reminder{'s' if count != 1 else ''} missed {why}: " + "; ".join(names) + tail


# -- the desktop and the command -------------------------------------------------------------

#: Longest text put in a desktop notification (terminals cut them anyway).
_DESKTOP_LIMIT = 240


def _osc_field(text: str) -> str:
    # one_line shows every control character (BEL and ESC, which would end the sequence
    # and start another, among them) as a visible escape; ';' separates OSC 777's fields.
    cleaned = one_line(text).replace(";", ",")
    return cleaned if len(cleaned) <= _DESKTOP_LIMIT else cleaned[: _DESKTOP_LIMIT - 1] + "…"


def desktop_notification(title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequences of a desktop notification: OSC 777 (rxvt, foot, Ghostty, VTE
    terminals, WezTerm) and OSC 9 (iTerm2, kitty, Windows Terminal, ConEmu).

    No character of ``title`` or ``body`` reaches the terminal as a control. With
    ``tmux``, each sequence is also sent wrapped for tmux's passthrough (seen by the
    outer terminal when tmux has ``allow-passthrough on``; discarded otherwise).
    """
    t, b = _osc_field(title), _osc_field(body)
    # OSC 9's text must not start with a digit: ConEmu reads "9;2;..." as a command.
    sequences = [f"\x1b]777;notify;{t};{b}\x07", f"\x1b]9;tripdash: {b}\x07"]
    if tmux:
        sequences += [
            "\x1bPtmux;" + s.replace("\x1b", "\x1b\x1b") + "\x1b\\" for s in list(sequences)
        ]
    return "".join(sequences)


def command_environment(
    reminder: Reminder, trip: Trip, text: str, *, rehearsal: bool
) -> dict[str, str]:
    """The TRIPDASH_* variables a reminder command is given (every value made safe)."""
    event = reminder.event
    local = reminder.start.astimezone(event.place.tz)
    home = reminder.start.astimezone(trip.home_tz)
    values = {
        "TRIPDASH_TRIP_ID": trip.id,
        "TRIPDASH_TRIP_TITLE": trip.title,
        "TRIPDASH_EVENT_ID": event.id,
        "TRIPDASH_EVENT_TITLE": event.title,
        "TRIPDASH_EVENT_KIND": event.kind,
        "TRIPDASH_EVENT_PLACE": event.place.name,
        "TRIPDASH_EVENT_VENUE": event.venue or "",
        "TRIPDASH_EVENT_START": reminder.start.isoformat(),
        # Always 24-hour, whatever the display shows: scripts read these.
        "TRIPDASH_EVENT_LOCAL_TIME": f"{local:%Y-%m-%d %H:%M} {zone_abbrev(local)}",
        "TRIPDASH_EVENT_HOME_TIME": f"{home:%Y-%m-%d %H:%M} {zone_abbrev(home)}",
        "TRIPDASH_EVENT_TZ": event.place.tz.key,
        "TRIPDASH_REMINDER_MINUTES": str(reminder.stage),
        "TRIPDASH_REMINDER_TEXT": text,
        "TRIPDASH_REHEARSAL": "1" if rehearsal else "0",
    }
    return {name: one_line(value) for name, value in values.items()}


@dataclass(frozen=True)
class CommandOutcome:
    """How a reminder command ended: ``ok``, or what to tell the user."""

    ok: bool
    message: str = ""
    returncode: int | None = None
    timed_out: bool = False
    output: str = field(default="", repr=False)


def run_command(
    command: str,
    extra_env: Mapping[str, str],
    *,
    timeout: float = COMMAND_TIMEOUT,
    base_env: Mapping[str, str] | None = None,
) -> CommandOutcome:
    """Run ``command`` with ``sh -c`` (as calcurse's notify command), the reminder's fields in
    its environment; kill it (and whatever it started) after ``timeout`` seconds.

    Blocking: call it from a worker thread. Its output never reaches the terminal the
    dashboard draws on: stdout is discarded, and the last line of stderr explains a
    failure. It counts as done when its shell exits (a helper it leaves running in the
    background is its own business, and is not waited for).
    """
    import signal
    import subprocess
    import tempfile

    env = {**(os.environ if base_env is None else base_env), **extra_env}
    # A file, not a pipe, for stderr: a pipe would also wait for every background child
    # that inherited it.
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # its own process group: a timeout kills all of it
            )
        except OSError as exc:
            return CommandOutcome(False, f"reminder command could not start: {one_line(str(exc))}")
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()
            return CommandOutcome(
                False,
                f"reminder command did not finish within {timeout:g} s and was killed",
                proc.returncode,
                timed_out=True,
            )
        size = err.seek(0, os.SEEK_END)
        err.seek(max(0, size - 65536))
        output = err.read().decode("utf-8", "replace")
    if returncode != 0:
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
        why = f": {one_line(last)[:200]}" if last else ""
        return CommandOutcome(
            False,
            f"reminder command failed (exit status {returncode}){why}",
            returncode,
            output=output,
        )
    return CommandOutcome(True, "", 0, output=output)
