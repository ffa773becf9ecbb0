"""Find anything in a trip: the case- and accent-insensitive matcher behind `/` and ctrl+p.

A query is split into words; an event matches when every word is found (as a part
of a word, "jol" finds "Joly") somewhere in what the event shows or holds: its
title, venue, place names, kind, press line and notes, its counterparts' names,
roles, countries, notes and talking points, and the user's own notes (the
``notes`` hook: item id -> texts, an event id or a ``counterpart-id/point-id``).
Each match says which field and which line matched best, so the details pane can
show it. Matching folds case and accents ("melanie" finds "Mélanie", "STRASSE"
finds "Straße").

The folded text of a trip is built once per trip object (:meth:`SearchIndex.for_trip`)
and a query that extends the previous one only looks among the previous matches, so
each keystroke of a search on a 10,000-event trip costs a few milliseconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import overload

from tripdash.domain.folding import fold, query_words
from tripdash.domain.model import Counterpart, Event, Place, Trip
from tripdash.domain.schedule import Schedule

#: No notes: the default of every ``notes`` argument.
NO_NOTES: Mapping[str, Sequence[str]] = {}


@dataclass(frozen=True, slots=True)
class Field:
    """One searchable line: which field it is, its text as written, and folded."""

    name: str
    line: str
    folded: str


@dataclass(frozen=True, slots=True)
class Match:
    """An event that matches, with the field and line that matched best."""

    index: int  # in trip.events
    event: Event
    field: str  # "title", "venue", "talking point", "my note"...
    line: str  # the line as written (show it through one_line)

    @property
    def in_details_only(self) -> bool:
        """True when the line may not be on the event's timeline row (all but the title:
        a cut row can hide the venue or a name)."""
        return self.field != "title"


@dataclass(frozen=True, slots=True)
class CounterpartMatch:
    """A counterpart that matches, with the field and line that matched best."""

    counterpart: Counterpart
    field: str
    line: str


class Matches(Sequence[Match]):
    """The matching events, in time order; each one's field and line worked out only when
    it is asked for (a word in every title matches 10,000 events, one is shown)."""

    def __init__(
        self,
        index: SearchIndex,
        found: tuple[int, ...],
        words: tuple[str, ...],
        notes: Mapping[int, list[Field]],
    ) -> None:
        self.indexes = found
        self._index = index
        self._words = words
        self._notes = notes
        self._made: dict[int, Match] = {}

    def __len__(self) -> int:
        return len(self.indexes)

    @overload
    def __getitem__(self, at: int) -> Match: ...

    @overload
    def __getitem__(self, at: slice) -> Sequence[Match]: ...

    def __getitem__(self, at: int | slice) -> Match | Sequence[Match]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(len(self)))]
        if at < 0:
            at += len(self.indexes)
        made = self._made.get(at)
        if made is None:
            i = self.indexes[at]  # IndexError past the end, as a sequence should
            fields = self._index.fields_of(i) + self._notes.get(i, [])
            best = _best(fields, self._words)
            made = self._made[at] = Match(i, self._index.trip.events[i], best.name, best.line)
        return made


@dataclass(frozen=True)
class Result:
    """What a query found: matching events in time order, and lines of the trip's notes."""

    query: str
    matches: Sequence[Match] = ()
    trip_lines: tuple[Field, ...] = ()
    #: The matching events' indexes in trip.events, as a set.
    index_set: frozenset[int] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return len(self.matches)

    @property
    def ids(self) -> frozenset[str]:
        """The ids of the matching events (for a filter: made once, when asked)."""
        return frozenset(m.event.id for m in self.matches)

    @property
    def indexes(self) -> Sequence[int]:
        """The matching events' indexes in trip.events, in order."""
        if isinstance(self.matches, Matches):
            return self.matches.indexes
        return [m.index for m in self.matches]

    def position_of(self, index: int) -> int | None:
        """Where event ``index`` is among the matches (None when it is not one)."""
        keys = self.indexes
        at = bisect.bisect_left(keys, index)
        return at if at < len(keys) and keys[at] == index else None

    def first_from(self, index: int, step: int = 1) -> int | None:
        """The match at or after event ``index`` (``step`` 1), or at or before it (-1),
        wrapping round the trip; None when nothing matches."""
        keys = self.indexes
        if not keys:
            return None
        if step >= 0:
            at = bisect.bisect_left(keys, index)
            return at if at < len(keys) else 0
        at = bisect.bisect_right(keys, index) - 1
        return at if at >= 0 else len(keys) - 1


def _lines(name: str, text: str | None) -> list[Field]:
    if not text:
        return []
    return [Field(name, line, fold(line)) for line in text.splitlines() if line.strip()]


def _counterpart_fields(cp: Counterpart) -> list[Field]:
    fields = _lines("counterpart", cp.name)
    fields += _lines("role", cp.role)
    fields += _lines("country", cp.country)
    fields += [f for p in cp.talking_points for f in _lines("talking point", p.text)]
    fields += _lines("counterpart notes", cp.notes)
    return fields


def _own_fields(event: Event) -> list[Field]:
    """The event's own lines (its counterparts' come after, from the index)."""
    fields = _lines("title", event.title)
    fields += _lines("venue", event.venue)
    fields += _lines("place", event.place.name)
    if event.to is not None:
        fields += _lines("place", event.to.name)
    fields += _lines("kind", event.kind)
    fields += _lines("press", event.press)
    fields += _lines("notes", event.notes)
    return fields


def _own_blob(event: Event) -> str:
    """What :func:`_own_fields` folds, in one string, without making the fields."""
    parts = [event.title, event.venue, event.place.name, event.to.name if event.to else None]
    parts += [event.kind, event.press, event.notes]
    return fold("\n".join(p for p in parts if p))


def _best(fields: Sequence[Field], words: Sequence[str]) -> Field:
    """The first field holding the most words (fields are in order of importance)."""
    best, best_count = fields[0], -1
    for f in fields:
        count = sum(1 for w in words if w in f.folded)
        if count > best_count:
            best, best_count = f, count
            if count == len(words):
                break
    return best


class SearchIndex:
    """The folded text of one trip, built once, and the last query's result."""

    _memo: dict[int, tuple[Trip, SearchIndex]] = {}

    @classmethod
    def for_trip(cls, trip: Trip) -> SearchIndex:
        """The index of ``trip``, built once per trip object (a few old versions kept)."""
        found = cls._memo.get(id(trip))
        if found is not None and found[0] is trip:
            return found[1]
        index = cls(trip)
        if len(cls._memo) >= 4:
            cls._memo.pop(next(iter(cls._memo)))
        cls._memo[id(trip)] = (trip, index)
        return index

    def __init__(self, trip: Trip) -> None:
        self.trip = trip
        people = {cp.id: _counterpart_fields(cp) for cp in trip.counterparts}
        self._people = people
        self._people_blobs = {
            cid: "\n".join(f.folded for f in fields) for cid, fields in people.items()
        }
        #: Event id -> index in trip.events.
        self.index_of = {e.id: i for i, e in enumerate(trip.events)}
        # One short string per event (its own text) and its counterparts' ids: a word is
        # looked for in the 500 people once, not again in each of their 10,000 events.
        # The fields themselves are made only for a match shown.
        self._blobs = [_own_blob(e) for e in trip.events]
        self._who = [frozenset(c.id for c in e.counterparts) for e in trip.events]
        self._trip_fields = _lines("trip summary", trip.summary)
        self._last: tuple[str, tuple[int, ...], dict[str, tuple[str, ...]]] | None = None

    def fields_of(self, i: int) -> list[Field]:
        """Event ``i``'s searchable lines in order of importance: its own, then its people's."""
        event = self.trip.events[i]
        fields = _own_fields(event)
        # Who before what they said: title, venue, place, kind, then the people.
        cut = next((n for n, f in enumerate(fields) if f.name in ("press", "notes")), len(fields))
        people = [f for c in event.counterparts for f in self._people.get(c.id, [])]
        return fields[:cut] + people + fields[cut:]

    def search(self, query: str, notes: Mapping[str, Sequence[str]] = NO_NOTES) -> Result:
        """The events matching ``query`` in time order (all words, anywhere in each)."""
        words = query_words(query)
        if not words:
            self._last = None
            return Result(query)
        folded = " ".join(words)
        note_fields = self._note_fields(notes)
        candidates: Sequence[int] = range(len(self._blobs))
        last = self._last
        notes_now = {k: tuple(v) for k, v in notes.items()}
        to_check: Sequence[str] = words
        # A query extending the last one can only match among its matches (each old word
        # is still there, the last one grown); the notes must be the same ones too. Its
        # words that are the last query's, whole and in place, hold in them already.
        if last is not None and folded.startswith(last[0]) and last[2] == notes_now:
            candidates = last[1]
            before = last[0].split(" ")
            to_check = [w for n, w in enumerate(words) if n >= len(before) or before[n] != w]
        blobs = self._blobs
        if note_fields:
            blobs = list(blobs)
            for i, extra in note_fields.items():
                blobs[i] = blobs[i] + "\n" + "\n".join(f.folded for f in extra)
        found = list(candidates)
        who = self._who
        for word in to_check:  # one pass a word: a comprehension, no per-event generator
            hits = {cid for cid, blob in self._people_blobs.items() if word in blob}
            if hits:
                found = [i for i in found if word in blobs[i] or not hits.isdisjoint(who[i])]
            else:
                found = [i for i in found if word in blobs[i]]
        kept = tuple(found)
        self._last = (folded, kept, notes_now)
        trip_lines = tuple(f for f in self._trip_fields if any(w in f.folded for w in words))
        return Result(query, Matches(self, kept, words, note_fields), trip_lines, frozenset(kept))

    def _note_fields(self, notes: Mapping[str, Sequence[str]]) -> dict[int, list[Field]]:
        """The user's notes as fields of the events they belong to.

        A note on a talking point belongs to every event its counterpart attends.
        """
        if not notes:
            return {}
        by_event: dict[int, list[Field]] = {}
        index_of = self.index_of
        for item_id, texts in notes.items():
            fields = [f for text in texts for f in _lines("my note", text)]
            if not fields:
                continue
            if item_id in index_of:
                by_event.setdefault(index_of[item_id], []).extend(fields)
                continue
            counterpart_id = item_id.split("/", 1)[0]
            for i, e in enumerate(self.trip.events):
                if any(cp.id == counterpart_id for cp in e.counterparts):
                    by_event.setdefault(i, []).extend(fields)
        return by_event

    def counterparts(self, query: str) -> list[CounterpartMatch]:
        """The counterparts matching ``query`` (every word in their name, role, country,
        notes or talking points), in the trip's order; a match on the name first."""
        words = query_words(query)
        if not words:
            return []
        named: list[CounterpartMatch] = []
        other: list[CounterpartMatch] = []
        for cp in self.trip.counterparts:
            fields = self._people[cp.id]
            if not fields:
                continue
            blob = "\n".join(f.folded for f in fields)
            if all(w in blob for w in words):
                best = _best(fields, words)
                found = CounterpartMatch(cp, best.name, best.line)
                (named if best.name == "counterpart" else other).append(found)
        return named + other


def search(trip: Trip, query: str, notes: Mapping[str, Sequence[str]] = NO_NOTES) -> Result:
    """The events of ``trip`` matching ``query`` (see :class:`SearchIndex`)."""
    return SearchIndex.for_trip(trip).search(query, notes)


class FilteredSchedule(Schedule):
    """The schedule of only some events of a trip (the timeline's filter).

    Days, the now line and next are those of the events kept; what an event's state
    depends on (when it stops being in progress, where the delegation is) and each day's
    number and done count are the whole trip's, so a kept row reads as it does unfiltered.
    """

    def __init__(self, whole: Schedule, event_ids: Collection[str]) -> None:
        kept = tuple(e for e in whole.trip.events if e.id in event_ids)
        super().__init__(replace(whole.trip, events=kept))
        self.whole = whole
        # An event without an end runs until the next event of the trip, kept or not.
        self._until = {e.id: whole.until(e) for e in kept if e.time_confirmed and not e.cancelled}
        self._longest = whole._longest
        self._at = {e.id: i for i, e in enumerate(whole.trip.events) if e.id in event_ids}

    def current_place(self, now: datetime) -> Place | None:
        return self.whole.current_place(now)

    def whole_day(self, index: int) -> tuple[int, Sequence[Event]]:
        """Day ``index`` of this schedule as the trip's: its number (from 1) and events."""
        first = self.trip.events[self.days[index].first]
        number = self.whole.day_of(self._at[first.id])
        day = self.whole.days[number]
        return number + 1, self.whole.trip.events[day.first : day.last + 1]
