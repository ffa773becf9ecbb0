"""The trip: the resolved, time-aware domain objects.

The ``Raw*`` pydantic models of :mod:`tripdash.domain.schema` mirror the TOML
contract; :mod:`tripdash.domain.validate` turns them into the frozen
dataclasses below, in which every time is an aware datetime.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from zoneinfo import ZoneInfo

FORMAT_VERSION = 1

EVENT_KINDS = ("meeting", "speech", "press", "ceremony", "travel", "visit", "meal", "other")
EVENT_STATUSES = ("confirmed", "tentative", "cancelled")


def slugify(text: str, limit: int = 60) -> str:
    """A stable id derived from text: lowercase ASCII words joined by hyphens.

    Used for talking points without an ``id``: the same text always gives the
    same id, so a mark stays attached while the text is unchanged.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "point"


# -- resolved domain objects --------------------------------------------------------


class Status(str, Enum):
    """How firm an event is."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Place:
    """A place the delegation goes to, with its IANA zone."""

    id: str
    name: str
    tz: ZoneInfo


@dataclass(frozen=True, slots=True)
class TalkingPoint:
    """A point the principal should raise with one counterpart."""

    id: str
    text: str
    counterpart_id: str

    @property
    def item_id(self) -> str:
        """The id marks use: ``counterpart-id/point-id``."""
        return f"{self.counterpart_id}/{self.id}"


@dataclass(frozen=True, slots=True)
class Counterpart:
    """Someone the principal meets."""

    id: str
    name: str
    role: str | None = None
    country: str | None = None
    notes: str | None = None
    talking_points: tuple[TalkingPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the programme, with every time resolved to an aware instant.

    ``start`` is an aware datetime in the place's zone. For an event whose time
    is not confirmed (TBC) it is the first instant of its local day and
    ``time_confirmed`` is False. ``end`` is in the zone of ``to`` when the event
    travels, else the place's zone.
    """

    id: str
    title: str
    place: Place
    start: datetime
    time_confirmed: bool
    end: datetime | None = None
    to: Place | None = None
    kind: str = "meeting"
    status: Status = Status.CONFIRMED
    venue: str | None = None
    counterparts: tuple[Counterpart, ...] = ()
    press: str | None = None
    notes: str | None = None
    #: True for an event that does not move when the day runs late (a flight, a
    #: ceremony at a set hour): a running-late shift stops before it.
    fixed: bool = False
    index: int = 0
    #: Where the event sorts in time, in UTC: its start, or for a TBC event, just after the
    #: confirmed event listed before it on the same local date (the author's order), else
    #: its day's start. Set by the loader; computed from ``start`` when absent.
    order: datetime | None = None

    @property
    def sort_at(self) -> datetime:
        """The instant the timeline sorts this event at, in UTC (``order`` once loaded).

        In UTC because Python compares two datetimes that share a tzinfo by wall-clock
        time, ignoring ``fold``: 01:45 EDT would sort after 01:15 EST on a fall-back day.
        """
        if self.order is not None:
            return self.order
        return self.start.astimezone(timezone.utc)

    @property
    def local_date(self) -> date:
        """The date of the event at its place."""
        return self.start.date()

    @property
    def end_place(self) -> Place:
        """Where the event ends: ``to`` for travel, else its place."""
        return self.to or self.place

    @property
    def cancelled(self) -> bool:
        return self.status is Status.CANCELLED

    @property
    def tentative(self) -> bool:
        return self.status is Status.TENTATIVE


def _point_label(counterpart: Counterpart, point: TalkingPoint) -> str:
    """How a talking point is named in messages: ``Mélanie Joly: Ukraine``."""
    return f"{counterpart.name}: {point.text}"


@dataclass(frozen=True, slots=True)
class Trip:
    """A validated trip, events sorted by time."""

    id: str
    title: str
    home_tz: ZoneInfo
    principal: str | None = None
    source: str | None = None
    summary: str | None = None
    places: tuple[Place, ...] = ()
    counterparts: tuple[Counterpart, ...] = ()
    events: tuple[Event, ...] = ()
    path: str = ""
    #: A protective marking such as ``"OFFICIAL-SENSITIVE"``, printed at the top and bottom
    #: of every hand-out page and in calendar exports; None when the trip has none.
    marking: str | None = None

    @property
    def last_end(self) -> datetime | None:
        if not self.events:
            return None
        # key: compare instants, not wall clocks (see Event.sort_at).
        return max((e.end or e.start for e in self.events), key=lambda t: t.timestamp())

    def items(self) -> dict[str, str]:
        """Every markable item: event ids, and ``counterpart-id/point-id`` for talking points.

        Values describe the item (an event's title, a point's text) for messages and logs.
        """
        found = {e.id: e.title for e in self.events}
        for c in self.counterparts:
            for p in c.talking_points:
                found[p.item_id] = _point_label(c, p)
        return found

    def item_label(self, item_id: str) -> str | None:
        """What :meth:`items` says of ``item_id`` (None when it is not an item), without
        building the whole mapping: a confirmation after each mark on a 10,000-event trip
        would otherwise build a 10,000-entry dict for one title. A plain loop, not a walk
        over shared (id, label) pairs: a generator costs three times as much a step."""
        for e in self.events:
            if e.id == item_id:
                return e.title
        for c in self.counterparts:
            for p in c.talking_points:
                if p.item_id == item_id:
                    return _point_label(c, p)
        return None

    def counterpart(self, cid: str) -> Counterpart | None:
        for c in self.counterparts:
            if c.id == cid:
                return c
        return None
