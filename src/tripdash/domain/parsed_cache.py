"""A cache of validated trips, so that opening the same trip again skips parsing.

Entries are JSON, never pickle: loading one runs no code of the file's choosing,
whoever wrote it. A trip is rebuilt from plain lists and strings by the code
below (events refer to places and counterparts by index, times are their
fields and zone), with its schedule's indexes, so that the dashboard need not
rebuild them either.

Entries are keyed by a hash of the file's exact bytes, its displayed name and
this code (the tripdash version, Python's, and the size and time of the
modules that shape the result), so an edited file or an upgraded tripdash
never reads a stale entry. Each entry also carries the SHA-256 of the trip
file's bytes and its own key, and is used only when both match: an entry
renamed or planted under another name is not taken for this trip.

The cache directory is checked on every use (:mod:`tripdash.domain.safedir`):
owned by the user and private, files read without following symbolic links,
written under a fresh name created exclusively and then renamed into place.
Anything unreadable or unexpected is ignored and rebuilt: the cache can only
make loading faster, never different.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tripdash.domain import safedir
from tripdash.domain.model import Counterpart, Event, Place, Status, TalkingPoint, Trip
from tripdash.domain.problems import LoadResult, Problem

#: Entries kept; the oldest are removed beyond this.
KEEP = 32
#: Raised when the layout below changes (the code tag changes with this file anyway).
FORMAT = "tripdash-parsed-trip-2"
SUFFIX = ".json"
_SHAPERS = (
    "model.py",
    "validate.py",
    "schema.py",
    "shape.py",
    "ids.py",
    "loader.py",
    "times.py",
    "schedule.py",
    "parsed_cache.py",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: The attributes of a Schedule this file knows how to keep (see :func:`_schedule_state`).
_SCHEDULE_FIELDS = frozenset(
    {
        "trip",
        "days",
        "_starts",
        "_day_starts",
        "_until",
        "_longest",
        "first_instant",
        "last_instant",
    }
)


class _Unsupported(Exception):
    """A value this format cannot hold: the entry is not written (loading stays correct)."""


@lru_cache(maxsize=1)
def _code_tag() -> bytes:
    import tripdash

    here = Path(__file__).parent
    parts = [tripdash.__version__, sys.version]
    for name in _SHAPERS:
        try:
            st = (here / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:?")
    return "|".join(parts).encode()


def key(data: bytes, source: str, default_id: str) -> str:
    """The entry name of a trip file's bytes, displayed name and default id, for this code."""
    digest = hashlib.sha256(_code_tag())
    digest.update(b"\0" + source.encode() + b"\0" + default_id.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def content_hash(data: bytes) -> str:
    """The SHA-256 of a trip file's bytes, as entries record it."""
    return hashlib.sha256(data).hexdigest()


def read(directory: Path, entry: str, data_hash: str) -> LoadResult | None:
    """The cached result for ``entry`` if it was made from bytes hashing to ``data_hash``.

    Its schedule's indexes are remembered too. None when there is no usable entry
    (missing, damaged, from another version, or the directory is not safe to use).
    """
    try:
        safedir.private_dir(directory, create=False)
        raw = safedir.read_file(directory / f"{entry}{SUFFIX}")
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if header != _header(entry, data_hash, body):
            return None  # another trip's, another version's, or damaged on disk
        doc = json.loads(body)
        trip = _decode_trip(doc["trip"])
        warnings = [Problem(*w) for w in doc["warnings"]]
        schedule_state = doc.get("schedule")
    except Exception:  # missing, truncated, planted, from another version: parse instead
        return None
    result = LoadResult(trip, warnings)
    if schedule_state is not None:
        with contextlib.suppress(Exception):  # else the dashboard builds it
            _remember_schedule(trip, schedule_state)
    return result


def _header(entry: str, data_hash: str, body: bytes) -> dict[str, str]:
    """The first line of an entry: what it is, for which bytes, and its body's own hash."""
    return {
        "format": FORMAT,
        "key": entry,
        "sha256": data_hash,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def write(directory: Path, entry: str, data_hash: str, result: LoadResult) -> None:
    """Keep ``result`` under ``entry``; a cache that cannot be written only costs speed."""
    try:
        doc = {
            "trip": _encode_trip(result.trip),
            "warnings": [
                [w.source, w.line, w.field, w.message, w.severity] for w in result.warnings
            ],
            "schedule": _schedule_state(result.trip),
        }
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    except (_Unsupported, TypeError, ValueError):
        return
    head = json.dumps(_header(entry, data_hash, body)).encode()
    try:
        safedir.private_dir(directory)
        # Not synced to disk: the header's body_sha256 finds a copy a crash left torn, and
        # the fsync of a 5,000-event entry cost as much as validating it.
        safedir.write_file(directory / f"{entry}{SUFFIX}", head + b"\n" + body, durable=False)
        _prune(directory)
    except OSError:
        pass


def _prune(directory: Path) -> None:
    entries = []
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            entries.append((path.lstat().st_mtime, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _, old in entries[KEEP:]:
        old.unlink(missing_ok=True)
    for stale in directory.glob("*.pickle"):  # entries of tripdash before this format
        stale.unlink(missing_ok=True)


# -- encoding ----------------------------------------------------------------------------


class _Zones:
    """Zones by index: an entry names each zone once."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._index: dict[str, int] = {}

    def index(self, tz: object) -> int:
        if isinstance(tz, ZoneInfo):
            name = "z:" + tz.key
        elif tz is timezone.utc:
            name = "utc"
        elif isinstance(tz, timezone):
            offset = tz.utcoffset(None)
            name = f"o:{offset.days * 86400 + offset.seconds}:{offset.microseconds}"
        else:
            raise _Unsupported(repr(tz))
        found = self._index.get(name)
        if found is None:
            found = self._index[name] = len(self.keys)
            self.keys.append(name)
        return found


def _decode_zone(name: str) -> Any:
    kind, _, rest = name.partition(":")
    if kind == "z":
        return ZoneInfo(rest)
    if kind == "utc":
        return timezone.utc
    if kind == "o":
        seconds, micros = rest.split(":")
        return timezone(timedelta(seconds=int(seconds), microseconds=int(micros)))
    raise ValueError(name)


def _dt(value: datetime | None, zones: _Zones) -> list[int] | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise _Unsupported("naive datetime")
    return [
        zones.index(value.tzinfo),
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.fold,
    ]


def _utc_micros(value: datetime) -> int:
    if value.tzinfo is not timezone.utc:
        raise _Unsupported("not a UTC datetime")
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _at_start(e: Event) -> bool:
    order = e.order
    return order is not None and order.tzinfo is timezone.utc and order == e.start


def _encode_trip(trip: Trip) -> dict[str, Any]:
    zones = _Zones()
    place_index = {id(p): i for i, p in enumerate(trip.places)}
    cp_index = {id(c): i for i, c in enumerate(trip.counterparts)}

    def place_ref(place: Place | None) -> int | None:
        if place is None:
            return None
        found = place_index.get(id(place))
        if found is None:
            raise _Unsupported("an event's place is not one of the trip's places")
        return found

    events = []
    for e in trip.events:
        refs = []
        for c in e.counterparts:
            found = cp_index.get(id(c))
            if found is None:
                raise _Unsupported("an event's counterpart is not one of the trip's")
            refs.append(found)
        events.append(
            [
                e.id,
                e.title,
                place_ref(e.place),
                _dt(e.start, zones),
                e.time_confirmed,
                _dt(e.end, zones),
                place_ref(e.to),
                e.kind,
                e.status.value,
                e.venue,
                refs,
                e.press,
                e.notes,
                e.fixed,
                e.index,
                # Most events sort at their start (0): only the others (TBC ones) say where.
                0 if _at_start(e) else _dt(e.order, zones),
            ]
        )
    return {
        "id": trip.id,
        "title": trip.title,
        "home_tz": zones.index(trip.home_tz),
        "principal": trip.principal,
        "source": trip.source,
        "summary": trip.summary,
        "places": [[p.id, p.name, zones.index(p.tz)] for p in trip.places],
        "counterparts": [
            [
                c.id,
                c.name,
                c.role,
                c.country,
                c.notes,
                [[tp.id, tp.text, tp.counterpart_id] for tp in c.talking_points],
            ]
            for c in trip.counterparts
        ],
        "events": events,
        "path": trip.path,
        # Last: every zone above has been named by now.
        "zones": zones.keys,
    }


def _decode_trip(doc: dict[str, Any]) -> Trip:
    zones = [_decode_zone(name) for name in doc["zones"]]
    places = tuple(Place(str(i), str(n), zones[z]) for i, n, z in doc["places"])
    counterparts = tuple(
        Counterpart(
            ident,
            name,
            role,
            country,
            notes,
            tuple(TalkingPoint(p, t, c) for p, t, c in points),
        )
        for ident, name, role, country, notes, points in doc["counterparts"]
    )
    statuses = {s.value: s for s in Status}

    def dt(v: list[int] | None) -> datetime | None:
        if v is None:
            return None
        return datetime(v[1], v[2], v[3], v[4], v[5], v[6], v[7], zones[v[0]], fold=v[8])

    events = []
    for (
        ident,
        title,
        place,
        start,
        confirmed,
        end,
        to,
        kind,
        status,
        venue,
        refs,
        press,
        notes,
        fixed,
        index,
        order,
    ) in doc["events"]:
        begins = dt(start)
        if begins is None or type(confirmed) is not bool:
            raise ValueError("damaged event")
        events.append(
            Event(
                ident,
                title,
                places[place],
                begins,
                confirmed,
                dt(end),
                None if to is None else places[to],
                kind,
                statuses[status],
                venue,
                tuple(counterparts[r] for r in refs),
                press,
                notes,
                fixed is True,
                index,
                begins.astimezone(timezone.utc) if order == 0 else dt(order),
            )
        )
    trip = Trip(
        doc["id"],
        doc["title"],
        zones[doc["home_tz"]],
        doc["principal"],
        doc["source"],
        doc["summary"],
        places,
        counterparts,
        tuple(events),
        doc["path"],
    )
    return trip


# -- the schedule's indexes --------------------------------------------------------------


def _schedule_state(trip: Trip) -> dict[str, Any] | None:
    """A schedule's indexes as plain data, or None when its shape is not the one known here."""
    from tripdash.domain.schedule import Schedule

    schedule = Schedule.for_trip(trip)
    state = vars(schedule)
    if set(state) != _SCHEDULE_FIELDS:
        return None  # Schedule changed: let the reader build it (the code tag moved anyway)
    longest: timedelta = state["_longest"]
    events = trip.events
    if [e.sort_at for e in events] != state["_starts"]:
        return None
    position = {e.id: i for i, e in enumerate(events)}
    until: dict[str, datetime] = state["_until"]
    if any(ident not in position for ident in until):
        return None
    # Most events run until their end: those only say so; the others carry their time.
    at_end, other = [], []
    for ident, t in until.items():
        i = position[ident]
        end = events[i].end
        if end is not None and end.astimezone(timezone.utc) == t and t.tzinfo is timezone.utc:
            at_end.append(i)
        else:
            other.append([i, _utc_micros(t)])
    first, last = state["first_instant"], state["last_instant"]
    first_index = 0 if first is not None and events and first is events[0].start else None
    if first is not None and first_index is None:
        return None
    return {
        "days": [[d.date.isoformat(), d.first, d.last, list(d.places)] for d in state["days"]],
        "until_end": at_end,
        "until": other,
        "longest": [longest.days, longest.seconds, longest.microseconds],
        "first": first_index,
        "last": None if last is None else _utc_micros(last),
    }


def _remember_schedule(trip: Trip, state: dict[str, Any]) -> None:
    from tripdash.domain.schedule import Day, Schedule

    events = trip.events
    schedule = Schedule.__new__(Schedule)
    days = [
        Day(date.fromisoformat(d), first, last, tuple(places))
        for d, first, last, places in state["days"]
    ]
    epoch = _EPOCH
    micro = timedelta(microseconds=1)
    utc = timezone.utc
    until: dict[str, datetime] = {}
    for i in state["until_end"]:
        e = events[i]
        if e.end is None:
            raise ValueError("damaged schedule")
        until[e.id] = e.end.astimezone(utc)
    for i, n in state["until"]:
        until[events[i].id] = epoch + n * micro
    longest = timedelta(*state["longest"])
    first = None if state["first"] is None else events[state["first"]].start
    last = None if state["last"] is None else epoch + state["last"] * micro
    vars(schedule).update(
        trip=trip,
        days=days,
        _starts=[e.sort_at for e in events],
        _day_starts=[d.first for d in days],
        _until=until,
        _longest=longest,
        first_instant=first,
        last_instant=last,
    )
    Schedule.remember(schedule)
