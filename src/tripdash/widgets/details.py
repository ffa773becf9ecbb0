"""The details of one event: venue, times in local, home and UTC, duration, notes, people.

Everything from the trip file is added to :class:`rich.text.Text` as plain
strings, so a title like ``[bold]Talks[/]`` shows exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from rich.cells import cell_len, get_character_cell_size
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tripdash.domain.loader import duration
from tripdash.domain.model import Counterpart, Event, TalkingPoint
from tripdash.domain.people import covered_count
from tripdash.domain.schedule import Phase, Schedule
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import (
    UTC,
    clock_time,
    day_marker,
    format_offset,
    humanize_delta,
    zone_abbrev,
)
from tripdash.recorded import Annotations
from tripdash.widgets.strips import text_strip

#: Joins words that must stay on one line when the pane wraps ("23:30 EDT -1d"); drawn
#: as a plain space.
GLUE = "\u00a0"


def _stamp(instant: datetime, reference_date: object | None = None, time_format: int = 24) -> str:
    """``Mon 23 May 23:30 EDT -1d (UTC-04:00)``: the day marker sits with the time it
    qualifies, and each group is glued so that wrapping never strands a piece of it."""
    clock = f"{_clock(instant, time_format)}{GLUE}{zone_abbrev(instant)}"
    if reference_date is not None:
        marker = day_marker(instant, reference_date)  # type: ignore[arg-type]
        if marker:
            clock += f"{GLUE}{marker}"
    day = f"{instant:%a}{GLUE}{instant:%d}{GLUE}{instant:%b}"
    return f"{day} {clock} ({format_offset(instant)})"


def _clock(instant: datetime, time_format: int) -> str:
    """The time of day, glued: ``9:15 am`` never wraps between its two words."""
    return clock_time(instant, time_format).replace(" ", GLUE)


def _utc_stamp(instant: datetime, time_format: int) -> str:
    """``Tue 17 Jan 14:15 UTC``."""
    at = instant.astimezone(UTC)
    return f"{at:%a %d %b} {_clock(at, time_format)} UTC"


_LABEL = re.compile(r" *\S+(?: \S+)? {2,}")


def hanging_indent(plain: str, width: int) -> int:
    """Where a wrapped line's continuation starts: under the value of a ``Label    value``
    line, under the text of a ``☐ point``, else two past the line's own indent."""
    lead = len(plain) - len(plain.lstrip(" "))
    label = _LABEL.match(plain)
    if label and label.end() < len(plain):
        indent = label.end()
    elif plain[lead : lead + 2] in ("☐ ", "☑ ", "→ ", "✓ "):
        indent = lead + 2
    else:
        indent = lead + 2
    return indent if indent <= width // 2 else min(lead, width // 2)


def wrap_hanging(line: Text, width: int) -> list[Text]:
    """``line`` wrapped to ``width`` cells at spaces (never inside a :data:`GLUE`),
    continuation lines indented under the value; a word longer than a line is folded."""
    plain = line.plain
    if cell_len(plain) <= width:
        return [_unglue(line)]
    indent = hanging_indent(plain, width)
    out: list[Text] = []
    pos, n = 0, len(plain)
    while pos < n:
        room = width if not out else width - indent
        if out:
            while pos < n and plain[pos] == " ":
                pos += 1
            if pos >= n:
                break
        end, used = pos, 0
        while end < n and used + get_character_cell_size(plain[end]) <= room:
            used += get_character_cell_size(plain[end])
            end += 1
        if end >= n:
            cut = n
        else:
            floor = pos + (indent if not out else 0)
            space = plain.rfind(" ", floor + 1, end + 1)
            cut = space if space > floor else max(end, pos + 1)
        piece = line[pos:cut]
        piece.rstrip()
        if out:
            piece = Text(" " * indent, end="") + piece
        out.append(_unglue(piece))
        pos = cut
    return out


def _unglue(line: Text) -> Text:
    if GLUE not in line.plain:
        return line
    return Text(line.plain.replace(GLUE, " "), style=line.style, end="", spans=line.spans)


def point_groups(
    event: Event, done: Collection[str], *, open_first: bool
) -> list[tuple[Counterpart, list[TalkingPoint]]]:
    """The event's counterparts with their points; open (not done) ones first if asked."""
    groups = []
    for cp in event.counterparts:
        points = list(cp.talking_points)
        if open_first:
            points.sort(key=lambda p: p.item_id in done)  # stable: open ones keep their order
        if points:
            groups.append((cp, points))
    return groups


def describe_event(
    event: Event,
    schedule: Schedule,
    now: datetime,
    done: Collection[str] = (),
    *,
    points: bool = True,
    extra: Annotations | None = None,
    time_format: int = 24,
) -> Text:
    """The details of ``event`` as one Rich Text (no markup is ever parsed).

    While the event is in progress, its counterparts' open talking points come
    first, right under the title: that is what the room needs. ``points=False``
    leaves talking points out (the event screen lists them as a tickable list).
    ``extra`` is what the session recorded: the running-late shift that moves the
    event (``event`` then carries the expected times), overlaps, and the notes.
    ``time_format`` (12 or 24) is how times of day are shown.
    """
    fmt = time_format
    trip = schedule.trip
    extra = extra or Annotations()
    out = Text()
    out.append(one_line(event.title) + "\n", "bold")
    for overlap in extra.overlaps:
        out.append(f"⚠ {overlap}\n", "bold")
    flags = [event.kind, event.status.value]
    if not event.time_confirmed:
        flags.append("time TBC")
    if event.id in done:
        flags.append("done ✓")
    out.append(" · ".join(flags) + "\n", "italic")
    running = schedule.phase(event, now, None) is Phase.NOW
    if running and points:
        open_points = [
            (cp, p) for cp in event.counterparts for p in cp.talking_points if p.item_id not in done
        ]
        if open_points:
            out.append("\nOpen talking points (in progress now)\n", "bold reverse")
            for cp, p in open_points:
                out.append(f"  ☐ {one_line(p.text)}", "bold")
                out.append(f"  ({one_line(cp.name)})\n", "dim")
    where = event.place.name
    if event.to is not None:
        where += f" → {event.to.name}"
    out.append(f"{'Where':<9}{one_line(where)}\n")
    if event.venue:
        out.append(f"{'Venue':<9}{one_line(event.venue)}\n")
    out.append("\n")

    home = trip.home_tz
    if event.time_confirmed:
        label = "Departs" if event.to else "Starts"
        out.append(f"{label}\n", "bold")
        planned = extra.planned
        if isinstance(planned, Event) and extra.minutes and planned.start != event.start:
            how = "late" if extra.minutes > 0 else "early"
            since = f" since {one_line(extra.since)}" if extra.since else ""
            was = planned.start
            out.append(
                f"  {abs(extra.minutes)} min {how}{since}: planned "
                f"{_clock(was, fmt)}{GLUE}{zone_abbrev(was)} · "
                f"{_clock(was.astimezone(home), fmt)}{GLUE}{zone_abbrev(was.astimezone(home))}, "
                "expected:\n",
                "bold",
            )
        out.append(f"  {'local':<7}{_stamp(event.start, None, fmt)}\n")
        out.append(f"  {'home':<7}{_stamp(event.start.astimezone(home), event.local_date, fmt)}\n")
        out.append(f"  {'UTC':<7}{_utc_stamp(event.start, fmt)}\n")
        if event.end is not None:
            label = "Arrives" if event.to else "Ends"
            end_local = event.end.astimezone(event.end_place.tz)
            out.append(f"{label}\n", "bold")
            if (
                isinstance(planned, Event)
                and extra.minutes
                and planned.start == event.start
                and planned.end is not None
            ):
                # Began on time, runs over: the end is what moved.
                was = planned.end.astimezone(event.end_place.tz)
                how = "over" if extra.minutes > 0 else "short"
                out.append(
                    f"  runs {abs(extra.minutes)} min {how}: planned to end "
                    f"{_clock(was, fmt)}{GLUE}{zone_abbrev(was)} · "
                    f"{_clock(was.astimezone(home), fmt)}{GLUE}"
                    f"{zone_abbrev(was.astimezone(home))}, "
                    "expected:\n",
                    "bold",
                )
            out.append(f"  {'local':<7}{_stamp(end_local, None, fmt)}\n")
            end_home = event.end.astimezone(home)
            out.append(f"  {'home':<7}{_stamp(end_home, end_local.date(), fmt)}\n")
            out.append(f"  {'UTC':<7}{_utc_stamp(event.end, fmt)}\n")
            length = duration(event)
            if length is not None:
                out.append(f"{'Duration':<9}{humanize_delta(length)}\n")
        else:
            out.append(f"{'Duration':<9}not given\n", "dim")
        if not event.cancelled:
            if event.start > now:
                out.append(f"{'Starts':<9}{schedule.countdown(event, now)}\n")
            elif now < schedule.until(event):
                out.append(f"{'Now':<9}in progress, {schedule.countdown(event, now)}\n", "bold")
    else:
        out.append(
            f"Time not confirmed (TBC) on {event.local_date:%a %d %b %Y} "
            f"at {one_line(event.place.name)} ({event.place.tz.key})\n"
        )
    if event.press:
        out.append(f"\n{'Press':<9}")
        out.append(safe_text(event.press) + "\n")
    if event.notes:
        out.append(f"\n{'Notes':<9}")
        out.append(safe_text(event.notes) + "\n")
    append_notes(out, extra)

    if event.counterparts:
        out.append("\nCounterparts\n", "bold")
        for cp in event.counterparts:
            out.append(f"  {one_line(cp.name)}", "bold")
            about = ", ".join(one_line(x) for x in (cp.role, cp.country) if x)
            out.append(f" — {about}\n" if about else "\n")
            listed = cp.talking_points
            if listed:
                out.append(
                    f"    talking points {covered_count(cp, done)}/{len(listed)} covered\n", "dim"
                )
            for point in listed if points else ():
                box = "☑" if point.item_id in done else "☐"
                out.append(f"    {box} {one_line(point.text)}\n")
    return out


def append_notes(out: Text, extra: Annotations) -> None:
    """The session's notes on an item: whose, when, and the text as typed (escaped)."""
    if extra.conflict:
        out.append(
            f"\n⚠ {len(extra.notes)} versions of this note (edited on two laptops): "
            "N shows both; saving merges them\n",
            "bold",
        )
    for heading, text in extra.notes:
        # "(Tue 17 Jan 14:20 GMT)" stays on one line when the pane wraps.
        who, paren, when = heading.partition(" (")
        out.append(f"\n{who}{paren}{when.replace(' ', GLUE)}\n", "bold")
        for line in safe_text(text).split("\n"):
            out.append(f"  {line}\n")


class EventDetails(ScrollView, can_focus=True):
    """A scrollable pane with the details of the selected event.

    Drawn with the line API: the text is wrapped to the pane's width once per
    change and its lines served from that, so showing another event repaints the
    pane without laying out the screen again (a ``Static`` in a scrolling
    container changed height with every event, and each change cost a full
    layout, felt as a late key press).
    """

    DEFAULT_CSS = """
    EventDetails {
        background: $surface;
        padding: 0 1;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self, *, time_format: int = 24, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._time_format = time_format  # 12 or 24
        #: What the pane shows (Rich text built from plain strings; never markup).
        self.content: Text = Text()
        self._event_id: str | None = None
        self._lines: list[Strip] = []
        self._wrapped_for: tuple[int, Style] | None = None
        self._base: tuple[bool, Style] | None = None
        self._blank = Strip.blank(0)

    def show(
        self,
        event: Event | None,
        schedule: Schedule,
        now: datetime,
        done: Collection[str] = (),
        extra: Annotations | None = None,
    ) -> None:
        """Show ``event`` (or a hint when there is none)."""
        if event is None:
            content = Text("No event selected.", style="dim")
        else:
            content = describe_event(
                event, schedule, now, done, extra=extra, time_format=self._time_format
            )
        new_event = (event.id if event is not None else None) != self._event_id
        self._event_id = event.id if event is not None else None
        if content == self.content and not new_event:
            return  # the minute tick often changes nothing here
        self.content = content
        self._wrapped_for = None
        self._wrap()
        if new_event:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def text(self) -> str:
        """The pane's text as shown, line by line (what tests look at)."""
        self._wrap()
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _base_style(self) -> Style:
        """The pane's own style, looked up once per theme and focus state (Textual
        recomputes it from the ancestors on every call; lines would pay it each)."""
        if self._base is None or self._base[0] != self.has_focus:
            self._base = (self.has_focus, self.rich_style)
        return self._base[1]

    def _wrap(self) -> None:
        """Wrap the content to the pane's width (once per content, width and theme)."""
        width = self.scrollable_content_region.width
        base = self._base_style()
        if self._wrapped_for == (width, base) or width <= 0:
            return
        self._wrapped_for = (width, base)
        self._blank = Strip.blank(width, base)
        console = self.app.console
        lines = [
            wrapped
            for line in self.content.split("\n", allow_blank=True)
            for wrapped in wrap_hanging(line, width)
        ]
        self._lines = [text_strip(line, console, base, width) for line in lines]
        self.virtual_size = Size(width, len(self._lines))

    def on_resize(self) -> None:
        self._wrap()

    def notify_style_update(self) -> None:
        # A theme change: the wrapped lines carry the old colours.
        self._wrapped_for = None
        self._base = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        self._wrap()
        index = y + round(self.scroll_y)
        if 0 <= index < len(self._lines):
            return self._lines[index]
        if self._wrapped_for is None:  # no width yet
            return Strip.blank(self.scrollable_content_region.width, self._base_style())
        return self._blank
