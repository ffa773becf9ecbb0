"""The Textual app: Textual's part only (timers, workers, notices, screens, broadcasts).

What the dashboard knows lives in the Textual-free :class:`~tripdash.session.Session`
(open trips, marks, changes, sync state); screens are handed it. :func:`make_app` is
the factory: it receives the trips (or their sources), the clock and the state
directory, so tests never depend on the real time or the real home directory. New
versions of a trip are looked for in worker threads, so the screen never freezes
while a file is parsed or an address fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Iterable, Sequence
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

from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.sources import Loaded
from tripdash.domain.store import StoreError
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import Clock, system_clock
from tripdash.live import OpenTrip
from tripdash.messages import (
    FirstFramePainted,
    ItemMarked,
    MarksChanged,
    NoteSaved,
    ScheduleShifted,
    TripReloaded,
)
from tripdash.session import DashboardOptions, Session, SyncOutcome

if TYPE_CHECKING:
    from textual.driver import Driver

    from tripdash.domain.reminders import ReminderSettings
    from tripdash.domain.sync import SyncConfig
    from tripdash.reminding import Alert

#: Every how many seconds local trip files are checked for changes (a stat; parsing only
#: on change).
FILE_POLL_SECONDS = 2
#: How often marks are synced with the team's server, when one is configured.
SYNC_SECONDS = 15.0


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
        # Shown only while a file or address holds another trip (check_action).
        Binding("A", "accept_new_trip", "Open the new trip", id="app.accept-new-trip"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        options = session.options
        if options.theme is not None:
            self.theme = options.theme
        if options.keymap:
            # Textual's keymaps: the key bar, help and palette read the same bindings.
            self.set_keymap(dict(options.keymap))
        #: True once the first frame is on the terminal (see :meth:`on_ready`).
        self.painted = False
        #: The thread of the sync round in progress, or of the last one (see _sync_worker).
        self.sync_thread: threading.Thread | None = None

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on POSIX one whose input thread sleeps
        until a key comes (Textual's polls ten times a second: see tripdash.driver)."""
        from textual import constants

        driver = super().get_driver_class()
        # Not on Windows, nor when TEXTUAL_DRIVER names a driver (the tests compare).
        if constants.DRIVER is None and driver.__qualname__ == "LinuxDriver":
            from tripdash.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return driver

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

    # -- start-up -----------------------------------------------------------------------

    def on_mount(self) -> None:
        # One timer for the cheap once-a-second checks: each timer is a wake-up of its own,
        # and an idle dashboard should wake as rarely as its clock needs.
        self._seconds = 0
        self.set_interval(1.0, self._every_second, name="poll")
        session = self.session
        refresh = session.options.refresh
        if refresh > 0 and any(e.source and e.source.is_url for e in session.open_trips):
            self.set_interval(refresh, self._poll_urls, name="url-poll")
        if session.syncing:
            self.set_interval(SYNC_SECONDS, self.action_sync, name="sync")
            self.call_after_refresh(self.action_sync)
        if session.options.config_problems:
            shown = list(session.options.config_problems[:5])
            more = len(session.options.config_problems) - len(shown)
            self.notify(
                "\n".join(shown) + (f"\n… and {more} more" if more > 0 else ""),
                title="Settings ignored (the defaults are used): run `tripdash config`",
                severity="warning",
                timeout=20,
            )
        for warning in session.options.sync_warnings:  # stderr is hidden by the screen
            self.notify(warning, title="Sync", severity="warning", timeout=30)
        if session.store_notice:
            self.notify(session.store_notice, title="Marks", severity="error", timeout=30)
        for bad in session.invalid:
            self.notify(
                f"{bad.source}: {bad.error_count} error(s); run `tripdash check` for details",
                title="A trip file could not be loaded",
                severity="warning",
                timeout=10,
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
        self.session.close()

    # -- screens ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        """The first screen: the trip's dashboard, or the picker when there are several.

        Built here rather than pushed from ``on_mount``: a screen pushed while the app
        mounts is composed inside Textual's start-up batch, whose first frame is thrown
        away, so the terminal would wait for a second frame (about 40 ms).
        """
        session = self.session
        if len(session.open_trips) == 1 and not session.invalid:
            return self._dashboard(session.open_trips[0].key)
        return self._picker()

    def _dashboard(self, key: str) -> Screen[None]:
        from tripdash.screens.dashboard import DashboardScreen

        return DashboardScreen(self.session, key, painted=lambda: self.painted)

    def _picker(self) -> Screen[None]:
        from tripdash.screens.picker import PickerScreen

        return PickerScreen(self.session, self.open_trip)

    def _close_to_base(self) -> None:
        """Close every screen opened over the first one (the picker or the only dashboard)."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def open_trip(self, key: str) -> None:
        """Show a trip's dashboard over the picker (closing any other dashboard)."""
        self._close_to_base()
        self.push_screen(self._dashboard(key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One trip: nothing to pick; no server: nothing to sync. Keep those keys out of
        # the footer, help and palette.
        if action == "pick_trip":
            return len(self.session.open_trips) + len(self.session.invalid) >= 2
        if action == "sync":
            return self.session.syncing
        if action == "accept_new_trip":
            return bool(self.session.waiting_keys())
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
            self.push_screen(ChangesScreen(self.session.changes, self.session.options.time_format))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from tripdash.commands import binding_commands

        yield from super().get_system_commands(screen)
        yield from binding_commands(screen)

    def _broadcast(self, message: Message) -> None:
        """Tell every open screen (the messages do not bubble, so each sees it once)."""
        for screen in self.screen_stack:
            screen.post_message(message)

    # -- marks ------------------------------------------------------------------------

    def on_item_marked(self, message: ItemMarked) -> None:
        """A screen committed a mark: every screen shows it (the committing one confirms)."""
        self._broadcast(message)
        self._broadcast(MarksChanged(message.key, frozenset({message.mark.item_id})))

    def on_note_saved(self, message: NoteSaved) -> None:
        """A note was committed: every screen of its trip shows it."""
        self._broadcast(message)

    def on_schedule_shifted(self, message: ScheduleShifted) -> None:
        """A shift was committed: every screen of its trip moves its times."""
        self._broadcast(message)

    def _poll_marks(self) -> None:
        """Once a second: did another process commit marks? Then redraw (within 2 s)."""
        for key in self.session.poll_marks():
            self._broadcast(MarksChanged(key))

    # -- team sync ----------------------------------------------------------------------

    def action_sync(self) -> None:
        """Sync every open trip's marks with the team's server now (also every 15 s)."""
        if not self.session.syncing:
            return
        if self.sync_thread is not None and self.sync_thread.is_alive():
            return  # a round is under way (a slow server): it reports when it ends
        self._sync_worker()

    @work(exclusive=True, group="sync")
    async def _sync_worker(self) -> None:
        """One round per trip, in a daemon thread with its own connection, awaited here.

        Not one of Textual's thread workers: those run in asyncio's default executor,
        which is joined when the app's loop ends, so `q` during a round with a slow or
        silent server would wait for the round's time limit (60 s) before the program
        ended. A daemon thread is left behind at exit; what it committed is committed,
        and an unfinished transaction is rolled back by SQLite, as after a crash.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, SyncOutcome]] = loop.create_future()

        def deliver(outcomes: dict[str, SyncOutcome] | None, error: BaseException | None) -> None:
            if done.done():  # the worker was cancelled (the app is quitting)
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(outcomes or {})

        def one_round() -> None:
            outcomes: dict[str, SyncOutcome] | None = None
            error: BaseException | None = None
            try:
                outcomes = self.session.sync_round()
            except Exception as exc:  # StoreError, or a bug: raised in the worker below
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app has quit
                loop.call_soon_threadsafe(deliver, outcomes, error)

        self.sync_thread = threading.Thread(target=one_round, name="tripdash-sync", daemon=True)
        self.sync_thread.start()
        try:
            outcomes = await done
        except StoreError as exc:
            self.notify(str(exc), title="Sync", severity="error")
            return
        self._synced(outcomes)

    def _synced(self, outcomes: dict[str, SyncOutcome]) -> None:
        for title, text in self.session.record_sync(outcomes):
            self.notify(text, title=title, severity="warning" if title == "Clock" else "error")
        # Pulled marks reach the screens through the store's change signal (another
        # connection committed them); look now rather than within the next second.
        self._poll_marks()

    # -- new versions of trips ---------------------------------------------------------------

    def _every_second(self) -> None:
        self._seconds += 1
        self._poll_marks()  # other processes' marks show within two seconds
        self.check_reminders()
        if self._seconds % FILE_POLL_SECONDS == 0:
            self._poll_files()

    def _poll_files(self) -> None:
        for entry in self.session.open_trips:
            # A stat here; a worker thread (to parse) only when the file changed.
            source = entry.source
            if source is not None and not source.is_url and source.looks_changed():
                self._poll_source(entry.key)

    def _poll_urls(self) -> None:
        for entry in self.session.open_trips:
            if entry.source is not None and entry.source.is_url:
                self._poll_source(entry.key)

    def action_refresh(self) -> None:
        """Look for a new version of every trip now (`r`)."""
        polled = False
        for entry in self.session.open_trips:
            if entry.source is not None:
                self._poll_source(entry.key, by_hand=True)
                polled = True
        if not polled:
            self.notify("Nothing to reload: these trips have no file or address")

    def action_accept_new_trip(self) -> None:
        """Replace the trip in use by the other trip its file or address now holds (`A`)."""
        from tripdash.screens.base import TripScreen

        waiting = self.session.waiting_keys()
        current = self.screen.key if isinstance(self.screen, TripScreen) else None
        for key in [current] if current in waiting else waiting:
            self._accept_worker(key)

    @work(thread=True, exclusive=False, group="poll")
    def _accept_worker(self, key: str) -> None:
        entry = self.session.find(key)
        if entry is None or entry.source is None:
            return
        loaded = entry.source.accept_new_trip()  # writes the cache for an address
        self.call_from_thread(self._apply, key, loaded, False)

    @work(thread=True, exclusive=False, group="poll")
    def _poll_source(self, key: str, by_hand: bool = False) -> None:
        """In a worker thread: poll one source, then apply the outcome on the UI thread."""
        entry = self.session.find(key)
        if entry is None or entry.source is None:
            return
        try:
            loaded = entry.source.poll()
        except Exception as exc:  # a poll must never take the dashboard down
            loaded = Loaded(None, entry.status, (f"{entry.source.display}: {exc}",))
        self.call_from_thread(self._apply, key, loaded, by_hand)

    def _apply(self, key: str, loaded: Loaded, by_hand: bool) -> None:
        applied = self.session.apply(key, loaded)
        if applied is None:
            return
        trip = applied.entry.trip
        if applied.problems:
            shown = "\n".join(applied.problems[:3])
            more = len(applied.problems) - 3
            self.notify(
                shown + (f"\n… and {more} more" if more > 0 else ""),
                title="New version not valid: keeping the current schedule",
                severity="error",
                timeout=15,
            )
        if applied.another_trip is not None and applied.entry.source is not None:
            self.notify(
                applied.another_trip.describe(applied.entry.source.display)
                + ". Press A to open it instead (the schedule in use is kept until then).",
                title="Another trip",
                severity="warning",
                timeout=30,
            )
            self.refresh_bindings()
        self._broadcast(TripReloaded(key, trip, applied.changes))
        if applied.replaced is not None:
            old_id, old_title = applied.replaced
            self.notify(
                f"Now showing {trip.title} (id {trip.id}). The marks of {old_title} "
                f"(id {old_id}) stay under its id.",
                title="Another trip",
                timeout=10,
            )
            self.refresh_bindings()
            return
        changes = applied.changes
        if changes:
            lines = [str(c) for c in changes[:6]]
            if len(changes) > 6:
                lines.append(f"… and {len(changes) - 6} more: press d to see them all")
            self.notify(
                "\n".join(lines),
                title=f"Schedule changed: {trip.title}",
                severity="warning",
                timeout=20,
            )
        elif by_hand and applied.new_version:
            self.notify(f"{trip.title}: no changes", timeout=3)
        elif by_hand and not applied.problems:
            note = applied.entry.status.reason or applied.entry.broken or "no new version"
            self.notify(f"{trip.title}: {note}", timeout=3)

    # -- reminders ------------------------------------------------------------------------

    def check_reminders(self) -> None:
        """Once a second (a comparison per trip until one is due): fire what is due, show
        a summary of what was missed, take away notices whose event started."""
        from tripdash.screens.reminding import RemindersChanged

        tick = self.session.remind()
        for problem in tick.problems:
            self.notify(problem, title="Reminders", severity="warning", timeout=15)
        for alert in tick.alerts:
            self._alert(alert)
        for key in tick.changed:
            self._broadcast(RemindersChanged(key))

    def _alert(self, alert: Alert) -> None:
        """Bell, desktop notification and command for a reminder this process claimed."""
        import os

        from tripdash.domain.reminders import desktop_notification

        if alert.bell:
            self.bell()
        if alert.desktop:
            tmux = bool(os.environ.get("TMUX"))
            self.write_to_terminal(desktop_notification(alert.title, alert.text, tmux=tmux))
        if alert.command is not None:
            self._run_reminder_command(alert.command, alert.environment)
        if getattr(self.screen, "key", None) != alert.key or not hasattr(
            self.screen, "show_reminders"
        ):
            # Its dashboard is not in front (the picker, an event box): a toast as well.
            self.notify(alert.text, title=alert.title, severity="warning", timeout=30)

    def write_to_terminal(self, data: str) -> None:
        """Write escape sequences to the terminal, after what Textual has drawn so far."""
        if self._driver is not None and not self.is_headless:
            self._driver.write(data)

    @work(thread=True, exclusive=False, group="reminder-command")
    def _run_reminder_command(self, command: str, environment: dict[str, str]) -> None:
        """In a worker thread: the screen never waits for it; killed after 10 s."""
        from tripdash.domain.reminders import run_command

        timeout = self.session.reminders.settings.command_timeout
        outcome = run_command(command, environment, timeout=timeout)
        if not outcome.ok:
            self.call_from_thread(
                self.notify, outcome.message, title="Reminder command", severity="error"
            )


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
    reminders: ReminderSettings | None = None,
) -> TripDashApp:
    """Build the app for ``trips`` with an injected clock and state directory (for tests)."""
    options = DashboardOptions(
        state_dir=state_dir, who=who, clock=clock, at=at, refresh=refresh, sync=sync
    )
    if reminders is not None:
        options = replace(options, reminders=reminders)
    return TripDashApp(Session(trips, options, invalid=invalid))


def run_dashboard(options: DashboardOptions) -> int:
    """Load every source and run the dashboard; 1 when no trip could be loaded."""
    import sys

    from tripdash.domain.sources import FetchError

    entries: list[OpenTrip] = []
    invalid: list[TripInvalid] = []
    failed: list[str] = []
    for source in options.sources:
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
    if entries and options.at_phrase is not None:
        from tripdash.domain.phrases import PhraseError, resolve

        try:
            jump = resolve(options.at_phrase, entries[0].trip, options.clock())
        except PhraseError as exc:
            print(f"tripdash: --at: {one_line(str(exc))}", file=sys.stderr)
            return 2
        options = replace(options, at=jump.instant, at_phrase=None)
    if not entries:
        for bad in invalid:
            for problem in bad.problems:
                print(problem, file=sys.stderr)
        for line in failed:
            print(one_line(line), file=sys.stderr)
        return 1
    try:
        app = TripDashApp(Session(entries, options, invalid=invalid))
    except StoreError as exc:
        print(f"tripdash: {one_line(str(exc))}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
