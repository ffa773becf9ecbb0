"""The Textual app: wiring only. Screens and widgets live in their own modules.

:func:`make_app` is the factory: it receives the trips, the clock and the
paths, so tests never depend on the real time or the real home directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from tripdash.commands import binding_commands
from tripdash.domain import loader
from tripdash.domain.clock import TripClock
from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.schedule import Schedule, one_line
from tripdash.domain.store import MarkStore, StoreError
from tripdash.domain.times import Clock, system_clock
from tripdash.messages import ItemMarked, MarksChanged


def order_trips(trips: Sequence[Trip], now: datetime) -> list[Trip]:
    """In progress first, then upcoming (soonest first), then past (latest first)."""
    if len(trips) < 2:
        return list(trips)  # nothing to order: don't index a 10,000-event trip twice

    def key(trip: Trip) -> tuple[int, float]:
        schedule = Schedule(trip)
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
    ]

    def __init__(
        self,
        trips: Sequence[Trip],
        *,
        state_dir: Path,
        clock: Clock = system_clock,
        at: datetime | None = None,
        invalid: Sequence[TripInvalid] = (),
        who: str = "unknown",
    ) -> None:
        super().__init__()
        self.clock = TripClock(clock, at)
        self.trips = order_trips(trips, self.clock.now())
        self.invalid = list(invalid)
        self.state_dir = state_dir
        self.who = who
        # Marks carry the real time of marking, never the rehearsal clock's.
        self.store = MarkStore(state_dir, clock=clock)
        self._done: dict[str, set[str]] = {}
        self._undo: dict[str, list[tuple[str, bool]]] = {}
        self._redo: dict[str, list[tuple[str, bool]]] = {}

    # -- marks ------------------------------------------------------------------------

    def done_ids(self, trip_id: str) -> set[str]:
        """The done items of a trip (read from the store once, then kept current)."""
        if trip_id not in self._done:
            self._done[trip_id] = self.store.done_ids(trip_id)
        return self._done[trip_id]

    def set_mark(self, trip: Trip, item_id: str, done: bool, *, record: bool = True) -> None:
        """Commit a mark, then update the screens and confirm it (in that order)."""
        previous = item_id in self.done_ids(trip.id)
        mark = self.store.mark(trip.id, item_id, done, self.who)  # committed on return
        current = self.done_ids(trip.id)
        if done:
            current.add(item_id)
        else:
            current.discard(item_id)
        if record:
            self._undo.setdefault(trip.id, []).append((item_id, previous))
            self._redo.pop(trip.id, None)
        self._broadcast(ItemMarked(mark))
        self._broadcast(MarksChanged(trip.id))
        label = trip.items().get(item_id, item_id)
        verb = "Done" if done else "Not done"
        self.notify(f"{verb}: {one_line(label)}", timeout=2.5, markup=False)

    def toggle_mark(self, trip: Trip, item_id: str) -> None:
        self.set_mark(trip, item_id, item_id not in self.done_ids(trip.id))

    def undo_mark(self, trip: Trip) -> None:
        """Undo this session's last mark on ``trip`` (by recording the state before it)."""
        stack = self._undo.get(trip.id)
        if not stack:
            self.notify("Nothing to undo", timeout=2, markup=False)
            return
        item_id, before = stack.pop()
        now_done = item_id in self.done_ids(trip.id)
        self.set_mark(trip, item_id, before, record=False)
        self._redo.setdefault(trip.id, []).append((item_id, now_done))

    def redo_mark(self, trip: Trip) -> None:
        stack = self._redo.get(trip.id)
        if not stack:
            self.notify("Nothing to redo", timeout=2, markup=False)
            return
        item_id, after = stack.pop()
        before = item_id in self.done_ids(trip.id)
        self.set_mark(trip, item_id, after, record=False)
        self._undo.setdefault(trip.id, []).append((item_id, before))

    def _poll_marks(self) -> None:
        """Once a second: did another process commit marks? Then reload and redraw."""
        if not self.store.changed_elsewhere():
            return
        for trip_id in list(self._done):
            fresh = self.store.done_ids(trip_id)
            if fresh != self._done[trip_id]:
                self._done[trip_id].clear()
                self._done[trip_id].update(fresh)
                self._broadcast(MarksChanged(trip_id))

    def _broadcast(self, message: Message) -> None:
        for screen in self.screen_stack:
            screen.post_message(message)

    def on_unmount(self) -> None:
        self.store.close()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._poll_marks, name="marks-poll")
        if len(self.trips) == 1 and not self.invalid:
            self.open_trip(self.trips[0])
        else:
            self.action_pick_trip()
        if self.store.notice:
            self.notify(
                self.store.notice, title="Marks", severity="error", timeout=30, markup=False
            )
        for bad in self.invalid:
            self.notify(
                f"{bad.source}: {len(bad.errors)} error(s); run `tripdash check` for details",
                title="A trip file could not be loaded",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def open_trip(self, trip: Trip) -> None:
        """Show ``trip``'s dashboard (replacing any other)."""
        from tripdash.screens.dashboard import DashboardScreen

        screen = DashboardScreen(trip, self.clock)
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One trip: nothing to pick; keep the key out of the footer and help.
        return not (action == "pick_trip" and len(self.trips) + len(self.invalid) < 2)

    def action_pick_trip(self) -> None:
        from tripdash.screens.picker import PickerScreen

        picker = PickerScreen(self.trips, self.invalid, self.clock.now, self.open_trip)
        if len(self.screen_stack) > 1:
            self.switch_screen(picker)
        else:
            self.push_screen(picker)

    def action_help(self) -> None:
        from tripdash.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from binding_commands(screen)


def make_app(
    trips: Sequence[Trip],
    *,
    state_dir: Path,
    clock: Clock = system_clock,
    at: datetime | None = None,
    invalid: Sequence[TripInvalid] = (),
    who: str = "unknown",
) -> TripDashApp:
    """Build the app for ``trips`` with an injected clock and state directory."""
    return TripDashApp(trips, state_dir=state_dir, clock=clock, at=at, invalid=invalid, who=who)


def run_dashboard(
    files: Sequence[Path], *, state_dir: Path, who: str, at: datetime | None = None
) -> int:
    """Load ``files`` and run the dashboard; 1 when no trip could be loaded."""
    import sys

    trips: list[Trip] = []
    invalid: list[TripInvalid] = []
    for f in files:
        try:
            trips.append(loader.load_trip(f).trip)
        except TripInvalid as exc:
            invalid.append(exc)
    if not trips:
        for bad in invalid:
            for problem in bad.problems:
                print(problem, file=sys.stderr)
        return 1
    try:
        app = make_app(trips, at=at, invalid=invalid, state_dir=state_dir, who=who)
    except StoreError as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
