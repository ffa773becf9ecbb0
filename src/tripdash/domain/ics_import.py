"""Calendar files (iCalendar, RFC 5545) turned into a trip file: ``tripdash import``.

Every VEVENT becomes an event at a place: one place per time zone and location.
Zones come from TZIDs, IANA names or the Windows names Outlook writes ("Eastern
Standard Time", mapped to IANA by the CLDR windowsZones table that icalendar ships);
UTC and floating times are placed in the calendar's zone (X-WR-TIMEZONE) or home's.
All-day events are TBC on their first day; attendees with a name (CN) become
counterparts; recurring events are expanded (with ``recurring-ical-events``) over
the trip's dates, that is the days of its single events (or ``--from``/``--to``).
What cannot be carried over is listed, never dropped silently.

Bad input is reported as :class:`~tripdash.domain.loader.Problem`s naming file and
line (:class:`ImportInvalid`): a file too big or not UTF-8, a calendar that does not
parse, a property of the wrong type, a TZID that is no zone, a VTIMEZONE that
contradicts its TZID, an event without DTSTART. Then nothing is written.

Every instant is kept exactly: a wall time that DST makes ambiguous is written with
its offset. The result is checked with the trip loader before it is returned.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tripdash.domain import times
from tripdash.domain.loader import LoadResult, Problem, TripInvalid, parse_trip_text
from tripdash.domain.model import slugify
from tripdash.domain.tomlwrite import toml_lines

#: Calendar files larger than this are refused before reading (a year of a busy
#: calendar is a few MiB).
MAX_ICS_BYTES = 20 * 1024 * 1024
#: At most this many events in the result (recurrences included).
MAX_EVENTS = 10_000

#: Properties whose content is carried over, or that are bookkeeping with nothing to
#: carry (ids, stamps, sequence numbers, free/busy); any other is listed as not carried.
_USED = frozenset(
    {
        "UID",
        "DTSTAMP",
        "CREATED",
        "LAST-MODIFIED",
        "SEQUENCE",
        "TRANSP",
        "DTSTART",
        "DTEND",
        "DURATION",
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "STATUS",
        "ATTENDEE",
        "RRULE",
        "RDATE",
        "EXDATE",
        "RECURRENCE-ID",
        "URL",
        "CLASS",
        "PRIORITY",
    }
)


class ImportInvalid(Exception):
    """Calendar input that cannot be imported; ``problems`` names every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s)")


@dataclass
class ImportResult:
    """The trip file's text, the check of it, and what could not be carried over."""

    text: str
    loaded: LoadResult
    dropped: list[str] = field(default_factory=list)


# -- locating things in the source ---------------------------------------------------------


@dataclass
class _Where:
    """Lines of one component: where it begins, and each property's first line."""

    begin: int
    props: dict[str, int] = field(default_factory=dict)

    def line(self, name: str | None = None) -> int:
        return self.props.get(name, self.begin) if name else self.begin


def _scan_lines(text: str) -> dict[str, list[_Where]]:
    """Per component name (VEVENT, VTIMEZONE...), in document order, where each one is.

    Content lines are unfolded as RFC 5545 says (a line starting with a space or a tab
    continues the one before), keeping the physical line each one starts on.
    """
    found: dict[str, list[_Where]] = {}
    stack: list[_Where] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw[:1] in (" ", "\t"):
            continue
        line = raw.rstrip("\r")
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name == "BEGIN":
            kind = line.split(":", 1)[1].strip().upper() if ":" in line else ""
            where = _Where(number)
            found.setdefault(kind, []).append(where)
            stack.append(where)
        elif name == "END":
            if stack:
                stack.pop()
        elif stack:
            stack[-1].props.setdefault(name, number)
    return found


# -- reading -------------------------------------------------------------------------------


@dataclass
class _Calendar:
    source: str
    cal: Any  # icalendar.Calendar
    events: list[tuple[Any, _Where]]
    zones: dict[str, tuple[Any, _Where]]  # VTIMEZONE by TZID
    default_tz: str | None  # X-WR-TIMEZONE
    name: str | None  # X-WR-CALNAME
    cancelled: bool  # METHOD:CANCEL


def ics_files(paths: Sequence[str]) -> list[Path]:
    """The calendar files named: files as given, folders' ``.ics`` files in name order.

    Raises ``OSError`` for a path that is neither (or a folder with no calendar).
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() == ".ics" and q.is_file())
            if not found:
                raise FileNotFoundError(2, "no .ics calendar files in this folder", raw)
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(2, "no such file or folder", raw)
    return out


def _read(path: Path, problems: list[Problem]) -> _Calendar | list[_Calendar] | None:
    import icalendar

    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_ICS_BYTES:
            problems.append(
                Problem(
                    source,
                    1,
                    "(file)",
                    f"file is {size / 2**20:.1f} MiB; a calendar file may be at most "
                    f"{MAX_ICS_BYTES // 2**20} MiB",
                )
            )
            return None
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(source, 1, "(file)", f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                source,
                line,
                "(file)",
                f"not UTF-8 text: {exc.reason} (byte {data[exc.start]:#04x}); "
                "iCalendar files are UTF-8",
            )
        )
        return None
    text = text.removeprefix("\ufeff")
    where = _scan_lines(text)
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        problems.append(Problem(source, 1, "(file)", f"not an iCalendar file: {exc}"))
        return None
    if not calendars:
        problems.append(Problem(source, 1, "(file)", "no VCALENDAR in this file"))
        return None
    events_where = iter(where.get("VEVENT", []))
    zones_where = iter(where.get("VTIMEZONE", []))
    out = []
    for cal in calendars:
        events = [(ev, next(events_where, _Where(1))) for ev in cal.walk("VEVENT")]
        zones = {}
        for tz in cal.walk("VTIMEZONE"):
            tz_where = next(zones_where, _Where(1))
            zones[str(tz.get("TZID", ""))] = (tz, tz_where)
        method = str(cal.get("METHOD", "")).upper()
        default_tz = cal.get("X-WR-TIMEZONE")
        name = cal.get("X-WR-CALNAME")
        out.append(
            _Calendar(
                source,
                cal,
                events,
                zones,
                str(default_tz) if default_tz else None,
                str(name) if name else None,
                method == "CANCEL",
            )
        )
    return out


def resolve_tzid(tzid: str) -> ZoneInfo | None:
    """The IANA zone a TZID names: an IANA name, a Windows name (CLDR), or None."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    name = tzid.strip().strip('"')
    # Old Mozilla and Apple exports prefix IANA names: /mozilla.org/20050126_1/Europe/Paris.
    if name.startswith("/"):
        parts = name.split("/")
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            if "/" in candidate and _zone(candidate) is not None:
                return _zone(candidate)
    zone = _zone(name)
    if zone is not None:
        return zone
    iana = WINDOWS_TO_OLSON.get(name)
    return _zone(iana) if iana else None


def _zone(name: str) -> ZoneInfo | None:
    try:
        return times.get_zone(name)
    except times.ZoneError:
        return None


# -- validating ------------------------------------------------------------------------------


@dataclass
class _Time:
    """A DTSTART or DTEND: an instant in a zone, or a date (all day)."""

    instant: datetime | None  # aware
    day: date | None
    zone: ZoneInfo | None  # from the TZID; None for UTC, floating and dates
    floating: bool = False


def _label(ev: Any, index: int) -> str:
    summary = ev.get("SUMMARY")
    return f"VEVENT[{index}]" + (f" {str(summary)[:40]!r}" if summary else "")


def _time(
    ev: Any,
    name: str,
    cal: _Calendar,
    where: _Where,
    index: int,
    problems: list[Problem],
    tz_checked: set[tuple[str, str]],
) -> _Time | None:
    """Read DTSTART/DTEND of ``ev``, reporting a TZID that is no zone or a contradicting
    VTIMEZONE."""
    prop = ev.get(name)
    if prop is None:
        return None
    label = f"{_label(ev, index)}.{name}"
    line = where.line(name)
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        tzid = prop.params.get("TZID")
        naive = value.replace(tzinfo=None)
        if tzid:
            zone = resolve_tzid(str(tzid))
            if zone is None:
                problems.append(
                    Problem(
                        cal.source,
                        line,
                        label,
                        f"TZID {str(tzid)!r} is no time zone: neither an IANA name "
                        "(America/New_York) nor a Windows one (Eastern Standard Time)",
                    )
                )
                return None
            _check_vtimezone(str(tzid), zone, naive, cal, line, label, problems, tz_checked)
            # RFC 5545: a wall time a DST change skips takes the offset before the change;
            # one it repeats, the first occurrence (fold=0 in zoneinfo, both).
            return _Time(naive.replace(tzinfo=zone, fold=0), None, zone)
        if value.tzinfo is not None:
            return _Time(value.astimezone(timezone.utc), None, None)
        return _Time(naive, None, None, True)  # floating: a wall time, zone decided later
    if isinstance(value, date):
        return _Time(None, value, None)
    problems.append(
        Problem(cal.source, line, label, f"expected a date or a date-time; got {value!r}")
    )
    return None


def _check_vtimezone(
    tzid: str,
    zone: ZoneInfo,
    naive: datetime,
    cal: _Calendar,
    line: int,
    label: str,
    problems: list[Problem],
    checked: set[tuple[str, str]],
) -> None:
    """A VTIMEZONE of the same TZID must give the zone's own offset at this wall time."""
    found = cal.zones.get(tzid)
    if found is None or (cal.source, tzid) in checked:
        return
    vtz, where = found
    try:
        tzinfo = vtz.to_tz(lookup_tzid=False)  # its own rules, not the zone it names
        theirs = naive.replace(tzinfo=tzinfo).utcoffset()
    except Exception as exc:  # icalendar and dateutil raise many kinds for broken rules
        checked.add((cal.source, tzid))
        problems.append(
            Problem(cal.source, where.begin, f"VTIMEZONE {tzid!r}", f"cannot be read: {exc}")
        )
        return
    ours = naive.replace(tzinfo=zone, fold=0).utcoffset()
    if theirs != ours:
        checked.add((cal.source, tzid))
        problems.append(
            Problem(
                cal.source,
                where.begin,
                f"VTIMEZONE {tzid!r}",
                f"says UTC{_offset(theirs)} at {naive:%Y-%m-%d %H:%M} ({label}, line {line}) "
                f"but {zone.key} is UTC{_offset(ours)} then: the calendar contradicts its "
                "own TZID",
            )
        )


def _offset(delta: timedelta | None) -> str:
    if delta is None:
        return "?"
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- building ------------------------------------------------------------------------------------


@dataclass
class _Occurrence:
    uid: str
    title: str
    start: _Time
    end: _Time | None
    location: str | None
    status: str
    notes: str | None
    attendees: list[tuple[str, str]]  # (key, name)
    recurring: bool
    source: str
    order: int


@dataclass
class _Builder:
    home: ZoneInfo
    default_zone: ZoneInfo
    dropped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    places: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict)
    place_ids: set[str] = field(default_factory=set)
    counterparts: dict[str, dict[str, str]] = field(default_factory=dict)
    counterpart_ids: set[str] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)
    #: The zone of each LOCATION that an event with a TZID gives: UTC, floating and
    #: all-day events at the same location are placed there too.
    location_zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def zone_of(self, occ: _Occurrence) -> ZoneInfo:
        if occ.start.zone is not None:
            return occ.start.zone
        if occ.location is not None and occ.location in self.location_zones:
            return self.location_zones[occ.location]
        return self.default_zone

    def place(self, zone: ZoneInfo, location: str | None) -> str:
        key = (zone.key, location)
        found = self.places.get(key)
        if found is not None:
            return found["id"]
        city = zone.key.rsplit("/", 1)[-1].replace("_", " ")
        name = location or city
        base = slugify(name, limit=40) if location else slugify(city, limit=40)
        pid = _unique(base, self.place_ids)
        self.places[key] = {"id": pid, "name": name, "tz": zone.key}
        return pid

    def counterpart(self, key: str, name: str) -> str:
        found = self.counterparts.get(key)
        if found is not None:
            return found["id"]
        cid = _unique(slugify(name, limit=40), self.counterpart_ids)
        self.counterparts[key] = {"id": cid, "name": name}
        return cid


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _text(ev: Any, name: str) -> str | None:
    value = ev.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _attendees(ev: Any, builder: _Builder) -> list[tuple[str, str]]:
    raw = ev.get("ATTENDEE")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        params = getattr(item, "params", {})
        cutype = str(params.get("CUTYPE", "INDIVIDUAL")).upper()
        address = str(item).removeprefix("mailto:").removeprefix("MAILTO:").strip()
        name = str(params.get("CN", "")).strip().strip('"')
        if cutype in ("ROOM", "RESOURCE"):
            builder.dropped[f"attendee {name or address} (a {cutype.lower()}, not a person)"] += 1
            continue
        if not name or name == address:
            builder.dropped[f"attendee {address} (no name given)"] += 1
            continue
        out.append(((address or name).lower(), name))
    return out


def _list_unused(ev: Any, builder: _Builder) -> None:
    for name in ev:
        upper = str(name).upper()
        if upper in _USED or upper.startswith("X-"):
            continue
        builder.dropped[f"{upper} (property of events)"] += 1
    for sub in ev.subcomponents:
        builder.dropped[f"{sub.name} (in events: reminders are set in tripdash)"] += 1
    cls = _text(ev, "CLASS")
    if cls and cls.upper() != "PUBLIC":
        builder.dropped[f"CLASS:{cls.upper()} (events marked private)"] += 1


def import_calendars(
    paths: Sequence[str | os.PathLike[str]],
    *,
    output: str | None = None,
    title: str | None = None,
    home_tz: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> ImportResult:
    """Read the calendar files and return the trip file's text, checked.

    ``output`` (the trip file to be) gives the trip's id, its stem; else the title does.
    Raises :class:`ImportInvalid` for bad input, with every problem found.
    """
    named_output = output is not None
    output = output or "imported.toml"
    problems: list[Problem] = []
    calendars: list[_Calendar] = []
    for path in paths:
        read = _read(Path(path), problems)
        if isinstance(read, list):
            calendars.extend(read)
    if problems:
        raise ImportInvalid(problems)

    home = _zone(home_tz) if home_tz else None
    if home_tz and home is None:
        raise ImportInvalid([Problem("--home-tz", 0, "home_tz", f"unknown time zone {home_tz!r}")])
    cal_zone = None
    for cal in calendars:
        if cal.default_tz:
            zone = resolve_tzid(cal.default_tz)
            if zone is None:
                problems.append(
                    Problem(
                        cal.source,
                        1,
                        "X-WR-TIMEZONE",
                        f"{cal.default_tz!r} is no time zone",
                    )
                )
            cal_zone = cal_zone or zone

    tz_checked: set[tuple[str, str]] = set()
    singles: list[tuple[_Calendar, Any, _Time, _Time | None]] = []
    series: dict[str, list[tuple[_Calendar, Any]]] = {}
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    duplicates = 0
    for cal in calendars:
        for index, (ev, where) in enumerate(cal.events):
            label = _label(ev, index)
            for prop, message in getattr(ev, "errors", []):
                problems.append(
                    Problem(cal.source, where.line(str(prop).upper()), f"{label}.{prop}", message)
                )
            if getattr(ev, "errors", []):
                continue
            if ev.get("DTSTART") is None:
                problems.append(
                    Problem(cal.source, where.begin, f"{label}.DTSTART", "event without DTSTART")
                )
                continue
            if ev.get("DTEND") is not None and ev.get("DURATION") is not None:
                problems.append(
                    Problem(
                        cal.source,
                        where.line("DURATION"),
                        f"{label}.DURATION",
                        "an event may have DTEND or DURATION, not both",
                    )
                )
                continue
            start = _time(ev, "DTSTART", cal, where, index, problems, tz_checked)
            end = _time(ev, "DTEND", cal, where, index, problems, tz_checked)
            if start is None:
                continue
            uid = _text(ev, "UID") or f"{cal.source}#{index}"
            rid = ev.get("RECURRENCE-ID")
            key = (uid, str(getattr(rid, "dt", "")) if rid is not None else "")
            if key in seen:
                duplicates += 1
                continue
            seen[key] = (cal.source, where.begin)
            if ev.get("RRULE") is not None or ev.get("RDATE") is not None or rid is not None:
                series.setdefault(uid, []).append((cal, ev))
            else:
                singles.append((cal, ev, start, end))
    if problems:
        raise ImportInvalid(problems)

    # An override (RECURRENCE-ID) without its series in these files is a single event.
    for uid in list(series):
        parts = series[uid]
        if not any(ev.get("RRULE") is not None or ev.get("RDATE") is not None for _, ev in parts):
            del series[uid]
            for cal, ev in parts:
                index = next(i for i, (e, _) in enumerate(cal.events) if e is ev)
                where = cal.events[index][1]
                start = _time(ev, "DTSTART", cal, where, index, problems, tz_checked)
                end = _time(ev, "DTEND", cal, where, index, problems, tz_checked)
                assert start is not None
                singles.append((cal, ev, start, end))

    fallback = home or cal_zone or _most_common_zone(singles) or times.get_zone("UTC")
    builder = _Builder(home=home or fallback, default_zone=cal_zone or fallback)
    if duplicates:
        builder.dropped[
            "events found twice (same UID in two files or twice in one): kept once"
        ] += duplicates
    occurrences: list[_Occurrence] = []
    order = 0
    for cal, ev, start, end in singles:
        occurrences.append(_occurrence(cal, ev, start, end, builder, order, recurring=False))
        order += 1

    span = _span(occurrences, builder, first, last)
    if series:
        occurrences += _expand(series, span, builder, order)
    if len(occurrences) > MAX_EVENTS:
        raise ImportInvalid(
            [
                Problem(
                    str(paths[0]),
                    1,
                    "(file)",
                    f"{len(occurrences):,} events: more than a trip may hold ({MAX_EVENTS:,}); "
                    "give a shorter --from/--to",
                )
            ]
        )
    for cal in calendars:
        for component in cal.cal.subcomponents:
            if component.name not in ("VEVENT", "VTIMEZONE"):
                builder.dropped[f"{component.name} (not an event)"] += 1

    names = [c.name for c in calendars if c.name]
    stem = Path(output).stem if named_output else Path(paths[0]).stem
    trip_title = title or (names[0] if names else stem.replace("-", " "))
    text = _render(
        occurrences,
        builder,
        trip_id=slugify(Path(output).stem if named_output else trip_title, limit=80),
        title=trip_title,
        sources=[str(p) for p in paths],
    )
    try:
        loaded = parse_trip_text(text, source=output, default_id=Path(output).stem)
    except TripInvalid as exc:
        # The import's own fault, never the user's: say so rather than write a bad file.
        raise ImportInvalid(
            [Problem(output, 1, "(import)", "the imported trip does not pass check:")]
            + exc.problems
        ) from None
    dropped = [f"{what}: {n}" if n > 1 else what for what, n in builder.dropped.items()]
    return ImportResult(text, loaded, builder.notes + dropped)


def _most_common_zone(singles: list[tuple[Any, Any, _Time, _Time | None]]) -> ZoneInfo | None:
    counts = Counter(s[2].zone.key for s in singles if s[2].zone is not None)
    return times.get_zone(counts.most_common(1)[0][0]) if counts else None


def _occurrence(
    cal: _Calendar,
    ev: Any,
    start: _Time,
    end: _Time | None,
    builder: _Builder,
    order: int,
    *,
    recurring: bool,
) -> _Occurrence:
    _list_unused(ev, builder)
    status = (_text(ev, "STATUS") or "CONFIRMED").upper()
    if cal.cancelled:
        status = "CANCELLED"
    notes = _text(ev, "DESCRIPTION")
    url = _text(ev, "URL")
    if url:
        notes = f"{notes}\n\n{url}" if notes else url
    duration = ev.get("DURATION")
    if end is None and duration is not None and start.instant is not None:
        end = _Time(start.instant + duration.dt, None, start.zone, start.floating)
    return _Occurrence(
        uid=_text(ev, "UID") or "",
        title=_text(ev, "SUMMARY") or "(untitled)",
        start=start,
        end=end,
        location=_one_line_location(_text(ev, "LOCATION")),
        status={"TENTATIVE": "tentative", "CANCELLED": "cancelled"}.get(status, "confirmed"),
        notes=notes,
        attendees=_attendees(ev, builder),
        recurring=recurring,
        source=cal.source,
        order=order,
    )


def _one_line_location(text: str | None) -> str | None:
    """Apple writes a LOCATION's name and address on separate lines: one line, with commas."""
    if text is None:
        return None
    parts = [" ".join(line.split()) for line in text.splitlines()]
    return ", ".join(p for p in parts if p) or None


def _local_day(t: _Time, zone: ZoneInfo) -> date:
    if t.day is not None:
        return t.day
    assert t.instant is not None
    if t.floating:
        return t.instant.date()
    return t.instant.astimezone(t.zone or zone).date()


def _span(
    occurrences: list[_Occurrence], builder: _Builder, first: date | None, last: date | None
) -> tuple[date, date] | None:
    """The trip's days: those of its single events, or ``--from``/``--to``."""
    days = []
    for occ in occurrences:
        days.append(_local_day(occ.start, builder.default_zone))
        if occ.end is not None and occ.end.day is None:
            days.append(_local_day(occ.end, builder.default_zone))
    lo = first or (min(days) if days else None)
    hi = last or (max(days) if days else None)
    if lo is None or hi is None:
        return None
    return lo, hi


def _expand(
    series: dict[str, list[tuple[_Calendar, Any]]],
    span: tuple[date, date] | None,
    builder: _Builder,
    order: int,
) -> list[_Occurrence]:
    """The occurrences of recurring events over the trip's days (RRULE, RDATE, EXDATE and
    RECURRENCE-ID overrides, by ``recurring-ical-events``)."""
    import icalendar
    import recurring_ical_events

    out: list[_Occurrence] = []
    for parts in series.values():
        cal = parts[0][0]
        combined = icalendar.Calendar()
        for vtz, _ in cal.zones.values():
            combined.add_component(vtz)
        for _, ev in parts:
            combined.add_component(ev)
        master = next(ev for _, ev in parts if ev.get("RRULE") is not None or ev.get("RDATE"))
        title = _text(master, "SUMMARY") or "(untitled)"
        try:
            query = recurring_ical_events.of(combined)
            if span is None:
                found = list(query.between(master["DTSTART"].dt, timedelta(days=1)))[:1]
                builder.notes.append(
                    f"{title!r} repeats, but no single event gives the trip's dates: only "
                    "its first occurrence is imported (give --from and --to)"
                )
            else:
                found = list(query.between(span[0], span[1] + timedelta(days=1)))
        except Exception as exc:  # the library raises many kinds for rules it cannot follow
            index = next(i for i, (e, _) in enumerate(cal.events) if e is master)
            where = cal.events[index][1]
            raise ImportInvalid(
                [
                    Problem(
                        cal.source,
                        where.line("RRULE"),
                        f"{_label(master, index)}.RRULE",
                        f"cannot expand the recurrence: {exc}",
                    )
                ]
            ) from None
        tzid_start = master["DTSTART"].params.get("TZID")
        tzid_end = master.get("DTEND").params.get("TZID") if master.get("DTEND") else None
        for occ in found:
            start = _occurrence_time(occ["DTSTART"].dt, tzid_start)
            end = _occurrence_time(occ["DTEND"].dt, tzid_end) if occ.get("DTEND") else None
            item = _occurrence(cal, occ, start, end, builder, order, recurring=True)
            out.append(item)
            order += 1
    return out


def _occurrence_time(value: date | datetime, tzid: Any) -> _Time:
    """An occurrence's time: its wall time read in the series' zone (already validated)."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        if tzid:
            zone = resolve_tzid(str(tzid))
            assert zone is not None
            return _Time(naive.replace(tzinfo=zone, fold=0), None, zone)
        if value.tzinfo is not None:
            return _Time(value.astimezone(timezone.utc), None, None)
        return _Time(naive, None, None, True)
    return _Time(None, value, None)


# -- writing -------------------------------------------------------------------------------------


def _written(t: _Time, zone: ZoneInfo, builder: _Builder, what: str) -> datetime | date:
    """The value to write for ``t`` at a place in ``zone``: its local time there when that
    names one instant, else the instant with its offset."""
    if t.day is not None:
        return t.day
    assert t.instant is not None
    if t.floating:
        instant = t.instant.replace(tzinfo=zone, fold=0)
        if what:
            builder.dropped[f"floating times (no zone) read in {zone.key}"] += 1
    else:
        instant = t.instant
    # Through UTC: astimezone() to a datetime's own zone would return it unchanged,
    # skipped wall time and all.
    local = instant.astimezone(timezone.utc).astimezone(zone)
    wall = local.replace(tzinfo=None, fold=0)
    try:
        resolved = times.resolve_wall_time(wall, zone)
    except (times.AmbiguousTimeError, times.NonexistentTimeError):
        return local
    if resolved.astimezone(timezone.utc) != instant.astimezone(timezone.utc):
        return local
    if t.zone is not None and not t.floating:
        given = t.instant.replace(tzinfo=None)
        if given != wall and t.zone.key == zone.key:
            builder.notes.append(
                f"{what}: {given:%Y-%m-%d %H:%M} does not exist in {zone.key} (a DST change "
                f"skips it): imported as {wall:%H:%M}, as RFC 5545 says"
            )
    return wall


def _within_limits(occ: _Occurrence, builder: _Builder) -> _Occurrence:
    """The occurrence with its title and notes cut to what a trip file may hold (the
    loader's limits, which keep the dashboard responsive), saying so: an invitation's
    long description must not make the whole import fail."""
    from tripdash.domain.validate import LIMITS

    title, notes = occ.title, occ.notes
    if len(title) > LIMITS["chars"]:
        title = title[: LIMITS["chars"] - 1] + "…"
        builder.dropped[f"{title[:60]!r}: title cut to {LIMITS['chars']:,} characters"] += 1
    if notes is not None and len(notes) > LIMITS["notes"]:
        notes = notes[: LIMITS["notes"] - 1] + "…"
        builder.dropped[f"{title[:60]!r}: description cut to {LIMITS['notes']:,} characters"] += 1
    return (
        replace(occ, title=title, notes=notes) if (title, notes) != (occ.title, occ.notes) else occ
    )


def _first_attendees(
    people: list[tuple[str, str]], title: str, builder: _Builder
) -> list[tuple[str, str]]:
    from tripdash.domain.validate import LIMITS

    limit = LIMITS["attendees"]
    if len(people) > limit:
        builder.dropped[
            f"{title[:60]!r}: {len(people)} attendees, the first {limit} kept "
            f"(a trip holds at most {limit} counterparts at one event)"
        ] += 1
    return people[:limit]


def _render(
    occurrences: list[_Occurrence],
    builder: _Builder,
    *,
    trip_id: str,
    title: str,
    sources: list[str],
) -> str:
    events: list[list[str]] = []

    def sort_key(o: _Occurrence) -> tuple[float, int]:
        if o.start.instant is not None:
            instant = (
                o.start.instant.replace(tzinfo=builder.default_zone)
                if o.start.floating
                else o.start.instant
            )
            return instant.timestamp(), o.order
        assert o.start.day is not None
        midnight = times.local_midnight(o.start.day, builder.default_zone)
        return midnight.timestamp(), o.order

    for occ in occurrences:
        if occ.location is not None and occ.start.zone is not None:
            builder.location_zones.setdefault(occ.location, occ.start.zone)
    for occ in sorted(occurrences, key=sort_key):
        occ = _within_limits(occ, builder)
        zone = builder.zone_of(occ)
        place = builder.place(zone, occ.location)
        start = _written(occ.start, zone, builder, repr(occ.title))
        end_value: datetime | date | None = None
        to = None
        kind = None
        if occ.start.day is not None:
            if occ.end is not None and occ.end.day is not None:
                days = (occ.end.day - occ.start.day).days
                if days > 1:
                    builder.dropped[
                        f"{occ.title!r}: all day for {days} days: imported as TBC on its first day"
                    ] += 1
        elif occ.end is not None and occ.end.instant is not None:
            end_zone = occ.end.zone or zone
            if end_zone.key != zone.key:
                to = builder.place(end_zone, None)
                kind = "travel"
            end_value = _written(occ.end, end_zone, builder, "")
            start_at = _instant(occ.start, zone)
            end_at = _instant(occ.end, end_zone)
            if end_at <= start_at:
                end_value, to, kind = None, None, None
                if end_at < start_at:
                    builder.dropped[f"{occ.title!r}: ends before it starts: end left out"] += 1
        base = slugify(occ.title, limit=40) if occ.title != "(untitled)" else "event"
        if occ.recurring:
            base = f"{base}-{_local_day(occ.start, zone).isoformat()}"
        eid = _unique(base, builder.event_ids)
        # The first attendees only, before any becomes a counterpart of the trip.
        people = list({key: (key, name) for key, name in occ.attendees}.values())
        people = _first_attendees(people, occ.title, builder)
        cids = list(dict.fromkeys(builder.counterpart(key, name) for key, name in people))
        block = ["[[events]]"]
        block += toml_lines(
            [
                ("id", eid),
                ("title", occ.title),
                ("place", place),
                ("start", start),
                ("end", end_value),
                ("to", to),
                ("kind", kind),
                ("status", None if occ.status == "confirmed" else occ.status),
                ("counterparts", cids or None),
                ("notes", occ.notes),
            ]
        )
        events.append(block)

    lines = [
        f"# Imported by `tripdash import` from {', '.join(Path(s).name for s in sources)}.",
        "# Check it with `tripdash check`; local times are wall-clock times at each place.",
    ]
    if builder.dropped or builder.notes:
        lines.append("# Not carried over, or changed on the way:")
        lines += [f"#   - {_comment(n)}" for n in builder.notes]
        lines += [
            f"#   - {_comment(what)}" + (f" ({n})" if n > 1 else "")
            for what, n in builder.dropped.items()
        ]
    lines += ["", "format = 1", "", "[trip]"]
    lines += toml_lines(
        [
            ("id", trip_id),
            ("title", title),
            ("home_tz", builder.home.key),
            ("source", "Calendar files: " + ", ".join(Path(s).name for s in sources)),
        ]
    )
    for place_table in builder.places.values():
        lines += ["", "[[places]]", *toml_lines(place_table.items())]
    for person in builder.counterparts.values():
        lines += ["", "[[counterparts]]", *toml_lines(person.items())]
    for block in events:
        lines += ["", *block]
    return "\n".join(lines) + "\n"


def _instant(t: _Time, zone: ZoneInfo) -> datetime:
    assert t.instant is not None
    return t.instant.replace(tzinfo=zone, fold=0) if t.floating else t.instant


def _comment(text: str) -> str:
    """Outside text in a TOML comment: one line, nothing a terminal or TOML would act on."""
    from tripdash.domain.text import one_line

    return one_line(text).replace("\x7f", "")
