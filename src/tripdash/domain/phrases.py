"""Times as people say them: "09:00", "tomorrow 08:00", "2023-01-18 10:00 Toronto", "+2h".

The same words work for the dashboard's jump-to-time prompt, for ``--at`` and for
``agenda --day today|tomorrow|yesterday``:

* ``now``, ``0`` or ``live``: real time (no rehearsal);
* ``+2h``, ``-30m``, ``+1h30``, ``+1d``: that long after (before) the clock's now;
* ``09:00``, ``today 09:00``, ``tomorrow 08:00``, ``yesterday 18:30``: that wall time on
  that day *where the delegation is* (the place of the event in progress, else of the
  last one, from :meth:`Schedule.current_place`), or at a place named after it;
* ``2023-01-18 10:00``, ``2023-01-18T10:00``, with a place or an IANA zone after it
  (``2023-01-18 10:00 Toronto``, ``... America/Toronto``), or an ISO 8601 time with an
  offset (``2023-01-18T15:00Z``);
* an event's id, or a fragment of its title (case and accents ignored): when it starts
  (the start of its day for a TBC event), and that event is selected.

"Today" is the date where the delegation is at the clock's now, so across the date line
"tomorrow" in Seoul and in Anchorage are different dates. A wall time that a DST change
skips is refused with a message; one it repeats is taken the first time, and said so.
Pure functions of the trip and an instant: the clock is always passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tripdash.domain.folding import fold
from tripdash.domain.model import Event, Place, Trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.text import one_line
from tripdash.domain.times import (
    UTC,
    AmbiguousTimeError,
    ZoneError,
    clock_time,
    get_zone,
    local_midnight,
    parse_instant,
    resolve_wall_time,
    zone_abbrev,
)

#: What the prompt and ``--help`` say the words are.
EXAMPLES = (
    '"09:00", "tomorrow 08:00", "2023-01-18 10:00 Toronto", "+2h", an event id or title, "now"'
)

_LIVE = {"now", "0", "live", "real", "real time"}
_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_RELATIVE = re.compile(
    r"^([+-])\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+))?$"
)
_CLOCK = re.compile(
    r"^(\d{1,2})(?::|h|\.)(\d{2})$|^(\d{1,2})\s*(am|pm)$|^(\d{1,2}):(\d{2})\s*(am|pm)$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PhraseError(ValueError):
    """A phrase that names no time (the message says why, and what would)."""


@dataclass(frozen=True)
class Jump:
    """Where a phrase puts the clock: an instant (None: back to real time), and the event
    it named, if it named one."""

    instant: datetime | None
    event: Event | None = None
    #: The instant as it reads where it is (its place's zone); None for real time.
    local: datetime | None = None
    #: What follows the time in words (", Toronto"), or all of them ("real time").
    tail: str = ""

    def says(self, time_format: int = 24) -> str:
        """How the instant reads where it is ("Wed 18 Jan 2023 10:00 EST, Toronto", or
        ``9:15 am`` at 12 hours), for notices."""
        if self.local is None:
            return self.tail
        return _say(self.local, time_format) + self.tail

    @property
    def said(self) -> str:
        """:meth:`says` at 24 hours."""
        return self.says()


def _where(trip: Trip | None, now: datetime) -> ZoneInfo:
    """The zone where the delegation is at ``now`` (home when the trip has no places)."""
    if trip is None:
        return ZoneInfo("UTC")
    place = Schedule.for_trip(trip).current_place(now)
    return place.tz if place is not None else trip.home_tz


def _place_named(trip: Trip | None, words: str) -> tuple[ZoneInfo, str]:
    """The zone of a place of the trip (by id, name or the start of its name) or an IANA
    zone, and the name to say."""
    wanted = fold(words.strip())
    if trip is not None:
        places: list[Place] = list(trip.places)
        tests: list[Callable[[Place], bool]] = [
            lambda p: fold(p.id) == wanted or fold(p.name) == wanted,
            lambda p: fold(p.name).startswith(wanted),
            lambda p: wanted in fold(p.name),
        ]
        for test in tests:
            found = [p for p in places if test(p)]
            if len({p.tz.key for p in found}) == 1:
                return found[0].tz, found[0].name
            if len(found) > 1:
                names = ", ".join(one_line(p.name) for p in found)
                raise PhraseError(f"{one_line(words)!r} could be any of {names}: say which")
    try:
        zone = get_zone(_zone_case(words.strip()))
    except ZoneError:
        known = ", ".join(one_line(p.name) for p in trip.places) if trip is not None else ""
        hint = f" (the trip's places: {known})" if known else ""
        raise PhraseError(
            f"{one_line(words)!r} is neither a place of the trip nor a time zone{hint}"
        ) from None
    return zone, zone.key


def _zone_case(name: str) -> str:
    """``america/toronto`` as ``America/Toronto`` (zone names are typed in any case)."""
    if "/" not in name:
        return name
    import zoneinfo  # the zone list is read only for a name typed in another case

    known = {z.lower(): z for z in zoneinfo.available_timezones()}
    return known.get(name.lower(), name)


def _clock(text: str) -> time | None:
    """``09:00``, ``9h30``, ``9pm``, ``9:30 pm`` as a wall time; None when it is no time."""
    m = _CLOCK.match(text.strip().lower())
    if m is None:
        return None
    if m.group(1) is not None:
        hour, minute = int(m.group(1)), int(m.group(2))
    else:
        hour = int(m.group(3) or m.group(5))
        minute = int(m.group(6) or 0)
        half = m.group(4) or m.group(7)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _wall(day: date, clock: time, zone: ZoneInfo, name: str) -> Jump:
    """That wall time in ``zone``: refused when skipped, the first when repeated."""
    naive = datetime.combine(day, clock)
    note = ""
    try:
        instant = resolve_wall_time(naive, zone)
    except AmbiguousTimeError:
        instant = naive.replace(tzinfo=zone, fold=0)
        note = " (the first of the two: the clocks go back then)"
    except ValueError as exc:  # skipped by a DST change
        raise PhraseError(str(exc)) from None
    return Jump(instant.astimezone(UTC), None, instant, f", {one_line(name)}{note}")


def _say(instant: datetime, time_format: int = 24) -> str:
    return f"{instant:%a %d %b %Y} {clock_time(instant, time_format)} {zone_abbrev(instant)}"


def today_where(trip: Trip | None, now: datetime) -> date:
    """Today's date where the delegation is at ``now``."""
    return now.astimezone(_where(trip, now)).date()


def resolve_day(phrase: str, trip: Trip | None, now: datetime) -> date:
    """``today``, ``tomorrow``, ``yesterday`` (where the delegation is) or ``YYYY-MM-DD``."""
    text = phrase.strip().lower()
    if text in _DAYS:
        return today_where(trip, now) + timedelta(days=_DAYS[text])
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PhraseError(
            f"{one_line(phrase)!r} is not a day: give today, tomorrow, yesterday or a date "
            "such as 2023-01-17"
        ) from None


def needs_trip(phrase: str) -> bool:
    """True when the phrase can only be read against a trip (a wall time, a place, an
    event); False for ``now``, ``+2h`` and a time with an offset or zone."""
    text = phrase.strip()
    if text.lower() in _LIVE or _RELATIVE.match(text):
        return False
    try:
        parse_instant(text)
    except (ValueError, OverflowError):
        return True
    return False


def resolve(phrase: str, trip: Trip | None, now: datetime) -> Jump:
    """Where ``phrase`` puts the clock, read at ``now`` (aware) for ``trip``.

    Raises :class:`PhraseError` with a message fit to show when it names no time.
    """
    text = " ".join(phrase.split())
    lowered = text.lower()
    if not text:
        raise PhraseError(f"say when: {EXAMPLES}")
    if lowered in _LIVE:
        return Jump(None, None, None, "real time")
    relative = _RELATIVE.match(lowered)
    if relative is not None and any(relative.group(i) for i in range(2, 6)):
        sign, days, hours, minutes, bare = relative.groups()
        if bare is not None and (hours is None or minutes is not None):
            raise PhraseError(f"{one_line(text)!r}: say +2h, +30m, +1h30 or +1d")
        delta = timedelta(
            days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or bare or 0)
        )
        instant = now + (delta if sign == "+" else -delta)
        zone = _where(trip, instant)
        return Jump(instant.astimezone(UTC), None, instant.astimezone(zone))
    words = text.split(" ")
    # An ISO 8601 time with an offset or a zone name: exactly that instant.
    try:
        exact = parse_instant(text)
    except (ValueError, OverflowError):  # a ZoneError too: "10:00 Toronto" names a place
        exact = None
    if exact is not None:
        return Jump(exact.astimezone(UTC), None, exact)
    day: date | None = None
    rest = words
    if rest and rest[0].lower() in _DAYS:
        day = today_where(trip, now) + timedelta(days=_DAYS[rest[0].lower()])
        rest = rest[1:]
    elif rest and _DATE.match(rest[0]):
        try:
            day = date.fromisoformat(rest[0])
        except ValueError:
            raise PhraseError(f"{one_line(rest[0])!r} is not a date") from None
        rest = rest[1:]
    elif rest and "T" in rest[0] and _DATE.match(rest[0].split("T", 1)[0]):
        first, _, clock_text = rest[0].partition("T")
        day = date.fromisoformat(first)
        rest = [clock_text, *rest[1:]]
    clock, consumed = None, 0
    if len(rest) >= 2 and rest[1].lower() in ("am", "pm"):
        clock, consumed = _clock(f"{rest[0]} {rest[1]}"), 2  # "9:30 pm"
    elif rest:
        clock, consumed = _clock(rest[0]), 1
    if clock is not None or (day is not None and not rest):
        if clock is None:
            clock = time(0, 0)
        place_words = " ".join(rest[consumed:]) if rest else ""
        if place_words:
            zone, name = _place_named(trip, place_words)
        else:
            zone = _where(trip, now)
            name = _zone_name(trip, zone)
        return _wall(day if day is not None else today_where(trip, now), clock, zone, name)
    if day is not None:
        raise PhraseError(f"{one_line(text)!r}: after the day, give a time such as 08:00")
    return _event_jump(text, trip, now)


def _zone_name(trip: Trip | None, zone: ZoneInfo) -> str:
    if trip is not None:
        for place in trip.places:
            if place.tz.key == zone.key:
                return place.name
    return zone.key


def _event_jump(text: str, trip: Trip | None, now: datetime) -> Jump:
    """An event by id, else by a fragment of its title: the next one to start, else the
    last one that did."""
    if trip is None:
        raise PhraseError(f"{one_line(text)!r} is not a time such as {EXAMPLES}")
    found = [e for e in trip.events if e.id == text]
    if not found:
        wanted = fold(text)
        found = [e for e in trip.events if wanted in fold(e.title)]
    if not found:
        raise PhraseError(
            f"{one_line(text)!r} is neither a time nor an event of the trip; try {EXAMPLES}"
        )
    ahead = [e for e in found if e.sort_at >= now]
    event = ahead[0] if ahead else found[-1]
    start = (
        event.start if event.time_confirmed else local_midnight(event.local_date, event.place.tz)
    )
    tbc = "" if event.time_confirmed else " (time TBC: the start of its day)"
    return Jump(start.astimezone(UTC), event, start, f", {one_line(event.title)}{tbc}")
