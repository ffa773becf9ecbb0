"""What the hand-outs (calendar export, day sheet) share: choosing days, times, writing.

Plain functions of a trip; no UI. When the day runs late, the expected times of
the shifts in force (:func:`expected_times`) replace the planned ones, which are
then shown as "planned" (:class:`Timing`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from tripdash.domain.late import Lateness
from tripdash.domain.model import Event, Trip
from tripdash.domain.schedule import Day, group_days


class HandoutError(Exception):
    """A hand-out that cannot be made; the message says why (exit status ``exit_code``)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Expected:
    """An event's expected times when the programme runs late (from a shift)."""

    start: datetime
    end: datetime | None = None


#: Expected times by event id; empty while no shift applies.
ExpectedTimes = Mapping[str, Expected]


def expected_times(late: Lateness) -> dict[str, Expected]:
    """The expected times of every event a running-late shift moves."""
    moved = late.expected_trip()
    if moved is late.trip:
        return {}
    return {
        event.id: Expected(event.start, event.end)
        for event in moved.events
        if event.id in late.delays
    }


@dataclass(frozen=True, slots=True)
class Timing:
    """The times a hand-out prints for an event: expected when a shift applies, else planned.

    ``planned_start``/``planned_end`` are set only when they differ from what is printed.
    """

    start: datetime
    end: datetime | None
    planned_start: datetime | None = None
    planned_end: datetime | None = None


def timing(event: Event, expected: ExpectedTimes | None = None) -> Timing:
    """The times to print for ``event`` (see :class:`Timing`)."""
    shift = expected.get(event.id) if expected and event.time_confirmed else None
    if shift is None:
        return Timing(event.start, event.end)
    start = shift.start.astimezone(event.place.tz)
    end = shift.end.astimezone(event.end_place.tz) if shift.end is not None else event.end
    return Timing(
        start,
        end,
        planned_start=event.start if start != event.start else None,
        planned_end=event.end if end != event.end else None,
    )


def trip_dates(trip: Trip) -> list[date]:
    """The trip's local dates, in order, each once."""
    seen: list[date] = []
    for d in group_days(trip):
        if d.date not in seen:
            seen.append(d.date)
    return seen


def numbered_days(trip: Trip, day: date | None) -> list[tuple[int, Day]]:
    """The trip's local days as ``(day number, Day)``, all or those on the local date ``day``.

    Day numbers count the trip's days from 1, as the dashboard's headings do. Raises
    :class:`HandoutError` (exit 2) for a date outside the trip.
    """
    days = list(enumerate(group_days(trip), start=1))
    if day is None:
        return days
    chosen = [(n, d) for n, d in days if d.date == day]
    if not chosen:
        dates = trip_dates(trip)
        span = f"{dates[0]} to {dates[-1]}" if dates else "no dates: it has no events"
        raise HandoutError(f"--day {day}: the trip has no events on that date ({span})", 2)
    return chosen


def require_timed(events: Sequence[Event], what: str) -> None:
    """Raise :class:`HandoutError` when no event of ``events`` has a confirmed time."""
    if not any(e.time_confirmed for e in events):
        raise HandoutError(f"{what} has no timed events (every time is TBC): nothing to hand out")


def fingerprint(data: bytes) -> str:
    """The trip file's version, as printed on hand-outs: ``sha256:`` and 16 hex digits.

    The first 16 digits of ``sha256sum FILE``, so a reader can tell which version of
    the trip a printed sheet came from.
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file in the same
    directory, flushed, then renamed over ``path``. Raises :class:`HandoutError` (exit 2)
    when the path cannot be written; no temporary file is left behind."""
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise HandoutError(f"{path}: cannot write here: {exc.strerror or exc}", 2) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HandoutError(f"{path}: cannot write: {exc.strerror or exc}", 2) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's mode, else what ``open()`` would give (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask
