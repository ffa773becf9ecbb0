"""A full screen for one event (enter on the timeline): details, and talking points to tick."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tripdash.domain.clock import TripClock
from tripdash.domain.model import Event
from tripdash.domain.schedule import Phase, Schedule
from tripdash.messages import ItemMarked, MarksChanged, TripReloaded
from tripdash.widgets.details import describe_event, point_groups
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.points import PointList


class EventScreen(ModalScreen[None]):
    """The selected event, with its counterparts' talking points as a list to tick off."""

    HELP_GROUP = "Event details"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="event.close"),
        Binding("c", "counterpart", "Counterpart", id="event.counterpart"),
        Binding("u", "undo", "Undo", id="event.undo"),
        Binding("U,ctrl+r", "redo", "Redo", show=False, id="event.redo"),
    ]

    DEFAULT_CSS = """
    EventScreen {
        align: center middle;
    }
    EventScreen > VerticalScroll {
        width: 100;
        max-width: 100%;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    EventScreen #event-points-title {
        margin-top: 1;
        text-style: bold;
    }
    """

    def __init__(self, event: Event, schedule: Schedule, clock: TripClock) -> None:
        super().__init__()
        self.event = event
        self.schedule = schedule
        self.clock = clock

    @property
    def done(self) -> set[str]:
        return self.app.done_ids(self.schedule.trip.id)  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="event-body"):
            yield Static(id="event-text")
            if any(c.talking_points for c in self.event.counterparts):
                yield Static("Talking points  (space marks done)", id="event-points-title")
                yield PointList(id="event-points")
        yield KeyBar()

    def on_mount(self) -> None:
        self._refresh_body()
        points = self.query(PointList)
        if points:
            points.first().focus()
        else:
            self.query_one("#event-body").focus()

    def _refresh_body(self) -> None:
        now = self.clock.now()
        self.query_one("#event-text", Static).update(
            describe_event(self.event, self.schedule, now, self.done, points=False)
        )
        running = self.schedule.phase(self.event, now, None) is Phase.NOW
        for points in self.query(PointList):
            points.set_points(point_groups(self.event, self.done, open_first=running), self.done)

    def on_item_marked(self, message: ItemMarked) -> None:
        if self.is_current and message.mark.trip_id == self.schedule.trip.id:
            self.notify(message.confirmation(self.schedule.trip), timeout=2.5, markup=False)

    def on_marks_changed(self, message: MarksChanged) -> None:
        self._refresh_body()

    def on_trip_reloaded(self, message: TripReloaded) -> None:
        """A new version of the trip: show this event's new details, or say it is gone."""
        old = self.schedule.trip
        if message.trip is old or message.trip.id != old.id:
            return
        self.schedule = Schedule.for_trip(message.trip)
        for event in message.trip.events:
            if event.id == self.event.id:
                self.event = event
                self._refresh_body()
                return
        self.notify("This event was removed from the schedule", severity="warning", markup=False)
        self.dismiss(None)

    def on_point_list_toggle(self, message: PointList.Toggle) -> None:
        self.app.toggle_mark(self.schedule.trip, message.point.item_id)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_undo(self) -> None:
        self.app.undo_mark(self.schedule.trip)  # type: ignore[attr-defined]

    def action_redo(self) -> None:
        self.app.redo_mark(self.schedule.trip)  # type: ignore[attr-defined]

    def action_counterpart(self) -> None:
        """Jump to the highlighted point's counterpart (else the event's first)."""
        from tripdash.screens.counterparts import CounterpartsScreen

        target = None
        for points in self.query(PointList):
            point = points.highlighted_point
            if point is not None:
                target = point.counterpart_id
        if target is None and self.event.counterparts:
            target = self.event.counterparts[0].id
        if target is None:
            self.notify("This event has no counterparts", timeout=2, markup=False)
            return
        self.app.switch_screen(CounterpartsScreen(self.schedule, self.clock, target))
