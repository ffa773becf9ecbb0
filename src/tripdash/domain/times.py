"""Time arithmetic that is never wrong: zones, wall-clock resolution, day markers.

Every datetime that leaves this module is timezone-aware. Nothing here ever
consults the machine's own zone: callers always say which zone they mean.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

UTC = timezone.utc

#: A clock is any callable returning the current instant as an aware datetime.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, as an aware UTC datetime (the one place that reads it)."""
    return datetime.now(UTC)


class ZoneError(ValueError):
    """A zone name that is not a known IANA zone."""


class NonexistentTimeError(ValueError):
    """A wall-clock time skipped by a DST change."""


class AmbiguousTimeError(ValueError):
    """A wall-clock time that happens twice (the repeated hour of a DST change)."""


# Names that zoneinfo may resolve on some machines but that are not real IANA
# zones for a place: they would silently mean "wherever this laptop is".
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


#: Prefixes of the zoneinfo trees that are not other zones but other clocks: ``right/``
#: counts leap seconds (every time about half a minute off UTC as everyone keeps it),
#: ``posix/`` is a copy of the main tree. Neither is in tzdata's list of zones.
_CLOCK_TREES = {
    "right": "it counts leap seconds, so every time would be about half a minute off the "
    "clocks people use",
    "posix": "it is a copy of the standard zone, kept by some systems under another name",
}


@functools.lru_cache(maxsize=512)
def get_zone(name: str) -> ZoneInfo:
    """Return the zone called ``name``, or raise :class:`ZoneError` with a suggestion.

    Only names in tzdata's own list of zones are accepted (never a file that happens to
    sit in this machine's zoneinfo folder): ``right/...`` and ``posix/...`` are refused
    with the zone they stand for, and why.
    """
    if not isinstance(name, str) or not name or name in _NOT_PLACES:
        raise ZoneError(f"unknown time zone {name!r}{_zone_hint(str(name))}")
    if len(name) > 64 or name.count("/") > 4:
        # No IANA name is like this; and a very deep one makes importlib recurse.
        raise ZoneError(f"unknown time zone {name[:64]!r}{'…' if len(name) > 64 else ''}")
    tree, _, rest = name.partition("/")
    if tree.lower() in _CLOCK_TREES and rest:
        canonical = _canonical(rest)
        use = f"write {canonical!r}" if canonical else "write the zone's own name"
        raise ZoneError(
            f"time zone {name!r} is refused: {_CLOCK_TREES[tree.lower()]}; {use} instead"
        )
    if name not in _known_zones():
        raise ZoneError(f"unknown time zone {name!r}{_zone_hint(name)}")
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ZoneError(f"unknown time zone {name!r}{_zone_hint(name)}") from None


def _canonical(name: str) -> str | None:
    """``name`` as tzdata spells it (case aside), or None when it is no zone."""
    return {z.lower(): z for z in _all_zones()}.get(name.lower())


@functools.lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """tzdata's list of zone names (the ``tzdata`` package's, so that it does not depend on
    this machine's zoneinfo folder); the system's when that package is missing."""
    try:
        import tzdata  # type: ignore[import-untyped]

        # The file beside the package's __init__: importlib.resources would cost 60 ms of
        # imports on every first load of a trip; it is only needed for a zipped install.
        with open(Path(tzdata.__file__).with_name("zones"), encoding="utf-8") as listing:
            listed = listing.read().split()
    except (ImportError, OSError, TypeError, ValueError):
        try:
            from importlib.resources import files

            listed = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
        except (ImportError, OSError, ValueError):
            listed = list(zoneinfo.available_timezones())
    return frozenset(listed) - _NOT_PLACES


@functools.lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(_known_zones()))


def _zone_hint(name: str) -> str:
    """A " (did you mean ...?)" suffix for a mistyped zone name, or "" when none is close."""
    import difflib  # only when a zone name is wrong

    zones = _all_zones()
    lowered = {z.lower(): z for z in zones}
    if name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]!r}?)"
    close = difflib.get_close_matches(name, zones, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def resolve_wall_time(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a wall-clock time, refusing times that DST makes wrong.

    A time skipped by a DST change raises :class:`NonexistentTimeError`; a time
    that happens twice raises :class:`AmbiguousTimeError`. Nothing is shifted.
    """
    if naive.tzinfo is not None:
        raise ValueError("resolve_wall_time expects a wall-clock (naive) time")
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    off0, off1 = first.utcoffset(), second.utcoffset()
    if off0 == off1:
        # The common case, and the fast one: both readings agree, so the time is neither
        # skipped nor repeated (zoneinfo gives the two sides of a gap or fold otherwise).
        return first
    # A wall time exists if converting to UTC and back gives the same wall time.
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
    if round_trip != naive:
        raise NonexistentTimeError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key}: "
            "the clocks skip it for a DST change"
        )
    if off0 != off1:
        a = format_offset(first)
        b = format_offset(second)
        raise AmbiguousTimeError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} ({a} and {b}): "
            "write it with an explicit offset, e.g. "
            f"{naive:%Y-%m-%dT%H:%M:%S}{_iso_offset(first)}"
        )
    return first


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (handles days that start at 01:00).

    Raises :class:`NonexistentTimeError` for a day the zone skipped altogether
    (Samoa's 30 December 2011, Kwajalein's 21 August 1993).
    """
    naive = datetime(day.year, day.month, day.day)
    # Some zones skip midnight itself for DST; step forward to the first real minute.
    for minutes in range(0, 24 * 60, 15):
        candidate = naive + timedelta(minutes=minutes)
        try:
            return resolve_wall_time(candidate, zone)
        except NonexistentTimeError:
            continue
        except AmbiguousTimeError:
            return candidate.replace(tzinfo=zone, fold=0)
    raise NonexistentTimeError(
        f"{day:%Y-%m-%d} does not exist in {zone.key}: the clocks skip that whole day "
        "(the zone moved across the date line)"
    )


#: No zone has ever skipped more than one calendar day; two is a generous bound.
_MAX_SKIPPED_DAYS = 2


def next_local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant after ``day`` in ``zone``: the start of the next day that exists.

    Samoa went from 29 December 2011 straight to 31 December: the end of its 29th
    is the start of its 31st, not of a 30th that never was.
    """
    following = day + timedelta(days=1)
    for _ in range(_MAX_SKIPPED_DAYS):
        try:
            return local_midnight(following, zone)
        except NonexistentTimeError:
            following += timedelta(days=1)
    return local_midnight(following, zone)


def format_offset(dt: datetime) -> str:
    """``UTC-05:00``, ``UTC+05:45``, ``UTC+00:00``."""
    return "UTC" + _iso_offset(dt)


def _iso_offset(dt: datetime) -> str:
    off = dt.utcoffset()
    if off is None:
        raise ValueError("naive datetime has no offset")
    seconds = int(off.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    # Truncate toward zero: a historical offset such as -4:56:02 is -04:56, not -04:57.
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def zone_abbrev(dt: datetime) -> str:
    """The zone abbreviation at that instant: ``EST``, ``GMT``, or ``+0545`` where IANA has none."""
    return dt.tzname() or format_offset(dt)


#: The two ways a time of day is shown (the config's ``time_format``).
TIME_FORMATS = (12, 24)


def clock_time(
    instant: datetime, time_format: int = 24, *, seconds: bool = False, pad: bool = False
) -> str:
    """The wall-clock time of ``instant`` as people read it: ``09:15`` or ``9:15 am``.

    ``time_format`` is 24 (``00:30``, ``12:00``, ``15:30``) or 12 (``12:30 am``,
    ``12:00 pm``, ``3:30 pm``). The 12-hour suffix is lower case so that it reads apart
    from the zone abbreviation beside it (``9:15 am EST``). ``seconds`` adds them
    (``3:30:05 pm``); ``pad`` right-aligns a 12-hour time to :func:`clock_width` (a space
    before ``9:15 am``) so that a column of times lines up. The wall time is the one ``instant``
    carries: in the repeated hour of a DST change, both 01:30s read ``1:30 am`` (the zone
    abbreviation tells them apart).
    """
    if time_format == 24:
        return f"{instant:%H:%M:%S}" if seconds else f"{instant:%H:%M}"
    if time_format != 12:
        raise ValueError(f"time format {time_format!r}: expected 12 or 24")
    hour = instant.hour % 12 or 12
    text = f"{hour}:{instant.minute:02d}"
    if seconds:
        text += f":{instant.second:02d}"
    text += " am" if instant.hour < 12 else " pm"
    return text.rjust(clock_width(12, seconds=seconds)) if pad else text


def clock_width(time_format: int = 24, *, seconds: bool = False) -> int:
    """The widest :func:`clock_time` of that format: 5 (``23:45``) or 8 (``12:45 pm``)."""
    width = 5 if time_format == 24 else 8
    return width + 3 if seconds else width


def day_marker(shown: datetime, reference: date) -> str:
    """``+1d`` / ``-1d`` (or ``+2d``...) when ``shown``'s date differs from ``reference``."""
    delta = (shown.date() - reference).days
    return f"{delta:+d}d" if delta else ""


def humanize_delta(delta: timedelta) -> str:
    """A short, friendly length of time: ``42 min``, ``3 h 05 min``, ``2 days``."""
    seconds = int(abs(delta.total_seconds()))
    minutes = seconds // 60
    if seconds < 60:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {mins:02d} min" if mins else f"{hours} h"
    days = hours // 24
    if days < 60:
        return f"{days} days"
    if days < 730:
        return f"{days * 12 // 365} months"
    return f"{days // 365} years"


def compact_delta(delta: timedelta) -> str:
    """A length of time in at most 8 characters: ``42 min``, ``6h10``, ``3 days``."""
    minutes = int(abs(delta.total_seconds())) // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{mins:02d}"
    return f"{hours // 24} days"


def in_zone(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` expressed in ``zone`` (instant must be aware)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: refusing to guess its zone")
    return instant.astimezone(zone)


def parse_instant(text: str) -> datetime:
    """Parse ``--at``: ISO 8601 with an offset, or followed by a zone name.

    Accepted: ``2023-01-17T09:30-05:00``, ``2023-01-17T14:30Z``,
    ``2023-01-17T09:30 America/New_York`` and ``2023-01-17T09:30[America/New_York]``.
    A time without offset or zone is refused: it would silently mean this machine's zone.
    """
    raw = text.strip()
    zone_name = None
    if raw.endswith("]") and "[" in raw:
        raw, zone_name = raw[:-1].split("[", 1)
    elif " " in raw and raw.rsplit(" ", 1)[1][:1].isalpha():
        # A zone name starts with a letter; "2023-01-17 09:30-05:00" is ISO 8601 with a space.
        raw, zone_name = raw.rsplit(" ", 1)
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time such as 2023-01-17T09:30-05:00 "
            "or '2023-01-17T09:30 America/New_York'"
        ) from None
    if zone_name is not None:
        zone = get_zone(zone_name.strip())
        if value.tzinfo is not None:
            return value.astimezone(zone)
        return resolve_wall_time(value, zone)
    if value.tzinfo is None:
        raise ValueError(
            f"{text!r} has no offset or zone: add one, e.g. {raw}-05:00 or '{raw} Europe/London'"
        )
    return value


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC, for comparing and subtracting instants.

    Python compares and subtracts two datetimes that share a tzinfo by wall-clock
    time, ignoring DST: in one zone, 03:00 EDT minus 01:00 EST gives 2 h, not 1 h.
    """
    return dt.astimezone(UTC)
