"""How each row of the timeline is drawn: day headings, the "now" line, events.

The base of :class:`~tripdash.widgets.timeline.Timeline`, which owns the line model,
the cursor and the keys; this part turns a row (its kind and index) into a strip, with
the styles each kind takes. Its styles are scoped to this class, which every timeline
is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from tripdash.domain.model import Event
from tripdash.domain.schedule import (
    Phase,
    Schedule,
    home_time_label,
    local_time_label,
    shifted_time_label,
)
from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, zone_abbrev
from tripdash.widgets.strips import cut_end, cut_middle, same_scrollbar, text_strip

# Row kinds in the line model.
DAY, EVENT, NOW = 0, 1, 2

_MARKS = {Phase.NOW: "▶", Phase.NEXT: "→", Phase.TBC_TODAY: "·"}
#: The state column: wide enough for "running 59 min" and "✓ 2h05 left".
STATE_WIDTH = 14


class TimelineRows(ScrollView):
    """The drawing half of the timeline: a row's key (all its pixels depend on) and its
    strip. The attributes below are the line model's, kept by the timeline."""

    COMPONENT_CLASSES = {
        *("timeline--day", "timeline--now-line", "timeline--cursor", "timeline--cursor-blurred"),
        *("timeline--past", "timeline--current", "timeline--next", "timeline--tbc"),
        *("timeline--muted", "timeline--done", "timeline--match"),
    }

    # The selected row is a solid block of the theme's primary colour with contrasting
    # text: no other row has a solid background, so it stays unmistakable in every theme,
    # at 16 colours (TERM=linux) and in monochrome (NO_COLOR). The row in progress is told
    # apart by its marker, weight and a faint tint, never by a shade close to the cursor's.
    # Secondary text ($text-muted) is resolved against the background, never drawn as a
    # partial style (which came out pure white, invisible in the light themes).
    DEFAULT_CSS = """
    TimelineRows {
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    TimelineRows > .timeline--day {
        background: $panel;
        color: $text;
        text-style: bold;
    }
    TimelineRows > .timeline--now-line {
        color: $text-warning;
        text-style: bold;
    }
    TimelineRows > .timeline--cursor {
        background: $primary;
        color: $text;
        text-style: bold;
    }
    TimelineRows > .timeline--cursor-blurred {
        background: $primary 55%;
        color: $text;
        text-style: bold;
    }
    TimelineRows > .timeline--past {
        color: $text-muted;
    }
    TimelineRows > .timeline--current {
        background: $success 12%;
        text-style: bold;
    }
    TimelineRows > .timeline--next {
        color: $text-accent;
        text-style: bold;
    }
    TimelineRows > .timeline--tbc {
        color: $text-warning;
    }
    TimelineRows > .timeline--muted {
        color: $text-muted;
    }
    TimelineRows > .timeline--done {
        color: $text-success;
    }
    TimelineRows > .timeline--match {
        background: $warning 25%;
        text-style: underline;
    }
    """

    schedule: Schedule
    cursor: int
    _now: datetime
    _next: Event | None
    _done: Collection[str]
    _matches: frozenset[int]
    _time_format: int
    _delays: dict[str, int]
    _overlapping: set[str]
    _flags_w: int
    _planned_w: tuple[int, int]
    _planned: dict[str, Event]
    _local_w: int
    _home_w: int
    _strips: LRUCache[tuple[object, ...], Strip]
    _styles: dict[tuple[str, bool], Style]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # The bar's position is kept quietly when its picture does not change (most
        # one-line scrolls of a long trip): Textual would draw it again all the same.
        bar = self.vertical_scrollbar if self.show_vertical_scrollbar else None
        if bar is not None and same_scrollbar(bar, new_value):
            bar.set_reactive(ScrollBar.position, bar.validate_position(new_value))
        super().watch_scroll_y(old_value, new_value)

    def notify_style_update(self) -> None:
        # A theme or CSS change: every cached line and style is stale.
        self._styles.clear()
        self._strips.clear()
        super().notify_style_update()

    def _day_events(self, index: int) -> tuple[int, Sequence[Event]]:
        """Day ``index``'s number in the trip and its events (a filter shows only some)."""
        return self.schedule.whole_day(index)

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
        planned_w = sum(self._planned_w)  # "09:15 " at local and home
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

        # Done says ✓ on every row but the one on now or next, whose arrow says where the
        # day is (a TBC event of today, once done, is done, not only "today, TBC").
        mark = _MARKS.get(phase, " ")
        if done and phase not in (Phase.NOW, Phase.NEXT):
            mark = "✓"
        text = Text(end="")
        text.append(mark, done_fg if done else next_fg)
        text.append(" ")
        local = local_time_label(event, self._time_format, pad=True)
        home = home_time_label(event, trip.home_tz, self._time_format, pad=True)
        time_style = tbc if not event.time_confirmed else plain
        delay = self._delays.get(event.id, 0)
        planned = self.planned_labels(event) if delay else None
        struck = muted + Style(strike=True)
        # Home time is half of what the dashboard is for: drawn as legibly as local time.
        local_slot, home_slot = self._planned_w
        if show_planned:
            was = planned[0].ljust(local_slot - 1) + " " if planned else " " * local_slot
            text.append(was, struck if planned is not None else plain)
        text.append(f"{local:<{self._local_w}}  ", time_style)
        if show_planned:
            was_home = planned[1].ljust(home_slot - 1) + " " if planned else " " * home_slot
            text.append(was_home, struck if planned is not None else plain)
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

    def planned_labels(self, event: Event) -> tuple[str, str] | None:
        """The planned local and home times of moved event ``event`` (at its expected
        time), to show struck through beside the expected ones; None when its
        start did not move (it began on time and overruns: ``+20`` says so).

        Each carries its zone where the expected time's differs (a shift across a
        change of the clocks) and a day marker where its date is not the row's day.
        """
        planned = self._planned.get(event.id)
        if planned is None or planned.start == event.start:
            return None
        fmt, day, home = self._time_format, event.local_date, self.schedule.trip.home_tz
        local = shifted_time_label(planned.start, day, fmt, beside=event.start, pad=True)
        at_home, expected_home = planned.start.astimezone(home), event.start.astimezone(home)
        return local, shifted_time_label(at_home, day, fmt, beside=expected_home, pad=True)

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
