"""The session's marks: the store, the done sets it shows, and undo/redo.

No widgets here: the app calls these methods, then tells the screens.
"""

from __future__ import annotations

from pathlib import Path

from tripdash.domain.store import Mark, MarkStore
from tripdash.domain.times import Clock


class Marks:
    """Done state per trip, backed by the store; undo and redo many steps deep."""

    def __init__(self, state_dir: Path, *, clock: Clock, who: str) -> None:
        # Marks carry the real time of marking (this clock), never a rehearsal's.
        self.store = MarkStore(state_dir, clock=clock)
        self.who = who
        self._done: dict[str, set[str]] = {}
        self._undo: dict[str, list[tuple[str, bool]]] = {}
        self._redo: dict[str, list[tuple[str, bool]]] = {}

    def done_ids(self, trip_id: str) -> set[str]:
        """The done items of a trip (read from the store once, then kept current in place)."""
        if trip_id not in self._done:
            self._done[trip_id] = self.store.done_ids(trip_id)
        return self._done[trip_id]

    def set(self, trip_id: str, item_id: str, done: bool, *, record: bool = True) -> Mark:
        """Commit a mark; only after the commit does the done set change."""
        previous = item_id in self.done_ids(trip_id)
        mark = self.store.mark(trip_id, item_id, done, self.who)
        current = self.done_ids(trip_id)
        if done:
            current.add(item_id)
        else:
            current.discard(item_id)
        if record:
            self._undo.setdefault(trip_id, []).append((item_id, previous))
            self._redo.pop(trip_id, None)
        return mark

    def toggle(self, trip_id: str, item_id: str) -> Mark:
        return self.set(trip_id, item_id, item_id not in self.done_ids(trip_id))

    def undo(self, trip_id: str) -> Mark | None:
        """Undo this session's last mark by recording the state before it (history is kept)."""
        stack = self._undo.get(trip_id)
        if not stack:
            return None
        item_id, before = stack.pop()
        now_done = item_id in self.done_ids(trip_id)
        mark = self.set(trip_id, item_id, before, record=False)
        self._redo.setdefault(trip_id, []).append((item_id, now_done))
        return mark

    def redo(self, trip_id: str) -> Mark | None:
        stack = self._redo.get(trip_id)
        if not stack:
            return None
        item_id, after = stack.pop()
        before = item_id in self.done_ids(trip_id)
        mark = self.set(trip_id, item_id, after, record=False)
        self._undo.setdefault(trip_id, []).append((item_id, before))
        return mark

    def reload_if_changed(self) -> list[str]:
        """When another process committed marks, refresh the done sets; return changed trips."""
        if not self.store.changed_elsewhere():
            return []
        return self.reload()

    def reload(self) -> list[str]:
        """Read the done sets again; return the trips whose marks changed."""
        changed = []
        for trip_id, current in self._done.items():
            fresh = self.store.done_ids(trip_id)
            if fresh != current:
                current.clear()
                current.update(fresh)
                changed.append(trip_id)
        return changed

    def forget_redo(self, trip_id: str) -> None:
        """Another kind of change was recorded after the marks undone: nothing to redo."""
        self._redo.pop(trip_id, None)

    def close(self) -> None:
        self.store.close()
