"""The timeline: every event under its local-day heading, with a moving "now" line.

A line-API scroll view: it draws only the lines on screen, so a trip of
10,000 events opens and scrolls as fast as one of ten. There is never one
widget per event.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tripdash.domain.late import Lateness
from tripdash.domain.model import Event
from tripdash.domain.schedule import Phase, Schedule, home_time_label, local_time_label
from tripdash.domain.search import FilteredSchedule
from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, clock_width, zone_abbrev
from tripdash.widgets.strips import cut_end, cut_middle, text_strip

# Row kinds in the line model.
DAY, EVENT, NOW = 0, 1, 2

_MARKS = {Phase.NOW: "▶", Phase.NEXT: "→", Phase.TBC_TODAY: "·"}
#: The state column: wide enough for "running 59 min" and "✓ 2h05 left".
STATE_WIDTH = 14


class Timeline(ScrollView, can_focus=True):
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

    COMPONENT_CLASSES = {
        "timeline--day",
        "timeline--now-line",
        "timeline--cursor",
        "timeline--cursor-blurred",
        "timeline--past",
        "timeline--current",
        "timeline--next",
        "timeline--tbc",
        "timeline--muted",
        "timeline--done",
        "timeline--match",
    }

    # The selected row is a solid block of the theme's primary colour with contrasting
    # text: no other row has a solid background, so it stays unmistakable in every theme,
    # at 16 colours (TERM=linux) and in monochrome (NO_COLOR). The row in progress is told
    # apart by its marker, weight and a faint tint, never by a shade close to the cursor's.
    # Secondary text ($text-muted) is resolved against the background, never drawn as a
    # partial style (which came out pure white, invisible in the light themes).
    DEFAULT_CSS = """
    Timeline {
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    Timeline > .timeline--day {
        background: $panel;
        color: $text;
        text-style: bold;
    }
    Timeline > .timeline--now-line {
        color: $text-warning;
        text-style: bold;
    }
    Timeline > .timeline--cursor {
        background: $primary;
        color: $text;
        text-style: bold;
    }
    Timeline > .timeline--cursor-blurred {
        background: $primary 55%;
        color: $text;
        text-style: bold;
    }
    Timeline > .timeline--past {
        color: $text-muted;
    }
    Timeline > .timeline--current {
        background: $success 12%;
        text-style: bold;
    }
    Timeline > .timeline--next {
        color: $text-accent;
        text-style: bold;
    }
    Timeline > .timeline--tbc {
        color: $text-warning;
    }
    Timeline > .timeline--muted {
        color: $text-muted;
    }
    Timeline > .timeline--done {
        color: $text-success;
    }
    Timeline > .timeline--match {
        background: $warning 25%;
        text-style: underline;
    }
    """

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
        self._late = late
        self._delays = {k: d.minutes for k, d in late.delays.items()} if late else {}
        self._overlapping = (
            {i for o in late.overlaps for i in (o.moved.id, o.fixed.id)} if late else set()
        )
        widest = max((len(f"{m:+d} ") for m in self._delays.values()), default=0)
        self._flags_w = widest + (2 if self._overlapping else 0)
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

    def _style(self, name: str, partial: bool = False) -> Style:
        """A component style, looked up once per theme (not once per line)."""
        key = (name, partial)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name, partial=partial)
        return style

    def _fg(self, name: str) -> Style:
        """Only the foreground colour and text style of a component, resolved against the
        widget's background (a partial style would leave ``auto 60%`` unresolved)."""
        key = (name + ":fg", False)
        style = self._styles.get(key)
        if style is None:
            full = self.get_component_rich_style(name)
            style = self._styles[key] = Style(
                color=full.color,
                bold=full.bold,
                italic=full.italic,
            )
        return style

    def _base_style(self) -> Style:
        """The widget's own style (colours inherited from the screen), looked up once per
        theme and focus state: Textual recomputes it from the ancestors on every call,
        which was a third of the cost of drawing a line."""
        key = ("", self.has_focus)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.rich_style
        return style

    def notify_style_update(self) -> None:
        # A theme or CSS change: every cached line and style is stale.
        self._styles.clear()
        self._strips.clear()
        super().notify_style_update()

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

    def _day_events(self, index: int) -> tuple[int, Sequence[Event]]:
        """Day ``index``'s number in the trip and its events (a filter shows only some)."""
        if isinstance(self.schedule, FilteredSchedule):
            return self.schedule.whole_day(index)
        day = self.schedule.days[index]
        return index + 1, self.schedule.trip.events[day.first : day.last + 1]

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

    def _line_key(self, row: tuple[int, int], width: int) -> tuple[object, ...]:
        """Everything a line's pixels depend on (so a cached line is never stale)."""
        kind, index = row
        if kind == EVENT:
            event = self.schedule.trip.events[index]
            phase = self.schedule.phase(event, self._now, self._next)
            done = event.id in self._done
            label = self._state_label(event, phase, done)
            selected = index == self.cursor
            found = index in self._matches
            return (
                kind,
                index,
                width,
                selected,
                selected and self.has_focus,
                done,
                phase,
                label,
                found,
            )
        if kind == DAY:
            number, day_events = self._day_events(index)
            done_count = sum(1 for e in day_events if e.id in self._done)
            return (kind, index, width, done_count, number)
        return (kind, width, self._now.replace(second=0, microsecond=0))

    def _render_row(self, row: tuple[int, int], width: int) -> Strip:
        kind, index = row
        base = self._base_style()
        if kind == DAY:
            text = self._day_text(index, width)
            style = base + self._style("timeline--day")
        elif kind == NOW:
            text = self._now_text(width)
            style = base + self._style("timeline--now-line")
        else:
            text, style = self._event_text(index, width)
            style = base + style
        if kind != EVENT:
            # Event rows are built column by column to the width (the title has its own
            # ellipsis), so only headings need cutting here; measuring a whole row's cells
            # again was a fifth of the cost of drawing it.
            text.truncate(width, overflow="ellipsis")
        return text_strip(text, self.app.console, style, width)

    def _day_text(self, index: int, width: int) -> Text:
        """`` Tuesday 17 January 2023  Washington DC  Day 1: 0/3 done``.

        When the line is too narrow the places are cut first, then the date shortened:
        the count is never what is cut.
        """
        day = self.schedule.days[index]
        number, events_ = self._day_events(index)
        done = sum(1 for e in events_ if e.id in self._done)
        count = f"Day {number}: {done}/{len(events_)} done"
        places = one_line(" · ".join(day.places))
        heading = f" {day.heading}"
        if len(heading) + 2 + len(count) > width:
            heading = f" {day.date:%a} {day.date.day} {day.date:%b}"
        room = width - len(heading) - 2 - len(count) - 2
        text = Text(heading, end="")
        if room >= 4:
            place_text = Text(places)
            place_text.truncate(room, overflow="ellipsis")
            text.append("  ")
            text.append_text(place_text)
        text.append(f"  {count}")
        return text

    def _now_text(self, width: int) -> Text:
        home = self.schedule.trip.home_tz
        place = self.schedule.current_place(self._now)
        at_home = self._now.astimezone(home)
        label = f"{clock_time(at_home, self._time_format)} {zone_abbrev(at_home)}"
        if place is not None and place.tz.key != home.key:
            here = self._now.astimezone(place.tz)
            label = f"{clock_time(here, self._time_format)} {zone_abbrev(here)} · {label}"
        core = f" now {label} "
        left = 3
        right = max(0, width - left - len(core))
        return Text("─" * left + core + "─" * right, end="")

    def _columns(self, width: int) -> tuple[int, int, bool, bool]:
        """(body width, state width, show kind, show planned): the title gets its room first.

        The state column is always separated from the body by at least one space. When
        a shift moved events and there is room, each time column gets a slot for the
        planned time (struck through) before the expected one.
        """
        state_w = STATE_WIDTH
        fixed = 2 + self._local_w + 2 + self._home_w + 2 + 1 + state_w
        planned_w = 2 * (clock_width(self._time_format) + 1)  # "09:15 " at local and home
        show_planned = bool(self._delays) and width - fixed - planned_w >= 30
        if show_planned:
            fixed += planned_w
        show_kind = width - fixed >= 50 + 9
        if show_kind:
            fixed += 9
        return max(10, width - fixed), state_w, show_kind, show_planned

    def _event_text(self, index: int, width: int) -> tuple[Text, Style]:
        event = self.schedule.trip.events[index]
        trip = self.schedule.trip
        phase = self.schedule.phase(event, self._now, self._next)
        done = event.id in self._done
        selected = index == self.cursor
        body_w, state_w, show_kind, show_planned = self._columns(width)

        plain = Style()
        if selected:
            # One colour for every column: secondary colours over the cursor's solid
            # background would be illegible in some themes; the weight says enough.
            cursor_class = "timeline--cursor" if self.has_focus else "timeline--cursor-blurred"
            row_style = self._style(cursor_class)
            muted = tbc = next_fg = done_fg = plain
        else:
            row_style = Style()
            if phase is Phase.PAST:
                row_style = self._fg("timeline--past")
            elif phase is Phase.NOW:
                row_style = self._style("timeline--current")
            elif phase is Phase.NEXT:
                row_style = self._fg("timeline--next")
            muted = self._fg("timeline--muted") if phase is not Phase.PAST else plain
            tbc = self._fg("timeline--tbc") if phase is not Phase.PAST else plain
            next_fg = plain
            done_fg = self._fg("timeline--done")
            if index in self._matches:
                row_style = row_style + self._style("timeline--match")

        mark = _MARKS.get(phase) or ("✓" if done else " ")
        text = Text(end="")
        text.append(mark, done_fg if done else next_fg)
        text.append(" ")
        local = local_time_label(event, self._time_format, pad=True)
        home = home_time_label(event, trip.home_tz, self._time_format, pad=True)
        time_style = tbc if not event.time_confirmed else plain
        delay = self._delays.get(event.id, 0)
        planned = self._late.trip.events[index] if delay and self._late is not None else None
        if planned is not None and planned.start == event.start:
            planned = None  # it began on time and overruns: only its end moved (+20 says so)
        struck = muted + Style(strike=True)
        # Home time is half of what the dashboard is for: drawn as legibly as local time.
        slot = clock_width(self._time_format) + 1
        if show_planned:
            was = (
                f"{clock_time(planned.start, self._time_format, pad=True)} "
                if planned is not None
                else " " * slot
            )
            text.append(was, struck if planned is not None else plain)
        text.append(f"{local:<{self._local_w}}  ", time_style)
        if show_planned:
            was_home = (
                clock_time(planned.start.astimezone(trip.home_tz), self._time_format, pad=True)
                + " "
                if planned is not None
                else ""
            )
            text.append(f"{was_home:<{slot}}", struck if planned is not None else plain)
        text.append(f"{home:<{self._home_w}}  ", time_style)

        # One column for the flags, the same width on every row, so titles stay aligned.
        flags = f"{delay:+d} " if delay else ""
        if event.id in self._overlapping:
            flags += "⚠ "
        flags = flags.ljust(self._flags_w)
        if flags:
            text.append(flags, plain if selected else self._fg("timeline--tbc"))
            body_w = max(4, body_w - cell_len(flags))
        text.append_text(self._body(event, body_w, muted))
        if show_kind:
            text.append(f" {event.kind:<8}", muted)
        label = self._state_label(event, phase, done)
        text.append(" " + cut_end(label, state_w).rjust(state_w))
        return text, row_style

    def _body(self, event: Event, width: int, muted: Style) -> Text:
        """Title · counterparts · place, cut to ``width``.

        The title comes first and whole when it fits; a title too long is cut in the
        middle, keeping its end ("Meeting with the…CEO of Toyota"), which is where
        titles of one trip differ. Who comes before where: the row must say who.
        """
        title_style = Style(strike=event.cancelled, italic=event.tentative)
        title = one_line(event.title)
        body = Text(end="")
        if cell_len(title) > width:
            cut = cut_middle(title, width)
            body.append(cut, title_style)
            body.pad_right(width - cell_len(cut))
            return body
        body.append(title, title_style)
        room = width - cell_len(title)
        extra = []
        if event.counterparts:
            extra.append(one_line(", ".join(c.name for c in event.counterparts)))
        where = event.venue or event.place.name
        if event.to is not None:
            where = f"{event.place.name} → {event.to.name}"
        extra.append(one_line(where))
        for part in extra:
            piece = f" · {part}"
            # Never let an ellipsis eat into a title that fits: a piece that is cut
            # must keep a few letters of its own.
            if cell_len(piece) > room and room < 7:
                break
            piece = cut_end(piece, room)
            body.append(piece, muted)
            room -= cell_len(piece)
        body.pad_right(max(0, room))
        return body

    def _state_label(self, event: Event, phase: Phase, done: bool) -> str:
        if event.cancelled:
            return "cancelled"
        if phase in (Phase.NOW, Phase.NEXT):
            countdown = self.schedule.countdown(event, self._now, compact=True)
            # Marked done while it runs: the ▶ stays, and the state says both.
            if done and len(countdown) + 2 <= STATE_WIDTH:
                return f"✓ {countdown}"
            return countdown
        if done:
            return "done"
        if phase is Phase.PAST:
            return "past"
        if event.tentative:
            return "tentative"
        if not event.time_confirmed:
            return "TBC today" if phase is Phase.TBC_TODAY else "TBC"
        return ""
