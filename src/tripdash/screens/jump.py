"""The jump-to-time prompt (`t`): type when, and the rehearsal clock goes there; and the
rehearsal clock's own keys (``+ - > < 0``, :class:`ClockKeys`).

The words are those of :mod:`tripdash.domain.phrases` ("09:00", "tomorrow 08:00",
"2023-01-18 10:00 Toronto", "+2h", an event, "now"). A phrase that names no time
keeps the prompt open with the reason under it; enter on a good one closes it with
the :class:`~tripdash.domain.phrases.Jump`, escape with None.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tripdash.domain.model import Trip
from tripdash.domain.times import clock_time, zone_abbrev

if TYPE_CHECKING:
    # Imported when the box is used: the phrases are not needed for the first frame.
    from tripdash.domain.phrases import Jump


class JumpScreen(ModalScreen["Jump | None"]):
    """A one-line prompt over the dashboard."""

    HELP_GROUP = "Jump to a time"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", key_display="esc", id="jump.cancel"),
    ]

    DEFAULT_CSS = """
    JumpScreen {
        align: center top;
        background: $background 40%;
    }
    JumpScreen > Vertical {
        margin-top: 4;
        width: 80%;
        max-width: 90;
        height: auto;
        background: $panel;
        border: round $primary;
        padding: 0 1;
    }
    JumpScreen #jump-title {
        text-style: bold;
    }
    JumpScreen #jump-help {
        color: $text-muted;
    }
    JumpScreen #jump-error {
        color: $text-warning;
        text-style: bold;
    }
    JumpScreen Input, JumpScreen Input:focus {
        border: none;
        height: 1;
        padding: 0;
        margin: 1 0 0 0;
    }
    """

    def __init__(self, trip: Trip, now: Callable[[], datetime]) -> None:
        super().__init__()
        self._trip = trip
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Move the rehearsal clock to…", id="jump-title")
            yield Input(placeholder="09:00", id="jump-input")
            from tripdash.domain.phrases import EXAMPLES  # with the box: not at start-up

            yield Static(Text(f"e.g. {EXAMPLES}"), id="jump-help")
            yield Static("", id="jump-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def error(self) -> str:
        """The reason the last phrase was refused ("" when none was)."""
        return str(self.query_one("#jump-error", Static).content)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from tripdash.domain.phrases import PhraseError, resolve

        event.stop()
        try:
            jump = resolve(event.value, self._trip, self._now())
        except PhraseError as exc:
            # Built from plain text: the phrase is quoted, never read as markup.
            self.query_one("#jump-error", Static).update(Text(str(exc)))
            return
        self.dismiss(jump)

    def action_cancel(self) -> None:
        self.dismiss(None)


def jump_binding(screen: str) -> Binding:
    """The dashboard's key for the prompt, with id ``<screen>.jump-to-time``."""
    return Binding("t", "jump_to_time", "Jump to a time", show=False, id=f"{screen}.jump-to-time")


def clock_bindings(screen: str) -> list[Binding]:
    """The rehearsal clock's keys (``+ - > < 0``), with ids ``<screen>.later-15`` and so on.

    They stay out of the key bar (the header lists them during a rehearsal); help and
    the palette show them.
    """
    return [
        Binding(
            "plus,equals_sign",
            "shift_clock(15)",
            "Clock +15 min",
            key_display="+",
            show=False,
            id=f"{screen}.later-15",
        ),
        Binding(
            "minus",
            "shift_clock(-15)",
            "Clock -15 min",
            key_display="-",
            show=False,
            id=f"{screen}.earlier-15",
        ),
        Binding(
            "greater_than_sign",
            "shift_clock(60)",
            "Clock +1 h",
            key_display=">",
            show=False,
            id=f"{screen}.later-60",
        ),
        Binding(
            "less_than_sign",
            "shift_clock(-60)",
            "Clock -1 h",
            key_display="<",
            show=False,
            id=f"{screen}.earlier-60",
        ),
        Binding("0", "live_clock", "Clock back to real time", show=False, id=f"{screen}.live"),
    ]


if TYPE_CHECKING:
    from tripdash.screens.base import TripScreen
    from tripdash.widgets.timeline import Timeline

    class _Base(TripScreen):
        """What the mixin needs of the dashboard besides a trip screen's parts."""

        @property
        def timeline(self) -> Timeline: ...

        def select_event(self, event_id: str | None) -> None: ...

        def action_live_clock(self) -> None: ...

        def _clock_changed(self) -> None: ...

else:
    _Base = object


class JumpKeys(_Base):
    """Mixed into the dashboard: `t` asks for a time and moves the rehearsal clock there."""

    def action_jump_to_time(self) -> None:
        """Ask for a time ("09:00", "tomorrow 08:00", "+2h", an event...) and go there."""
        self.app.push_screen(JumpScreen(self.trip, self.clock.now), callback=self._jumped)

    def _jumped(self, jump: Jump | None) -> None:
        if jump is None:
            return
        if jump.instant is None:
            if self.clock.rehearsal:
                self.action_live_clock()
            else:
                self.notify("Already on real time", timeout=2)
            return
        self.clock.rehearse_at(jump.instant)
        self._clock_changed()
        if jump.event is not None:
            self.select_event(jump.event.id)
        else:
            self.timeline.jump_to_now()
        home = jump.instant.astimezone(self.trip.home_tz)
        at_home = f"{clock_time(home, self.time_format)} {zone_abbrev(home)}"
        said = jump.says(self.time_format)
        self.notify(f"Rehearsal clock: {said} ({at_home} at home)", timeout=4)


class ClockKeys(_Base):
    """Mixed into the dashboard: the rehearsal clock's keys (:func:`clock_bindings`)."""

    def action_shift_clock(self, minutes: int) -> None:
        """Move the rehearsal clock (starting a rehearsal when live)."""
        self.clock.shift(timedelta(minutes=minutes))
        self._clock_changed()
        sign = "+" if minutes > 0 else "-"
        self.notify(f"Rehearsal clock {sign}{abs(minutes)} min", timeout=2, markup=False)

    def action_live_clock(self) -> None:
        """Back to real time."""
        if not self.clock.rehearsal:
            return
        self.clock.go_live()
        self._clock_changed()
        self.notify("Back to real time", timeout=2, markup=False)
