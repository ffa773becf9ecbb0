"""Messages named for what happened, posted by the app to every open screen."""

from __future__ import annotations

from textual.message import Message

from tripdash.domain.store import Mark


class ItemMarked(Message):
    """This session committed a mark (shown only after the commit)."""

    def __init__(self, mark: Mark) -> None:
        self.mark = mark
        super().__init__()


class MarksChanged(Message):
    """Marks changed: ours, or another process's (another terminal, `tripdash mark`)."""

    def __init__(self, trip_id: str) -> None:
        self.trip_id = trip_id
        super().__init__()
