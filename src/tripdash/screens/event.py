"""The event box (enter on the timeline): an event's details, and talking points to tick.

It closes with a counterpart's id when `c` asks for them (the dashboard opens the
counterparts screen there), else with None.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tripdash.domain.model import Event
from tripdash.domain.schedule import Phase
from tripdash.messages import TripReloaded
from tripdash.screens.base import TripScreen, mark_bindings
from tripdash.session import Session
from tripdash.widgets.details import describe_event, point_groups
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.points import PointList


class EventScreen(TripScreen, ModalScreen[str | None]):
    """The selected event, with its counterparts' talking points as a list to tick off."""

    HELP_GROUP = "Event details"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="event.close"),
        Binding("c", "counterpart", "Counterpart", id="event.counterpart"),
        Binding("N", "note", "Note", id="event.note"),
        *mark_bindings("event", show_undo=True),
        # A modal screen cuts off the app's bindings: help, as everywhere (the app's id,
        # so that a keymap moving it moves it here too).
        Binding("question_mark", "app.help", "Help", key_display="?", id="app.help"),
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

    def __init__(self, session: Session, key: str, event: Event) -> None:
        super().__init__(session, key)
        self.event = event
        self._version = self.trip  # the version of the trip ``event`` comes from

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="event-body"):
            yield Static(id="event-text")
            if any(c.talking_points for c in self.event.counterparts):
                yield Static("Talking points  (space marks done)", id="event-points-title")
                yield PointList(id="event-points")
        yield KeyBar()

    def on_mount(self) -> None:
        self._in_progress: bool | None = None
        self._shown_text: Text | None = None
        self._shown_points: object = None
        self._refresh_body()
        # The box follows the clock as the details pane does: "starts in 2 min" turns
        # into "in progress", and then the open points go first.
        self.set_interval(1.0, self._refresh_body, name="event-clock")
        points = self.query(PointList)
        if points:
            points.first().focus()
        else:
            self.query_one("#event-body").focus()

    def _refresh_body(self) -> None:
        # Called every second: each part is given to its widget only when it changed,
        # since a Static's update and a list's new options each lay out the whole screen
        # (every second, that was 500 ms of CPU a minute with the box open, idle).
        now = self.clock.now()
        extra = self.session.annotations(self.key, self.event.id)
        text = describe_event(
            self.event,
            self.schedule,
            now,
            self.done,
            points=False,
            extra=extra,
            time_format=self.time_format,
        )
        if text != self._shown_text:
            self._shown_text = text
            self.query_one("#event-text", Static).update(text)
        running = self.schedule.phase(self.event, now, None) is Phase.NOW
        started = self._in_progress is not None and running and not self._in_progress
        self._in_progress = running
        for points in self.query(PointList):
            groups = point_groups(self.event, self.done, open_first=running)
            shown = (
                running,
                tuple(
                    (c.name, tuple((p.item_id, p.text, p.item_id in self.done) for p in pts))
                    for c, pts in groups
                ),
            )
            if started or shown != self._shown_points:
                self._shown_points = shown
                points.set_points(groups, self.done, reorder=started)

    def marks_changed(self, item_ids: frozenset[str] | None) -> None:
        self._refresh_body()

    def records_changed(self) -> None:
        # A shift moved the times (this event carries its expected times), or a note.
        self.event = self.schedule.trip.events[self.event.index]
        self._refresh_body()

    def action_note(self) -> None:
        """Write or change this event's note."""
        self.edit_note(self.event.id)

    def trip_reloaded(self, message: TripReloaded) -> None:
        """A new version of the trip: show this event's new details, or say it is gone."""
        if message.trip is self._version:
            return  # polled, but no new version
        self._version = message.trip
        for event in message.trip.events:
            if event.id == self.event.id:
                self.event = event
                self._refresh_body()
                return
        self.notify("This event was removed from the schedule", severity="warning")
        self.dismiss(None)

    def on_point_list_toggle(self, message: PointList.Toggle) -> None:
        self.mark(message.point.item_id)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_counterpart(self) -> None:
        """Jump to the highlighted point's counterpart (else the event's first)."""
        target = None
        for points in self.query(PointList):
            point = points.highlighted_point
            if point is not None:
                target = point.counterpart_id
        if target is None and self.event.counterparts:
            target = self.event.counterparts[0].id
        if target is None:
            self.notify("This event has no counterparts", timeout=2)
            return
        self.dismiss(target)
