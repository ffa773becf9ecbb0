"""The loader's size limits (domain/validate.LIMITS): just under each loads, just over is refused.

Each limit keeps the dashboard responsive (chosen with ``python bench/limits.py``). A
file past one is refused with ``FILE:LINE: field: message`` naming the limit, the line
being that of the first element past it (or of the text too long); what lies past a
limit is not validated, so a huge list costs no more problems than a long one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tripdash import cli
from tripdash.domain.loader import TripInvalid, load_trip, parse_trip_text
from tripdash.domain.validate import LIMITS

REPO = Path(__file__).resolve().parent.parent


def trip(
    *,
    events: int = 1,
    places: int = 1,
    counterparts: int = 1,
    attendees: int = 1,
    points: int = 1,
    chars: int = 10,
) -> str:
    """A valid trip with that many of each (the first event has the attendees and notes
    of ``chars`` characters, the first counterpart the points)."""
    out = ['[trip]\nid = "limits"\ntitle = "Limits"\nhome_tz = "Europe/London"\n']
    out += [f'[[places]]\nid = "p{i}"\nname = "P{i}"\ntz = "Europe/Paris"\n' for i in range(places)]
    for i in range(counterparts):
        listed = ", ".join(f'"Point {j}"' for j in range(points if i == 0 else 1))
        out.append(f'[[counterparts]]\nid = "c{i}"\nname = "C{i}"\ntalking_points = [{listed}]\n')
    attending = ", ".join(f'"c{i}"' for i in range(attendees))
    for i in range(events):
        day, minute = divmod(i, 600)
        hour = 7 + minute // 60
        at = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:{minute % 60:02d}:00"
        out.append(
            f'[[events]]\nid = "e{i}"\ntitle = "E{i}"\nplace = "p{i % places}"\nstart = {at}\n'
            + (f'counterparts = [{attending}]\nnotes = "{"n" * chars}"\n' if i == 0 else "")
        )
    return "".join(out)


#: kind -> (the trip with n of it, the field path of the problem, what the message says)
KINDS: dict[str, tuple[Callable[[int], str], str, str]] = {
    "events": (lambda n: trip(events=n), r"events\[{n}\]", "events"),
    "places": (lambda n: trip(places=n), r"places\[{n}\]", "places"),
    "counterparts": (
        lambda n: trip(counterparts=n),
        r"counterparts\[{n}\]",
        "counterparts",
    ),
    "attendees": (
        lambda n: trip(counterparts=n, attendees=n),
        r"events\[0\]\.counterparts\[{n}\]",
        "counterparts of one event",
    ),
    "points": (
        lambda n: trip(points=n),
        r"counterparts\[0\]\.talking_points\[{n}\]",
        "talking points of one counterpart",
    ),
}


def refused(text: str) -> list[str]:
    with pytest.raises(TripInvalid) as caught:
        parse_trip_text(text, source="big.toml", default_id="big")
    return [str(p) for p in caught.value.errors]


def line_of(text: str, needle: str, occurrence: int) -> int:
    """The line of the ``occurrence``-th (0-based) ``needle`` in ``text``."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_at_the_limit_a_trip_loads(kind: str) -> None:
    make = KINDS[kind][0]
    result = parse_trip_text(make(LIMITS[kind]), source="big.toml", default_id="big")
    t = result.trip
    sizes = {
        "events": len(t.events),
        "places": len(t.places),
        "counterparts": len(t.counterparts),
        "attendees": max(len(e.counterparts) for e in t.events),
        "points": max(len(c.talking_points) for c in t.counterparts),
    }
    assert sizes[kind] == LIMITS[kind]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_one_over_the_limit_is_refused_naming_file_line_field_and_limit(kind: str) -> None:
    make, field, what = KINDS[kind]
    limit = LIMITS[kind]
    text = make(limit + 1)
    (message,) = refused(text)
    header = {
        "events": "[[events]]",
        "places": "[[places]]",
        "counterparts": "[[counterparts]]",
    }
    if kind in header:
        line = line_of(text, header[kind], limit)
    elif kind == "attendees":
        line = line_of(text, "counterparts = [", 0)
    else:
        line = line_of(text, "talking_points = [", 0)
    pattern = (
        rf"big\.toml:{line}: {field.format(n=limit)}: {limit + 1:,} {what}: "
        rf"at most {limit:,} are allowed, so that the dashboard stays responsive; "
        "the rest were not checked"
    )
    assert re.fullmatch(pattern, message), (pattern, message)


def test_far_past_a_limit_costs_one_problem_not_one_per_element() -> None:
    """What lies past a limit is not validated: broken elements there add nothing."""
    limit = LIMITS["points"]
    text = trip(points=limit).replace(
        "talking_points = [", "talking_points = [" + "1, " * (5 * limit), 1
    )
    messages = refused(text)
    # The first `limit` elements are the integers (each refused), the rest not looked at.
    assert len(messages) == limit + 1, messages[-3:]
    assert sum("at most" in m for m in messages) == 1


def test_notes_at_the_limit_load_and_one_character_more_is_refused() -> None:
    limit = LIMITS["notes"]
    t = parse_trip_text(trip(chars=limit), source="big.toml", default_id="big").trip
    assert t.events[0].notes == "n" * limit
    text = trip(chars=limit + 1)
    (message,) = refused(text)
    assert message == (
        f"big.toml:{line_of(text, 'notes = ', 0)}: events[0].notes: {limit + 1:,} characters: "
        f"notes may hold at most {limit:,}, so that the dashboard stays responsive"
    )


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ('[trip]\nid = "limits"\ntitle = "', "trip.title"),
        ('[[places]]\nid = "p0"\nname = "', "places[0].name"),
        ('[[counterparts]]\nid = "c0"\nname = "', "counterparts[0].name"),
        ('talking_points = ["', "counterparts[0].talking_points[0]"),
        ('[[events]]\nid = "e0"\ntitle = "', "events[0].title"),
    ],
)
def test_every_text_field_has_the_character_limit(where: str, field: str) -> None:
    """Any string, wherever it is (talking points inside a list too); the message quotes
    none of it."""
    long = "x" * (LIMITS["chars"] + 5)
    text = re.sub(re.escape(where) + '[^"]*', lambda _: where + long, trip(), count=1)
    (message,) = refused(text)
    assert f": {field}: {LIMITS['chars'] + 5:,} characters: a text may hold at most" in message
    assert len(message) < 300


def test_check_prints_the_limit_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "many.toml"
    path.write_text(trip(points=LIMITS["points"] + 1), encoding="utf-8")
    assert cli.main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:" in err and f"at most {LIMITS['points']:,} are allowed" in err


@pytest.mark.parametrize(
    "path",
    sorted((REPO / "trips").glob("*.toml")) + sorted((REPO / "tests" / "data").glob("*.toml")),
    ids=lambda p: p.name,
)
def test_every_bundled_and_test_trip_is_within_the_limits(path: Path) -> None:
    load_trip(path)  # raises TripInvalid if any limit is passed


def test_an_import_cuts_what_a_trip_may_not_hold_and_says_so(tmp_path: Path) -> None:
    """A long invitation (a description over the notes limit, a title over the text limit,
    more attendees than one event may have) still imports, and the list says what was cut."""
    from tripdash.domain.ics_import import import_calendars

    many = LIMITS["attendees"] + 5
    attendees = "".join(f"ATTENDEE;CN=Person {i}:mailto:p{i}@example.org\r\n" for i in range(many))
    description = "d" * (LIMITS["notes"] + 100)
    title = "t" * (LIMITS["chars"] + 10)
    ics = tmp_path / "invite.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
        "UID:1@x\r\nDTSTAMP:20230101T000000Z\r\n"
        "DTSTART;TZID=Europe/Paris:20230117T090000\r\nDTEND;TZID=Europe/Paris:20230117T100000\r\n"
        f"SUMMARY:{title}\r\nDESCRIPTION:{description}\r\n{attendees}END:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    result = import_calendars([ics])
    (event,) = result.loaded.trip.events
    assert len(event.title) == LIMITS["chars"] and event.title.endswith("…")
    assert event.notes is not None and len(event.notes) == LIMITS["notes"]
    assert len(event.counterparts) == len(result.loaded.trip.counterparts) == LIMITS["attendees"]
    said = "\n".join(result.dropped)
    assert f"title cut to {LIMITS['chars']:,} characters" in said
    assert f"description cut to {LIMITS['notes']:,} characters" in said
    assert f"{many} attendees, the first {LIMITS['attendees']} kept" in said
