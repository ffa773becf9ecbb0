"""The timeline: every event under its local-day heading, with a moving "now" line.

A line-API scroll view: it draws only the lines on screen, so a trip of
10,000 events opens and scrolls as fast as one of ten. There is never one
widget per event. How each row is drawn, and the styles of its kinds, are in
:mod:`tripdash.widgets.timeline_rows`, its base.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from tripdash.domain.late import Lateness
from tripdash.domain.model import Event, Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.times import clock_width, zone_abbrev
from tripdash.widgets.timeline_rows import DAY, EVENT, NOW, TimelineRows


class Timeline(TimelineRows, can_focus=True):
    """The programme, one line per event, grouped under day headings."""

    HELP_GROUP = "Timeline"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="timeline.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="timeline.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="timeline.page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="timeline.page-up"),
        Binding("home,g", "first", "First event", show=False, id="timeline.first"),
        Binding("end,G", "last", "Last event", show=False, id="timeline.last"),
        Binding("enter", "open", "Details", id="timeline.open"),
    ]

    #: Index (in ``trip.events``) of the selected event; -1 when the trip has none.
    #: No repaint of its own: watch_cursor redraws the two lines whose highlight changed
    #: (a whole-widget repaint re-composed every visible line on each key).
    cursor: reactive[int] = reactive(-1, always_update=False, init=False, repaint=False)

    class Highlighted(Message):
        """The selection moved to ``event``."""

        def __init__(self, event: Event) -> None:
            self.event = event
            super().__init__()

    class Opened(Message):
        """The user asked for the details of ``event`` (enter or double click)."""

        def __init__(self, event: Event) -> None:
            self.event = event
            super().__init__()

    def __init__(
        self,
        schedule: Schedule,
        now: datetime,
        *,
        done: Collection[str] = (),
        late: Lateness | None = None,
        time_format: int = 24,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._done: Collection[str] = done
        self._time_format = time_format  # 12 or 24
        self._now = now
        # Rendered lines, keyed by everything that shows in them: moving the cursor or
        # ticking the clock redraws only lines whose key changed.
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)
        self._styles: dict[tuple[str, bool], Style] = {}
        #: A centring scroll asked for before the widget had a size (see render_line).
        self._center_when_sized = False
        #: Indexes of the events a search matched (underlined), see :meth:`set_matches`.
        self._matches: frozenset[int] = frozenset()
        self.set_schedule(schedule, keep=False, late=late)

    # -- the line model -----------------------------------------------------------------

    def set_schedule(
        self, schedule: Schedule, *, keep: bool = True, late: Lateness | None = None
    ) -> None:
        """Show ``schedule``; keep the selected event (by id) when ``keep`` and it still exists.

        ``late`` relates it to the plan when a running-late shift moved events: their
        rows show the planned time struck through beside the expected one, and ``+20``.
        """
        old_id = self.selected.id if keep and self.selected is not None else None
        self.schedule = schedule
        self._delays = {k: d.minutes for k, d in late.delays.items()} if late else {}
        self._overlapping = (
            {i for o in late.overlaps for i in (o.moved.id, o.fixed.id)} if late else set()
        )
        widest = max((len(f"{m:+d} ") for m in self._delays.values()), default=0)
        self._flags_w = widest + (2 if self._overlapping else 0)
        # By id: a filtered timeline's indexes are not the plan's.
        delayed = self._delays
        self._planned = {e.id: e for e in late.trip.events if e.id in delayed} if late else {}
        self._planned_w = self._measure_planned(schedule.trip)
        rows: list[tuple[int, int]] = []
        event_row: list[int] = []
        for d_index, day in enumerate(schedule.days):
            rows.append((DAY, d_index))
            # Event i sits d_index + 1 rows down: one heading per day so far, this one included.
            event_row.extend(range(day.first + d_index + 1, day.last + d_index + 2))
            rows.extend([(EVENT, i) for i in range(day.first, day.last + 1)])
        self._event_row = event_row
        self._rows = rows
        self._index_of = {e.id: i for i, e in enumerate(schedule.trip.events)}
        if hasattr(self, "_strips"):
            self._strips.clear()
        self._measure()
        self._place_now_line()
        events_ = schedule.trip.events
        if old_id is not None:
            for i, e in enumerate(events_):
                if e.id == old_id:
                    self.set_reactive(Timeline.cursor, i)
                    break
        if self.cursor >= len(events_):
            self.set_reactive(Timeline.cursor, len(events_) - 1)
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        self.refresh()

    def _measure(self) -> None:
        """Widths of the time columns, from the zones the trip uses (not from every event).

        Sampling each place's abbreviation at the trip's first and last instants
        covers a DST change in the middle; a home column reserves room for a
        day marker only when some place keeps another offset than home.
        """
        trip = self.schedule.trip
        instants = [e.start for e in trip.events[:1] + trip.events[-1:]]
        zones = {p.tz.key: p.tz for p in trip.places}
        local_w, home_w, marker = 3, 3, 0
        clock_w = clock_width(self._time_format) + 1
        for instant in instants:
            at_home = instant.astimezone(trip.home_tz)
            home_w = max(home_w, clock_w + len(zone_abbrev(at_home)))
            for zone in zones.values():
                here = instant.astimezone(zone)
                local_w = max(local_w, clock_w + len(zone_abbrev(here)))
                if here.utcoffset() != at_home.utcoffset():
                    marker = 4
        self._local_w = local_w
        self._home_w = home_w + marker

    def _measure_planned(self, expected: Trip) -> tuple[int, int]:
        """Widths of the slots for planned times (local, home): a clock time and a space,
        more where a planned time needs its zone or a day marker (``planned_labels``)."""
        slot = clock_width(self._time_format) + 1
        local_w = home_w = slot
        if not self._planned:
            return local_w, home_w
        for event in expected.events:
            if event.id in self._delays:
                labels = self.planned_labels(event)
                if labels is not None:
                    local_w = max(local_w, len(labels[0]) + 1)
                    home_w = max(home_w, len(labels[1]) + 1)
        return local_w, home_w

    def _place_now_line(self) -> None:
        """Work out the row the "now" line sits on (before the first future event)."""
        schedule = self.schedule
        index = schedule.now_position(self._now)
        self._now_event_index = index
        self._next = schedule.find_next(self._now)
        events_ = schedule.trip.events
        if index >= len(events_):
            self._now_row = len(self._rows)
            return
        row = self._event_row[index]
        event = events_[index]
        day = schedule.days[schedule.day_of(index)]
        # Above the day heading when today (at that place) is still the day before.
        if day.first == index and self._now.astimezone(event.place.tz).date() < event.local_date:
            row -= 1
        self._now_row = row

    def _row_at(self, line: int) -> tuple[int, int] | None:
        if line == self._now_row:
            return (NOW, 0)
        if line > self._now_row:
            line -= 1
        if 0 <= line < len(self._rows):
            return self._rows[line]
        return None

    def line_of_event(self, index: int) -> int:
        """The virtual line an event is drawn on."""
        row = self._event_row[index]
        return row + 1 if row >= self._now_row else row

    @property
    def now_line(self) -> int:
        """The virtual line of the "now" line."""
        return self._now_row

    @property
    def selected(self) -> Event | None:
        """The selected event, or None for an empty trip."""
        schedule: Schedule | None = getattr(self, "schedule", None)
        if schedule is None or not (0 <= self.cursor < len(schedule.trip.events)):
            return None
        return schedule.trip.events[self.cursor]

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh()

    # -- time and marks ----------------------------------------------------------------

    def set_now(self, now: datetime) -> None:
        """Advance the timeline's notion of now; redraw only when something visible changes."""
        minute_changed = (now.replace(second=0, microsecond=0)) != (
            self._now.replace(second=0, microsecond=0)
        )
        self._now = now
        old_row, old_next = self._now_row, self._next
        self._place_now_line()
        if minute_changed or old_row != self._now_row or old_next is not self._next:
            self.refresh()

    def set_done(self, done: Collection[str], changed: Collection[str] | None = None) -> None:
        """Replace the set of item ids marked done, and redraw.

        With ``changed`` (the ids whose mark changed), only their lines and their day
        headings are redrawn: marking one event should not repaint the whole pane.
        """
        self._done = done
        if changed is None:
            self.refresh()
            return
        for item_id in changed:
            index = self._index_of.get(item_id)
            if index is None:
                continue  # a talking point: no timeline line shows it
            self.refresh_line(self.line_of_event(index))
            day = self.schedule.days[self.schedule.day_of(index)]
            heading = self.line_of_event(day.first) - 1
            self.refresh_line(heading if heading != self.now_line else heading - 1)

    def set_matches(self, indexes: frozenset[int]) -> None:
        """Underline the events a search matched, by index (none: an empty set)."""
        if indexes == self._matches:
            return
        old, self._matches = self._matches, indexes
        # Only the lines on screen whose underline changed: a keystroke of a search should
        # cost a few lines, not a repaint of the pane.
        top = round(self.scroll_y)
        for line in range(top, top + self.size.height):
            row = self._row_at(line)
            if row is not None and row[0] == EVENT and (row[1] in old) != (row[1] in indexes):
                self.refresh_line(line)

    def prepare_matched(self) -> None:
        """Draw ahead, and keep, the event rows on screen as a search's match shows them.

        Called when the search line opens: the first letter of a query matches most rows,
        and drawing them all then would land on that keystroke. Nothing on screen changes.
        """
        width = self.scrollable_content_region.width or self.size.width
        top = round(self.scroll_y)
        rows = [self._row_at(line) for line in range(top, top + self.size.height)]
        shown = [row for row in rows if row is not None and row[0] == EVENT]
        kept = self._matches
        # Drawn as matches: every row's index in the set the drawing code reads.
        self._matches = kept | {index for _kind, index in shown}
        try:
            for row in shown:
                key = self._line_key(row, width)
                if self._strips.get(key) is None:
                    self._strips[key] = self._render_row(row, width)
        finally:
            self._matches = kept

    def index_of(self, event_id: str) -> int | None:
        """The index of an event among those shown (None when it is not shown)."""
        return self._index_of.get(event_id)

    # -- cursor movement -------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        # Only the two lines whose highlight changed (a scroll redraws the rest anyway).
        count = len(self.schedule.trip.events)
        for index in (old, new):
            if 0 <= index < count:
                self.refresh_line(self.line_of_event(index))
        event = self.selected
        if event is not None:
            self.scroll_to_event(new)
            self.post_message(self.Highlighted(event))

    def select(self, index: int) -> None:
        """Select event ``index`` (clamped to the trip)."""
        count = len(self.schedule.trip.events)
        if count:
            self.cursor = max(0, min(count - 1, index))

    def scroll_line_to_top(self, line: int) -> None:
        """Scroll so that ``line`` is the first one shown, in this frame.

        Textual's default defers a scroll until after the next refresh, which would
        draw the moved selection unscrolled first and then a second frame.
        """
        self.scroll_to(y=max(0, line), animate=False, immediate=True)

    def scroll_to_event(self, index: int, *, center: bool = False) -> None:
        line = self.line_of_event(index)
        height = self.scrollable_content_region.height or 1
        top = round(self.scroll_y)
        if center:
            self.scroll_line_to_top(line - height // 2)
        elif line < top + 1:
            # Keep the day heading in view when moving up to a day's first event.
            self.scroll_line_to_top(line - 1)
        elif line >= top + height:
            self.scroll_line_to_top(line - height + 1)

    def action_cursor_down(self) -> None:
        self.select(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.select(self.cursor - 1)

    def action_page_down(self) -> None:
        self.select(self.cursor + max(1, self.scrollable_content_region.height - 2))

    def action_page_up(self) -> None:
        self.select(self.cursor - max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self.select(0)
        self.scroll_line_to_top(0)

    def action_last(self) -> None:
        self.select(len(self.schedule.trip.events) - 1)

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    def jump_to_now(self) -> None:
        """Select the event in progress, else the next one, and bring the now line into view."""
        events_ = self.schedule.trip.events
        if not events_:
            return
        running = self.schedule.in_progress(self._now)
        if running:
            target = events_.index(running[-1])
        elif self._next is not None:
            target = events_.index(self._next)
        else:
            target = min(self._now_event_index, len(events_) - 1)
        self.cursor = target  # no-op when already there (always_update=False)
        if not self.size.height:
            # Not laid out yet: a scroll now would be clamped to the top. Centre the
            # selection when the first size arrives (a key typed ahead keeps its effect).
            self._center_when_sized = True
        self.scroll_to_event(target, center=True)

    def jump_day(self, step: int) -> None:
        """Select the first event of the previous (-1) or next (+1) day."""
        days = self.schedule.days
        if not days:
            return
        current = self.schedule.day_of(max(0, self.cursor))
        day = days[max(0, min(len(days) - 1, current + step))]
        if step < 0 and self.cursor > days[current].first:
            day = days[current]  # like "previous paragraph": first back to this day's start
        self.select(day.first)
        self.scroll_line_to_top(self.line_of_event(day.first) - 1)

    async def _on_click(self, event: events.Click) -> None:
        row = self._row_at(event.y + round(self.scroll_y))
        if row is None or row[0] != EVENT:
            return
        if event.chain >= 2 and row[1] == self.cursor:
            self.action_open()
        else:
            self.cursor = row[1]

    # -- rendering ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)

    def render_line(self, y: int) -> Strip:
        if self._center_when_sized and self.size.height:
            # The first frame with a size: centre the selection before drawing a line of
            # it, so that the very first frame shows "now" (on_resize comes a frame later).
            self._center_when_sized = False
            self.scroll_to_event(self.cursor, center=True)
        width = self.scrollable_content_region.width or self.size.width
        row = self._row_at(y + round(self.scroll_y))
        if row is None:
            return Strip.blank(width, self._base_style())
        key = self._line_key(row, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(row, width)
        return strip
