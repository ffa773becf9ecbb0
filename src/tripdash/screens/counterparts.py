"""The counterparts screen: everyone the principal meets, their meetings and talking points."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tripdash.domain.model import Counterpart
from tripdash.domain.people import covered, last_meeting, meetings_of, next_meeting
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.text import one_line
from tripdash.messages import TripReloaded
from tripdash.screens.base import TripScreen, mark_bindings
from tripdash.session import Session
from tripdash.widgets.details import append_notes
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.points import PointList


class PeopleList(OptionList):
    """The list of counterparts: it stops at either end, as the timeline does (Textual's
    option list wraps from the last to the first)."""

    def action_cursor_down(self) -> None:
        if self.highlighted is None or self.highlighted < self.option_count - 1:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted is None or self.highlighted > 0:
            super().action_cursor_up()


class CounterpartsScreen(TripScreen, Screen[str | None]):
    """Every counterpart, with what to raise with them and when they are met.

    It closes with the id of the event to select on the timeline (`m`), else None.
    """

    HELP_GROUP = "Counterparts"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,c", "back", "Timeline", id="counterparts.back"),
        Binding("m", "next_meeting", "Next meeting", id="counterparts.next-meeting"),
        Binding("N", "note", "Note", id="counterparts.note"),
        *mark_bindings("counterparts", show_undo=True),
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

    def __init__(self, session: Session, key: str, selected: str | None = None) -> None:
        super().__init__(session, key)
        self._initial = selected

    def compose(self) -> ComposeResult:
        trip = self.trip
        yield Static(Text(f"Counterparts · {one_line(trip.title)}"), id="cp-title")
        with Horizontal():
            yield PeopleList(id="cp-list")
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
        for cp in self.trip.counterparts:
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
        return self.trip.counterpart(ident or "")

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
        home = self.trip.home_tz
        for event in meetings:
            mark = "✓ " if event.id in self.done else ("→ " if event is upcoming else "  ")
            line = Text(mark)
            local = local_time_label(event, self.time_format)
            line.append(f"{event.local_date:%a %d %b}  {local}", "bold")
            if event.time_confirmed:
                line.append(f"  (home {home_time_label(event, home, self.time_format)})")
            line.append("\n    ")
            line.append(one_line(event.title), "strike" if event.cancelled else "")
            line.append(f" · {one_line(event.venue or event.place.name)}\n", "dim")
            text.append_text(line)
        text.append(f"\n{covered(cp, self.done)}", "italic")
        extra = self.session.annotations(self.key, cp.id)
        if extra.notes:
            text.append("\n")
            append_notes(text, extra)
        info.update(text)
        points.set_points([(cp, list(cp.talking_points))], self.done, headings=False)

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        if message.option_list.id == "cp-list":
            self._show_selected()

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        if message.option_list.id == "cp-list":
            self.query_one("#cp-points", PointList).focus()

    def on_point_list_toggle(self, message: PointList.Toggle) -> None:
        self.mark(message.point.item_id)

    def marks_changed(self, item_ids: frozenset[str] | None) -> None:
        self._fill_list()
        self._show_selected()

    def trip_reloaded(self, message: TripReloaded) -> None:
        self._fill_list()
        self._show_selected()

    def records_changed(self) -> None:
        self._show_selected()

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_note(self) -> None:
        """Write or change the selected counterpart's note (a readout of the meeting)."""
        cp = self.selected
        if cp is not None:
            self.edit_note(cp.id)

    def action_next_meeting(self) -> None:
        """Back to the timeline, on this counterpart's next meeting."""
        cp = self.selected
        if cp is None:
            return
        event = next_meeting(self.schedule, cp.id, self.clock.now())
        if event is None:
            event = last_meeting(self.schedule, cp.id)
            if event is None:
                self.notify(f"{one_line(cp.name)} has no meetings in the programme")
                return
            # Say it: the timeline is about to show a meeting that is over.
            when = f"{event.local_date:%a %d %b} {local_time_label(event, self.time_format)}"
            self.notify(f"No meeting to come with {cp.name}: their last was {when}")
        self.dismiss(event.id)

    def action_down(self) -> None:
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_cursor_down()

    def action_up(self) -> None:
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_cursor_up()
