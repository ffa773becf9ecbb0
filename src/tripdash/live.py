"""Open trips and their sources: the trip in use, where it came from, how fresh it is.

Polling runs in worker threads (see the app); the session (``session.py``)
changes this state, and this module turns it into words for the header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tripdash.domain.model import Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.sources import SourceStatus, TripSource
from tripdash.domain.times import clock_time, humanize_delta, zone_abbrev

if TYPE_CHECKING:
    from tripdash.domain.diff import Change
    from tripdash.domain.sync import SyncError, SyncResult


@dataclass
class OpenTrip:
    """One trip the app can show, with its source (None for a trip given directly)."""

    trip: Trip
    source: TripSource | None = None
    status: SourceStatus = field(default_factory=SourceStatus)
    #: How team sync stands for this trip (empty until a round ends).
    sync: SyncState = field(default_factory=lambda: SyncState())
    #: Why the file on disk cannot be used now (invalid, deleted, unreadable), and since
    #: when (real time): the last good version stays in use meanwhile.
    broken: str | None = None
    broken_since: datetime | None = None

    @property
    def schedule(self) -> Schedule:
        """The schedule of the version in use (built once per version, then cached)."""
        return Schedule.for_trip(self.trip)

    @property
    def key(self) -> str:
        """Stable across versions, even if a new version changes the trip's id."""
        return self.source.location if self.source is not None else f"trip:{self.trip.id}"


@dataclass(frozen=True)
class SeenChange:
    """A change of the schedule, and when this session saw it arrive."""

    seen_at: datetime
    trip_title: str
    change: Change


def place_name(zone: ZoneInfo) -> str:
    """``Europe/London`` -> ``London``."""
    return zone.key.rsplit("/", 1)[-1].replace("_", " ")


def describe_status(
    status: SourceStatus, real_now: datetime, home: ZoneInfo, time_format: int = 24
) -> str:
    """``offline: schedule as of 06:12 London, fetched 3 h ago`` (empty when fresh)."""
    if not status.offline or status.schedule_as_of is None or status.fetched_at is None:
        return ""
    as_of = status.schedule_as_of.astimezone(home)
    ago = humanize_delta(real_now - status.fetched_at)
    when = clock_time(as_of, time_format)
    if (real_now.astimezone(home).date() - as_of.date()).days:
        when = f"{as_of:%a %d %b} {when}"
    return (
        f"offline: schedule as of {when} {place_name(home)} ({zone_abbrev(as_of)}), "
        f"fetched {ago} ago"
    )


def describe_broken(entry: OpenTrip, home: ZoneInfo, time_format: int = 24) -> str:
    """``trips/x.toml is not valid (3 errors) since 14:02 GMT: showing the last good version``."""
    if entry.broken is None or entry.broken_since is None:
        return ""
    since = entry.broken_since.astimezone(home)
    return (
        f"⚠ {entry.broken} since {clock_time(since, time_format)} {zone_abbrev(since)}: "
        "showing the last good version"
    )


@dataclass(frozen=True)
class SyncState:
    """How sync stands, for the header: the last success, and since when it fails."""

    last_ok: datetime | None = None
    failing_since: datetime | None = None
    offline: bool = False
    error: str | None = None
    waiting: int = 0  # marks the server has not shown it holds
    ignored: int = 0  # documents the last round refused (malformed, or clocks far ahead)
    stopped: str | None = None  # the limit that ended the last round early
    records_waiting: int = 0  # notes and shifts (records) the server has not shown it holds
    #: This laptop's clock less the server's, at the last round that could tell (kept
    #: while offline: a clock does not come right by losing the network).
    skew_ms: int | None = None
    #: The marks' clock less the server's (see :class:`SyncResult`), likewise kept.
    marks_ahead_ms: int | None = None
    #: How bad the clock is (:func:`skew_level`, which holds a level a while).
    skew_level: int = 0  # NEAR: the clock is right

    def after(self, now: datetime, result: SyncResult | None, error: SyncError | None) -> SyncState:
        """The state after a round that ended at ``now``."""
        if error is None and result is not None:
            # Here, not at start: only a sync round needs it (the first frame does not).
            from tripdash.domain.clockskew import skew_level

            # A server that sends no Date leaves what the last one said standing.
            measured = result.skew_ms is not None
            skew = result.skew_ms if measured else self.skew_ms
            ahead = result.marks_ahead_ms if measured else self.marks_ahead_ms
            return SyncState(
                last_ok=now,
                waiting=result.waiting,
                ignored=result.skipped + result.ahead,
                stopped=result.stopped,
                records_waiting=result.records_waiting,
                skew_ms=skew,
                marks_ahead_ms=ahead,
                skew_level=skew_level(skew, ahead, self.skew_level),
            )
        assert error is not None
        return SyncState(
            last_ok=self.last_ok,
            failing_since=self.failing_since or now,
            offline=error.offline,
            error=str(error),
            waiting=self.waiting,
            records_waiting=self.records_waiting,
            skew_ms=self.skew_ms,
            marks_ahead_ms=self.marks_ahead_ms,
            skew_level=self.skew_level,
        )


def _waiting(state: SyncState) -> str:
    """``3 marks waiting``, ``3 marks and 1 note or shift waiting``, or ""."""
    marks, records = state.waiting, state.records_waiting
    parts = []
    if marks:
        parts.append(f"{marks} mark{'s' if marks != 1 else ''}")
    if records:
        parts.append(
            f"{records} note{'s' if records != 1 else ''} or shift{'s' if records != 1 else ''}"
        )
    return f"{' and '.join(parts)} waiting" if parts else ""


def describe_sync(
    state: SyncState, real_now: datetime, home: ZoneInfo, time_format: int = 24
) -> str:
    """``⇅ synced just now`` / ``⇅ synced 3 min ago`` / ``⇅ offline since 14:02, 3 marks
    waiting`` / the error,
    after what a clock far from the server's means (:func:`describe_skew`)."""
    text = _sync_text(state, real_now, home, time_format)
    if not state.skew_level:  # NEAR: nothing to say (and nothing to import, each tick)
        return text
    from tripdash.domain.clockskew import describe_skew

    skew = describe_skew(
        state.skew_ms, short=True, marks_ahead_ms=state.marks_ahead_ms, level=state.skew_level
    )
    # First: the header cuts this text from its end, and the clock matters more.
    return f"{skew} · {text}" if skew and text else text


def _sync_text(state: SyncState, real_now: datetime, home: ZoneInfo, time_format: int) -> str:
    waiting = _waiting(state)
    if state.error is not None:
        if state.offline and state.failing_since is not None:
            since = state.failing_since.astimezone(home)
            clock = clock_time(since, time_format)
            return f"⇅ offline since {clock}{', ' + waiting if waiting else ''}"
        return f"⇅ sync failed: {state.error}"
    if state.last_ok is None:
        return ""
    # Within the minute, "just now": a count of seconds changed the header every second,
    # a frame a second while idle (the clocks show minutes for the same reason).
    age = real_now - state.last_ok
    text = (
        "⇅ synced just now" if age.total_seconds() < 60 else f"⇅ synced {humanize_delta(age)} ago"
    )
    if state.stopped:
        text += " (in part: more next round)"
    if waiting:
        text += f", {waiting}"
    if state.ignored:
        text += f", {state.ignored} bad document{'s' if state.ignored != 1 else ''} ignored"
    return text
