"""Property tests: for generated trips, local, home and UTC times of every event agree.

The oracle is independent of tripdash: it only ever converts *from UTC* with
the standard library (which is unambiguous), and finds the instants a wall-clock
time can mean by trying each UTC offset the zone uses nearby. Zero instants
means a DST gap (tripdash must refuse the time), two mean a repeated hour
(tripdash must ask for an offset), one is the answer.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tripdash import cli
from tripdash.domain.agenda import agenda_json
from tripdash.domain.loader import LoadResult, TripInvalid, duration, parse_trip_text
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.times import (
    AmbiguousTimeError,
    NonexistentTimeError,
    parse_instant,
    resolve_wall_time,
)

UTC = timezone.utc

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",  # "negative" DST in tzdata: winter time is the exception
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "America/Sao_Paulo",  # skipped midnight until 2019
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Eucla",  # +08:45
    "Australia/Adelaide",  # +09:30 / +10:30
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Kiritimati",  # +14:00
    "Pacific/Pago_Pago",  # -11:00
    "Pacific/Apia",  # skipped 30 December 2011 across the date line
    "America/Anchorage",
    "Asia/Seoul",
]

# Days with clock changes somewhere in ZONES, so that gaps and repeats come up often.
CHANGE_DAYS = [
    date(2023, 3, 12),  # US forward
    date(2023, 11, 5),  # US back
    date(2023, 3, 26),  # EU forward
    date(2023, 10, 29),  # EU back
    date(2023, 4, 2),  # Australia and Lord Howe back
    date(2023, 10, 1),  # Australia and Lord Howe forward
    date(2023, 9, 24),  # New Zealand / Chatham forward
    date(2018, 11, 4),  # Sao Paulo forward at midnight
    date(2019, 2, 17),  # Sao Paulo back at midnight
    date(2011, 12, 29),
    date(2011, 12, 30),  # Samoa: no such day
    date(2011, 12, 31),
    date(2021, 3, 18),
]

# Modest by default so that the suite stays fast; raise it for a deeper search, e.g.
# TRIPDASH_HYPOTHESIS_EXAMPLES=2000 pytest tests/test_properties.py
SETTINGS = settings(
    max_examples=int(os.environ.get("TRIPDASH_HYPOTHESIS_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- the independent oracle -----------------------------------------------------------


def instants_for(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every UTC instant whose wall-clock time in ``zone`` is ``wall``."""
    offsets = set()
    for hours in range(-30, 31):
        probe = (wall + timedelta(hours=hours)).replace(tzinfo=UTC)
        offsets.add(probe.astimezone(zone).utcoffset())
    found = set()
    for offset in offsets:
        assert offset is not None
        instant = (wall - offset).replace(tzinfo=UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            found.add(instant)
    return sorted(found)


def first_instant_of(day: date, zone: ZoneInfo) -> datetime | None:
    """The first UTC minute whose local date in ``zone`` is ``day`` (None: no such day)."""
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=15)
    for _ in range(40 * 60):
        if instant.astimezone(zone).date() == day:
            return instant
        instant += timedelta(minutes=1)
    return None


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


# -- strategies -----------------------------------------------------------------------

days = st.one_of(
    st.sampled_from(CHANGE_DAYS),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
)
hours = st.one_of(st.integers(0, 3), st.integers(0, 23))
minutes = st.one_of(st.sampled_from([0, 15, 30, 45, 59]), st.integers(0, 59))


@st.composite
def walls(draw: st.DrawFn) -> datetime:
    day = draw(days)
    return datetime(day.year, day.month, day.day, draw(hours), draw(minutes))


@functools.cache
def critical_walls(zone_name: str) -> tuple[datetime, ...]:
    """Wall-clock times around the zone's offset changes in a few years: in and near its
    gaps and repeated hours. Found by scanning UTC hour by hour (then minute by minute)."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    for year in (2011, 2018, 2019, 2021, 2023):
        t = datetime(year, 1, 1, tzinfo=UTC)
        before = t.astimezone(zone).utcoffset()
        while t.year == year:
            after = (t + timedelta(hours=1)).astimezone(zone).utcoffset()
            if after != before:
                change = t
                while change.astimezone(zone).utcoffset() == before:
                    change += timedelta(minutes=1)
                for offset in (before, after):
                    assert offset is not None
                    base = (change + offset).replace(tzinfo=None)
                    found += [base + timedelta(minutes=15 * k) for k in range(-4, 9)]
                before = after
            t += timedelta(hours=1)
    return tuple(found)


@functools.cache
def repeated_walls(zone_name: str) -> tuple[datetime, ...]:
    """The critical wall times of ``zone_name`` that happen twice."""
    zone = ZoneInfo(zone_name)
    return tuple(w for w in critical_walls(zone_name) if len(instants_for(w, zone)) == 2)


@st.composite
def walls_in(draw: st.DrawFn, zone_name: str) -> datetime:
    """A wall time in ``zone_name``: near one of its clock changes half of the time."""
    near = critical_walls(zone_name)
    if near and draw(st.booleans()):
        return draw(st.sampled_from(near))
    return draw(walls())


@st.composite
def offset_instants(draw: st.DrawFn) -> tuple[datetime, int]:
    """An instant and the UTC offset (in minutes) it is written with."""
    wall = draw(walls())
    offset = draw(st.integers(-12 * 4, 14 * 4)) * 15
    return wall.replace(tzinfo=UTC), offset


@st.composite
def instants_in(draw: st.DrawFn, zone_name: str) -> tuple[datetime, int]:
    """An instant and the offset it is written with; half of the time an instant near a
    clock change of ``zone_name`` (often in its repeated hour), written with that zone's
    own offset, as an author resolving an ambiguity would."""
    zone = ZoneInfo(zone_name)
    near = critical_walls(zone_name)
    repeated = repeated_walls(zone_name)
    if repeated and draw(st.booleans()):
        near = repeated  # an instant in a repeated hour: wall order is not time order
    if near and draw(st.booleans()):
        found = instants_for(draw(st.sampled_from(near)), zone)
        if found:
            instant = draw(st.sampled_from(found))
            offset = instant.astimezone(zone).utcoffset()
            assert offset is not None
            return instant, int(offset.total_seconds()) // 60
    return draw(offset_instants())


@dataclass
class Spec:
    place: int
    form: str  # "local", "offset" or "date"
    wall: datetime | None = None  # local form
    instant: datetime | None = None  # offset form
    offset: int = 0
    day: date | None = None  # date form (TBC)
    to: int | None = None
    end_wall: datetime | None = None  # a local end
    end_instant: datetime | None = None  # an offset end
    end_offset: int = 0


@st.composite
def specs(draw: st.DrawFn, zones: list[str]) -> Spec:
    place = draw(st.integers(0, len(zones) - 1))
    form = draw(st.sampled_from(["local", "local", "offset", "date"]))
    if form == "date":
        return Spec(place, form, day=draw(walls_in(zones[place])).date())
    if form == "offset":
        instant, offset = draw(instants_in(zones[place]))
        spec = Spec(place, form, instant=instant, offset=offset)
    else:
        spec = Spec(place, form, wall=draw(walls_in(zones[place])))
    if draw(st.booleans()):
        spec.to = draw(st.one_of(st.none(), st.integers(0, len(zones) - 1)))
        end_zone = zones[place if spec.to is None else spec.to]
        low = 0 if spec.to is None else -600
        minutes_after = st.one_of(st.integers(low, 90), st.integers(low, 900))
        how = draw(st.sampled_from(["near", "after"]))
        if draw(st.booleans()):  # a local end
            if how == "after" and spec.wall is not None:
                spec.end_wall = spec.wall + timedelta(minutes=draw(minutes_after))
            else:
                spec.end_wall = draw(walls_in(end_zone))
        elif how == "after" and spec.instant is not None:
            spec.end_instant = spec.instant + timedelta(minutes=draw(minutes_after))
            spec.end_offset = spec.offset
        else:
            spec.end_instant, spec.end_offset = draw(instants_in(end_zone))
    return spec


@st.composite
def trips(draw: st.DrawFn) -> tuple[list[str], str, list[Spec]]:
    n_places = draw(st.integers(1, 4))
    zones = [draw(st.sampled_from(ZONES)) for _ in range(n_places)]
    home = draw(st.sampled_from(ZONES))
    events = draw(st.lists(specs(zones), min_size=1, max_size=6))
    return zones, home, events


def iso_offset(minutes_: int) -> str:
    sign = "+" if minutes_ >= 0 else "-"
    h, m = divmod(abs(minutes_), 60)
    return f"{sign}{h:02d}:{m:02d}"


def written_with(instant: datetime, offset: int) -> str:
    """``instant`` as a TOML offset date-time with an offset of ``offset`` minutes."""
    wall = (instant + timedelta(minutes=offset)).replace(tzinfo=None)
    return f"{wall:%Y-%m-%dT%H:%M:%S}{iso_offset(offset)}"


def to_toml(zones: list[str], home: str, events: list[Spec]) -> str:
    out = ["[trip]", 'title = "Generated"', f'home_tz = "{home}"', ""]
    for i, zone in enumerate(zones):
        out += ["[[places]]", f'id = "p{i}"', f'name = "Place {i}"', f'tz = "{zone}"', ""]
    for i, spec in enumerate(events):
        out += ["[[events]]", f'id = "e{i}"', f'title = "Event {i}"', f'place = "p{spec.place}"']
        if spec.form == "date":
            assert spec.day is not None
            out.append(f"start = {spec.day:%Y-%m-%d}")
        elif spec.form == "offset":
            assert spec.instant is not None
            out.append(f"start = {written_with(spec.instant, spec.offset)}")
        else:
            assert spec.wall is not None
            out.append(f"start = {spec.wall:%Y-%m-%dT%H:%M:%S}")
        if spec.to is not None:
            out += [f'to = "p{spec.to}"', 'kind = "travel"']
        if spec.end_wall is not None:
            out.append(f"end = {spec.end_wall:%Y-%m-%dT%H:%M:%S}")
        if spec.end_instant is not None:
            out.append(f"end = {written_with(spec.end_instant, spec.end_offset)}")
        out.append("")
    return "\n".join(out)


# -- what the oracle expects ----------------------------------------------------------


@dataclass
class Expected:
    start: datetime | None  # UTC; None when the start is an error
    end: datetime | None
    errors: set[str]  # "start" / "end"
    backwards_travel: bool


def expect(spec: Spec, zones: list[str]) -> Expected:
    zone = ZoneInfo(zones[spec.place])
    errors: set[str] = set()
    start: datetime | None = None
    end: datetime | None = None
    if spec.form == "date":
        assert spec.day is not None
        start = first_instant_of(spec.day, zone)
        if start is None:
            errors.add("start")
    elif spec.form == "offset":
        start = spec.instant
    else:
        assert spec.wall is not None
        found = instants_for(spec.wall, zone)
        if len(found) == 1:
            start = found[0]
        else:
            errors.add("start")
    backwards = False
    if spec.end_wall is not None:
        end_zone = ZoneInfo(zones[spec.to if spec.to is not None else spec.place])
        found = instants_for(spec.end_wall, end_zone)
        if len(found) == 1:
            end = found[0]
        else:
            errors.add("end")
    if spec.end_instant is not None:
        end = spec.end_instant
    if start is not None and end is not None and end < start:
        if spec.to is None:
            errors.add("end")
        else:
            backwards = True
    return Expected(start, end, errors, backwards)


def agenda_via_cli(text: str) -> list[dict[str, object]]:
    """``tripdash agenda FILE --json`` through the CLI's entry function."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.toml"
        path.write_text(text, encoding="utf-8")
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.main(["agenda", str(path), "--json"])
    assert code == 0, stderr.getvalue()
    result: list[dict[str, object]] = json.loads(stdout.getvalue())
    return result


# -- properties -----------------------------------------------------------------------


@SETTINGS
@given(trips())
def test_local_home_and_utc_times_agree(trip_spec: tuple[list[str], str, list[Spec]]) -> None:
    zones, home_name, specs_ = trip_spec
    text = to_toml(zones, home_name, specs_)
    expected = [expect(spec, zones) for spec in specs_]
    wanted_errors = {f"events[{i}].{f}" for i, e in enumerate(expected) for f in e.errors}
    event("invalid: DST gap, repeated hour or end before start" if wanted_errors else "valid")
    if any(e.backwards_travel for e in expected):
        event("travel arriving before it departs")

    try:
        result: LoadResult | None = parse_trip_text(text, source="gen.toml", default_id="gen")
    except TripInvalid as exc:
        result = None
        got_errors = {p.field for p in exc.errors}
        assert got_errors == wanted_errors, (text, [str(p) for p in exc.problems])
        for p in exc.errors:
            assert p.line >= 1
            assert str(p).startswith(f"gen.toml:{p.line}: {p.field}: ")
    if result is None:
        return
    assert wanted_errors == set(), text

    trip = result.trip
    home = ZoneInfo(home_name)
    assert trip.home_tz == home
    backwards = {w.field for w in result.warnings if "before it departs" in w.message}
    assert backwards == {f"events[{i}].end" for i, e in enumerate(expected) if e.backwards_travel}

    by_id = {e.id: e for e in trip.events}
    for i, (spec, want) in enumerate(zip(specs_, expected, strict=True)):
        ev = by_id[f"e{i}"]
        zone = ZoneInfo(zones[spec.place])
        assert want.start is not None
        # Same instant, shown in the place's zone.
        assert ev.start.tzinfo == zone
        assert utc(ev.start) == want.start
        local_wall = want.start.astimezone(zone)
        assert ev.local_date == local_wall.date()
        if spec.form == "local":
            assert ev.start.replace(tzinfo=None) == spec.wall  # the wall time written
        if spec.form == "date":
            assert ev.time_confirmed is False
            assert ev.local_date == spec.day
            assert local_time_label(ev) == "TBC"
            continue
        assert ev.time_confirmed is True
        # Home time: same instant; the marker is the difference of the dates.
        at_home = want.start.astimezone(home)
        delta = (at_home.date() - local_wall.date()).days
        marker = f" {delta:+d}d" if delta else ""
        label = home_time_label(ev, home)
        assert label.startswith(f"{at_home:%H:%M} ")
        assert label.endswith(marker) if marker else not label.endswith("d")
        assert local_time_label(ev).startswith(f"{local_wall:%H:%M} ")
        if want.end is not None:
            assert ev.end is not None
            end_zone = ZoneInfo(zones[spec.to if spec.to is not None else spec.place])
            assert ev.end.tzinfo == end_zone
            assert utc(ev.end) == want.end
            if spec.end_wall is not None:
                assert ev.end.replace(tzinfo=None) == spec.end_wall

    # Events are in true time order (a TBC event sorts within its local day).
    order = [utc(e.sort_at) for e in trip.events]
    assert order == sorted(order)

    # agenda --json: start_local, start_utc and start_home are one instant.
    items = agenda_via_cli(text)
    assert json.loads(agenda_json(trip)) == items
    assert [item["id"] for item in items] == [e.id for e in trip.events]
    for item in items:
        i = int(str(item["id"])[1:])
        spec, want = specs_[i], expected[i]
        if spec.form == "date":
            assert item["time_confirmed"] is False
            assert item["start_local"] is item["start_utc"] is item["start_home"] is None
            assert item["date"] == f"{spec.day:%Y-%m-%d}"
            continue
        assert want.start is not None
        local = datetime.fromisoformat(str(item["start_local"]))
        at_utc = datetime.fromisoformat(str(item["start_utc"]))
        at_home = datetime.fromisoformat(str(item["start_home"]))
        assert utc(local) == utc(at_utc) == utc(at_home) == want.start
        assert at_utc.utcoffset() == timedelta(0)
        zone = ZoneInfo(zones[spec.place])
        assert local.utcoffset() == want.start.astimezone(zone).utcoffset()
        assert at_home.utcoffset() == want.start.astimezone(home).utcoffset()
        assert item["date"] == local.date().isoformat()
        if spec.form == "local":
            assert local.replace(tzinfo=None) == spec.wall
        if want.end is not None:
            end_local = datetime.fromisoformat(str(item["end_local"]))
            end_utc = datetime.fromisoformat(str(item["end_utc"]))
            end_home = datetime.fromisoformat(str(item["end_home"]))
            assert utc(end_local) == utc(end_utc) == utc(end_home) == want.end


DST_ZONES = [z for z in ZONES if repeated_walls(z)]


@SETTINGS
@given(st.data())
def test_events_around_a_fall_back_sort_and_last_in_absolute_time(data: st.DataObject) -> None:
    """Many events in one zone, written with offsets in and around its repeated hour.

    Within one zone Python compares wall clocks, so 01:15 EST would sort before
    01:45 EDT and "end 01:10 EST" would look earlier than "start 01:50 EDT".
    """
    zone_name = data.draw(st.sampled_from(DST_ZONES))
    zone = ZoneInfo(zone_name)
    wall = st.sampled_from(repeated_walls(zone_name) + critical_walls(zone_name))
    count = data.draw(st.integers(2, 6))
    spans = []
    for _ in range(count):
        start = data.draw(st.sampled_from(instants_for(data.draw(wall), zone) or [None]))
        if start is None:
            continue
        minutes_ = data.draw(st.one_of(st.none(), st.integers(0, 120)))
        spans.append((start, None if minutes_ is None else start + timedelta(minutes=minutes_)))
    if not spans:
        return
    lines = ["[trip]", 'title = "T"', 'home_tz = "UTC"', "[[places]]", 'id = "p"', 'name = "P"']
    lines.append(f'tz = "{zone_name}"')
    for i, (start, end) in enumerate(spans):
        lines += ["[[events]]", f'id = "e{i}"', 'title = "E"', 'place = "p"']
        own = int(start.astimezone(zone).utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
        lines.append(f"start = {written_with(start, own)}")
        if end is not None:
            lines.append(f"end = {written_with(end, own)}")
    result = parse_trip_text("\n".join(lines) + "\n", source="gen.toml", default_id="gen")
    assert [w for w in result.warnings if "before" in w.message] == []
    trip = result.trip
    got = [(utc(e.start), None if e.end is None else utc(e.end)) for e in trip.events]
    assert [s for s, _ in got] == sorted(s for s, _ in spans)
    assert sorted(got, key=str) == sorted(spans, key=str)
    for e in trip.events:
        if e.end is not None:
            assert duration(e) == utc(e.end) - utc(e.start)
    assert utc(trip.last_end) == max(end or start for start, end in spans)  # type: ignore[arg-type]


@SETTINGS
@given(st.data())
def test_wall_time_resolves_to_its_only_instant_or_is_refused(data: st.DataObject) -> None:
    zone_name = data.draw(st.sampled_from(ZONES))
    wall = data.draw(walls_in(zone_name))
    zone = ZoneInfo(zone_name)
    event(f"{len(instants_for(wall, zone))} instant(s)")
    found = instants_for(wall, zone)
    if len(found) == 0:
        try:
            resolve_wall_time(wall, zone)
        except NonexistentTimeError:
            return
        raise AssertionError(f"{wall} in {zone_name} should not exist")
    if len(found) == 2:
        try:
            resolve_wall_time(wall, zone)
        except AmbiguousTimeError as exc:
            # The suggested offset is one of the two real ones.
            offsets = {
                iso_offset(int(i.astimezone(zone).utcoffset().total_seconds()) // 60) for i in found
            }  # type: ignore[union-attr]
            assert any(o in str(exc) for o in offsets)
            return
        raise AssertionError(f"{wall} in {zone_name} should be ambiguous")
    (instant,) = found
    resolved = resolve_wall_time(wall, zone)
    assert utc(resolved) == instant
    assert resolved.replace(tzinfo=None) == wall


@SETTINGS
@given(offset_instants(), st.sampled_from(ZONES))
def test_parse_instant_round_trips(written: tuple[datetime, int], zone_name: str) -> None:
    instant, offset = written
    shown = instant.astimezone(timezone(timedelta(minutes=offset)))
    assert utc(parse_instant(shown.isoformat())) == instant
    # The same instant written as wall time in a zone, where that wall time is unambiguous.
    zone = ZoneInfo(zone_name)
    wall = instant.astimezone(zone).replace(tzinfo=None)
    if len(instants_for(wall, zone)) == 1:
        assert utc(parse_instant(f"{wall:%Y-%m-%dT%H:%M} {zone_name}")) == instant
        assert utc(parse_instant(f"{wall:%Y-%m-%dT%H:%M}[{zone_name}]")) == instant
