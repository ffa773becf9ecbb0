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
from textual.screen import Screen

from tripdash.commands import binding_commands
from tripdash.domain import loader
from tripdash.domain.clock import TripClock
from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.times import Clock, system_clock


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
        clock: Clock = system_clock,
        at: datetime | None = None,
        invalid: Sequence[TripInvalid] = (),
        state_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.clock = TripClock(clock, at)
        self.trips = order_trips(trips, self.clock.now())
        self.invalid = list(invalid)
        self.state_dir = state_dir

    def on_mount(self) -> None:
        if len(self.trips) == 1 and not self.invalid:
            self.open_trip(self.trips[0])
        else:
            self.action_pick_trip()
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
    clock: Clock = system_clock,
    at: datetime | None = None,
    invalid: Sequence[TripInvalid] = (),
    state_dir: Path | None = None,
) -> TripDashApp:
    """Build the app for ``trips`` with an injected clock and paths."""
    return TripDashApp(trips, clock=clock, at=at, invalid=invalid, state_dir=state_dir)


def run_dashboard(files: Sequence[Path], *, at: datetime | None = None) -> int:
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
    app = make_app(trips, at=at, invalid=invalid)
    app.run()
    return app.return_code or 0
