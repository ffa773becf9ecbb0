"""Open trips and their sources: the trip in use, where it came from, how fresh it is.

Polling runs in worker threads (see the app); this module only holds the
state and turns it into words for the header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tripdash.domain.diff import Change
from tripdash.domain.model import Trip
from tripdash.domain.sources import SourceStatus, TripSource
from tripdash.domain.times import humanize_delta, zone_abbrev


@dataclass
class OpenTrip:
    """One trip the app can show, with its source (None for a trip given directly)."""

    trip: Trip
    source: TripSource | None = None
    status: SourceStatus = field(default_factory=SourceStatus)

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


def describe_status(status: SourceStatus, real_now: datetime, home: ZoneInfo) -> str:
    """``offline: schedule as of 06:12 London, fetched 3 h ago`` (empty when fresh)."""
    if not status.offline or status.schedule_as_of is None or status.fetched_at is None:
        return ""
    as_of = status.schedule_as_of.astimezone(home)
    ago = humanize_delta(real_now - status.fetched_at)
    when = f"{as_of:%H:%M}"
    if (real_now.astimezone(home).date() - as_of.date()).days:
        when = f"{as_of:%a %d %b %H:%M}"
    return (
        f"offline: schedule as of {when} {place_name(home)} ({zone_abbrev(as_of)}), "
        f"fetched {ago} ago"
    )
