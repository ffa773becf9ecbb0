"""Messages named for what happened, broadcast by the app to every open screen.

They carry the key of the open trip they concern (see :class:`tripdash.live.OpenTrip`),
never a trip id: a new version may change the id, and every screen follows its trip
by the same key. They do not bubble: the app posts each to every screen itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tripdash.domain.diff import Change
    from tripdash.domain.model import Trip
    from tripdash.domain.records import Shift
    from tripdash.domain.store import Mark


class FirstFramePainted(Message, bubble=False):
    """The app's first frame is on the terminal: work kept out of its way can start."""


class ItemMarked(Message, bubble=False):
    """This session committed a mark (shown only after the commit)."""

    def __init__(self, key: str, mark: Mark) -> None:
        self.key = key
        self.mark = mark
        super().__init__()

    def confirmation(self, trip: Trip) -> str:
        """``Done: Speech on UK foreign policy priorities``: the short confirmation shown."""
        from tripdash.domain.text import one_line

        label = trip.item_label(self.mark.item_id) or self.mark.item_id
        return f"{'Done' if self.mark.done else 'Not done'}: {one_line(label)}"


class MarksChanged(Message, bubble=False):
    """Marks changed: ours, or another process's (another terminal, `tripdash mark`).

    ``item_ids`` names the items whose mark changed when known (this session's
    own marks), so that only their lines are redrawn; None means "any".
    """

    def __init__(self, key: str, item_ids: frozenset[str] | None = None) -> None:
        self.key = key
        self.item_ids = item_ids
        super().__init__()


class TripReloaded(Message, bubble=False):
    """A source was polled: ``trip`` is the version now in use (new, or the same).

    ``changes`` lists what differs from the version shown before (empty when none).
    """

    def __init__(self, key: str, trip: Trip, changes: list[Change]) -> None:
        self.key = key
        self.trip = trip
        self.changes = changes
        super().__init__()


class NoteSaved(Message, bubble=False):
    """This session committed a new version of an item's note (shown only after)."""

    def __init__(self, key: str, item_id: str) -> None:
        self.key = key
        self.item_id = item_id
        super().__init__()


class ScheduleShifted(Message, bubble=False):
    """This session committed a running-late shift (or undid one): times moved."""

    def __init__(self, key: str, shift: Shift) -> None:
        self.key = key
        self.shift = shift
        super().__init__()

    def confirmation(self, trip: Trip) -> str:
        """``Running 20 min late from Speech on UK foreign policy priorities``."""
        from tripdash.domain.text import one_line

        label = one_line(trip.item_label(self.shift.from_event) or self.shift.from_event)
        minutes = self.shift.minutes
        if minutes == 0:
            return f"Back on time from {label}"
        how = "late" if minutes > 0 else "early"
        return f"Running {abs(minutes)} min {how} from {label}"
