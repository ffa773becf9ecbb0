"""The session's notes and running-late shifts: the record store and what it shows.

No widgets here. Like :mod:`tripdash.marks` for marks, this keeps the current notes
and shifts of each trip read from the store (once, then after each commit or each
change another process made), and the undo history of this session's shifts. A
note or a shift is committed by :class:`~tripdash.domain.records.RecordStore`
before any of this changes, so what the screens show is always on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tripdash.domain.records import NoteVersion, RecordError, RecordStore, Shift
from tripdash.domain.store import MarkStore, StoreError
from tripdash.domain.text import one_line
from tripdash.domain.times import Clock, clock_time


@dataclass(frozen=True)
class Annotations:
    """What this session recorded about one event or counterpart, ready to show.

    ``planned`` is the event as the file plans it when a shift moves it (the event
    shown carries the expected times); ``overlaps`` are worded ("Blinken bilateral
    now overlaps Flight to Toronto"); ``notes`` are (heading, text) per version.
    """

    planned: object | None = None  # an Event; object here so no model import is needed
    minutes: int = 0
    since: str = ""  # the title of the event the shift runs from
    overlaps: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()
    conflict: bool = False  # several versions of the note


@dataclass(frozen=True)
class ShiftStep:
    """One shift this session recorded, with the shift it replaced (for undo and redo)."""

    from_event: str
    before: tuple[int, str | None, bool] | None  # (minutes, until, begun) before; None: none
    after: tuple[int, str | None, bool]


class Records:
    """Notes and shifts per trip, backed by the store (the marks database)."""

    def __init__(self, marks: MarkStore, *, clock: Clock, who: str) -> None:
        self.who = who
        #: Why notes and shifts cannot be kept (the store could not be opened), else None.
        self.unavailable: str | None = None
        self._store: RecordStore | None = None
        try:
            self._store = RecordStore(marks, clock=clock)
        except StoreError as exc:
            self.unavailable = str(exc)
        self._notes: dict[str, dict[str, list[NoteVersion]]] = {}
        self._shifts: dict[str, dict[str, Shift]] = {}

    def _writable(self) -> RecordStore:
        if self._store is None:
            raise StoreError(f"nothing was saved: {self.unavailable}")
        return self._store

    # -- notes ----------------------------------------------------------------------------

    def notes(self, trip_id: str) -> dict[str, list[NoteVersion]]:
        """Every item's current note versions (several when two laptops edited at once)."""
        found = self._notes.get(trip_id)
        if found is None:
            found = {} if self._store is None else self._store.notes(trip_id)
            self._notes[trip_id] = found
        return found

    def note(self, trip_id: str, item_id: str) -> list[NoteVersion]:
        return self.notes(trip_id).get(item_id, [])

    def save_note(
        self, trip_id: str, item_id: str, text: str, replaces: Sequence[str] | None = None
    ) -> list[NoteVersion]:
        """Commit a new version (merging the versions ``replaces`` names, by default every
        current one); then return the item's note.

        Raises RecordError (too long...) or StoreError (not saved): nothing changed then.
        """
        self._writable().save_note(trip_id, item_id, text, self.who, replaces=replaces)
        self._notes.pop(trip_id, None)
        return self.note(trip_id, item_id)

    # -- shifts ---------------------------------------------------------------------------

    def shifts(self, trip_id: str) -> dict[str, Shift]:
        """The shift in force from each event (the same dict until something changes)."""
        found = self._shifts.get(trip_id)
        if found is None:
            found = {} if self._store is None else self._store.shifts(trip_id)
            self._shifts[trip_id] = found
        return found

    def set_shift(
        self,
        trip_id: str,
        from_event: str,
        minutes: int,
        until: str | None,
        *,
        begun: bool = False,
    ) -> tuple[Shift, ShiftStep]:
        """Commit a shift; return it, with the step that undoes it."""
        previous = self.shifts(trip_id).get(from_event)
        before = (
            None if previous is None else (previous.minutes, previous.until_event, previous.begun)
        )
        self._writable().set_shift(trip_id, from_event, minutes, until, self.who, begun=begun)
        self._shifts.pop(trip_id, None)
        shift = self.shifts(trip_id)[from_event]
        return shift, ShiftStep(from_event, before, (minutes, until, begun))

    # -- others' records --------------------------------------------------------------------

    def reload(self) -> list[str]:
        """Read again the trips already read; return those whose notes or shifts changed."""
        if self._store is None:
            return []
        changed = []
        for trip_id in set(self._notes) | set(self._shifts):
            notes = self._store.notes(trip_id)
            shifts = self._store.shifts(trip_id)
            if notes != self._notes.get(trip_id, notes) or shifts != self._shifts.get(
                trip_id, shifts
            ):
                changed.append(trip_id)
            if trip_id in self._notes:
                self._notes[trip_id] = notes
            if trip_id in self._shifts and shifts != self._shifts[trip_id]:
                self._shifts[trip_id] = shifts  # a new dict only when it changed
        return changed

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def written(version: NoteVersion, me: str, home: ZoneInfo, time_format: int = 24) -> str:
    """``yours, Tue 17 Jan 14:02 GMT`` or ``by alice, Tue 17 Jan 14:02 GMT``."""
    at = version.at.astimezone(home)
    who = "yours" if version.who == me else f"by {one_line(version.who)}"
    return f"{who}, {at:%a %d %b} {clock_time(at, time_format)} {at.tzname()}"


def note_lines(
    versions: list[NoteVersion], me: str, home: ZoneInfo, time_format: int = 24
) -> list[tuple[str, str]]:
    """(heading, text) per version, for a details pane: ``Your note (Tue 17 Jan 14:02 GMT)``."""
    out = []
    many = len(versions) > 1
    for i, version in enumerate(versions, 1):
        at: datetime = version.at.astimezone(home)
        when = f"{at:%a %d %b} {clock_time(at, time_format)} {at.tzname()}"
        who = "Your note" if version.who == me else f"Note by {one_line(version.who)}"
        heading = f"{who} ({when})"
        if many:
            heading = f"{heading}, version {i} of {len(versions)}"
        out.append((heading, version.text))
    return out


__all__ = ["Annotations", "RecordError", "Records", "ShiftStep", "note_lines", "written"]
