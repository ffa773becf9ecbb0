"""The counterparts screen: everyone the principal meets, their meetings and talking points."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tripdash.domain.clock import TripClock
from tripdash.domain.model import Counterpart, Event
from tripdash.domain.schedule import Phase, Schedule, home_time_label, local_time_label
from tripdash.domain.text import one_line
from tripdash.messages import ItemMarked, MarksChanged, TripReloaded
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.points import PointList


def covered(counterpart: Counterpart, done: Collection[str]) -> str:
    """``3/5 covered`` (or ``no talking points``)."""
    total = len(counterpart.talking_points)
    if not total:
        return "no talking points"
    return f"{sum(1 for p in counterpart.talking_points if p.item_id in done)}/{total} covered"


def meetings_of(schedule: Schedule, counterpart_id: str) -> list[Event]:
    """The events a counterpart attends, in programme order."""
    return [e for e in schedule.trip.events if any(c.id == counterpart_id for c in e.counterparts)]


def next_meeting(schedule: Schedule, counterpart_id: str, now: datetime) -> Event | None:
    """Their next meeting: the first not yet over (TBC ones count until their day ends)."""
    meetings = meetings_of(schedule, counterpart_id)
    for event in meetings:
        if not event.cancelled and schedule.phase(event, now, None) is not Phase.PAST:
            return event
    return meetings[-1] if meetings else None


class CounterpartsScreen(Screen[None]):
    """Every counterpart, with what to raise with them and when they are met."""

    HELP_GROUP = "Counterparts"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,c", "back", "Timeline", id="counterparts.back"),
        Binding("m", "next_meeting", "Next meeting", id="counterparts.next-meeting"),
        Binding("u", "undo", "Undo", id="counterparts.undo"),
        Binding("U,ctrl+r", "redo", "Redo", show=False, id="counterparts.redo"),
        Binding("j", "down", "Down", show=False, id="counterparts.down"),
        Binding("k", "up", "Up", show=False, id="counterparts.up"),
    ]

    DEFAULT_CSS = """
    CounterpartsScreen #cp-title {
        height: 1;
        background: $panel;
        text-style: bold;
        padding: 0 1;
    }
    CounterpartsScreen #cp-list {
        width: 2fr;
        height: 1fr;
        border: none;
        border-right: solid $panel-lighten-1;
    }
    CounterpartsScreen #cp-detail {
        width: 3fr;
        height: 1fr;
        padding: 0 1;
    }
    CounterpartsScreen #cp-points-title {
        margin-top: 1;
        text-style: bold;
    }
    """

    def __init__(self, schedule: Schedule, clock: TripClock, selected: str | None = None) -> None:
        super().__init__()
        self.schedule = schedule
        self.clock = clock
        self._initial = selected

    @property
    def done(self) -> set[str]:
        return self.app.done_ids(self.schedule.trip.id)  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        trip = self.schedule.trip
        yield Static(Text(f"Counterparts · {one_line(trip.title)}"), id="cp-title")
        with Horizontal():
            yield OptionList(id="cp-list")
            with VerticalScroll(id="cp-detail", can_focus=False):
                yield Static(id="cp-info")
                yield Static("Talking points  (space marks done)", id="cp-points-title")
                yield PointList(id="cp-points")
        yield KeyBar()

    def on_mount(self) -> None:
        self._fill_list()
        listing = self.query_one("#cp-list", OptionList)
        if self._initial is not None:
            try:
                listing.highlighted = listing.get_option_index(self._initial)
            except Exception:
                listing.highlighted = 0
        elif listing.option_count:
            listing.highlighted = 0
        listing.focus()
        self._show_selected()

    def _fill_list(self) -> None:
        listing = self.query_one("#cp-list", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        for cp in self.schedule.trip.counterparts:
            prompt = Text(one_line(cp.name), style="bold")
            about = ", ".join(one_line(x) for x in (cp.role, cp.country) if x)
            if about:
                prompt.append(f"\n{about}", "dim")
            prompt.append(f"\n{covered(cp, self.done)}", "italic")
            listing.add_option(Option(prompt, id=cp.id))
        if keep is not None and listing.option_count:
            listing.highlighted = min(keep, listing.option_count - 1)

    @property
    def selected(self) -> Counterpart | None:
        listing = self.query_one("#cp-list", OptionList)
        if listing.highlighted is None:
            return None
        ident = listing.get_option_at_index(listing.highlighted).id
        return self.schedule.trip.counterpart(ident or "")

    def _show_selected(self) -> None:
        cp = self.selected
        info = self.query_one("#cp-info", Static)
        points = self.query_one("#cp-points", PointList)
        if cp is None:
            info.update(Text("This trip has no counterparts.", style="dim"))
            points.set_points([], self.done)
            return
        now = self.clock.now()
        text = Text()
        text.append(one_line(cp.name) + "\n", "bold")
        about = ", ".join(one_line(x) for x in (cp.role, cp.country) if x)
        if about:
            text.append(about + "\n")
        if cp.notes:
            text.append(one_line(cp.notes) + "\n", "dim")
        text.append("\nMeetings\n", "bold")
        meetings = meetings_of(self.schedule, cp.id)
        upcoming = next_meeting(self.schedule, cp.id, now)
        if not meetings:
            text.append("  none in the programme\n", "dim")
        home = self.schedule.trip.home_tz
        for event in meetings:
            mark = "✓ " if event.id in self.done else ("→ " if event is upcoming else "  ")
            line = Text(mark)
            line.append(f"{event.local_date:%a %d %b}  {local_time_label(event)}", "bold")
            if event.time_confirmed:
                line.append(f"  (home {home_time_label(event, home)})")
            line.append("\n    ")
            line.append(one_line(event.title), "strike" if event.cancelled else "")
            line.append(f" · {one_line(event.venue or event.place.name)}\n", "dim")
            text.append_text(line)
        text.append(f"\n{covered(cp, self.done)}", "italic")
        info.update(text)
        points.set_points([(cp, list(cp.talking_points))], self.done, headings=False)

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        if message.option_list.id == "cp-list":
            self._show_selected()

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        if message.option_list.id == "cp-list":
            self.query_one("#cp-points", PointList).focus()

    def on_point_list_toggle(self, message: PointList.Toggle) -> None:
        self.app.toggle_mark(self.schedule.trip, message.point.item_id)  # type: ignore[attr-defined]

    def on_item_marked(self, message: ItemMarked) -> None:
        if self.is_current and message.mark.trip_id == self.schedule.trip.id:
            self.notify(message.confirmation(self.schedule.trip), timeout=2.5, markup=False)

    def on_marks_changed(self, message: MarksChanged) -> None:
        if message.trip_id == self.schedule.trip.id:
            self._fill_list()
            self._show_selected()

    def on_trip_reloaded(self, message: TripReloaded) -> None:
        old = self.schedule.trip
        if message.trip is old or message.trip.id != old.id:
            return
        self.schedule = Schedule.for_trip(message.trip)
        self._fill_list()
        self._show_selected()

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_meeting(self) -> None:
        """Back to the timeline, on this counterpart's next meeting."""
        cp = self.selected
        if cp is None:
            return
        event = next_meeting(self.schedule, cp.id, self.clock.now())
        if event is None:
            self.notify(f"{one_line(cp.name)} has no meetings in the programme", markup=False)
            return
        self.app.pop_screen()
        dashboard = self.app.screen
        if hasattr(dashboard, "select_event"):
            dashboard.select_event(event.id)

    def action_down(self) -> None:
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_cursor_down()

    def action_up(self) -> None:
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_cursor_up()

    def action_undo(self) -> None:
        self.app.undo_mark(self.schedule.trip)  # type: ignore[attr-defined]

    def action_redo(self) -> None:
        self.app.redo_mark(self.schedule.trip)  # type: ignore[attr-defined]
