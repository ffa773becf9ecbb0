"""Validation of a parsed trip file: every problem at once, each located by file and line.

Used by :func:`tripdash.domain.loader.parse_trip_text`; the shape of each table is
checked by :mod:`tripdash.domain.shape` and, only for a table that fails there, by the
pydantic models of :mod:`tripdash.domain.schema`, which word its problems (so a valid
trip never imports pydantic). The functions here check what the models cannot: zones,
references, duplicates, DST, order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from tripdash.domain import ids, shape, times
from tripdash.domain.model import (
    EVENT_KINDS,
    EVENT_STATUSES,
    FORMAT_VERSION,
    Counterpart,
    Event,
    Place,
    Status,
    TalkingPoint,
    Trip,
    slugify,
)
from tripdash.domain.problems import (
    PathT,
    Problem,
    Severity,
    describe_toml_type,
    field_path,
)
from tripdash.domain.times import utc as _utc
from tripdash.domain.tomlpos import LineMap

if TYPE_CHECKING:
    from pydantic import BaseModel

TOP_LEVEL_KEYS = ("format", "trip", "places", "counterparts", "events")
#: Problems kept per file (see :class:`Collector`).
MAX_PROBLEMS = 500
#: Years a trip's times may fall in: far beyond any trip, and far from datetime's limits.
YEARS = range(1900, 2201)


#: The most of each kind of list a trip may hold, and the longest texts: past them the
#: dashboard stops answering a key within a frame. Measured with ``python bench/limits.py``
#: (a key every 100 ms, CPU per key, through the timeline, the event box and the
#: counterparts screen): each is the largest size measured whose keys cost at most one
#: frame (16 ms) more than with a short list; the next size measured cost clearly more
#: (talking points: +15 ms at 25, +23 at 50, +146 at 100). "attendees" are one event's
#: counterparts, "points" one counterpart's talking points, "notes" the characters of
#: notes and press lines, the trip's summary and source, "chars" those of any other text.
LIMITS: dict[str, int] = {
    "events": 10_000,
    "places": 100,
    "counterparts": 100,
    "attendees": 10,
    "points": 25,
    "notes": 2_000,
    "chars": 250,
}


def _over(out: Collector, path: PathT, count: int, what: str, kind: str) -> None:
    limit = LIMITS[kind]
    out.add(
        path,
        f"{count:,} {what}: at most {limit:,} are allowed, so that the dashboard stays "
        "responsive; the rest were not checked",
    )


def _check_limits(doc: dict[str, Any], out: Collector) -> None:
    """Refuse lists and strings past :data:`LIMITS`, naming the limit, and cut them to it.

    Run first: what lies past a limit is not validated (it would cost time and problems
    for a file that is refused anyway), and a string cut to the limit can be quoted by
    later messages without flooding the terminal.
    """
    for section in ("events", "places", "counterparts"):
        items = doc.get(section)
        if isinstance(items, list) and len(items) > LIMITS[section]:
            _over(out, (section, LIMITS[section]), len(items), section, section)
            del items[LIMITS[section] :]
    nested = (
        ("events", "counterparts", "attendees", "counterparts of one event"),
        ("counterparts", "talking_points", "points", "talking points of one counterpart"),
    )
    for section, key, kind, what in nested:
        items = doc.get(section)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            listed = item.get(key) if isinstance(item, dict) else None
            if isinstance(listed, list) and len(listed) > LIMITS[kind]:
                _over(out, (section, i, key, LIMITS[kind]), len(listed), what, kind)
                del listed[LIMITS[kind] :]
    short, long = LIMITS["chars"], LIMITS["notes"]
    # Every string of the document, however nested (iteratively: no recursion limit).
    # Paths are made only for what is too long: a valid trip of 10,000 events has some
    # 150,000 values, and this walk must cost little beside parsing them.
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        for slot, value in node.items() if type(node) is dict else enumerate(node):
            of = type(value)
            if of is str:
                limit = long if slot in _NOTES else short
                if len(value) > limit:
                    what = "notes" if slot in _NOTES else "a text"
                    out.add(
                        (*_path_to(doc, node), slot),
                        f"{len(value):,} characters: {what} may hold at most {limit:,}, so "
                        "that the dashboard stays responsive",
                    )
                    node[slot] = value[:limit]
            elif of is dict or of is list:
                stack.append(value)


#: The keys whose texts are notes (paragraphs, shown whole: the longer limit).
_NOTES = frozenset({"notes", "press", "summary", "source"})


def _path_to(doc: dict[str, Any], target: Any) -> PathT:
    """The key path from ``doc`` to the container ``target`` (searched: only for a problem)."""
    stack: list[tuple[Any, PathT]] = [(doc, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, (dict, list)):
                stack.append((value, (*path, key)))
    return ()


class Collector:
    """Gathers problems for one file, turning key paths into line numbers lazily.

    At most :data:`MAX_PROBLEMS` are kept (and worded, with their suggestions):
    a file with a hundred thousand broken tables is refused in a second, with
    the first problems and a count of the rest, not after minutes of messages.
    """

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self._text = text
        self._map: LineMap | None = None
        self.problems: list[Problem] = []
        self.dropped = 0

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def line_of(self, path: Sequence[str | int]) -> int:
        if self._map is None:
            self._map = LineMap(self._text)
        return self._map.line_of(path)

    def add(
        self,
        path: Sequence[str | int],
        message: str | Callable[[], str],
        severity: Severity = "error",
    ) -> None:
        """Keep one problem; ``message`` may be a function, called only if it is kept.

        A suggestion ("did you mean ...?") costs a fuzzy match over every choice: worded
        for each of 12,000 broken references it took 15 s, for the 500 kept 0.4 s.
        """
        if self.full:
            self.dropped += 1
            return
        if callable(message):
            message = message()
        self.problems.append(
            Problem(self.source, self.line_of(path), field_path(path), message, severity)
        )

    def finish(self) -> list[Problem]:
        """The problems in line order, with a last line counting those not kept."""
        problems = sorted(self.problems, key=lambda p: (p.line, p.field))
        if self.dropped:
            problems.append(
                Problem(
                    self.source,
                    problems[-1].line,
                    "(file)",
                    f"and {self.dropped} more problem(s) not shown; fix these first",
                )
            )
        return problems

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(what: str, word: str, choices: Iterable[str]) -> str:
    """``unknown place 'x' (did you mean 'y'?)``: worded only for a problem that is kept."""
    return f"unknown {what} {word!r}{_suggest(word, choices)}"


def _friendly(error: Any, model: type[BaseModel], value: Any, path: PathT) -> str:
    """Turn a pydantic error into a message a trip-file author understands."""
    kind = error["type"]
    name = path[-1] if path else ""
    if kind == "extra_forbidden":
        return f"unknown key {name!r}{_suggest(str(name), _model_keys(model, path))}"
    if kind == "missing":
        return "required field is missing"
    got = describe_toml_type(value)
    if len(path) >= 2 and path[-2] == "talking_points":
        return f'expected a string or a table {{ id = "...", text = "..." }}; got {got}'
    if name in ("start", "end"):
        if name == "start":
            want = (
                "a local date-time such as 2023-01-17T09:15:00, an offset date-time, "
                "or a date such as 2023-01-17 when the time is TBC"
            )
        else:
            want = "a date-time such as 2023-01-17T10:15:00 (leave end out if not known)"
        return f"expected {want}; got {got}" + (
            " (remove the quotes)" if isinstance(value, str) else ""
        )
    if kind == "literal_error":
        if name == "kind":
            return f"{value!r} is not a kind{_suggest(str(value), EVENT_KINDS)}; one of: " + (
                ", ".join(EVENT_KINDS)
            )
        if name == "status":
            return f"{value!r} is not a status{_suggest(str(value), EVENT_STATUSES)}; one of: " + (
                ", ".join(EVENT_STATUSES)
            )
        if name == "format":
            return f"unsupported format {value!r}: this tripdash reads format {FORMAT_VERSION}"
        return str(error["msg"])
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not a valid id: ids may not be empty or contain '/' or spaces"
    if kind in ("string_too_short",):
        return "may not be empty"
    if kind in ("string_too_long",):
        return "too long (at most 200 characters)"
    if kind in ("string_type",):
        return f"expected a string; got {got}"
    if kind in ("list_type",):
        return f"expected an array; got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a table; got {got}"
    return f"{error['msg']}; got {got}"


def _model_keys(model: type[BaseModel], path: PathT) -> list[str]:
    if len(path) >= 3 and path[-3] == "talking_points":
        return list(shape.TALKING_POINT)
    return list(model.model_fields)


# The tags pydantic puts in an error's location for the members of a union.
_UNION_TAGS = frozenset({"str", "datetime", "date", "int", "float", "bool"})


def _real_path(base: PathT, loc: Sequence[Any], value: Any) -> tuple[PathT, Any]:
    """Drop pydantic's union tags from ``loc``; return the data path and the value there."""
    path: list[str | int] = list(base)
    here = value
    for part in loc:
        if isinstance(part, int):
            if isinstance(here, list) and 0 <= part < len(here):
                here = here[part]
                path.append(part)
            continue
        if isinstance(here, dict) and part in here:
            here = here[part]
            path.append(part)
        elif part in _UNION_TAGS or part[:1].isupper() or "[" in part:
            continue
        else:  # a key that is missing from the table
            path.append(part)
            here = None
    return tuple(path), here


def _validate(name: str, value: Any, path: PathT, out: Collector) -> Any:
    """Validate one table against the model ``name``; report its errors and return what
    can still be checked.

    A table that passes :func:`shape.table` is returned from there, without pydantic.
    Otherwise the model of :mod:`tripdash.domain.schema` validates it. On failure this
    returns a partial model (``model_construct``) holding only the fields that passed,
    so that the checks that follow (zones, references, duplicates, DST) still run and
    every problem of the file is reported at once, without one bad field cascading
    into false "unknown place" errors.
    Fields that failed are absent: read them with ``getattr(raw, name, None)``.
    Returns None when ``value`` is not a table at all.
    """
    fast = shape.table(shape.MODELS[name], value)
    if fast is not None:
        _check_blank(fast, path, out)
        return fast
    from pydantic import ValidationError

    from tripdash.domain import schema

    model: type[BaseModel] = getattr(schema, name)
    try:
        valid = model.model_validate(value)
        _check_blank(valid, path, out)
        return valid
    except ValidationError as exc:
        if out.full:  # enough is reported: count, don't word or check, the rest
            out.dropped += exc.error_count()
            return None
        seen: set[str] = set()
        bad_fields: set[str] = set()
        for error in exc.errors(include_url=False):
            real, here = _real_path(path, error["loc"], value)
            if len(real) > len(path) and isinstance(real[len(path)], str):
                bad_fields.add(str(real[len(path)]))
            if "str" in error["loc"] and isinstance(here, dict):
                continue  # a table where a string-or-table is allowed: its own errors say more
            key = field_path(real)
            if key in seen:
                continue  # one message per field, even when a union reports twice
            seen.add(key)
            out.add(real, _friendly(error, model, here, real))
        if not isinstance(value, dict):
            return None
        good = {k: v for k, v in value.items() if k in model.model_fields and k not in bad_fields}
        return model.model_construct(**good)


#: The texts a row, a heading or a list shows as a thing's name: never blank.
_NAMING = ("title", "name", "text")


def _check_blank(raw: Any, path: PathT, out: Collector) -> None:
    """A title, name or talking point of nothing but spaces: an empty row on the screen."""
    for field in _NAMING:
        value = getattr(raw, field, None)
        if isinstance(value, str) and not value.strip():
            out.add((*path, field), f"is blank: give it a {'point' if field == 'text' else field}")


def _check_section(doc: dict[str, Any], name: str, out: Collector) -> list[Any]:
    value = doc.get(name, [])
    if not isinstance(value, list):
        out.add((name,), f"expected an array of tables [[{name}]]; got {describe_toml_type(value)}")
        return []
    return value


def _id_fields(doc: dict[str, Any]) -> Iterable[tuple[Any, Any, PathT, bool]]:
    """Every id in the document, and every reference to one: (container, key, path,
    whether it defines an id)."""
    trip = doc.get("trip")
    if isinstance(trip, dict):
        yield trip, "id", ("trip", "id"), True
    for section in ("places", "counterparts", "events"):
        items = doc.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            yield item, "id", (section, i, "id"), True
            if section == "events":
                yield item, "place", (section, i, "place"), False
                yield item, "to", (section, i, "to"), False
                refs = item.get("counterparts")
                if isinstance(refs, list):
                    for k in range(len(refs)):
                        yield refs, k, (section, i, "counterparts", k), False
            elif section == "counterparts":
                points = item.get("talking_points")
                if isinstance(points, list):
                    for j, point in enumerate(points):
                        if isinstance(point, dict):
                            yield point, "id", (section, i, "talking_points", j, "id"), True


def _normalise_ids(doc: dict[str, Any], out: Collector) -> None:
    """Ids in NFC; invisible and bidi characters refused; mixed scripts warned about.

    Done on the parsed document before anything else, so that definitions, references
    and duplicate checks all see the same form. A refused id is kept without its
    invisible characters, so that it is reported once, not again as an unknown place.
    """
    for container, key, path, defines in _id_fields(doc):
        if isinstance(container, dict) and key not in container:
            continue
        value = container[key]
        # An ASCII id is already NFC, holds no invisible character (ASCII controls are
        # refused by the id rule) and has only Latin letters: nothing to do, and nearly
        # every id is ASCII (a third of validating a 5,000-event trip went here).
        if not isinstance(value, str) or value.isascii():
            continue
        fixed = ids.normalise(value)
        hidden = ids.invisible(fixed)
        if hidden:
            names = ", ".join(dict.fromkeys(ids.describe(ch) for ch in hidden))
            out.add(
                path,
                f"{fixed!r} holds invisible or bidi characters ({names}): an id must be "
                "what it looks like; remove them",
            )
            fixed = "".join(ch for ch in fixed if ch not in hidden) or value
        elif defines:
            warning = ids.mixed_scripts(fixed)
            if warning is not None:
                out.add(path, f"{fixed!r} {warning}", "warning")
        if fixed != value:
            container[key] = fixed


def build(doc: dict[str, Any], out: Collector, default_id: str, source: str) -> Trip | None:
    _check_limits(doc, out)
    _normalise_ids(doc, out)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            out.add((key,), f"unknown key {key!r}{_suggest(key, TOP_LEVEL_KEYS)}")
    fmt = doc.get("format", FORMAT_VERSION)
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        out.add(
            ("format",),
            f"expected an integer (the format version, {FORMAT_VERSION}); "
            f"got {describe_toml_type(fmt)}",
        )
    elif fmt != FORMAT_VERSION:
        out.add(
            ("format",),
            f"unsupported format {fmt!r}: this tripdash reads format {FORMAT_VERSION}",
        )

    raw_trip: Any = None
    home_tz = None
    if "trip" not in doc:
        out.add(("trip",), "the [trip] table is missing (it needs at least title and home_tz)")
    else:
        raw_trip = _validate("RawTrip", doc["trip"], ("trip",), out)
        tz_name = getattr(raw_trip, "home_tz", None)
        if tz_name is not None:
            try:
                home_tz = times.get_zone(tz_name)
            except times.ZoneError as exc:
                out.add(("trip", "home_tz"), str(exc))

    places = _build_places(_check_section(doc, "places", out), out)
    counterparts = _build_counterparts(_check_section(doc, "counterparts", out), out)
    events = _build_events(_check_section(doc, "events", out), places, counterparts, out)

    if raw_trip is not None and getattr(raw_trip, "id", None) is None:
        _check_default_id(default_id, out)
    if raw_trip is None or home_tz is None or out.has_errors:
        return None
    return Trip(
        id=raw_trip.id or default_id,
        title=raw_trip.title,
        home_tz=home_tz,
        principal=raw_trip.principal,
        source=raw_trip.source,
        summary=raw_trip.summary,
        places=tuple(p for p in places.values() if p is not None),
        counterparts=tuple(c for c in counterparts.values() if c is not None),
        events=tuple(events),
        path=source,
        marking=raw_trip.marking,
    )


#: The id rule of the schema (schema.Id), for an id that does not come from the file.
_ID_RULE = re.compile(r"^[^/\s\x00-\x1f\x7f-\x9f]{1,200}$")


def _check_default_id(default_id: str, out: Collector) -> None:
    """A trip without an id takes the file name's: it must be a valid id like any other."""
    hidden = ids.invisible(default_id)
    if _ID_RULE.match(default_id) and not hidden:
        return
    if not default_id:
        why = "is empty"
    elif len(default_id) > 200:
        why = "is longer than 200 characters"
    elif "/" in default_id:
        why = "holds '/'"
    elif any(c.isspace() for c in default_id):
        why = "holds spaces"
    elif hidden and _ID_RULE.match(default_id):
        names = ", ".join(dict.fromkeys(ids.describe(ch) for ch in hidden))
        why = f"holds invisible or bidi characters ({names})"
    else:
        why = "holds control characters or escape sequences"
    out.add(
        ("trip", "id"),
        f"no id given, and the default id (the file name without .toml), {default_id!r}, "
        f'{why}: give the trip an id, e.g. id = "{_suggest_id(default_id)}"',
    )


def _suggest_id(default_id: str) -> str:
    return slugify(default_id) if slugify(default_id) != "point" else "my-trip"


def _first_seen(ids: dict[str, PathT], ident: Any, path: PathT, what: str, out: Collector) -> bool:
    """Record ``ident`` at ``path``; report and return False when it was already used.

    Paths, not lines, are kept: the file is only scanned for lines when a
    problem has to be reported, so a valid 10,000-event trip never pays for it.
    """
    if not isinstance(ident, str):
        return False
    if ident in ids:
        first = out.line_of(ids[ident])
        out.add(path, f"duplicate {what} id {ident!r} (first at line {first})")
        return False
    ids[ident] = path
    return True


def _build_places(items: list[Any], out: Collector) -> dict[str, Place | None]:
    """Places by id; None for a place whose id is known but which is otherwise broken."""
    places: dict[str, Place | None] = {}
    ids: dict[str, PathT] = {}
    for i, item in enumerate(items):
        raw = _validate("RawPlace", item, ("places", i), out)
        ident = getattr(raw, "id", None)
        first = _first_seen(ids, ident, ("places", i, "id"), "place", out)
        zone = None
        tz_name = getattr(raw, "tz", None)
        if tz_name is not None:
            try:
                zone = times.get_zone(tz_name)
            except times.ZoneError as exc:
                out.add(("places", i, "tz"), str(exc))
        if first and ident is not None:
            name = getattr(raw, "name", None)
            places[ident] = Place(ident, name, zone) if zone and name is not None else None
    return places


def _build_counterparts(items: list[Any], out: Collector) -> dict[str, Counterpart | None]:
    """Counterparts by id; None for one whose id is known but which is otherwise broken."""
    result: dict[str, Counterpart | None] = {}
    ids: dict[str, PathT] = {}
    for i, item in enumerate(items):
        raw = _validate("RawCounterpart", item, ("counterparts", i), out)
        ident = getattr(raw, "id", None)
        first = _first_seen(ids, ident, ("counterparts", i, "id"), "counterpart", out)
        points: list[TalkingPoint] = []
        point_ids: dict[str, int] = {}
        # Read the talking points from the table itself: a bad element must not hide a
        # duplicate among the good ones, and a partial model would hold the default [].
        listed = item.get("talking_points") if isinstance(item, dict) else None
        if not isinstance(listed, list):
            listed = []
        for j, tp in enumerate(listed):
            if isinstance(tp, dict):
                point = _talking_point(tp)
                if point is None:
                    continue  # already reported
                pid, text, explicit = (
                    point.id or slugify(point.text),
                    point.text,
                    point.id is not None,
                )
            elif isinstance(tp, str):
                pid, text, explicit = slugify(tp), tp, False
            else:
                continue
            if pid in point_ids:
                hint = "" if explicit else " (derived from its text: give one an explicit id)"
                out.add(
                    ("counterparts", i, "talking_points", j),
                    f"duplicate talking point id {pid!r}{hint}; "
                    f"same as talking_points[{point_ids[pid]}]",
                )
                continue
            point_ids[pid] = j
            points.append(TalkingPoint(pid, text, str(ident)))
        if first and ident is not None:
            name = getattr(raw, "name", None)
            result[ident] = (
                Counterpart(
                    ident,
                    name,
                    getattr(raw, "role", None),
                    getattr(raw, "country", None),
                    getattr(raw, "notes", None),
                    tuple(points),
                )
                if name is not None
                else None
            )
    return result


def _talking_point(value: dict[str, Any]) -> Any:
    """A talking point given as a table, validated (None when invalid: already reported)."""
    fast = shape.table(shape.TALKING_POINT, value)
    if fast is not None:
        return fast
    from pydantic import ValidationError

    from tripdash.domain.schema import RawTalkingPoint

    try:
        return RawTalkingPoint.model_validate(value)
    except ValidationError:
        return None


def _in_years(value: date, path: PathT, out: Collector) -> bool:
    """Refuse dates no trip has (and that would overflow time arithmetic near year 1 or 9999)."""
    if value.year in YEARS:
        return True
    out.add(path, f"{value.isoformat()} is not a date of a trip (years {YEARS[0]}-{YEARS[-1]})")
    return False


def _resolve_time(
    value: datetime,
    place: Place,
    path: PathT,
    out: Collector,
    seen: dict[tuple[datetime, Any], datetime],
) -> datetime | None:
    """``value`` in ``place``'s zone; ``seen`` keeps the wall times already resolved."""
    if not _in_years(value, path, out):
        return None
    if value.tzinfo is not None:
        return value.astimezone(place.tz)
    # Programmes repeat their hours (every meeting at 09:00 in one city): each wall time
    # is looked up in its zone's DST rules once.
    found = seen.get((value, place.tz))
    if found is not None:
        return found
    try:
        found = seen[value, place.tz] = times.resolve_wall_time(value, place.tz)
    except (times.NonexistentTimeError, times.AmbiguousTimeError) as exc:
        out.add(path, str(exc))
        return None
    return found


def _build_events(
    items: list[Any],
    places: dict[str, Place | None],
    counterparts: dict[str, Counterpart | None],
    out: Collector,
) -> list[Event]:
    events: list[Event] = []
    ids: dict[str, PathT] = {}
    resolved: dict[tuple[datetime, Any], datetime] = {}
    for i, item in enumerate(items):
        base: PathT = ("events", i)
        before = len(out.problems)
        raw = _validate("RawEvent", item, base, out)
        if raw is None:
            continue
        _first_seen(ids, getattr(raw, "id", None), base + ("id",), "event", out)
        place = _lookup_place(places, getattr(raw, "place", None), base + ("place",), out)
        to = _lookup_place(places, getattr(raw, "to", None), base + ("to",), out)
        attendees: list[Counterpart] = []
        for k, cid in enumerate(getattr(raw, "counterparts", None) or []):
            if cid not in counterparts:
                out.add(
                    base + ("counterparts", k),
                    partial(_unknown, "counterpart", cid, counterparts),
                )
            else:
                cp = counterparts[cid]
                if cp is not None and cp not in attendees:
                    attendees.append(cp)
        raw_start = getattr(raw, "start", None)
        raw_end = getattr(raw, "end", None)
        if place is None or raw_start is None:
            continue
        start: datetime | None
        confirmed = isinstance(raw_start, datetime)
        if isinstance(raw_start, datetime):
            start = _resolve_time(raw_start, place, base + ("start",), out, resolved)
        elif _in_years(raw_start, (*base, "start"), out):
            try:
                start = times.local_midnight(raw_start, place.tz)
            except times.NonexistentTimeError as exc:
                out.add((*base, "start"), str(exc))
                start = None
        else:
            start = None
        end: datetime | None = None
        end_place = to or place
        if raw_end is not None:
            if not confirmed:
                out.add(
                    base + ("end",),
                    "has an end time but start is only a date (TBC): give start a time too, "
                    "or leave end out",
                )
            elif raw.to is None or to is not None:
                end = _resolve_time(raw_end, end_place, base + ("end",), out, resolved)
        if start is not None and end is not None and _utc(end) < _utc(start):
            where = f"{end:%H:%M} {end_place.tz.key}"
            if to is not None:
                out.add(
                    base + ("end",),
                    f"arrives ({end:%Y-%m-%d} {where}) before it departs "
                    f"({start:%Y-%m-%d %H:%M} {place.tz.key}) in absolute time: check the zones",
                    "warning",
                )
            else:
                out.add(base + ("end",), f"ends before it starts ({where})")
        if start is None or any(p.severity == "error" for p in out.problems[before:]):
            continue
        events.append(
            Event(
                id=raw.id,
                title=raw.title,
                place=place,
                start=start,
                time_confirmed=confirmed,
                end=end,
                to=to,
                kind=raw.kind,
                status=Status(raw.status),
                venue=raw.venue,
                counterparts=tuple(attendees),
                press=raw.press,
                notes=raw.notes,
                fixed=raw.fixed,
                index=i,
                order=_utc(start),
            )
        )
    return _order(events)


def _order(events: list[Event]) -> list[Event]:
    """Sort events by time; a TBC event keeps its place in the file within its local day.

    A TBC event has only a date, so its position in the day is the author's: it
    sorts just after the confirmed event listed before it in the file on the
    same local date (or at the start of the day when there is none). This keeps
    "travel, TBC" after the last meeting it follows, not at midnight.
    """
    last_on: dict[date, datetime] = {}
    ordered: list[Event] = []
    for e in events:  # file order
        at = e.sort_at
        if e.time_confirmed:
            last_on[e.local_date] = max(at, last_on.get(e.local_date, at))
            ordered.append(e)
        else:
            anchor = last_on.get(e.local_date)
            ordered.append(replace(e, order=max(anchor, at) if anchor else at))
    ordered.sort(key=lambda e: (e.sort_at, e.index))
    return ordered


def _lookup_place(
    places: dict[str, Place | None], ident: str | None, path: PathT, out: Collector
) -> Place | None:
    if ident is None:
        return None
    if ident not in places:
        out.add(path, partial(_unknown, "place", ident, places))
        return None
    return places[ident]
