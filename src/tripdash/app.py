"""The Textual app: wiring only. Screens and widgets live in their own modules.

:func:`make_app` is the factory: it receives the trips (or their sources), the
clock and the state directory, so tests never depend on the real time or the
real home directory. Marks are handled by :class:`tripdash.marks.Marks`; new
versions of a trip are looked for in worker threads, so the screen never
freezes while a file is parsed or an address fetched.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tripdash.domain.clock import TripClock
from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.sources import Loaded, TripSource
from tripdash.domain.store import Mark, MarkStore, StoreError
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import Clock, system_clock
from tripdash.live import OpenTrip, SeenChange, SyncState
from tripdash.marks import Marks
from tripdash.messages import FirstFramePainted, ItemMarked, MarksChanged, TripReloaded

if TYPE_CHECKING:
    from tripdash.domain.sync import SyncConfig, SyncError, SyncResult

#: Every how many seconds local trip files are checked for changes (a stat; parsing only
#: on change).
FILE_POLL_SECONDS = 2
#: How often marks are synced with the team's server, when one is configured.
SYNC_SECONDS = 15.0


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


class TripDashApp(App[int]):
    """tripdash: one trip's dashboard, or a picker of several."""

    CSS_PATH = "app.tcss"
    TITLE = "tripdash"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("o", "pick_trip", "Trips", id="app.trips"),
        Binding("r", "refresh", "Reload", show=False, id="app.refresh"),
        Binding("d", "changes", "Changes", show=False, id="app.changes"),
        Binding("s", "sync", "Sync now", show=False, id="app.sync"),
    ]

    def __init__(
        self,
        trips: Sequence[OpenTrip],
        *,
        state_dir: Path,
        clock: Clock = system_clock,
        at: datetime | None = None,
        invalid: Sequence[TripInvalid] = (),
        who: str = "unknown",
        refresh: float = 60.0,
        sync: SyncConfig | None = None,
    ) -> None:
        super().__init__()
        self.real_clock = clock
        self.clock = TripClock(clock, at)
        self.open_trips = order_trips(trips, self.clock.now())
        self.invalid = list(invalid)
        self.state_dir = state_dir
        self.marks = Marks(state_dir, clock=clock, who=who)
        self.refresh_seconds = refresh
        #: Every change seen this session, oldest first (the changes screen lists them).
        self.changes: list[SeenChange] = []
        self.sync_config = sync
        #: Team sync's state per trip id (see :meth:`action_sync`).
        self.sync_states: dict[str, SyncState] = {}
        #: True once the first frame is on the terminal (see :meth:`on_ready`).
        self.painted = False

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice, from every screen, goes through the terminal-safe function here.

        Notices quote trip titles, file names and servers' messages; Textual writes a
        toast's text to the terminal as it is, control characters included, even with
        ``markup=False``. Markup is never interpreted, whatever the caller asks.
        """
        super().notify(
            safe_text(message),
            title=one_line(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    @property
    def trips(self) -> list[Trip]:
        return [entry.trip for entry in self.open_trips]

    def entry_for(self, key: str) -> OpenTrip | None:
        for entry in self.open_trips:
            if entry.key == key:
                return entry
        return None

    # -- start-up -----------------------------------------------------------------------

    def on_mount(self) -> None:
        # One timer for the cheap once-a-second checks: each timer is a wake-up of its own,
        # and an idle dashboard should wake as rarely as its clock needs.
        self._seconds = 0
        self.set_interval(1.0, self._every_second, name="poll")
        if self.refresh_seconds > 0 and any(e.source and e.source.is_url for e in self.open_trips):
            self.set_interval(self.refresh_seconds, self._poll_urls, name="url-poll")
        if self.sync_config is not None:
            self.set_interval(SYNC_SECONDS, self.action_sync, name="sync")
            self.call_after_refresh(self.action_sync)
        if self.marks.store.notice:
            self.notify(
                self.marks.store.notice, title="Marks", severity="error", timeout=30, markup=False
            )
        for bad in self.invalid:
            self.notify(
                f"{bad.source}: {len(bad.errors)} error(s); run `tripdash check` for details",
                title="A trip file could not be loaded",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def on_ready(self) -> None:
        """The first frame is painted (Textual's Ready): start what was kept out of its way."""
        self.painted = True
        # What start-up made (screens, styles) joins the trips frozen after loading; its
        # garbage is collected first so that none is kept. A few milliseconds, because
        # the trips are frozen already (see freeze_loaded).
        freeze_loaded(collect=True)
        self.screen.post_message(FirstFramePainted())

    def on_unmount(self) -> None:
        self.marks.close()

    # -- screens ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        """The first screen: the trip's dashboard, or the picker when there are several.

        Built here rather than pushed from ``on_mount``: a screen pushed while the app
        mounts is composed inside Textual's start-up batch, whose first frame is thrown
        away, so the terminal would wait for a second frame (about 40 ms).
        """
        if len(self.open_trips) == 1 and not self.invalid:
            return self._dashboard(self.open_trips[0])
        return self._picker()

    def _dashboard(self, entry: OpenTrip) -> Screen[None]:
        from tripdash.screens.dashboard import DashboardScreen

        return DashboardScreen(entry, self.clock)

    def _picker(self) -> Screen[None]:
        from tripdash.screens.picker import PickerScreen

        return PickerScreen(self.open_trips, self.invalid, self.clock.now, self.open_trip)

    def _close_to_base(self) -> None:
        """Close every screen opened over the first one (the picker or the only dashboard)."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def open_trip(self, entry: OpenTrip) -> None:
        """Show a trip's dashboard over the picker (closing any other dashboard)."""
        self._close_to_base()
        self.push_screen(self._dashboard(entry))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One trip: nothing to pick; no server: nothing to sync. Keep those keys out of
        # the footer, help and palette.
        if action == "pick_trip":
            return len(self.open_trips) + len(self.invalid) >= 2
        if action == "sync":
            return self.sync_config is not None
        return True

    def action_pick_trip(self) -> None:
        """Back to the list of trips (the first screen whenever there are several)."""
        self._close_to_base()

    def action_help(self) -> None:
        from tripdash.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_changes(self) -> None:
        from tripdash.screens.changes import ChangesScreen

        if not isinstance(self.screen, ChangesScreen):
            self.push_screen(ChangesScreen(self.changes))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from tripdash.commands import binding_commands

        yield from super().get_system_commands(screen)
        yield from binding_commands(screen)

    def _broadcast(self, message: Message) -> None:
        for screen in self.screen_stack:
            screen.post_message(message)

    # -- marks ------------------------------------------------------------------------

    def done_ids(self, trip_id: str) -> set[str]:
        return self.marks.done_ids(trip_id)

    def _marked(self, trip: Trip, item_id: str, done: bool) -> None:
        # The screens confirm it (the dashboard in its header, others with a notice).
        self._broadcast(MarksChanged(trip.id, frozenset({item_id})))

    def toggle_mark(self, trip: Trip, item_id: str) -> None:
        """Commit the mark, then show it (never the other way round)."""
        self._commit(trip, lambda: self.marks.toggle(trip.id, item_id), "")

    def undo_mark(self, trip: Trip) -> None:
        self._commit(trip, lambda: self.marks.undo(trip.id), "Nothing to undo")

    def redo_mark(self, trip: Trip) -> None:
        self._commit(trip, lambda: self.marks.redo(trip.id), "Nothing to redo")

    def _commit(self, trip: Trip, write: Callable[[], Mark | None], nothing: str) -> None:
        try:
            mark = write()
        except StoreError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10, markup=False)
            return
        if mark is None:
            self.notify(nothing, timeout=2, markup=False)
            return
        self._broadcast(ItemMarked(mark))
        self._marked(trip, mark.item_id, mark.done)

    def _poll_marks(self) -> None:
        """Once a second: did another process commit marks? Then redraw (within 2 s)."""
        for trip_id in self.marks.reload_if_changed():
            self._broadcast(MarksChanged(trip_id))

    # -- team sync ----------------------------------------------------------------------

    def action_sync(self) -> None:
        """Sync every open trip's marks with the team's server now (also every 15 s)."""
        if self.sync_config is not None:
            self._sync_worker()

    @work(thread=True, exclusive=True, group="sync")
    def _sync_worker(self) -> None:
        """In a worker thread, with its own connection: one round per trip."""
        from tripdash.domain.sync import SyncError, sync_once

        config = self.sync_config
        if config is None:
            return
        try:
            store = MarkStore(self.state_dir, clock=self.real_clock)
        except StoreError as exc:
            self.call_from_thread(self._synced, {}, str(exc))
            return
        outcomes: dict[str, tuple[SyncResult | None, SyncError | None, int]] = {}
        try:
            for entry in list(self.open_trips):
                trip_id = entry.trip.id
                try:
                    result = sync_once(store, trip_id, config)
                    outcomes[trip_id] = (result, None, result.waiting)
                except SyncError as exc:
                    outcomes[trip_id] = (None, exc, store.count_unsynced(trip_id, config.server))
        finally:
            store.close()
        self.call_from_thread(self._synced, outcomes, None)

    def _synced(
        self,
        outcomes: dict[str, tuple[SyncResult | None, SyncError | None, int]],
        fatal: str | None,
    ) -> None:
        if fatal is not None:
            self.notify(fatal, title="Sync", severity="error", markup=False)
            return
        now = self.real_clock()
        for trip_id, (result, error, waiting) in outcomes.items():
            before = self.sync_states.get(trip_id, SyncState())
            after = before.after(now, result, error)
            self.sync_states[trip_id] = replace(after, waiting=waiting)
            if error is not None and not error.offline and before.error != after.error:
                self.notify(str(error), title="Sync failed", severity="error", markup=False)
        # Pulled marks reach the screens through the store's change signal (another
        # connection committed them); look now rather than within the next second.
        self._poll_marks()

    # -- new versions of trips ---------------------------------------------------------------

    def _every_second(self) -> None:
        self._seconds += 1
        self._poll_marks()  # other processes' marks show within two seconds
        if self._seconds % FILE_POLL_SECONDS == 0:
            self._poll_files()

    def _poll_files(self) -> None:
        for entry in self.open_trips:
            # A stat here; a worker thread (to parse) only when the file changed.
            source = entry.source
            if source is not None and not source.is_url and source.looks_changed():
                self._poll_source(entry.key)

    def _poll_urls(self) -> None:
        for entry in self.open_trips:
            if entry.source is not None and entry.source.is_url:
                self._poll_source(entry.key)

    def action_refresh(self) -> None:
        """Look for a new version of every trip now (`r`)."""
        polled = False
        for entry in self.open_trips:
            if entry.source is not None:
                self._poll_source(entry.key, by_hand=True)
                polled = True
        if not polled:
            self.notify("Nothing to reload: these trips have no file or address", markup=False)

    @work(thread=True, exclusive=False, group="poll")
    def _poll_source(self, key: str, by_hand: bool = False) -> None:
        """In a worker thread: poll one source, then apply the outcome on the UI thread."""
        entry = self.entry_for(key)
        if entry is None or entry.source is None:
            return
        try:
            loaded = entry.source.poll()
        except Exception as exc:  # a poll must never take the dashboard down
            loaded = Loaded(None, entry.status, (f"{entry.source.display}: {exc}",))
        self.call_from_thread(self._apply, key, loaded, by_hand)

    def _apply(self, key: str, loaded: Loaded, by_hand: bool) -> None:
        entry = self.entry_for(key)
        if entry is None:
            return
        if entry.source is not None and entry.source.is_url:
            entry.status = loaded.status
        if loaded.problems:
            shown = "\n".join(loaded.problems[:3])
            more = len(loaded.problems) - 3
            self.notify(
                shown + (f"\n… and {more} more" if more > 0 else ""),
                title="New version not valid: keeping the current schedule",
                severity="error",
                timeout=15,
                markup=False,
            )
        if loaded.result is None:
            if by_hand and not loaded.problems:
                note = loaded.status.reason or "no new version"
                self.notify(f"{entry.trip.title}: {note}", timeout=3, markup=False)
            self._broadcast(TripReloaded(key, entry.trip, []))
            return
        from tripdash.domain.diff import diff_trips

        old, new = entry.trip, loaded.result.trip
        changes = diff_trips(old, new)
        entry.trip = new
        seen = self.real_clock().astimezone(new.home_tz)
        self.changes.extend(SeenChange(seen, new.title, c) for c in changes)
        self._broadcast(TripReloaded(key, new, changes))
        if changes:
            lines = [str(c) for c in changes[:6]]
            if len(changes) > 6:
                lines.append(f"… and {len(changes) - 6} more: press d to see them all")
            self.notify(
                "\n".join(lines),
                title=f"Schedule changed: {one_line(new.title)}",
                severity="warning",
                timeout=20,
                markup=False,
            )
        elif by_hand:
            self.notify(f"{new.title}: no changes", timeout=3, markup=False)


def freeze_loaded(*, collect: bool = False) -> None:
    """Move every object alive now out of the garbage collector's way (``gc.freeze``).

    Called once the trips are loaded: they live as long as the process and are never
    mutated, yet each full collection walked their tens of thousands of objects and
    stalled a key press by 30-40 ms on a 10,000-event trip. Loading makes no cyclic
    garbage (``gc.collect()`` right after a load finds nothing), so nothing is frozen
    for nothing; ``collect=True`` collects first, for later moments that may have some.
    """
    if collect:
        gc.collect()
    gc.freeze()


def make_app(
    trips: Sequence[Trip | OpenTrip],
    *,
    state_dir: Path,
    clock: Clock = system_clock,
    at: datetime | None = None,
    invalid: Sequence[TripInvalid] = (),
    who: str = "unknown",
    refresh: float = 60.0,
    sync: SyncConfig | None = None,
) -> TripDashApp:
    """Build the app for ``trips`` with an injected clock and state directory."""
    entries = [t if isinstance(t, OpenTrip) else OpenTrip(t) for t in trips]
    return TripDashApp(
        entries,
        state_dir=state_dir,
        clock=clock,
        at=at,
        invalid=invalid,
        who=who,
        refresh=refresh,
        sync=sync,
    )


def run_dashboard(
    sources: Sequence[TripSource],
    *,
    state_dir: Path,
    who: str,
    at: datetime | None = None,
    refresh: float = 60.0,
    sync: SyncConfig | None = None,
) -> int:
    """Load every source and run the dashboard; 1 when no trip could be loaded."""
    import sys

    from tripdash.domain.sources import FetchError

    entries: list[OpenTrip] = []
    invalid: list[TripInvalid] = []
    failed: list[str] = []
    for source in sources:
        try:
            loaded = source.load()
        except TripInvalid as exc:
            invalid.append(exc)
            continue
        except (FetchError, OSError) as exc:
            failed.append(f"tripdash: {source.display}: {exc}")
            continue
        assert loaded.result is not None
        entries.append(OpenTrip(loaded.result.trip, source, loaded.status))
    freeze_loaded()
    if not entries:
        for bad in invalid:
            for problem in bad.problems:
                print(problem, file=sys.stderr)
        for line in failed:
            print(line, file=sys.stderr)
        return 1
    try:
        app = make_app(
            entries,
            at=at,
            invalid=invalid,
            state_dir=state_dir,
            who=who,
            refresh=refresh,
            sync=sync,
        )
    except StoreError as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
