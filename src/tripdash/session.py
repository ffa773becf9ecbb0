"""The session: everything the dashboard knows, without Textual.

One :class:`Session` per run of the dashboard owns the open trips (keyed by their
source's key, which stays the same when a new version changes the trip's id),
the marks, notes and running-late shifts with undo and redo, the changes seen,
and how sync stands.

Times: :meth:`Session.schedule` is the schedule of the *expected* trip, with every
event a shift moves at its expected time, so that now, next, countdowns and
reminders all follow the day as it runs; :meth:`Session.trip` is the trip as
planned (what the file says), and :meth:`Session.lateness` relates the two. Screens
are handed the session and the key of their trip; they call its methods and
the app broadcasts what happened. Nothing here draws, times or notifies, so
every rule is tested without the pilot (``tests/test_session.py``).

:class:`DashboardOptions` is what the command line decided, built once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tripdash.domain.clock import TripClock
from tripdash.domain.late import Lateness, check_shift, lateness, under_way
from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Event, Trip
from tripdash.domain.records import NoteVersion, RecordStore, Shift
from tripdash.domain.reminder_settings import ReminderSettings
from tripdash.domain.schedule import Schedule
from tripdash.domain.sources import AnotherTrip, Loaded, TripSource
from tripdash.domain.store import Mark, MarkStore
from tripdash.domain.times import Clock, system_clock
from tripdash.live import OpenTrip, SeenChange
from tripdash.marks import Marks
from tripdash.recorded import Annotations, Records, ShiftStep, note_lines

if TYPE_CHECKING:
    from tripdash.domain.diff import Change
    from tripdash.domain.sync import SyncConfig, SyncError, SyncResult
    from tripdash.reminding import Notice, SessionReminders, Tick


@dataclass(frozen=True)
class DashboardOptions:
    """What the command line decided for one run of the dashboard, built once."""

    state_dir: Path
    who: str = "unknown"
    clock: Clock = system_clock  # the real clock: marks carry its time
    at: datetime | None = None  # a rehearsal's starting instant
    #: ``--at`` as words to read against the trip once loaded ("09:00", an event...).
    at_phrase: str | None = None
    refresh: float = 60.0  # seconds between fetches of an address; 0: never
    sync: SyncConfig | None = None
    sources: tuple[TripSource, ...] = ()
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    theme: str | None = None  # a Textual theme from the config (None: Textual's default)
    #: Binding id -> keys, from the config's [keymap] (applied with Textual's keymaps).
    keymap: Mapping[str, str] = field(default_factory=dict)
    #: What was wrong in the config, already worded (the dashboard opens with defaults).
    config_problems: tuple[str, ...] = ()
    #: Warnings about the sync settings, already worded (a password in --sync URL).
    sync_warnings: tuple[str, ...] = ()
    #: 12 or 24: how every screen shows a time of day (the config's ``time_format``).
    time_format: int = 24
    #: Seconds on the header's clocks (the config's ``clock_seconds``): a frame a second.
    clock_seconds: bool = False


@dataclass(frozen=True)
class Applied:
    """What applying a poll's outcome to an open trip did."""

    entry: OpenTrip
    changes: list[Change] = field(default_factory=list)
    new_version: bool = False  # a new valid version is now in use
    problems: tuple[str, ...] = ()  # the new version's errors (the old one is kept)
    #: A valid new version that is another trip (another id): kept waiting for a yes.
    another_trip: AnotherTrip | None = None
    #: Set when the user accepted another trip: (old id, old title) of the one replaced.
    replaced: tuple[str, str] | None = None


@dataclass(frozen=True)
class SyncOutcome:
    """One trip's sync round, as the worker saw it."""

    result: SyncResult | None
    error: SyncError | None
    waiting: int  # marks the server has not shown it holds
    records_waiting: int = 0  # notes and shifts likewise


def order_trips(trips: Sequence[OpenTrip], now: datetime) -> list[OpenTrip]:
    """In progress first, then upcoming (soonest first), then past (latest first)."""
    if len(trips) < 2:
        return list(trips)  # nothing to order: don't index a 10,000-event trip twice

    def key(entry: OpenTrip) -> tuple[int, float]:
        schedule = Schedule.for_trip(entry.trip)
        first, last = schedule.first_instant, schedule.last_instant
        if first is None or last is None:
            return (3, 0.0)
        if first <= now < last:
            return (0, first.timestamp())
        if now < first:
            return (1, first.timestamp())
        return (2, -last.timestamp())

    return sorted(trips, key=key)


class Session:
    """The open trips, their marks, the changes seen and sync state, for one dashboard."""

    def __init__(
        self,
        trips: Sequence[Trip | OpenTrip],
        options: DashboardOptions,
        *,
        invalid: Sequence[TripInvalid] = (),
    ) -> None:
        self.options = options
        #: The dashboard's clock: the real one, or a rehearsal's.
        self.clock = TripClock(options.clock, options.at)
        entries = [t if isinstance(t, OpenTrip) else OpenTrip(t) for t in trips]
        self.open_trips: list[OpenTrip] = order_trips(entries, self.clock.now())
        self.invalid = list(invalid)
        # Raises StoreError when the state directory cannot hold a database.
        self.marks = Marks(options.state_dir, clock=options.clock, who=options.who)
        self.records = Records(self.marks.store, clock=options.clock, who=options.who)
        # Per trip id, this session's marks and shifts in the order made, for one undo
        # history over both: "mark" (the marks keep their own steps) or a ShiftStep.
        self._undo: dict[str, list[str | ShiftStep]] = {}
        self._redo: dict[str, list[str | ShiftStep]] = {}
        # Per key: (planned trip, shifts, lateness, expected trip), made once per change.
        self._late: dict[str, tuple[Trip, dict[str, Shift], Lateness, Trip]] = {}
        #: Every change seen this session, oldest first (the changes screen lists them).
        self.changes: list[SeenChange] = []
        # Reminders start at the first tick, after the first frame (see :attr:`reminders`);
        # from this instant, so that a stage coming before that tick still fires.
        self._reminders: SessionReminders | None = None
        self._opened = self.clock.now()
        #: The worst level of this laptop's clock told so far (see :meth:`record_sync`).
        self._clock_told = 0

    # -- trips ------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self.open_trips]

    def entry(self, key: str) -> OpenTrip:
        """The open trip under ``key`` (KeyError when there is none)."""
        for entry in self.open_trips:
            if entry.key == key:
                return entry
        raise KeyError(key)

    def find(self, key: str) -> OpenTrip | None:
        for entry in self.open_trips:
            if entry.key == key:
                return entry
        return None

    def trip(self, key: str) -> Trip:
        """The trip as planned: the version in use, as its file says."""
        return self.entry(key).trip

    def lateness(self, key: str) -> Lateness:
        """How late each event of the trip now runs, under the shifts in force."""
        return self._expected(key)[2]

    def expected_trip(self, key: str) -> Trip:
        """The trip with every moved event at its expected time (the plan when none moved)."""
        return self._expected(key)[3]

    def _expected(self, key: str) -> tuple[Trip, dict[str, Shift], Lateness, Trip]:
        trip = self.entry(key).trip
        shifts = self.records.shifts(trip.id)
        cached = self._late.get(key)
        if cached is not None and cached[0] is trip and cached[1] is shifts:
            return cached
        late = lateness(trip, shifts)
        made = self._late[key] = (trip, shifts, late, late.expected_trip())
        return made

    def schedule(self, key: str) -> Schedule:
        """The schedule the dashboard shows and counts down by: the expected times."""
        return Schedule.for_trip(self.expected_trip(key))

    def keys_of_trip_id(self, trip_id: str) -> list[str]:
        """The keys whose trip now has this id (marks are stored under trip ids)."""
        return [entry.key for entry in self.open_trips if entry.trip.id == trip_id]

    # -- marks ------------------------------------------------------------------------

    def done_ids(self, key: str) -> set[str]:
        """The done items of the trip under ``key``, as it is now."""
        return self.marks.done_ids(self.trip(key).id)

    def toggle(self, key: str, item_id: str) -> Mark:
        """Commit a mark flipping ``item_id``; raises StoreError when it cannot be saved."""
        trip_id = self.trip(key).id
        mark = self.marks.toggle(trip_id, item_id)
        self._undo.setdefault(trip_id, []).append("mark")
        self._redo.pop(trip_id, None)
        return mark

    def undo(self, key: str) -> Mark | Shift | None:
        """Undo this session's last mark or shift on the trip (None: nothing to undo).

        Undoing records the state before (history is kept, as for every record).
        """
        return self._step(key, self._undo, self._redo, undo=True)

    def redo(self, key: str) -> Mark | Shift | None:
        return self._step(key, self._redo, self._undo, undo=False)

    def _step(
        self,
        key: str,
        source: dict[str, list[str | ShiftStep]],
        target: dict[str, list[str | ShiftStep]],
        *,
        undo: bool,
    ) -> Mark | Shift | None:
        trip_id = self.trip(key).id
        stack = source.get(trip_id)
        if not stack:
            return None
        step = stack[-1]
        result: Mark | Shift | None
        if step == "mark":
            result = self.marks.undo(trip_id) if undo else self.marks.redo(trip_id)
        else:
            assert isinstance(step, ShiftStep)
            minutes, until, begun = (step.before or (0, None, False)) if undo else step.after
            result, _ = self.records.set_shift(
                trip_id, step.from_event, minutes, until, begun=begun
            )
        stack.pop()  # only once the record is committed (a failure keeps the step)
        target.setdefault(trip_id, []).append(step)
        return result

    def poll_marks(self) -> list[str]:
        """Keys whose marks, notes or shifts another process (or a sync) committed since
        the last look."""
        if not self.marks.store.changed_elsewhere():
            return []
        changed = set(self.marks.reload()) | set(self.records.reload())
        return [entry.key for entry in self.open_trips if entry.trip.id in changed]

    # -- notes and running late -----------------------------------------------------------

    def note(self, key: str, item_id: str) -> list[NoteVersion]:
        """The current versions of an item's note (none; one; several when in conflict)."""
        return self.records.note(self.trip(key).id, item_id)

    def notes(self, key: str) -> dict[str, list[NoteVersion]]:
        return self.records.notes(self.trip(key).id)

    def save_note(
        self, key: str, item_id: str, text: str, replaces: Sequence[str] | None = None
    ) -> list[NoteVersion]:
        """Commit a new version of an item's note, replacing the versions its writer saw
        (``replaces``; by default every current one: saving merges a conflict).

        A version saved elsewhere meanwhile is not in ``replaces`` and stays beside the
        new one, shown as a conflict: no text is dropped unseen. Raises RecordError (too
        long, not storable) or StoreError (not saved).
        """
        return self.records.save_note(self.trip(key).id, item_id, text, replaces)

    def annotations(self, key: str, item_id: str) -> Annotations:
        """The note and, for an event, the lateness and overlaps of one item, worded."""
        trip = self.trip(key)
        versions = self.note(key, item_id)
        notes = tuple(
            note_lines(versions, self.options.who, trip.home_tz, self.options.time_format)
        )
        late = self.lateness(key)
        delay = late.delays.get(item_id)
        overlaps = tuple(str(o) for o in late.overlapping(item_id))
        if delay is None:
            return Annotations(overlaps=overlaps, notes=notes, conflict=len(versions) > 1)
        planned = next((e for e in trip.events if e.id == item_id), None)
        source = next((e for e in trip.events if e.id == delay.shift.from_event), None)
        return Annotations(
            planned,
            delay.minutes,
            source.title if source is not None else "",
            overlaps,
            notes,
            len(versions) > 1,
        )

    def default_shift_event(self, key: str) -> Event | None:
        """Where "running late" starts by default: the event in progress, else the next."""
        schedule = self.schedule(key)
        now = self.clock.now()
        running = schedule.in_progress(now)
        candidate = running[-1] if running else schedule.find_next(now)
        if candidate is None:
            return None
        return self.trip(key).events[candidate.index]

    def shift(self, key: str, from_event: str, minutes: int, until: str | None = None) -> Shift:
        """Commit "running ``minutes`` late from ``from_event`` (until ``until``)".

        Raises ShiftInvalid (an unknown event, until before from...), RecordError
        (more than a day) or StoreError (not saved): nothing is stored then.
        """
        trip = self.trip(key)
        check_shift(trip, from_event, until)
        shift, step = self.records.set_shift(
            trip.id,
            from_event,
            minutes,
            until,
            begun=under_way(self.expected_trip(key), from_event, self.clock.now()),
        )
        self._undo.setdefault(trip.id, []).append(step)
        self._redo.pop(trip.id, None)
        self.marks.forget_redo(trip.id)
        return shift

    @property
    def store_notice(self) -> str | None:
        """What the store had to say when it opened (a database moved aside...)."""
        return self.marks.store.notice

    def close(self) -> None:
        if self._reminders is not None:
            self._reminders.close()
        self.records.close()
        self.marks.close()

    # -- reminders --------------------------------------------------------------------

    @property
    def reminders(self) -> SessionReminders:
        """Reminders of every open trip: trackers, notices shown, the once-only record.

        Made when first asked for (the first tick): planning a 10,000-event trip and
        opening the record are kept out of start-up.
        """
        if self._reminders is None:
            from tripdash.reminding import SessionReminders

            self._reminders = SessionReminders(
                self.options.reminders,
                self.options.state_dir,
                self.clock,
                real_clock=self.options.clock,
                opened=self._opened,
                time_format=self.options.time_format,
            )
        return self._reminders

    def reminder_notices(self, key: str) -> list[Notice]:
        """The notices shown for a trip (none before reminders started: cheap to ask)."""
        return [] if self._reminders is None else self._reminders.notices(key)

    def remind(self) -> Tick:
        """Once a second: reminders due now, missed ones, notices that changed."""
        return self.reminders.tick(self.open_trips, self.done_ids, self.expected_trip)

    # -- new versions -----------------------------------------------------------------

    def apply(self, key: str, loaded: Loaded) -> Applied | None:
        """Apply a poll's outcome: a new valid version replaces the trip in use.

        An invalid new version is reported in ``problems`` and the trip in use is kept.
        None when the key is no longer open.
        """
        entry = self.find(key)
        if entry is None:
            return None
        if entry.source is not None and entry.source.is_url:
            entry.status = loaded.status
        elif entry.source is not None:
            self._note_file_state(entry, loaded)
        if loaded.result is None:
            return Applied(entry, problems=loaded.problems, another_trip=loaded.another_trip)
        from tripdash.domain.diff import diff_trips

        old, new = entry.trip, loaded.result.trip
        if loaded.replaced is not None:
            # Another trip, accepted: not a list of changes to the old one.
            entry.trip = new
            return Applied(entry, new_version=True, replaced=loaded.replaced)
        changes = diff_trips(old, new, self.options.time_format)
        entry.trip = new
        seen = self.options.clock().astimezone(new.home_tz)
        self.changes.extend(SeenChange(seen, new.title, c) for c in changes)
        return Applied(entry, changes, new_version=True, problems=loaded.problems)

    def _note_file_state(self, entry: OpenTrip, loaded: Loaded) -> None:
        """Keep, until it is fixed, that the file on disk cannot be used (and since when)."""
        assert entry.source is not None
        errors = loaded.error_count
        if loaded.result is not None:
            entry.broken = entry.broken_since = None
            return
        if errors:
            broken = f"{entry.source.display} is not valid ({errors} error{'s' * (errors != 1)})"
        elif loaded.status.reason and loaded.another_trip is None:
            broken = loaded.status.reason  # deleted or unreadable
        else:
            return  # unchanged since the last look (still broken, or fine)
        if entry.broken is None:
            entry.broken_since = self.options.clock()
        entry.broken = broken

    @property
    def cannot_save(self) -> str | None:
        """Why marks cannot be saved (a read-only or full disk), else None."""
        return self.marks.store.cannot_save

    def waiting_keys(self) -> list[str]:
        """Keys whose source holds another trip, waiting for the user to accept it."""
        return [
            e.key for e in self.open_trips if e.source is not None and e.source.waiting is not None
        ]

    # -- team sync ----------------------------------------------------------------------

    @property
    def syncing(self) -> bool:
        return self.options.sync is not None

    def sync_round(self) -> dict[str, SyncOutcome]:
        """One round for every open trip, with a connection of its own (for a worker thread).

        Raises StoreError when the store cannot be opened.
        """
        from tripdash.domain.sync import SyncError, sync_once

        config = self.options.sync
        if config is None:
            return {}
        store = MarkStore(self.options.state_dir, clock=self.options.clock)
        outcomes: dict[str, SyncOutcome] = {}
        try:
            for entry in list(self.open_trips):
                trip_id = entry.trip.id
                try:
                    result = sync_once(store, trip_id, config)
                    outcomes[entry.key] = SyncOutcome(
                        result, None, result.waiting, result.records_waiting
                    )
                except SyncError as exc:
                    waiting = store.count_unsynced(trip_id, config.server)
                    records = RecordStore(store, clock=self.options.clock)
                    held = records.count_unsynced(trip_id, config.server)
                    outcomes[entry.key] = SyncOutcome(None, exc, waiting, held)
        finally:
            store.close()
        return outcomes

    def record_sync(self, outcomes: dict[str, SyncOutcome]) -> list[tuple[str, str]]:
        """Keep each trip's sync state; return what is worth a notice, as (title, text):
        new errors, and this laptop's clock found far from the server's.

        The clock is the laptop's, not a trip's: it is told once, whatever the number of
        trips open, again only when it gets worse (off by minutes, then refused), and
        anew once every trip has seen it come right.
        """
        from tripdash.domain.clockskew import NEAR, describe_skew

        now = self.options.clock()
        notices: list[tuple[str, str]] = []
        for key, outcome in outcomes.items():
            entry = self.find(key)
            if entry is None:
                continue
            before = entry.sync
            after = before.after(now, outcome.result, outcome.error)
            entry.sync = replace(
                after, waiting=outcome.waiting, records_waiting=outcome.records_waiting
            )
            error = outcome.error
            if error is not None and not error.offline and before.error != after.error:
                notices.append(("Sync failed", str(error)))
        states = [entry.sync for entry in self.open_trips]
        worst = max(states, key=lambda state: state.skew_level, default=None)
        if worst is None or worst.skew_level == NEAR:
            self._clock_told = NEAR
        elif worst.skew_level > self._clock_told:
            self._clock_told = worst.skew_level
            text = describe_skew(
                worst.skew_ms, marks_ahead_ms=worst.marks_ahead_ms, level=worst.skew_level
            )
            notices.append(("Clock", text[:1].upper() + text[1:] + "."))
        return notices
