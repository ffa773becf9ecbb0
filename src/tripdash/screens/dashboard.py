"""The dashboard screen: header, timeline, details and footer for one trip.

It owns the once-a-second tick: the clock is read once, and the header,
timeline and details are told the new instant; each redraws only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer

from tripdash.domain.model import Event
from tripdash.domain.text import one_line
from tripdash.live import describe_broken, describe_status, describe_sync
from tripdash.messages import FirstFramePainted, TripReloaded
from tripdash.screens.base import TripScreen, mark_bindings
from tripdash.screens.jump import ClockKeys, JumpKeys, clock_bindings, jump_binding
from tripdash.screens.reminding import ReminderKeys, reminder_bindings
from tripdash.screens.searching import SearchKeys, search_bindings
from tripdash.session import Session
from tripdash.widgets.details import EventDetails
from tripdash.widgets.header import TripHeader
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.timeline import Timeline


def _trip_commands() -> type[Provider]:
    from tripdash.palette import TripCommands

    return TripCommands


#: Seconds the details pane waits after the selection moves before it redraws.
DETAILS_DELAY = 0.06
#: Below this many columns the details pane goes under the timeline instead of beside it.
NARROW_BELOW = 110


class DashboardScreen(ClockKeys, JumpKeys, SearchKeys, ReminderKeys, TripScreen, Screen[None]):
    """One trip's live dashboard."""

    HELP_GROUP = "Dashboard"
    #: ctrl+p offers the trip's events and counterparts too (see tripdash.palette).
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {_trip_commands}

    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown (first) only while a reminder notice is: what matters most then.
        *reminder_bindings("dashboard"),
        Binding("space,x", "toggle_done", "Done", id="dashboard.toggle-done"),
        # Key bar: the keys a newcomer needs at 80 columns; the rest are in help (?) and ctrl+p.
        *mark_bindings("dashboard", show_undo=False),
        Binding("c", "counterparts", "People", id="dashboard.counterparts"),
        Binding("N", "note", "Note", show=False, id="dashboard.note"),
        Binding("L", "late", "Running late", show=False, id="dashboard.late"),
        Binding("n", "jump_now", "Now", id="dashboard.now"),
        Binding(
            "left_square_bracket",
            "prev_day",
            "Prev day",
            key_display="[",
            show=False,
            id="dashboard.prev-day",
        ),
        Binding(
            "right_square_bracket",
            "next_day",
            "Next day",
            key_display="]",
            show=False,
            id="dashboard.next-day",
        ),
        Binding("tab", "focus_next_pane", "Pane", show=False, id="dashboard.next-pane"),
        Binding(
            "shift+tab",
            "focus_previous_pane",
            "Previous pane",
            show=False,
            id="dashboard.previous-pane",
        ),
        *clock_bindings("dashboard"),
        *search_bindings("dashboard"),
        jump_binding("dashboard"),
        Binding("w", "overview", "Whole trip", show=False, id="dashboard.overview"),
    ]

    def __init__(self, session: Session, key: str, *, painted: Callable[[], bool]) -> None:
        super().__init__(session, key)
        self._details_timer: Timer | None = None
        # Whether the app's first frame is on the terminal yet (see on_mount).
        self._painted = painted

    def compose(self) -> ComposeResult:
        # The layout for the terminal's width from the first frame (on_resize keeps it).
        self._fit_width(self.app.size.width)
        now = self.clock.now()
        fmt = self.time_format
        yield TripHeader(
            self.schedule,
            now,
            time_format=fmt,
            seconds=self.session.options.clock_seconds,
            id="header",
        )
        with Horizontal(id="panes"):
            yield Timeline(
                self.schedule,
                now,
                done=self.done,
                late=self.session.lateness(self.key),
                time_format=fmt,
                id="timeline",
            )
            yield EventDetails(time_format=fmt, id="details")
        yield self.reminder_notice()
        yield KeyBar()

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def on_mount(self) -> None:
        self.query_one(TripHeader).rehearsal = self.clock.rehearsal
        self.set_interval(1.0, self.tick, name="clock")
        self.timeline.focus()
        self.timeline.jump_to_now()  # scrolls once the timeline has its first size
        # The header's status (offline...) from the first frame, not a second later.
        self.tick(details=False)
        self.title = one_line(self.trip.title)
        # At start-up the details pane fills in just after the first frame: wrapping its
        # text costs milliseconds the timeline (what people look for first) need not wait.
        if self._painted():
            self._show_details()
        self.call_after_refresh(self._prepare_overview)

    def _prepare_overview(self) -> None:
        """After the first frame, work out the overview's blocks in a thread: on a trip of
        thousands of days they are most of what opening it would cost (issue 17)."""
        from tripdash.domain.blocks import prepare

        self.run_worker(partial(prepare, self.schedule), thread=True, name="overview-blocks")

    def on_first_frame_painted(self, message: FirstFramePainted) -> None:
        self._show_details()

    def on_resize(self) -> None:
        self._fit_width(self.size.width)

    def _fit_width(self, width: int) -> None:
        # Side by side on wide terminals; details below the timeline on narrow ones.
        self.set_class(width < NARROW_BELOW, "-narrow")

    def tick(self, *, details: bool = True) -> None:
        """Once a second: read the clock once and pass the instant on."""
        now = self.clock.now()
        header = self.query_one(TripHeader)
        real_now = self.clock.real_now()
        header.status = self._status(real_now)
        header.sync_text = describe_sync(
            self.entry.sync, real_now, self.trip.home_tz, self.time_format
        )
        header.late_text = self._late_text(now)
        header.now = now
        self.timeline.set_now(now)
        if details and now.second == 0:
            self._show_details()

    def _status(self, real_now: datetime) -> str:
        """The header's status: freshness, a broken file, marks that cannot be saved."""
        home = self.trip.home_tz
        parts = [
            describe_status(self.entry.status, real_now, home, self.time_format),
            describe_broken(self.entry, home, self.time_format),
            f"⚠ {self.session.cannot_save}" if self.session.cannot_save else "",
            *self._late_warnings(),
            self.filter_status(),
        ]
        return " · ".join(p for p in parts if p)

    def _late_text(self, now: datetime) -> str:
        """``running 20 min late since CSIS speech`` · ``⚠ X now overlaps Y`` (else empty)."""
        late = self.session.lateness(self.key)
        if not late.delays:
            return ""
        schedule = self.schedule
        running = schedule.in_progress(now)
        current = running[-1] if running else schedule.find_next(now)
        return late.headline(current.id if current is not None else None)

    def _late_warnings(self) -> list[str]:
        """For the header's first line: overlaps with events that do not move, and shifts
        from events a new version removed (kept, and in the log, but not applied)."""
        late = self.session.lateness(self.key)
        parts = [f"⚠ {o}" for o in late.overlaps]
        orphaned = [s for s in late.orphaned if s.minutes]
        if orphaned:
            events = ", ".join(sorted({one_line(s.from_event) for s in orphaned}))
            parts.append(f"⚠ running late from {events}, no longer in the programme: not applied")
        return parts

    def search_notes(self) -> Mapping[str, Sequence[str]]:
        """The notes and readouts written in tripdash (every version), for the search."""
        return {
            item: [v.text for v in versions]
            for item, versions in self.session.notes(self.key).items()
        }

    def _show_details(self) -> None:
        selected = self.timeline.selected
        extra = self.session.annotations(self.key, selected.id) if selected else None
        details = self.query_one(EventDetails)
        details.found = self.found_line()
        details.show(selected, self.schedule, self.clock.now(), self.done, extra)

    def on_timeline_highlighted(self, message: Timeline.Highlighted) -> None:
        self._show_details_soon()

    def _show_details_soon(self) -> None:
        """Update the details pane a moment later, once: re-wrapping it costs a layout,
        and holding `j` (or marking) should change the timeline at once, not wait for it."""
        if self._details_timer is not None:
            self._details_timer.stop()
        self._details_timer = self.set_timer(self.details_delay(DETAILS_DELAY), self._show_details)

    def confirm(self, text: str) -> None:
        # In the header, under whatever box is open over the timeline.
        self.query_one(TripHeader).flash(text)

    def on_timeline_opened(self, message: Timeline.Opened) -> None:
        self.open_event(message.event)

    def open_event(self, event: Event) -> None:
        """The event box of ``event`` (enter on the timeline, or `e` on a reminder)."""
        from tripdash.screens.event import EventScreen

        self.app.push_screen(
            EventScreen(self.session, self.key, event), callback=self._event_closed
        )

    def _event_closed(self, counterpart_id: str | None) -> None:
        # The event box closes with a counterpart's id when `c` asked for them.
        if counterpart_id is not None:
            self.open_counterparts(counterpart_id)

    def trip_reloaded(self, message: TripReloaded) -> None:
        """A new version of this trip: apply it in place, keeping selection and scroll."""
        header = self.query_one(TripHeader)
        header.status = self._status(self.clock.real_now())
        if self.timeline.schedule is self.schedule:
            return
        self._follow_schedule()
        self.title = one_line(self.trip.title)

    def _follow_schedule(self) -> None:
        """Show the schedule in use now (a new version, or times moved by a shift),
        keeping the selection and the scroll."""
        schedule = self.schedule
        header = self.query_one(TripHeader)
        header.schedule = schedule
        header.late_text = self._late_text(self.clock.now())
        header.status = self._status(self.clock.real_now())
        header.refresh_lines()
        scroll_y = self.timeline.scroll_y
        self.timeline.set_schedule(schedule, keep=True, late=self.session.lateness(self.key))
        self.search_reloaded()
        self.timeline.scroll_line_to_top(round(scroll_y))
        self._show_details()

    def records_changed(self) -> None:
        """Notes or shifts changed: move the times if a shift did, show the notes."""
        if self.timeline.schedule is not self.schedule:
            self._follow_schedule()
        else:
            self._show_details()

    def marks_changed(self, item_ids: frozenset[str] | None) -> None:
        self.timeline.set_done(self.done, item_ids)
        self._show_details_soon()

    def select_event(self, event_id: str | None) -> None:
        """Select an event by id (coming back from a counterpart's next meeting)."""
        if event_id is None:
            return
        if self.timeline.index_of(event_id) is None and self._filter_query is not None:
            self.action_clear_search()  # the event asked for is not among those filtered
        i = self.timeline.index_of(event_id)
        if i is not None:
            self.timeline.select(i)
            self.timeline.scroll_to_event(i, center=True)
            self.timeline.focus()

    # -- marking ------------------------------------------------------------------------

    def action_toggle_done(self) -> None:
        """Mark the selected event done, or not done again."""
        event = self.timeline.selected
        if event is not None:
            self.mark(event.id)

    def action_note(self) -> None:
        """Write or change the note of the selected event."""
        event = self.timeline.selected
        if event is not None:
            self.edit_note(event.id)

    def action_late(self) -> None:
        """Running late: how many minutes, from which event (the one on now, else next)."""
        from tripdash.screens.late import LateScreen, movable

        trip = self.trip
        start = self.session.default_shift_event(self.key)
        selected = self.timeline.selected
        if start is None and selected is not None:
            start = trip.events[selected.index]
        if start is None or not movable(trip, start):
            self.notify("Nothing left to run late: no timed event now or next", timeout=3)
            return
        choices = movable(trip, start)
        if start not in choices:
            later = [e for e in choices if e.sort_at >= start.sort_at]
            start = later[0] if later else choices[-1]
        current = self.session.lateness(self.key).minutes(start.id)
        self.app.push_screen(LateScreen(trip, start, current, self.shift_from, self.time_format))

    def action_counterparts(self) -> None:
        """The counterparts screen, on the selected event's first counterpart if it has one."""
        event = self.timeline.selected
        self.open_counterparts(event.counterparts[0].id if event and event.counterparts else None)

    def open_counterparts(self, counterpart_id: str | None) -> None:
        from tripdash.screens.counterparts import CounterpartsScreen

        self.app.push_screen(
            CounterpartsScreen(self.session, self.key, counterpart_id), callback=self.select_event
        )

    # -- actions ------------------------------------------------------------------------

    def action_overview(self) -> None:
        """The whole trip at once; enter there comes back on the event chosen."""
        from tripdash.screens.overview import OverviewScreen

        selected = self.timeline.selected
        events = self.trip.events
        at = next((i for i, e in enumerate(events) if e is selected), 0) if selected else 0
        OverviewScreen.open(
            self.app,
            self.schedule,
            clock=self.clock.now,
            done=lambda: self.done,
            selected=at,
            callback=self.select_event,
            time_format=self.time_format,
        )

    def action_jump_now(self) -> None:
        """Select the event in progress (else the next) and show the now line."""
        self.timeline.jump_to_now()

    def action_prev_day(self) -> None:
        self.timeline.jump_day(-1)

    def action_next_day(self) -> None:
        self.timeline.jump_day(+1)

    def action_focus_next_pane(self) -> None:
        self.focus_next()

    def action_focus_previous_pane(self) -> None:
        self.focus_previous()

    def _clock_changed(self) -> None:
        self.query_one(TripHeader).rehearsal = self.clock.rehearsal
        self.tick()
        self._show_details()
