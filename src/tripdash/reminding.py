"""The session's reminders: one tracker per open trip, the notices shown, snoozes.

:class:`SessionReminders` hangs on the :class:`~tripdash.session.Session`. The app
calls :meth:`SessionReminders.tick` from its once-a-second timer; a tick costs a
comparison per open trip until a reminder's moment comes (see
:class:`~tripdash.domain.reminders.ReminderTracker`). Each reminder is claimed in the
once-only record before it is shown, so of every tripdash on this laptop exactly one
fires it. What a tick decides (a notice to show, a bell, a desktop notification, a
command to run) comes back as data; the app does the Textual part. Nothing here
draws, sleeps or reads the real time itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tripdash.domain.clock import TripClock
from tripdash.domain.model import Event, Trip
from tripdash.domain.reminder_record import LIVE, REHEARSAL, MemoryRecord, Record, RecordError
from tripdash.domain.reminders import (
    Check,
    Reminder,
    ReminderPlan,
    ReminderSettings,
    ReminderTracker,
    StartOf,
    command_environment,
    missed_text,
    reminder_text,
    scheduled_start,
)
from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import UTC

if TYPE_CHECKING:
    from tripdash.live import OpenTrip

#: How long snooze hides a reminder.
SNOOZE = timedelta(minutes=5)
#: How often a live clock says in the record until when it watched (for "missed while
#: closed" in the next dashboard opened).
HEARTBEAT = timedelta(seconds=60)
#: How far back "missed while closed" looks at most.
LOOKBACK = timedelta(hours=12)


@dataclass
class Notice:
    """One notice of a dashboard: a reminder (until dismissed or its event starts), or a
    summary of missed reminders (until dismissed)."""

    reminder: Reminder | None
    missed: tuple[Reminder, ...] = ()
    why: str = ""
    snoozed_until: datetime | None = None

    @property
    def is_summary(self) -> bool:
        return self.reminder is None

    def event(self, now: datetime) -> Event | None:
        """The event the notice is about: for a summary, the first one still ahead."""
        if self.reminder is not None:
            return self.reminder.event
        ahead = [r for r in self.missed if r.start > now]
        chosen = min(ahead or self.missed, key=lambda r: (r.start, r.event.index), default=None)
        return chosen.event if chosen is not None else None

    def text(self, now: datetime, trip: Trip, time_format: int = 24) -> str:
        """What the notice says now, times in 12- or 24-hour form (``time_format``)."""
        if self.reminder is not None:
            return reminder_text(self.reminder, now, trip.home_tz, time_format)
        return missed_text(self.missed, self.why, now, time_format)

    def visible(self, now: datetime) -> bool:
        return self.snoozed_until is None or self.snoozed_until <= now


@dataclass(frozen=True)
class Alert:
    """A reminder that fired in this process: what to do beyond the dashboard notice."""

    key: str
    title: str
    text: str
    bell: bool
    desktop: bool
    command: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Tick:
    """What one tick decided: alerts to sound, trips whose notices changed, problems."""

    alerts: list[Alert] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


@dataclass
class _TripReminders:
    trip: Trip
    tracker: ReminderTracker
    notices: list[Notice] = field(default_factory=list)
    shown: tuple[str, ...] = ()


def _open_record(state_dir: Path, clock: Callable[[], datetime]) -> Record:
    from tripdash.domain.reminder_record import open_record

    return open_record(state_dir, clock=clock)


class SessionReminders:
    """Reminders of every open trip, for one dashboard (or one ``tripdash remind --watch``).

    ``start_of`` gives, for a trip, what its reminders count down to (the programme's
    times by default; expected times once running late is tracked: call
    :meth:`rearm` when they change). ``record`` is opened at the first tick unless
    given, to keep it out of start-up.
    """

    def __init__(
        self,
        settings: ReminderSettings,
        state_dir: Path,
        clock: TripClock,
        *,
        real_clock: Callable[[], datetime],
        start_of: Callable[[Trip], StartOf] | None = None,
        record: Record | None = None,
        opened: datetime | None = None,
        time_format: int = 24,
    ) -> None:
        self.settings = settings
        #: 12 or 24: how the notices' texts show a time of day.
        self.time_format = time_format
        self._state_dir = state_dir
        self._clock = clock
        self._real_clock = real_clock
        self._start_of = start_of or (lambda trip: scheduled_start)
        self._record = record
        self._trips: dict[str, _TripReminders] = {}
        self._rehearsal = clock.rehearsal
        self._heartbeat: datetime | None = None
        #: When the session opened: the first tick looks back to here.
        self._opened = opened if opened is not None else clock.now()

    @property
    def namespace(self) -> str:
        """The record's clock: rehearsals never use up real reminders."""
        return REHEARSAL if self._clock.rehearsal else LIVE

    @property
    def record(self) -> Record:
        if self._record is None:
            self._record = _open_record(self._state_dir, self._real_clock)
        return self._record

    # -- the tick ---------------------------------------------------------------------

    def tick(
        self,
        entries: Sequence[OpenTrip],
        done: Callable[[str], Collection[str]],
        trip_of: Callable[[str], Trip] | None = None,
    ) -> Tick:
        """Once a second: fire what is due, summarise what was missed, expire notices.

        ``trip_of`` gives the trip to remind of by key (the session's expected times,
        when the day runs late); by default each entry's trip as planned.
        """
        out = Tick()
        if not self.settings.enabled:
            return out
        now = self._clock.now()
        if self._record is None and self.record.notice:
            out.problems.append(self.record.notice)
        if self._clock.rehearsal != self._rehearsal:
            # Into a rehearsal or back to real time: a jump of the clock that skips no
            # reminder (the notices of the other clock stay until dismissed or started).
            self._rehearsal = self._clock.rehearsal
            for state in self._trips.values():
                state.tracker.rebase(now)
        for entry in entries:
            key = entry.key
            trip = entry.trip if trip_of is None else trip_of(key)
            found = self._trips.get(key)
            if found is None:
                state = self._trips[key] = self._begin(trip, now)
            else:
                state = found
            if state.trip is not trip:
                self._replan(state, trip, now)
            finished = done(key)
            check = state.tracker.check(now, finished)
            if check:
                self._handle(key, state, check, now, out)
            if state.notices or state.shown:
                self._expire(key, state, now, finished, out)
        if not self._clock.rehearsal and (
            self._heartbeat is None or now - self._heartbeat >= HEARTBEAT
        ):
            self._watched(now, out)
        return out

    def _begin(self, trip: Trip, now: datetime) -> _TripReminders:
        # From the moment the session opened (the first tick comes a second or more
        # later: a stage in between is still due), or, for a live clock, from when a
        # tripdash last watched this trip: what passed since then was missed while closed.
        # A rehearsal starts where it is told: it has no "while closed".
        since = self._opened
        closed = False
        if not self._clock.rehearsal:
            watched = self.record.watched_until(LIVE, trip.id)
            if watched is not None and watched < since:
                since, closed = max(watched, now - LOOKBACK), True
        plan = ReminderPlan(trip, self.settings, self._start_of(trip))
        return _TripReminders(trip, ReminderTracker(plan, now, since, opening=closed))

    def _replan(self, state: _TripReminders, trip: Trip, now: datetime) -> None:
        """A new version (or new expected times): every start is looked up again; a stage
        still ahead at a changed start fires again (a new key in the record)."""
        start_of = self._start_of(trip)
        plan = ReminderPlan(trip, self.settings, start_of)
        state.trip = trip
        state.tracker = ReminderTracker(plan, now)
        events = {e.id: e for e in trip.events}
        kept: list[Notice] = []
        for notice in state.notices:
            if notice.reminder is None:
                kept.append(notice)
                continue
            event = events.get(notice.reminder.event.id)
            start = start_of(event) if event is not None else None
            if event is not None and start is not None and start == notice.reminder.start:
                r = notice.reminder
                notice.reminder = Reminder(r.at, event, r.stage, r.start)
                kept.append(notice)
        state.notices = kept

    def rearm(self, key: str) -> None:
        """The starts of a trip changed without a new version (expected times): plan again."""
        state = self._trips.get(key)
        if state is not None:
            self._replan(state, state.trip, self._clock.now())

    def _claim(
        self, trip: Trip, reminders: Sequence[Reminder], outcome: str, out: Tick
    ) -> list[bool]:
        if not reminders:
            return []
        idents = [r.ident for r in reminders]
        try:
            return self.record.claim(self.namespace, trip.id, idents, outcome)
        except RecordError as exc:
            # Reminders must still show: keep claims in memory from now on, and say so.
            self._record = MemoryRecord()
            out.problems.append(
                f"{exc}. Reminders are kept in memory now: another tripdash on this laptop "
                "may show them again."
            )
            return self._record.claim(self.namespace, trip.id, idents, outcome)

    def _handle(
        self, key: str, state: _TripReminders, check: Check, now: datetime, out: Tick
    ) -> None:
        trip = state.trip
        self._claim(trip, check.superseded, "superseded", out)
        got = self._claim(trip, check.due, "fired", out)
        for reminder, claimed in zip(check.due, got, strict=True):
            if claimed:
                self._fire(key, state, reminder, now, out)
        got = self._claim(trip, check.missed, "missed", out)
        mine = tuple(r for r, g in zip(check.missed, got, strict=True) if g)
        if mine:
            self._summarise(key, state, mine, check.opening, out)

    def _fire(
        self, key: str, state: _TripReminders, reminder: Reminder, now: datetime, out: Tick
    ) -> None:
        trip = state.trip
        # One notice per event: a nearer stage replaces a farther one (snoozed or not).
        state.notices = [
            n
            for n in state.notices
            if n.reminder is None or n.reminder.event.id != reminder.event.id
        ]
        state.notices.append(Notice(reminder))
        state.notices.sort(key=_notice_order)
        out.changed.add(key)
        settings = self.settings
        loud = not self.quiet_now(trip, now)
        text = reminder_text(reminder, now, trip.home_tz, self.time_format)
        rehearsal = self._clock.rehearsal
        run = (
            settings.command is not None
            and loud
            and (not rehearsal or settings.command_in_rehearsal)
        )
        out.alerts.append(
            Alert(
                key,
                f"Reminder: {one_line(trip.title)}",
                text,
                bell=loud and settings.bell,
                desktop=loud and settings.desktop,
                command=settings.command if run else None,
                environment=(
                    command_environment(reminder, trip, text, rehearsal=rehearsal) if run else {}
                ),
            )
        )

    def _summarise(
        self,
        key: str,
        state: _TripReminders,
        missed: tuple[Reminder, ...],
        opening: bool,
        out: Tick,
    ) -> None:
        if opening:
            why = "while closed"
        elif self._clock.rehearsal:
            why = "when the rehearsal clock jumped"
        else:
            why = "while the laptop slept"
        # One summary at a time: a newer one takes in what an earlier one listed.
        earlier = next((n for n in state.notices if n.reminder is None), None)
        if earlier is not None:
            state.notices.remove(earlier)
            missed = earlier.missed + missed
            why = earlier.why if earlier.why == why else "while away"
        state.notices.append(Notice(None, missed, why))
        state.notices.sort(key=_notice_order)
        out.changed.add(key)

    def _expire(
        self, key: str, state: _TripReminders, now: datetime, done: Collection[str], out: Tick
    ) -> None:
        """Reminders go when their event starts or is marked done; the shown text follows
        the countdown (one redraw a minute)."""
        instant = now.astimezone(UTC)
        state.notices = [
            n
            for n in state.notices
            if n.reminder is None
            or (n.reminder.start > instant and n.reminder.event.id not in done)
        ]
        shown = tuple(
            n.text(now, state.trip, self.time_format) for n in state.notices if n.visible(now)
        )
        if shown != state.shown:
            state.shown = shown
            out.changed.add(key)

    def _watched(self, now: datetime, out: Tick) -> None:
        self._heartbeat = now
        try:
            for state in self._trips.values():
                self.record.watched(LIVE, state.trip.id, now)
        except RecordError as exc:
            out.problems.append(str(exc))

    # -- quiet hours --------------------------------------------------------------------

    def quiet_now(self, trip: Trip, now: datetime) -> bool:
        """In the quiet hours, at the local time where the delegation is now."""
        quiet = self.settings.quiet
        if quiet is None:
            return False
        place = Schedule.for_trip(trip).current_place(now)
        zone = place.tz if place is not None else trip.home_tz
        return quiet.covers(now.astimezone(zone))

    # -- the notices, for the dashboard -------------------------------------------------

    def notices(self, key: str) -> list[Notice]:
        """The notices shown for a trip now (snoozed ones left out), first the one the keys
        act on."""
        state = self._trips.get(key)
        if state is None:
            return []
        now = self._clock.now()
        return [n for n in state.notices if n.visible(now)]

    def texts(self, key: str) -> list[str]:
        state = self._trips.get(key)
        if state is None:
            return []
        now = self._clock.now()
        return [n.text(now, state.trip, self.time_format) for n in self.notices(key)]

    def dismiss(self, key: str) -> Notice | None:
        """Take the first notice away (None when there is none)."""
        shown = self.notices(key)
        if not shown:
            return None
        self._trips[key].notices.remove(shown[0])
        self._trips[key].shown = ()
        return shown[0]

    def snooze(self, key: str) -> Notice | None:
        """Hide the first reminder for :data:`SNOOZE` (a summary cannot be snoozed)."""
        shown = self.notices(key)
        if not shown or shown[0].is_summary:
            return None
        shown[0].snoozed_until = self._clock.now() + SNOOZE
        self._trips[key].shown = ()
        return shown[0]

    def can_snooze(self, key: str) -> bool:
        shown = self.notices(key)
        return bool(shown) and not shown[0].is_summary

    def upcoming(self, key: str, done: Collection[str], limit: int = 5) -> list[Reminder]:
        """The next reminders of a trip still to fire."""
        state = self._trips.get(key)
        if state is None:
            return []
        return state.tracker.plan.upcoming(self._clock.now(), done, limit)

    def close(self) -> None:
        """Say until when this process watched (live), and close the record."""
        if self._record is None:
            return
        if not self._clock.rehearsal and self._trips:
            self._watched(self._clock.now(), Tick())
        self._record.close()


def _notice_order(notice: Notice) -> tuple[int, float]:
    # Reminders soonest first (the keys act on the first), then the summary.
    if notice.reminder is None:
        return (1, 0.0)
    return (0, notice.reminder.start.timestamp())
