"""The whole trip at once (`w`): the overview's grid under a title with the trip's day,
event and done counts; enter goes back to the timeline on the event under the cursor,
escape (or `w`) back where it was.

The screen is kept between openings (:meth:`OverviewScreen.open`), with its widgets and
the lines it drew. The grid is :mod:`tripdash.widgets.overview_grid`, the days it shows
:mod:`tripdash.domain.blocks`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from tripdash.domain.blocks import blocks
from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.overview_grid import OverviewGrid


class OverviewScreen(Screen[str | None]):
    """The whole trip at once; closes with the id of the event to select (enter), or None."""

    HELP_GROUP = "Overview"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Go to event", id="overview.choose"),
        Binding("escape,w", "back", "Timeline", key_display="esc", id="overview.back"),
    ]

    DEFAULT_CSS = """
    OverviewScreen #ov-title {
        height: 1;
        background: $panel;
        text-style: bold;
        padding: 0 1;
    }
    OverviewScreen OverviewGrid {
        height: 1fr;
    }
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        clock: Callable[[], datetime],
        done: Callable[[], set[str]],
        selected: int,
        time_format: int = 24,
    ) -> None:
        super().__init__()
        self._schedule = schedule
        self._time_format = time_format
        self._clock = clock
        self._done = done
        self._selected = selected

    #: The name the overview is installed under: kept between openings (see :meth:`open`).
    INSTALLED = "tripdash-overview"

    @classmethod
    def open(
        cls,
        app: App[object],
        schedule: Schedule,
        *,
        clock: Callable[[], datetime],
        done: Callable[[], set[str]],
        selected: int,
        callback: Callable[[str | None], None],
        time_format: int = 24,
    ) -> None:
        """Push the overview of ``schedule`` with event ``selected`` under the cursor.

        The screen is kept between openings, with its widgets and the lines it drew: the
        second opening only moves the cursor and the now line (a new version of the trip,
        a new schedule, makes a new screen).
        """
        kept = app.get_screen(cls.INSTALLED) if app.is_screen_installed(cls.INSTALLED) else None
        if isinstance(kept, OverviewScreen) and kept._schedule is schedule:
            kept._clock, kept._done = clock, done
            kept.reopen(selected)
            app.push_screen(kept, callback=callback)
            return
        if kept is not None:
            app.uninstall_screen(cls.INSTALLED)
            kept.remove()
        screen = cls(schedule, clock=clock, done=done, selected=selected, time_format=time_format)
        app.install_screen(screen, cls.INSTALLED)
        app.push_screen(screen, callback=callback)

    def _title(self) -> Text:
        trip = self._schedule.trip
        # A day here is a block: the delegation that crosses the date line lives a date twice.
        days = len(blocks(self._schedule))
        marked = self._done()
        if self._event_ids is None:
            self._event_ids = frozenset(e.id for e in trip.events)
        # Event ids are unique; the intersection walks the smaller set (the marks, mostly).
        done = len(self._event_ids & marked)
        # The counts before the trip's title: a narrow terminal cuts the end of the line,
        # and "2 done" is the part that changes.
        return Text(
            f"Overview · {days} day{'s' * (days != 1)}, {len(trip.events)} events, "
            f"{done} done · {one_line(trip.title)}"
        )

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="ov-title")
        yield OverviewGrid(
            self._schedule,
            self._clock(),
            self._done(),
            self._selected,
            time_format=self._time_format,
        )
        yield KeyBar()

    @property
    def grid(self) -> OverviewGrid:
        return self.query_one(OverviewGrid)

    def reopen(self, selected: int) -> None:
        """Shown again: the title's count, the clock and marks, the cursor on ``selected``."""
        title = self._title()
        shown = self.query_one("#ov-title", Static)
        if title != shown.content:
            shown.update(title)
        grid = self.grid
        grid.set_now(self._clock(), self._done())
        grid.move_to(selected)

    _timer: Timer | None = None
    #: The trip's event ids, for the title's done count (made once).
    _event_ids: frozenset[str] | None = None

    def on_mount(self) -> None:
        self.grid.focus()
        self._timer = self.set_interval(1.0, self._tick, name="overview-clock")

    def on_screen_suspend(self) -> None:
        # Kept while hidden: its clock must not tick (idle CPU) until it is shown again.
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self) -> None:
        if self._timer is not None:
            self._timer.resume()
        if not self.grid.has_focus:
            self.grid.focus()

    def _tick(self) -> None:
        # The clock's minute and the marks (made elsewhere while this is open).
        self.grid.set_now(self._clock(), self._done())

    def action_choose(self) -> None:
        events = self._schedule.trip.events
        self.dismiss(events[self.grid.cursor].id if events else None)

    def action_back(self) -> None:
        self.dismiss(None)
