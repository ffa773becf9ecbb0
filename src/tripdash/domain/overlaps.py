"""Events at different places whose times overlap: found by a sweep, reported per event.

Only ``tripdash check`` asks for these warnings; loading a trip for the dashboard or the
agenda never computes them. The work is bounded: one sweep over the events sorted by
start (each pushed on and popped off a heap once), with counters per place, so a trip
whose events all overlap costs O(n log n) and not one step per overlapping pair (a dense
5,000-event trip has 160,000 such pairs). Only the warnings that are printed are worded
and located in the file, at most :data:`MAX_OVERLAP_WARNINGS` of them.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tripdash.domain.loader import Problem
from tripdash.domain.model import Event, Trip

#: Events with overlaps worded in full; the rest are counted in one last line.
MAX_OVERLAP_WARNINGS = 20


@dataclass(frozen=True, slots=True)
class Overlap:
    """An event and the events at other places already running when it starts."""

    event: Event
    count: int  # how many
    first: Event  # the one of them that started first (then the first in the file)


@dataclass(frozen=True, slots=True)
class OverlapReport:
    """The overlaps of a trip: the first few in time order, and how many in all."""

    shown: tuple[Overlap, ...]
    events: int  # events that overlap one running at another place
    pairs: int  # overlapping pairs in all

    @property
    def hidden(self) -> int:
        """Events with overlaps that are counted but not in :attr:`shown`."""
        return self.events - len(self.shown)


def _places(ev: Event) -> tuple[str, ...]:
    a, b = ev.place.id, ev.end_place.id
    return (a,) if a == b else (a, b)


def _end(ev: Event) -> datetime | None:
    """The end instant (UTC) of a confirmed event that lasts, else None."""
    if ev.end is None:
        return None
    end = ev.end.astimezone(ev.sort_at.tzinfo)
    return end if end > ev.sort_at else None


def find_overlaps(events: Sequence[Event], *, limit: int = MAX_OVERLAP_WARNINGS) -> OverlapReport:
    """Overlaps among ``events`` (sorted by start, as in :class:`Trip`), one per event.

    An event *overlaps* when it starts while an event at another place is running
    (confirmed, not cancelled, between its start and its end); a travel event is at
    both its places. Each overlapping pair is counted once, on the later of the two.
    """
    # Running events, by end; and how many of them are at each place, and at each pair of
    # places (a travel event is at two: subtracting both counts would subtract it twice).
    running: list[tuple[datetime, int, Event]] = []
    at_place: Counter[str] = Counter()
    at_pair: Counter[tuple[str, ...]] = Counter()
    shown: list[Overlap] = []
    with_overlaps = pairs = 0
    seq = 0
    for ev in events:
        if not ev.time_confirmed or ev.cancelled:
            continue
        start = ev.sort_at
        while running and running[0][0] <= start:
            _, _, gone = heapq.heappop(running)
            places = _places(gone)
            for p in places:
                at_place[p] -= 1
            if len(places) == 2:
                at_pair[places] -= 1
        mine = _places(ev)
        same = sum(at_place[p] for p in mine)
        if len(mine) == 2:
            same -= at_pair[mine] + at_pair[(mine[1], mine[0])]
        others = len(running) - same
        if others:
            with_overlaps += 1
            pairs += others
            if len(shown) < limit:
                # Worded, so find which: one pass over what is running, for a few events.
                first = min(
                    (e for _, _, e in running if not set(_places(e)) & set(mine)),
                    key=lambda e: (e.sort_at, e.index),
                )
                shown.append(Overlap(ev, others, first))
        end = _end(ev)
        if end is not None:
            seq += 1
            heapq.heappush(running, (end, seq, ev))
            for p in mine:
                at_place[p] += 1
            if len(mine) == 2:
                at_pair[mine] += 1
    return OverlapReport(tuple(shown), with_overlaps, pairs)


def overlap_message(overlap: Overlap, line_of: Callable[[int], int]) -> str:
    """The warning's words; ``line_of`` gives the line of an event by its index in the file."""
    first = overlap.first
    if overlap.count == 1:
        return (
            f"overlaps {first.id!r} (line {line_of(first.index)}) at another place "
            f"({first.place.name} / {overlap.event.place.name})"
        )
    return (
        f"overlaps {overlap.count} events at other places, first: {first.id!r} "
        f"(line {line_of(first.index)}, {first.place.name}; this one at "
        f"{overlap.event.place.name})"
    )


def summary_message(report: OverlapReport) -> str:
    """The last line when some overlaps are only counted."""
    return (
        f"and {report.hidden} more event(s) overlap events at other places "
        f"({report.pairs} overlapping pairs in all); not shown"
    )


def overlap_problems(
    trip: Trip, text: str, source: str, *, limit: int = MAX_OVERLAP_WARNINGS
) -> tuple[list[Problem], Problem | None]:
    """The overlap warnings of ``trip`` (read from ``text``), ready to print.

    At most ``limit`` events are worded, in line order; the second value, when some
    were left out, is one last warning that counts them.
    Only their lines (and those of the events they name) are looked up: the file is
    scanned for lines only when there is something to print.
    """
    report = find_overlaps(trip.events, limit=limit)
    if not report.shown:
        return [], None
    lines = _EventLines(text[1:] if text.startswith("\ufeff") else text, len(trip.events))

    def line_of(index: int) -> int:
        return lines.line_of(index)

    problems = sorted(
        (
            Problem(
                source,
                lines.line_of(o.event.index, "start"),
                f"events[{o.event.index}].start",
                overlap_message(o, line_of),
                "warning",
            )
            for o in report.shown
        ),
        key=lambda p: p.line,
    )
    summary = None
    if report.hidden:
        summary = Problem(source, problems[-1].line, "(file)", summary_message(report), "warning")
    return problems, summary


#: An ``[[events]]`` header on a line of its own (what nearly every trip file uses).
_EVENTS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*events[ \t]*\]\]", re.MULTILINE)


class _EventLines:
    """Lines of a few events of a valid trip's text, without scanning the whole file.

    When the text has exactly one ``[[events]]`` header per event, the i-th header is
    events[i] and only that event's table is scanned for a key's line; otherwise (inline
    arrays of tables, a header quoted inside a string) the whole text is mapped once.
    """

    def __init__(self, text: str, count: int) -> None:
        from tripdash.domain.tomlpos import LineMap

        self._text = text
        self._starts = [m.start() for m in _EVENTS_HEADER.finditer(text)]
        self._whole = LineMap(text) if len(self._starts) != count else None

    def line_of(self, index: int, *keys: str) -> int:
        """The line of ``events[index]`` (or of one of its keys)."""
        from tripdash.domain.tomlpos import LineMap

        if self._whole is not None:
            return self._whole.line_of(("events", index, *keys))
        pos = self._starts[index]
        line = self._text.count("\n", 0, pos) + 1
        if not keys:
            return line
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self._text)
        return line - 1 + LineMap(self._text[pos:end]).line_of(("events", 0, *keys))
