"""A full screen of one event's details (enter on the timeline)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer

from tripdash.domain.model import Event
from tripdash.domain.schedule import Schedule
from tripdash.widgets.details import EventDetails


class EventScreen(ModalScreen[None]):
    """The selected event, with room for its counterparts and talking points."""

    HELP_GROUP = "Event details"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="event.close"),
    ]

    DEFAULT_CSS = """
    EventScreen {
        align: center middle;
    }
    EventScreen > EventDetails {
        width: 100;
        max-width: 100%;
        height: 90%;
        border: round $primary;
    }
    """

    def __init__(
        self, event: Event, schedule: Schedule, now: datetime, done: Collection[str] = ()
    ) -> None:
        super().__init__()
        self.event = event
        self.schedule = schedule
        self.now = now
        self.done = done

    def compose(self) -> ComposeResult:
        yield EventDetails(id="event-details")
        yield Footer()

    def on_mount(self) -> None:
        details = self.query_one(EventDetails)
        details.show(self.event, self.schedule, self.now, self.done)
        details.focus()

    def action_close(self) -> None:
        self.dismiss(None)
