"""The running-late box (`L` on the timeline): how many minutes late, from which event.

It asks three things, each with a default so that `L 2 0 enter` is all it takes:
the minutes (how late things now run, not an increment: 35 after 20 means 35;
0 is back on time; negative is running early), the event it runs from (the one
in progress, else the next) and until when (the end of that local day, or a
later event of it). The shift is committed through the screen that opened the
box before the box closes; a refused shift (more than a day, a travel event)
keeps the box open with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from tripdash.domain.model import Event, Trip
from tripdash.domain.records import MAX_SHIFT_MINUTES
from tripdash.domain.schedule import local_time_label
from tripdash.domain.text import one_line
from tripdash.widgets.keybar import KeyBar

END_OF_DAY = "__end_of_day__"


def _label(event: Event, time_format: int = 24) -> str:
    return f"{local_time_label(event, time_format)}  {one_line(event.title)}"


def movable(trip: Trip, event: Event) -> list[Event]:
    """The events a shift could run from, on ``event``'s local day: timed, not travel."""
    return [
        e
        for e in trip.events
        if e.local_date == event.local_date
        and e.place.tz.key == event.place.tz.key
        and e.time_confirmed
        and not e.fixed
        and e.to is None
        and e.kind != "travel"
    ]


def parse_minutes(text: str) -> int | str:
    """The minutes typed ("20", "+20", "-10", "0"), or why they are not minutes."""
    value = text.strip().removesuffix("min").strip()
    try:
        minutes = int(value)
    except ValueError:
        return "Type the minutes as a whole number: 20 (late), 0 (back on time), -10 (early)"
    if abs(minutes) > MAX_SHIFT_MINUTES:
        return f"At most {MAX_SHIFT_MINUTES // 60} hours either way ({minutes} min given)"
    return minutes


class LateScreen(ModalScreen[None]):
    """Ask how late the day runs; ``commit(from, minutes, until)`` saves it."""

    HELP_GROUP = "Running late"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="late.cancel"),
        Binding("ctrl+s", "save", "Save", priority=True, id="late.save"),
    ]

    DEFAULT_CSS = """
    LateScreen {
        align: center middle;
    }
    LateScreen > Vertical {
        width: 80;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    LateScreen #late-title {
        text-style: bold;
    }
    LateScreen #late-error {
        color: $text-error;
    }
    LateScreen Label {
        margin-top: 1;
    }
    """

    def __init__(
        self,
        trip: Trip,
        start: Event,
        current: int,
        commit: Callable[[str, int, str | None], bool],
        time_format: int = 24,
    ) -> None:
        super().__init__()
        self.trip = trip
        self._time_format = time_format  # 12 or 24
        self.start = start
        self.current = current  # the delay in force from ``start`` now (minutes)
        self.commit = commit
        self.choices = movable(trip, start)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Running late  (enter saves, escape cancels)", id="late-title")
            yield Label("By how many minutes? (0: back on time; -10: running early)")
            yield Input(str(self.current or ""), placeholder="20", id="late-minutes")
            yield Label("From")
            yield Select(
                [(_label(e, self._time_format), e.id) for e in self.choices],
                value=self.start.id,
                allow_blank=False,
                id="late-from",
            )
            yield Label("Until")
            yield Select(
                self._until_options(self.start.id),
                value=END_OF_DAY,
                allow_blank=False,
                id="late-until",
            )
            yield Static("", id="late-error", markup=False)
        yield KeyBar()

    def _until_options(self, from_id: str) -> list[tuple[str, str]]:
        options = [("the end of the day (or the next travel or fixed event)", END_OF_DAY)]
        after = False
        for e in self.choices:
            if e.id == from_id:
                after = True
            if after:
                options.append((_label(e, self._time_format), e.id))
        return options

    def on_mount(self) -> None:
        self.query_one("#late-minutes", Input).focus()

    def on_select_changed(self, message: Select.Changed) -> None:
        if message.select.id == "late-from" and isinstance(message.value, str):
            until = self.query_one("#late-until", Select)
            until.set_options(self._until_options(message.value))
            until.value = END_OF_DAY

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        minutes = parse_minutes(self.query_one("#late-minutes", Input).value)
        error = self.query_one("#late-error", Static)
        if isinstance(minutes, str):
            error.update(minutes)
            return
        start = self.query_one("#late-from", Select).value
        until = self.query_one("#late-until", Select).value
        if not isinstance(start, str):
            error.update("Choose the event it runs late from")
            return
        if self.commit(
            start, minutes, until if isinstance(until, str) and until != END_OF_DAY else None
        ):
            self.dismiss(None)
        else:
            error.update("Not saved: see the notice")

    def action_cancel(self) -> None:
        self.dismiss(None)
