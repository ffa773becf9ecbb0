"""The base of every screen that shows one open trip: marking written once.

A trip screen is handed the :class:`~tripdash.session.Session` and the key of its
trip; it reads the trip, schedule and done marks from the session (so it always
shows the version in use, whatever its id now is) and commits marks, notes and
shifts through it. The app broadcasts what happened; this base filters the
broadcasts by key and calls the hooks a screen overrides (:meth:`trip_reloaded`,
:meth:`marks_changed`, :meth:`records_changed`, :meth:`confirm`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from tripdash.domain.late import ShiftInvalid
from tripdash.domain.model import Trip
from tripdash.domain.records import RecordError, Shift
from tripdash.domain.schedule import Schedule
from tripdash.domain.store import Mark, StoreError
from tripdash.domain.text import one_line
from tripdash.live import OpenTrip
from tripdash.messages import ItemMarked, MarksChanged, NoteSaved, ScheduleShifted, TripReloaded
from tripdash.session import Session


def mark_bindings(screen: str, *, show_undo: bool) -> list[Binding]:
    """Undo and redo for a trip screen, with ids ``<screen>.undo`` and ``<screen>.redo``."""
    return [
        Binding("u", "undo", "Undo", show=show_undo, id=f"{screen}.undo"),
        Binding("U,ctrl+r", "redo", "Redo", show=False, id=f"{screen}.redo"),
    ]


if TYPE_CHECKING:
    from textual.screen import Screen

    _ScreenBase = Screen[Any]
else:
    # A mixin at run time: Textual takes a screen's CSS from its first DOMNode base, so
    # ``class EventScreen(TripScreen, ModalScreen[...])`` keeps the modal's styles.
    _ScreenBase = object


class TripScreen(_ScreenBase):
    """Mixed into a screen of one open trip: marking, undo and redo, the reload filter.

    Put it first: ``class DashboardScreen(TripScreen, Screen[None])``.
    """

    def __init__(self, session: Session, key: str) -> None:
        super().__init__()
        self.session = session
        self.key = key
        self.clock = session.clock

    @property
    def entry(self) -> OpenTrip:
        return self.session.entry(self.key)

    @property
    def trip(self) -> Trip:
        """The version of the trip in use now."""
        return self.session.trip(self.key)

    @property
    def schedule(self) -> Schedule:
        return self.session.schedule(self.key)

    @property
    def done(self) -> set[str]:
        """The trip's done items (kept current by the session)."""
        return self.session.done_ids(self.key)

    @property
    def time_format(self) -> int:
        """12 or 24: how this screen shows a time of day (the session's options)."""
        return self.session.options.time_format

    # -- marking ------------------------------------------------------------------------

    def mark(self, item_id: str) -> None:
        """Mark an item done, or not done again: committed, then shown."""
        self._commit(lambda: self.session.toggle(self.key, item_id), "")

    def action_undo(self) -> None:
        self._commit(lambda: self.session.undo(self.key), "Nothing to undo")

    def action_redo(self) -> None:
        self._commit(lambda: self.session.redo(self.key), "Nothing to redo")

    def _commit(self, write: Callable[[], Mark | Shift | None], nothing: str) -> None:
        try:
            done = write()
        except (StoreError, RecordError, ShiftInvalid) as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        if done is None:
            self.notify(nothing, timeout=2)
            return
        # The app tells every screen (this one included) once it is committed.
        if isinstance(done, Mark):
            self.app.post_message(ItemMarked(self.key, done))
        else:
            self.app.post_message(ScheduleShifted(self.key, done))

    # -- notes and running late -----------------------------------------------------------

    def edit_note(self, item_id: str) -> None:
        """Open the note editor on an item (an event or a counterpart)."""
        from tripdash.screens.note import NoteScreen

        label = self.trip.item_label(item_id) or item_id
        self.app.push_screen(NoteScreen(self.session, self.key, item_id, one_line(label)))

    def shift_from(self, from_event: str, minutes: int, until: str | None) -> bool:
        """Commit a shift (the late box calls this); False, with a notice, when refused."""
        ok = True

        def write() -> Shift:
            nonlocal ok
            ok = False
            shift = self.session.shift(self.key, from_event, minutes, until)
            ok = True
            return shift

        self._commit(write, "")
        return ok

    # -- broadcasts, filtered by key ------------------------------------------------------

    def on_item_marked(self, message: ItemMarked) -> None:
        if message.key == self.key:
            self.confirm(message.confirmation(self.trip))

    def on_marks_changed(self, message: MarksChanged) -> None:
        if message.key == self.key:
            self.marks_changed(message.item_ids)
            if message.item_ids is None:  # from elsewhere: notes and shifts may have come too
                self.records_changed()

    def on_trip_reloaded(self, message: TripReloaded) -> None:
        if message.key == self.key:
            self.trip_reloaded(message)

    def on_note_saved(self, message: NoteSaved) -> None:
        if message.key == self.key:
            self.records_changed()

    def on_schedule_shifted(self, message: ScheduleShifted) -> None:
        if message.key == self.key:
            self.records_changed()
            self.confirm(message.confirmation(self.trip))

    # -- hooks --------------------------------------------------------------------------

    def confirm(self, text: str) -> None:
        """Say that a mark was saved (a short notice, on the screen in front only)."""
        if self.is_current:
            self.notify(text, timeout=2.5)

    def marks_changed(self, item_ids: frozenset[str] | None) -> None:
        """Marks of this trip changed (``item_ids``, or any when None): redraw them."""

    def records_changed(self) -> None:
        """Notes or shifts of this trip changed (ours or another laptop's): redraw them."""

    def trip_reloaded(self, message: TripReloaded) -> None:
        """This trip's source was polled: ``message.trip`` is the version in use now."""
