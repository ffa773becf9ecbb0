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
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from tripdash.domain.model import Counterpart, Event, Place, Trip
from tripdash.domain.schedule import Schedule

#: No notes: the default of every ``notes`` argument.
NO_NOTES: Mapping[str, Sequence[str]] = {}


def fold(text: str) -> str:
    """``text`` without case or accents, for comparing: ``"Mélanie"`` -> ``"melanie"``."""
    if text.isascii():
        return text.lower()  # the common case, and ten times faster
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index in ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in fold(ch):
            out.append(c)
            where.append(i)
    return "".join(out), where


def query_words(query: str) -> tuple[str, ...]:
    """The folded words of a query (empty for a blank one)."""
    return tuple(fold(query).split())


def find_span(line: str, query: str) -> tuple[int, int] | None:
    """Where in ``line`` (original characters) the first query word that occurs is found."""
    folded, where = _fold_with_offsets(line)
    for word in query_words(query):
        at = folded.find(word)
        if at >= 0:
            end = at + len(word) - 1
            return where[at], where[end] + 1
    return None


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


@dataclass(frozen=True)
class Result:
    """What a query found: matching events in time order, and lines of the trip's notes."""

    query: str
    matches: tuple[Match, ...] = ()
    trip_lines: tuple[Field, ...] = ()
    #: The ids of the matching events.
    ids: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return len(self.matches)

    def position_of(self, index: int) -> int | None:
        """Where event ``index`` is among the matches (None when it is not one)."""
        keys = [m.index for m in self.matches]
        at = bisect.bisect_left(keys, index)
        return at if at < len(keys) and keys[at] == index else None

    def first_from(self, index: int, step: int = 1) -> int | None:
        """The match at or after event ``index`` (``step`` 1), or at or before it (-1),
        wrapping round the trip; None when nothing matches."""
        if not self.matches:
            return None
        keys = [m.index for m in self.matches]
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


def _event_fields(event: Event, people: Mapping[str, list[Field]]) -> list[Field]:
    fields = _lines("title", event.title)
    fields += _lines("venue", event.venue)
    fields += _lines("place", event.place.name)
    if event.to is not None:
        fields += _lines("place", event.to.name)
    fields += _lines("kind", event.kind)
    for cp in event.counterparts:
        fields += people.get(cp.id, [])
    fields += _lines("press", event.press)
    fields += _lines("notes", event.notes)
    return fields


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
        #: Event id -> index in trip.events.
        self.index_of = {e.id: i for i, e in enumerate(trip.events)}
        self._fields = [_event_fields(e, people) for e in trip.events]
        # One string per event: a word is looked for in it once, not in each field.
        self._blobs = ["\n".join(f.folded for f in fields) for fields in self._fields]
        self._trip_fields = _lines("trip summary", trip.summary)
        self._last: tuple[str, tuple[int, ...], dict[str, tuple[str, ...]]] | None = None

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
        # A query extending the last one can only match among its matches (each old word
        # is still there, the last one grown); the notes must be the same ones too.
        notes_now = {k: tuple(v) for k, v in notes.items()}
        if last is not None and folded.startswith(last[0]) and last[2] == notes_now:
            candidates = last[1]
        blobs = self._blobs
        found: list[int] = []
        for i in candidates:
            blob = blobs[i]
            extra = note_fields.get(i)
            if extra is not None:
                blob = blob + "\n" + "\n".join(f.folded for f in extra)
            if all(w in blob for w in words):
                found.append(i)
        self._last = (folded, tuple(found), notes_now)
        events = self.trip.events
        matches = []
        for i in found:
            fields = self._fields[i] + note_fields.get(i, [])
            best = _best(fields, words)
            matches.append(Match(i, events[i], best.name, best.line))
        trip_lines = tuple(f for f in self._trip_fields if any(w in f.folded for w in words))
        ids = frozenset(events[i].id for i in found)
        return Result(query, tuple(matches), trip_lines, ids)

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
