"""The trip picker: shown when PATH holds several trips."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tripdash.domain.loader import TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.live import OpenTrip
from tripdash.session import Session
from tripdash.widgets.keybar import KeyBar


def trip_summary(trip: Trip, now: datetime) -> Text:
    """Title; dates and places; and how far away the trip is, for one picker entry."""
    schedule = Schedule.for_trip(trip)
    text = Text()
    text.append(one_line(trip.title), "bold")
    if trip.principal:
        text.append(f"  {one_line(trip.principal)}", "dim")
    text.append("\n  ")
    if trip.events:
        first, last = trip.events[0].local_date, trip.events[-1].local_date
        dates = f"{first:%a %d %b %Y}" if first == last else f"{first:%d %b} – {last:%d %b %Y}"
        text.append(dates)
    places = ", ".join(one_line(p.name) for p in trip.places)
    if places:
        text.append(f"  ·  {places}")
    text.append("\n  ")
    text.append(schedule.banner(now) or "in progress now", "italic")
    text.append(f"  ·  {len(trip.events)} events", "dim")
    return text


class PickerScreen(Screen[None]):
    """Choose one of several trips."""

    HELP_GROUP = "Trips"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open trip", id="picker.open"),
        Binding("j", "cursor_down", "Down", show=False, id="picker.down"),
        Binding("k", "cursor_up", "Up", show=False, id="picker.up"),
        # Shown only once a trip was opened from here (`o` came back from it).
        Binding("escape", "back", "Back to the trip", id="picker.back"),
    ]

    DEFAULT_CSS = """
    PickerScreen > OptionList {
        height: 1fr;
        border: none;
    }
    PickerScreen > #picker-title {
        height: 1;
        background: $panel;
        text-style: bold;
        padding: 0 1;
    }
    """

    def __init__(self, session: Session, on_open: Callable[[str], None]) -> None:
        super().__init__()
        self.session = session
        self._now = session.clock.now
        self._on_open = on_open
        #: The trip last opened from here, which escape goes back to.
        self._last: str | None = None

    @property
    def entries(self) -> list[OpenTrip]:
        return self.session.open_trips

    @property
    def invalid(self) -> list[TripInvalid]:
        return self.session.invalid

    def compose(self) -> ComposeResult:
        yield Static(Text("Choose a trip"), id="picker-title")
        now = self._now()
        options: list[Option] = [
            Option(trip_summary(entry.trip, now), id=f"trip-{i}")
            for i, entry in enumerate(self.entries)
        ]
        for bad in self.invalid:
            errors = bad.error_count
            prompt = Text()
            prompt.append(one_line(bad.source), "bold")
            prompt.append(f"\n  cannot be opened: {errors} error{'s' if errors != 1 else ''}")
            prompt.append(f"\n  {one_line(str(bad.errors[0])) if bad.errors else ''}", "dim")
            options.append(Option(prompt, disabled=True))
        yield OptionList(*options, id="trips")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        # Back from a dashboard, perhaps hours later: "starts in 2 h" and the trips
        # themselves (reloaded meanwhile) may have changed; escape now has a trip to go
        # back to.
        self.refresh_bindings()
        options = self.query_one(OptionList)
        now = self._now()
        for i, entry in enumerate(self.entries):
            options.replace_option_prompt(f"trip-{i}", trip_summary(entry.trip, now))

    def action_open(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            option_list.action_select()

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self._last is not None and any(e.key == self._last for e in self.entries)
        return True

    def action_back(self) -> None:
        if self._last is not None and self.check_action("back", ()):
            self._on_open(self._last)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        ident = message.option.id or ""
        if ident.startswith("trip-"):
            self._last = self.entries[int(ident.removeprefix("trip-"))].key
            self._on_open(self._last)
