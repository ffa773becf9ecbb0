"""The details of one event: venue, times in local, home and UTC, duration, notes, people.

Everything from the trip file is added to :class:`rich.text.Text` as plain
strings, so a title like ``[bold]Talks[/]`` shows exactly as written.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tripdash.domain.loader import duration
from tripdash.domain.model import Counterpart, Event, TalkingPoint
from tripdash.domain.schedule import Phase, Schedule, one_line, safe_text
from tripdash.domain.times import UTC, day_marker, format_offset, humanize_delta, zone_abbrev


def _stamp(instant: datetime, reference_date: object | None = None) -> str:
    text = f"{instant:%a %d %b %H:%M} {zone_abbrev(instant)} ({format_offset(instant)})"
    if reference_date is not None:
        marker = day_marker(instant, reference_date)  # type: ignore[arg-type]
        if marker:
            text += f" {marker}"
    return text


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
) -> Text:
    """The details of ``event`` as one Rich Text (no markup is ever parsed).

    While the event is in progress, its counterparts' open talking points come
    first, right under the title: that is what the room needs. ``points=False``
    leaves talking points out (the event screen lists them as a tickable list).
    """
    trip = schedule.trip
    out = Text()
    out.append(one_line(event.title) + "\n", "bold")
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
        out.append(f"  {'local':<7}{_stamp(event.start)}\n")
        out.append(f"  {'home':<7}{_stamp(event.start.astimezone(home), event.local_date)}\n")
        out.append(f"  {'UTC':<7}{event.start.astimezone(UTC):%a %d %b %H:%M} UTC\n")
        if event.end is not None:
            label = "Arrives" if event.to else "Ends"
            end_local = event.end.astimezone(event.end_place.tz)
            out.append(f"{label}\n", "bold")
            out.append(f"  {'local':<7}{_stamp(end_local)}\n")
            out.append(f"  {'home':<7}{_stamp(event.end.astimezone(home), end_local.date())}\n")
            out.append(f"  {'UTC':<7}{event.end.astimezone(UTC):%a %d %b %H:%M} UTC\n")
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

    if event.counterparts:
        out.append("\nCounterparts\n", "bold")
        for cp in event.counterparts:
            out.append(f"  {one_line(cp.name)}", "bold")
            about = ", ".join(one_line(x) for x in (cp.role, cp.country) if x)
            out.append(f" — {about}\n" if about else "\n")
            listed = cp.talking_points
            if listed:
                covered = sum(1 for p in listed if p.item_id in done)
                out.append(f"    talking points {covered}/{len(listed)} covered\n", "dim")
            for point in listed if points else ():
                box = "☑" if point.item_id in done else "☐"
                out.append(f"    {box} {one_line(point.text)}\n")
    return out


class EventDetails(VerticalScroll, can_focus=True):
    """A scrollable pane with the details of the selected event."""

    DEFAULT_CSS = """
    EventDetails {
        background: $surface;
        padding: 0 1;
    }
    EventDetails > Static {
        width: 100%;
    }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="details-body")

    def show(
        self, event: Event | None, schedule: Schedule, now: datetime, done: Collection[str] = ()
    ) -> None:
        """Show ``event`` (or a hint when there is none)."""
        body = self.query_one("#details-body", Static)
        if event is None:
            body.update(Text("No event selected.", style="dim"))
        else:
            body.update(describe_event(event, schedule, now, done))
