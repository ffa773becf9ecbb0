"""The dashboard's clock: real time, or a rehearsal that runs on from a chosen instant.

The base clock is injected (the real one in production, a fixed or stepping
one in tests); nothing here reads the system time itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tripdash.domain.times import UTC, Clock


class TripClock:
    """A clock that is either live or in rehearsal (``base() + offset``).

    In rehearsal the time runs on at normal speed from the chosen start; the
    offset can be moved by keys, and :meth:`go_live` returns to real time.
    """

    def __init__(self, base: Clock, at: datetime | None = None) -> None:
        self._base = base
        self.offset = timedelta(0)
        self.rehearsal = False
        if at is not None:
            self.rehearse_at(at)

    def now(self) -> datetime:
        """The current instant of this clock (aware, UTC)."""
        return (self._base() + self.offset).astimezone(UTC)

    __call__ = now

    def real_now(self) -> datetime:
        """The base clock's time, rehearsal or not (for "fetched 3 h ago")."""
        return self._base().astimezone(UTC)

    def rehearse_at(self, at: datetime) -> None:
        """Start (or restart) a rehearsal whose clock reads ``at`` now."""
        if at.tzinfo is None:
            raise ValueError("rehearsal time must be aware")
        self.offset = at - self._base()
        self.rehearsal = True

    def shift(self, delta: timedelta) -> None:
        """Move the clock by ``delta``; from live time this starts a rehearsal."""
        self.offset += delta
        self.rehearsal = True

    def go_live(self) -> None:
        """Back to real time."""
        self.offset = timedelta(0)
        self.rehearsal = False
