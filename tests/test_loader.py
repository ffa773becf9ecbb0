"""Loading and validating trip files: every error and warning of issue 2.

Each problem must read ``FILE:LINE: field path: message``. Line numbers are not
hard-coded: each test marks the line it expects with a ``# <-`` comment (or a
unique text) and :func:`line_of` finds it, so the tests stay readable and the
expected line is still worked out independently of the code under test.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from tripdash.domain.loader import (
    LoadResult,
    Problem,
    TripInvalid,
    duration,
    load_trip,
    parse_trip_bytes,
    parse_trip_text,
)
from tripdash.domain.model import Status

REPO = Path(__file__).resolve().parent.parent
TRIPS = REPO / "trips"
SRC = "trips/x.toml"
UTC = timezone.utc
NY = ZoneInfo("America/New_York")

# A valid head shared by most tests: two places and two counterparts.
HEAD = dedent(
    """\
    [trip]
    title = "Test trip"
    home_tz = "Europe/London"

    [[places]]
    id = "nyc"
    name = "New York"
    tz = "America/New_York"

    [[places]]
    id = "london"
    name = "London"
    tz = "Europe/London"

    [[counterparts]]
    id = "bob"
    name = "Bob Smith"
    """
)


#: HEAD without its [trip] table (the first three lines).
HEAD_WITHOUT_TRIP = HEAD.split("\n", 3)[3]


# -- helpers --------------------------------------------------------------------------


def toml(body: str, head: str = HEAD) -> str:
    return head + "\n" + dedent(body)


def line_of(text: str, marker: str) -> int:
    """The 1-based number of the one line of ``text`` that contains ``marker``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} found on lines {hits}"
    return hits[0]


def exact_line(text: str, content: str) -> int:
    """The 1-based number of the one line of ``text`` that is exactly ``content``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if line == content]
    assert len(hits) == 1, f"{content!r} found on lines {hits}"
    return hits[0]


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC. Compare instants this way: Python's ``==`` between zones is False
    for a time in a repeated hour, and within one zone it compares wall clocks."""
    return dt.astimezone(UTC)


def load(text: str) -> LoadResult:
    return parse_trip_text(text, source=SRC, default_id="x")


def overlap_warnings(text: str) -> list[Problem]:
    """The overlap warnings ``tripdash check`` prints for ``text`` (loading never makes them)."""
    from tripdash.domain.overlaps import overlap_problems

    result = load(text)
    assert result.warnings == []
    found, summary = overlap_problems(result.trip, text, SRC)
    assert summary is None
    return found


def problems(text: str) -> list[Problem]:
    """The problems of an invalid trip (fails the test if the trip loads)."""
    with pytest.raises(TripInvalid) as info:
        load(text)
    assert info.value.source == SRC
    return info.value.problems


def rendered(problems_: list[Problem]) -> list[str]:
    return [str(p) for p in problems_]


def only(text: str) -> str:
    """The single problem of an invalid trip, rendered."""
    found = problems(text)
    assert len(found) == 1, rendered(found)
    return str(found[0])


def expect(line: int, field: str, message: str, *, warning: bool = False) -> str:
    label = "warning: " if warning else ""
    return f"{SRC}:{line}: {field}: {label}{message}"


EVENT = """\
[[events]]  # <- event
id = "a"
title = "A"
place = "nyc"
"""


# -- TOML syntax ----------------------------------------------------------------------


def test_toml_syntax_error_gives_line_and_column() -> None:
    text = toml(
        """\
        [[events]]
        id = "a"
        title = = "A"
        """
    )
    line = line_of(text, "title = =")
    # `title = = "A"`: the second "=" is the 9th character of the line.
    found = problems(text)
    assert len(found) == 1
    assert re.fullmatch(
        rf"{re.escape(SRC)}:{line}: TOML syntax: .+ \(line {line}, column 9\)", str(found[0])
    ), str(found[0])


def test_toml_unterminated_string_names_its_line() -> None:
    text = 'format = 1\n[trip]\ntitle = "Unterminated\nhome_tz = "UTC"\n'
    # Line 3 is `title = "Unterminated`: 21 characters, so the newline is column 22.
    assert re.fullmatch(
        rf"{re.escape(SRC)}:3: TOML syntax: .+ \(line 3, column 22\)", only(text)
    ), only(text)


def test_toml_error_at_end_of_document_names_the_last_line() -> None:
    text = '[trip]\ntitle = "T"\nhome_tz = "UTC"\nnotes = [\n  "one",\n  "two"'
    # The array is never closed: the error is at the end, line 6, after `  "two"` (col 8).
    assert re.fullmatch(rf"{re.escape(SRC)}:6: TOML syntax: .+ \(line 6, column 8\)", only(text)), (
        only(text)
    )


def test_toml_duplicate_key_is_a_syntax_error_on_the_second_key() -> None:
    text = toml(EVENT + 'start = 2023-01-17T09:15:00\nid = "b"  # <- again\n')
    line = line_of(text, "# <- again")
    assert re.fullmatch(
        rf"{re.escape(SRC)}:{line}: TOML syntax: .+ \(line {line}, column \d+\)", only(text)
    )


def test_file_that_is_not_utf8_is_reported_with_its_line() -> None:
    data = b'[trip]\ntitle = "caf\xe9"\nhome_tz = "UTC"\n'
    with pytest.raises(TripInvalid) as info:
        parse_trip_bytes(data, source=SRC, default_id="x")
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{SRC}:2: (file): not UTF-8 text")


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(TripInvalid) as info:
        load_trip(missing)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{missing}:1: (file): cannot read")


# -- unknown keys ---------------------------------------------------------------------


def test_misspelt_start_is_not_silently_ignored() -> None:
    text = toml(EVENT + "strat = 2023-01-17T09:15:00  # <- typo\n")
    assert rendered(problems(text)) == [
        expect(line_of(text, "# <- event"), "events[0].start", "required field is missing"),
        expect(
            line_of(text, "# <- typo"),
            "events[0].strat",
            "unknown key 'strat' (did you mean 'start'?)",
        ),
    ]


@pytest.mark.parametrize(
    ("table", "typo", "field", "hint"),
    [
        ("trip", 'titel = "x"', "trip.titel", " (did you mean 'title'?)"),
        ("trip", 'hometz = "UTC"', "trip.hometz", " (did you mean 'home_tz'?)"),
        ("place", 'tzz = "UTC"', "places[2].tzz", " (did you mean 'tz'?)"),
        (
            "counterpart",
            "talking_point = []",
            "counterparts[1].talking_point",
            " (did you mean 'talking_points'?)",
        ),
        ("event", 'venu = "Hall"', "events[0].venu", " (did you mean 'venue'?)"),
        ("event", "ende = 2023-01-17T10:00:00", "events[0].ende", " (did you mean 'end'?)"),
        ("event", 'colour = "red"', "events[0].colour", ""),
    ],
)
def test_unknown_keys_with_did_you_mean(table: str, typo: str, field: str, hint: str) -> None:
    trip = '[trip]\ntitle = "T"\nhome_tz = "UTC"\n'
    place = '[[places]]\nid = "p"\nname = "P"\ntz = "UTC"\n'
    counterpart = '[[counterparts]]\nid = "c"\nname = "C"\n'
    event = '[[events]]\nid = "e"\ntitle = "E"\nplace = "nyc"\nstart = 2023-01-17T09:15:00\n'
    marked = typo + "  # <- typo\n"
    if table == "trip":
        text = trip + marked + HEAD_WITHOUT_TRIP
    else:
        text = toml({"place": place, "counterpart": counterpart, "event": event}[table] + marked)
    name = typo.split(" ")[0]
    assert only(text) == expect(line_of(text, "# <- typo"), field, f"unknown key {name!r}{hint}")


@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        ('title = "Test trip"', 'title = ""  # <- blank', "trip.title", "title"),
        ('name = "New York"', 'name = "   "  # <- blank', "places[0].name", "name"),
        ('name = "Bob Smith"', 'name = "\t"  # <- blank', "counterparts[0].name", "name"),
    ],
)
def test_a_blank_title_or_name_is_refused(old: str, new: str, field: str, what: str) -> None:
    """An empty row on the timeline, a heading of nothing: said with its line."""
    text = toml(EVENT + "start = 2023-01-17T09:15:00\n").replace(old, new, 1)
    assert only(text) == expect(line_of(text, "# <- blank"), field, f"is blank: give it a {what}")


def test_a_blank_event_title_is_refused() -> None:
    text = toml(
        EVENT.replace('title = "A"', 'title = "  "  # <- blank') + "start = 2023-01-17T09:15:00\n"
    )
    assert only(text) == expect(
        line_of(text, "# <- blank"), "events[0].title", "is blank: give it a title"
    )


def test_unknown_top_level_key() -> None:
    text = "evnets = []  # <- typo\n" + HEAD
    assert only(text) == expect(1, "evnets", "unknown key 'evnets' (did you mean 'events'?)")


def test_unknown_key_in_talking_point_table() -> None:
    text = toml(
        """\
        [[counterparts]]  # <- cp
        id = "c"
        name = "C"
        talking_points = [
          { id = "x", txt = "Typo" },  # <- point
        ]
        """
    )
    line = line_of(text, "# <- point")
    assert rendered(problems(text)) == [
        expect(line, "counterparts[1].talking_points[0].text", "required field is missing"),
        expect(
            line,
            "counterparts[1].talking_points[0].txt",
            "unknown key 'txt' (did you mean 'text'?)",
        ),
    ]


# -- missing required fields ----------------------------------------------------------


@pytest.mark.parametrize("missing", ["title", "home_tz"])
def test_trip_required_fields(missing: str) -> None:
    text = HEAD.replace(
        {"title": 'title = "Test trip"\n', "home_tz": 'home_tz = "Europe/London"\n'}[missing], ""
    )
    assert only(text) == expect(1, f"trip.{missing}", "required field is missing")


def test_trip_table_missing() -> None:
    text = HEAD_WITHOUT_TRIP
    assert only(text) == expect(
        1, "trip", "the [trip] table is missing (it needs at least title and home_tz)"
    )


@pytest.mark.parametrize("missing", ["id", "name", "tz"])
def test_place_required_fields(missing: str) -> None:
    fields = {"id": 'id = "p"', "name": 'name = "P"', "tz": 'tz = "UTC"'}
    body = "[[places]]  # <- table\n" + "\n".join(v for k, v in fields.items() if k != missing)
    text = toml(body + "\n")
    assert only(text) == expect(
        line_of(text, "# <- table"), f"places[2].{missing}", "required field is missing"
    )


@pytest.mark.parametrize("missing", ["id", "name"])
def test_counterpart_required_fields(missing: str) -> None:
    fields = {"id": 'id = "c"', "name": 'name = "C"'}
    body = "[[counterparts]]  # <- table\n" + "\n".join(
        v for k, v in fields.items() if k != missing
    )
    text = toml(body + "\n")
    assert only(text) == expect(
        line_of(text, "# <- table"), f"counterparts[1].{missing}", "required field is missing"
    )


@pytest.mark.parametrize("missing", ["id", "title", "place", "start"])
def test_event_required_fields(missing: str) -> None:
    fields = {
        "id": 'id = "e"',
        "title": 'title = "E"',
        "place": 'place = "nyc"',
        "start": "start = 2023-01-17T09:15:00",
    }
    body = "[[events]]  # <- table\n" + "\n".join(v for k, v in fields.items() if k != missing)
    text = toml(body + "\n")
    assert only(text) == expect(
        line_of(text, "# <- table"), f"events[0].{missing}", "required field is missing"
    )


# -- wrong types ----------------------------------------------------------------------

START_WANT = (
    "expected a local date-time such as 2023-01-17T09:15:00, an offset date-time, "
    "or a date such as 2023-01-17 when the time is TBC; got "
)
END_WANT = "expected a date-time such as 2023-01-17T10:15:00 (leave end out if not known); got "


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ('start = "2023-01-17T09:15:00"', "start", START_WANT + "a string (remove the quotes)"),
        ("start = 09:15:00", "start", START_WANT + "a local time"),
        ("start = 1673946900", "start", START_WANT + "an integer"),
        ("start = 2023-01-17T09:15:00\nend = 2023-01-17", "end", END_WANT + "a local date"),
        (
            'start = 2023-01-17T09:15:00\nend = "10:15"',
            "end",
            END_WANT + "a string (remove the quotes)",
        ),
    ],
)
def test_string_or_date_where_a_date_time_is_expected(line: str, field: str, message: str) -> None:
    body = EVENT + line + "  # <- here\n"
    text = toml(body)
    assert only(text) == expect(line_of(text, "# <- here"), f"events[0].{field}", message)


@pytest.mark.parametrize(
    ("setting", "field", "message"),
    [
        ("title = 5", "events[0].title", "expected a string; got an integer"),
        ("venue = true", "events[0].venue", "expected a string; got a boolean"),
        ("notes = 1.5", "events[0].notes", "expected a string; got a float"),
        ('counterparts = "bob"', "events[0].counterparts", "expected an array; got a string"),
        ("counterparts = [1]", "events[0].counterparts[0]", "expected a string; got an integer"),
        (
            'kind = "meting"',
            "events[0].kind",
            "'meting' is not a kind (did you mean 'meeting'?); one of: meeting, speech, "
            "press, ceremony, travel, visit, meal, other",
        ),
        (
            'status = "maybe"',
            "events[0].status",
            "'maybe' is not a status; one of: confirmed, tentative, cancelled",
        ),
        (
            'id = "two words"',
            "events[0].id",
            "'two words' is not a valid id: ids may not be empty or contain '/' or spaces",
        ),
    ],
)
def test_wrong_types_in_an_event(setting: str, field: str, message: str) -> None:
    key = setting.split(" ")[0]
    base = "\n".join(line for line in EVENT.splitlines() if not line.startswith(key + " "))
    text = toml(base + "\nstart = 2023-01-17T09:15:00\n" + setting + "  # <- here\n")
    assert only(text) == expect(line_of(text, "# <- here"), field, message)


def test_wrong_types_in_trip_place_and_counterpart() -> None:
    text = dedent(
        """\
        [trip]
        title = "T"
        home_tz = 0  # <- home
        [[places]]
        id = "p"
        name = "P"
        tz = true  # <- tz
        [[counterparts]]
        id = "c"
        name = ["C"]  # <- name
        talking_points = [
          "fine",
          5,  # <- point
        ]
        """
    )
    assert rendered(problems(text)) == [
        expect(line_of(text, "# <- home"), "trip.home_tz", "expected a string; got an integer"),
        expect(line_of(text, "# <- tz"), "places[0].tz", "expected a string; got a boolean"),
        expect(
            line_of(text, "# <- name"), "counterparts[0].name", "expected a string; got an array"
        ),
        expect(
            line_of(text, "# <- point"),
            "counterparts[0].talking_points[1]",
            'expected a string or a table { id = "...", text = "..." }; got an integer',
        ),
    ]


def test_dotted_key_making_a_table_of_a_string_field_names_its_own_line() -> None:
    text = toml(EVENT + 'start = 2023-01-17T09:15:00\nvenue.name = "Hall"  # <- venue\n')
    assert only(text) == expect(
        line_of(text, "# <- venue"), "events[0].venue", "expected a string; got a table"
    )


def test_sections_of_the_wrong_shape() -> None:
    text = dedent(
        """\
        trip = 5
        places = "nowhere"
        """
    )
    assert rendered(problems(text)) == [
        expect(1, "trip", "expected a table; got an integer"),
        expect(2, "places", "expected an array of tables [[places]]; got a string"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2", "unsupported format 2: this tripdash reads format 1"),
        ('"1"', "expected an integer (the format version, 1); got a string"),
        ("1.0", "expected an integer (the format version, 1); got a float"),
        ("true", "expected an integer (the format version, 1); got a boolean"),
    ],
)
def test_format_version(value: str, message: str) -> None:
    text = f"format = {value}\n" + HEAD
    assert only(text) == expect(1, "format", message)


def test_format_1_and_no_format_are_both_fine() -> None:
    assert load("format = 1\n" + HEAD).trip.title == "Test trip"
    assert load(HEAD).trip.title == "Test trip"


# -- zones ----------------------------------------------------------------------------


def test_unknown_home_tz_with_suggestion() -> None:
    text = HEAD.replace('home_tz = "Europe/London"', 'home_tz = "Europe/Londn"  # <- tz')
    assert only(text) == expect(
        line_of(text, "# <- tz"),
        "trip.home_tz",
        "unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)",
    )


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        (
            "america/new_york",
            "unknown time zone 'america/new_york' (did you mean 'America/New_York'?)",
        ),
        ("Asia/Katmandoo", "unknown time zone 'Asia/Katmandoo' (did you mean 'Asia/Katmandu'?)"),
        ("", "unknown time zone ''"),
        ("../../etc/passwd", "unknown time zone '../../etc/passwd'"),
        # Would mean "wherever this machine is": refused, and not suggested back either.
        ("localtime", "unknown time zone 'localtime'"),
        ("Factory", "unknown time zone 'Factory'"),
    ],
)
def test_unknown_place_tz(zone: str, message: str) -> None:
    text = toml(f'[[places]]\nid = "p"\nname = "P"\ntz = "{zone}"  # <- tz\n')
    assert only(text) == expect(line_of(text, "# <- tz"), "places[2].tz", message)


def test_event_at_a_place_with_a_bad_zone_is_not_also_an_unknown_place() -> None:
    text = toml(
        '[[places]]\nid = "p"\nname = "P"\ntz = "Nowhere/Town"  # <- tz\n\n'
        + EVENT.replace('"nyc"', '"p"')
        + "start = 2023-01-17T09:15:00\n"
    )
    assert only(text) == expect(
        line_of(text, "# <- tz"), "places[2].tz", "unknown time zone 'Nowhere/Town'"
    )


# -- duplicate ids --------------------------------------------------------------------


def test_duplicate_event_ids() -> None:
    text = toml(
        """\
        [[events]]
        id = "a"  # <- first
        title = "A"
        place = "nyc"
        start = 2023-01-17T09:15:00

        [[events]]
        id = "a"  # <- second
        title = "A again"
        place = "nyc"
        start = 2023-01-17T11:15:00
        """
    )
    first = line_of(text, "# <- first")
    assert only(text) == expect(
        line_of(text, "# <- second"),
        "events[1].id",
        f"duplicate event id 'a' (first at line {first})",
    )


def test_duplicate_place_ids() -> None:
    text = toml('[[places]]\nid = "nyc"  # <- again\nname = "NYC"\ntz = "America/New_York"\n')
    first = exact_line(text, 'id = "nyc"')
    assert only(text) == expect(
        line_of(text, "# <- again"),
        "places[2].id",
        f"duplicate place id 'nyc' (first at line {first})",
    )


def test_duplicate_counterpart_ids() -> None:
    text = toml('[[counterparts]]\nid = "bob"  # <- again\nname = "Another Bob"\n')
    first = exact_line(text, 'id = "bob"')
    assert only(text) == expect(
        line_of(text, "# <- again"),
        "counterparts[1].id",
        f"duplicate counterpart id 'bob' (first at line {first})",
    )


def test_duplicate_talking_point_ids_explicit_and_derived() -> None:
    text = toml(
        """\
        [[counterparts]]
        id = "c"
        name = "C"
        talking_points = [
          "Hello world",
          "Hello, World!",  # <- derived
          { id = "x", text = "Point A" },
          { id = "x", text = "Point B" },  # <- explicit
          { id = "hello-world", text = "Collides with a derived id" },  # <- mixed
        ]
        """
    )
    assert rendered(problems(text)) == [
        expect(
            line_of(text, "# <- derived"),
            "counterparts[1].talking_points[1]",
            "duplicate talking point id 'hello-world' (derived from its text: give one an "
            "explicit id); same as talking_points[0]",
        ),
        expect(
            line_of(text, "# <- explicit"),
            "counterparts[1].talking_points[3]",
            "duplicate talking point id 'x'; same as talking_points[2]",
        ),
        expect(
            line_of(text, "# <- mixed"),
            "counterparts[1].talking_points[4]",
            "duplicate talking point id 'hello-world'; same as talking_points[0]",
        ),
    ]


def test_duplicate_talking_points_in_array_of_tables_form() -> None:
    text = toml(
        """\
        [[counterparts]]
        id = "c"
        name = "C"
        [[counterparts.talking_points]]
        id = "x"
        text = "A"
        [[counterparts.talking_points]]  # <- second
        id = "x"
        text = "B"
        """
    )
    assert only(text) == expect(
        line_of(text, "# <- second"),
        "counterparts[1].talking_points[1]",
        "duplicate talking point id 'x'; same as talking_points[0]",
    )


def test_same_talking_point_id_under_two_counterparts_is_fine() -> None:
    text = toml(
        """\
        [[counterparts]]
        id = "c"
        name = "C"
        talking_points = ["Sanctions"]

        [[counterparts]]
        id = "d"
        name = "D"
        talking_points = ["Sanctions"]
        """
    )
    trip = load(text).trip
    ids = [p.item_id for c in trip.counterparts for p in c.talking_points]
    assert ids == ["c/sanctions", "d/sanctions"]


# -- references -----------------------------------------------------------------------


def test_unknown_place_to_and_counterparts() -> None:
    text = toml(
        """\
        [[events]]
        id = "a"
        title = "A"
        place = "nyk"  # <- place
        to = "paris"  # <- to
        start = 2023-01-17T09:15:00
        counterparts = [
          "bob",
          "bobb",  # <- cp1
          "alice",  # <- cp2
        ]
        """
    )
    assert rendered(problems(text)) == [
        expect(
            line_of(text, "# <- place"),
            "events[0].place",
            "unknown place 'nyk' (did you mean 'nyc'?)",
        ),
        expect(line_of(text, "# <- to"), "events[0].to", "unknown place 'paris'"),
        expect(
            line_of(text, "# <- cp1"),
            "events[0].counterparts[1]",
            "unknown counterpart 'bobb' (did you mean 'bob'?)",
        ),
        expect(
            line_of(text, "# <- cp2"), "events[0].counterparts[2]", "unknown counterpart 'alice'"
        ),
    ]


# -- end before start -----------------------------------------------------------------


def test_end_before_start() -> None:
    text = toml(EVENT + "start = 2023-01-17T10:15:00\nend = 2023-01-17T09:15:00  # <- end\n")
    assert only(text) == expect(
        line_of(text, "# <- end"), "events[0].end", "ends before it starts (09:15 America/New_York)"
    )


def test_end_before_start_is_judged_in_absolute_time_for_offset_times() -> None:
    # 10:00-05:00 is 15:00 UTC; 14:30Z is before it although "14:30" > "10:00".
    text = toml(EVENT + "start = 2023-01-17T10:00:00-05:00\nend = 2023-01-17T14:30:00Z  # <- end\n")
    assert only(text) == expect(
        line_of(text, "# <- end"), "events[0].end", "ends before it starts (09:30 America/New_York)"
    )


def test_end_on_a_tbc_event_is_an_error() -> None:
    text = toml(EVENT + "start = 2023-01-17\nend = 2023-01-17T10:00:00  # <- end\n")
    assert only(text) == expect(
        line_of(text, "# <- end"),
        "events[0].end",
        "has an end time but start is only a date (TBC): give start a time too, or leave end out",
    )


def test_end_equal_to_start_is_allowed() -> None:
    text = toml(EVENT + "start = 2023-01-17T10:00:00\nend = 2023-01-17T10:00:00\n")
    (event,) = load(text).trip.events
    assert event.end == event.start


# -- DST: nonexistent and ambiguous local times ---------------------------------------


@pytest.mark.parametrize(
    ("place", "wall", "message"),
    [
        (
            "nyc",
            "2023-03-12T02:30:00",
            "2023-03-12 02:30 does not exist in America/New_York: "
            "the clocks skip it for a DST change",
        ),
        (
            "london",
            "2023-03-26T01:30:00",
            "2023-03-26 01:30 does not exist in Europe/London: the clocks skip it for a DST change",
        ),
    ],
)
def test_nonexistent_local_time_is_an_error(place: str, wall: str, message: str) -> None:
    text = toml(EVENT.replace('"nyc"', f'"{place}"') + f"start = {wall}  # <- start\n")
    assert only(text) == expect(line_of(text, "# <- start"), "events[0].start", message)


def test_nonexistent_end_time_at_the_destination_is_an_error() -> None:
    # A travel event's end is wall time at `to` (London), where 01:30 on 26 March is skipped.
    text = toml(
        EVENT
        + 'to = "london"\nkind = "travel"\nstart = 2023-03-25T19:00:00\n'
        + "end = 2023-03-26T01:30:00  # <- end\n"
    )
    assert only(text) == expect(
        line_of(text, "# <- end"),
        "events[0].end",
        "2023-03-26 01:30 does not exist in Europe/London: the clocks skip it for a DST change",
    )


def test_ambiguous_local_time_asks_for_an_offset() -> None:
    text = toml(EVENT + "start = 2023-11-05T01:30:00  # <- start\n")
    assert only(text) == expect(
        line_of(text, "# <- start"),
        "events[0].start",
        "2023-11-05 01:30 happens twice in America/New_York (UTC-04:00 and UTC-05:00): "
        "write it with an explicit offset, e.g. 2023-11-05T01:30:00-04:00",
    )


def test_ambiguous_local_time_in_london() -> None:
    text = toml(EVENT.replace('"nyc"', '"london"') + "start = 2023-10-29T01:30:00  # <- start\n")
    message = only(text)
    assert message.startswith(f"{SRC}:{line_of(text, '# <- start')}: events[0].start: ")
    assert "2023-10-29 01:30 happens twice in Europe/London (UTC+01:00 and UTC+00:00)" in message
    assert "explicit offset" in message


def test_ambiguous_end_time_is_an_error_too() -> None:
    text = toml(EVENT + "start = 2023-11-05T00:30:00\nend = 2023-11-05T01:15:00  # <- end\n")
    message = only(text)
    assert message.startswith(f"{SRC}:{line_of(text, '# <- end')}: events[0].end: ")
    assert "happens twice" in message


@pytest.mark.parametrize(
    ("offset", "utc_hour"),
    [("-04:00", 5), ("-05:00", 6)],  # 01:30 EDT = 05:30 UTC; 01:30 EST = 06:30 UTC
)
def test_explicit_offset_resolves_the_ambiguity(offset: str, utc_hour: int) -> None:
    text = toml(EVENT + f"start = 2023-11-05T01:30:00{offset}\n")
    result = load(text)
    assert result.warnings == []
    (event,) = result.trip.events
    assert utc(event.start) == datetime(2023, 11, 5, utc_hour, 30, tzinfo=UTC)
    assert event.start.tzinfo == NY  # shown in the place's zone...
    assert (event.start.hour, event.start.minute) == (1, 30)  # ...at the wall time written
    assert event.start.utcoffset() == timedelta(hours=int(offset[:3]))


def test_repeated_hour_events_sort_in_true_order() -> None:
    # 01:15 EST (06:15 UTC) is later than 01:45 EDT (05:45 UTC), though its wall clock is
    # earlier; 06:00 GMT in London (06:00 UTC) falls between them.
    text = toml(
        """\
        [[events]]
        id = "est"
        title = "01:15 EST"
        place = "nyc"
        start = 2023-11-05T01:15:00-05:00

        [[events]]
        id = "edt"
        title = "01:45 EDT"
        place = "nyc"
        start = 2023-11-05T01:45:00-04:00

        [[events]]
        id = "gmt"
        title = "06:00 GMT"
        place = "london"
        start = 2023-11-05T06:00:00
        """
    )
    trip = load(text).trip
    assert [e.id for e in trip.events] == ["edt", "gmt", "est"]
    assert utc(trip.last_end) == datetime(2023, 11, 5, 6, 15, tzinfo=UTC)


def test_end_after_start_across_the_repeated_hour_is_not_an_error() -> None:
    # 01:50 EDT (05:50 UTC) to 01:10 EST (06:10 UTC): 20 minutes, though the wall clock
    # goes backwards.
    text = toml(EVENT + "start = 2023-11-05T01:50:00-04:00\nend = 2023-11-05T01:10:00-05:00\n")
    result = load(text)
    assert result.warnings == []
    (event,) = result.trip.events
    assert duration(event) == timedelta(minutes=20)


def test_duration_across_the_spring_gap_is_absolute() -> None:
    # 01:00 EST to 03:00 EDT on 12 March 2023 is one hour: 02:00-02:59 never happened.
    text = toml(EVENT + "start = 2023-03-12T01:00:00\nend = 2023-03-12T03:00:00\n")
    (event,) = load(text).trip.events
    assert duration(event) == timedelta(hours=1)
    assert utc(event.end) - utc(event.start) == timedelta(hours=1)


def test_overlap_in_the_repeated_hour_between_places_of_one_zone() -> None:
    # Two places in America/New_York. A runs 05:40-06:20 UTC (01:40 EDT - 01:20 EST);
    # B starts 01:50 EDT = 05:50 UTC, inside A, though "01:50" is after "01:20".
    text = toml(
        """\
        [[places]]
        id = "newark"
        name = "Newark"
        tz = "America/New_York"

        [[events]]
        id = "a"
        title = "A"
        place = "nyc"
        start = 2023-11-05T01:40:00-04:00
        end = 2023-11-05T01:20:00-05:00

        [[events]]
        id = "b"
        title = "B"
        place = "newark"
        start = 2023-11-05T01:50:00-04:00  # <- b
        """
    )
    (warning,) = overlap_warnings(text)
    assert warning.severity == "warning"
    assert (warning.line, warning.field) == (line_of(text, "# <- b"), "events[1].start")
    assert "overlaps 'a'" in warning.message


# -- warnings -------------------------------------------------------------------------


def test_overlap_at_different_places_is_a_warning() -> None:
    # New York 10:00-12:00 EST is 15:00-17:00 UTC; London 16:00 GMT is 16:00 UTC: inside it.
    text = toml(
        """\
        [[events]]  # <- a
        id = "a"
        title = "A"
        place = "nyc"
        start = 2023-01-17T10:00:00
        end = 2023-01-17T12:00:00

        [[events]]
        id = "b"
        title = "B"
        place = "london"
        start = 2023-01-17T16:00:00  # <- b
        """
    )
    assert rendered(overlap_warnings(text)) == [
        expect(
            line_of(text, "# <- b"),
            "events[1].start",
            f"overlaps 'a' (line {line_of(text, '# <- a')}) at another place (New York / London)",
            warning=True,
        )
    ]
    assert [e.id for e in load(text).trip.events] == ["a", "b"]


@pytest.mark.parametrize(
    "second",
    [
        # Same wall-clock hours, but 11:00 GMT is 06:00 EST: no overlap in absolute time.
        'place = "london"\nstart = 2023-01-17T11:00:00',
        # Same place: a clash the author can see, not a warning about places.
        'place = "nyc"\nstart = 2023-01-17T11:00:00',
        # Cancelled events do not clash.
        'place = "london"\nstart = 2023-01-17T16:00:00\nstatus = "cancelled"',
        # Starts exactly when the first ends (17:00 UTC).
        'place = "london"\nstart = 2023-01-17T17:00:00',
    ],
)
def test_no_overlap_warning(second: str) -> None:
    text = toml(
        """\
        [[events]]
        id = "a"
        title = "A"
        place = "nyc"
        start = 2023-01-17T10:00:00
        end = 2023-01-17T12:00:00

        [[events]]
        id = "b"
        title = "B"
        """
        + second
        + "\n"
    )
    assert overlap_warnings(text) == []


def test_travel_arriving_before_it_departs_is_a_warning() -> None:
    # Departs London 10:00 GMT = 10:00 UTC; "arrives" New York 04:00 EST = 09:00 UTC.
    text = toml(
        """\
        [[events]]
        id = "flight"
        title = "Flight"
        place = "london"
        to = "nyc"
        kind = "travel"
        start = 2023-01-17T10:00:00
        end = 2023-01-17T04:00:00  # <- end
        """
    )
    result = load(text)
    assert rendered(result.warnings) == [
        expect(
            line_of(text, "# <- end"),
            "events[0].end",
            "arrives (2023-01-17 04:00 America/New_York) before it departs "
            "(2023-01-17 10:00 Europe/London) in absolute time: check the zones",
            warning=True,
        )
    ]
    (event,) = result.trip.events
    assert utc(event.end) == datetime(2023, 1, 17, 9, 0, tzinfo=UTC)


def test_travel_arriving_at_an_earlier_wall_time_but_later_instant_is_fine() -> None:
    # Departs London 10:00 GMT = 10:00 UTC; arrives New York 06:00 EST = 11:00 UTC.
    text = toml(
        """\
        [[events]]
        id = "flight"
        title = "Flight"
        place = "london"
        to = "nyc"
        kind = "travel"
        start = 2023-01-17T10:00:00
        end = 2023-01-17T06:00:00
        """
    )
    result = load(text)
    assert result.warnings == []
    (event,) = result.trip.events
    assert utc(event.end) == datetime(2023, 1, 17, 11, 0, tzinfo=UTC)
    assert event.end.tzinfo == NY and event.end.hour == 6
    assert event.end_place.id == "nyc"


# -- all problems at once -------------------------------------------------------------


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    text = dedent(
        """\
        [trip]
        title = "Everything wrong"
        home_tz = "Europe/Londn"  # <- P1: unknown home zone

        [[places]]
        id = "nyc"
        name = "New York"
        tz = "America/New_York"

        [[places]]
        id = "nyc"  # <- P2: duplicate place
        name = "NYC again"
        tz = "Mars/Base"  # <- P3: unknown zone

        [[counterparts]]
        id = "c"
        name = "C"
        talking_points = ["Same", "same"]  # <- P4: duplicate derived point id

        [[events]]  # <- P5: start missing
        id = "a"
        title = "A"
        place = "nyc"
        strat = 2023-01-17T09:15:00  # <- P6: typo

        [[events]]
        id = "a"  # <- P7: duplicate event
        title = 5  # <- P8: wrong type
        place = "nyc"
        start = 2023-03-12T02:30:00  # <- P9: DST gap

        [[events]]
        id = "b"
        title = "B"
        place = "toronto"  # <- P10: unknown place
        start = 2023-01-17T09:15:00
        counterparts = ["d"]  # <- P11: unknown counterpart

        [[events]]
        id = "c"
        title = "C"
        place = "nyc"
        start = 2023-11-05T01:30:00  # <- P12: ambiguous

        [[events]]
        id = "d"
        title = "D"
        place = "nyc"
        start = 2023-01-18T10:00:00
        end = 2023-01-18T09:00:00  # <- P13: end before start
        kind = "party"  # <- P14: bad kind
        """
    )
    found = problems(text)
    expected = {
        (line_of(text, "# <- P1:"), "trip.home_tz"),
        (line_of(text, "# <- P2:"), "places[1].id"),
        (line_of(text, "# <- P3:"), "places[1].tz"),
        (line_of(text, "# <- P4:"), "counterparts[0].talking_points[1]"),
        (line_of(text, "# <- P5:"), "events[0].start"),
        (line_of(text, "# <- P6:"), "events[0].strat"),
        (line_of(text, "# <- P7:"), "events[1].id"),
        (line_of(text, "# <- P8:"), "events[1].title"),
        (line_of(text, "# <- P9:"), "events[1].start"),
        (line_of(text, "# <- P10:"), "events[2].place"),
        (line_of(text, "# <- P11:"), "events[2].counterparts[0]"),
        (line_of(text, "# <- P12:"), "events[3].start"),
        (line_of(text, "# <- P13:"), "events[4].end"),
        (line_of(text, "# <- P14:"), "events[4].kind"),
    }
    assert {(p.line, p.field) for p in found} == expected
    assert len(found) == len(expected)
    assert all(p.severity == "error" for p in found)
    assert [p.line for p in found] == sorted(p.line for p in found)
    for p in found:
        assert re.fullmatch(rf"{re.escape(SRC)}:{p.line}: {re.escape(p.field)}: \S.*", str(p))


# -- talking point ids ----------------------------------------------------------------


def _points(text: str) -> list[tuple[str, str]]:
    trip = load(text).trip
    return [(p.item_id, p.text) for c in trip.counterparts for p in c.talking_points]


def _counterpart(points: str) -> str:
    return toml(
        f'[[counterparts]]\nid = "joly"\nname = "Mélanie Joly"\ntalking_points = {points}\n'
    )


def test_talking_point_explicit_id() -> None:
    text = _counterpart('[{ id = "akbari", text = "Execution of Alireza Akbari" }]')
    assert _points(text) == [("joly/akbari", "Execution of Alireza Akbari")]


@pytest.mark.parametrize(
    ("point", "slug"),
    [
        (
            "Go further and faster in giving Ukraine the tools to win",
            "go-further-and-faster-in-giving-ukraine-the-tools-to-win",
        ),
        ("Hello, World!", "hello-world"),
        ("Mélanie Joly's visit: £2.3bn", "melanie-joly-s-visit-2-3bn"),
        # Cut at a word boundary at 60 characters.
        (
            "The UK committed to match or exceed funding for military aid to Ukraine in 2023",
            "the-uk-committed-to-match-or-exceed-funding-for-military-aid",
        ),
        ("!!!", "point"),
    ],
)
def test_talking_point_id_derived_from_text(point: str, slug: str) -> None:
    text = _counterpart(f'["{point}"]')
    assert _points(text) == [(f"joly/{slug}", point)]


def test_talking_point_table_without_id_derives_one_too() -> None:
    text = _counterpart('[{ text = "Closer coordination on sanctions" }]')
    assert _points(text) == [
        ("joly/closer-coordination-on-sanctions", "Closer coordination on sanctions")
    ]


def test_rewording_a_point_keeps_its_mark_when_the_old_id_is_given() -> None:
    before = _counterpart('["Closer coordination on sanctions"]')
    reworded = _counterpart(
        '[{ id = "closer-coordination-on-sanctions", '
        'text = "Closer coordination on sanctions against Russia and Iran" }]'
    )
    careless = _counterpart('["Closer coordination on sanctions against Russia and Iran"]')
    ((old_id, _),) = _points(before)
    ((new_id, new_text),) = _points(reworded)
    assert old_id == new_id == "joly/closer-coordination-on-sanctions"
    assert new_text == "Closer coordination on sanctions against Russia and Iran"
    # Without the id, the derived id follows the text and the mark would be lost.
    ((careless_id, _),) = _points(careless)
    assert careless_id != old_id


def test_talking_points_keep_their_order() -> None:
    text = _counterpart('["Zebra", { id = "a", text = "Alpha" }, "Middle"]')
    assert [item for item, _ in _points(text)] == ["joly/zebra", "joly/a", "joly/middle"]


# -- TBC, offset date-times, literal text ---------------------------------------------


def test_tbc_event_is_its_local_day_without_a_time() -> None:
    text = toml(EVENT + "start = 2023-01-18\n")
    (event,) = load(text).trip.events
    assert event.time_confirmed is False
    assert event.local_date == date(2023, 1, 18)
    assert utc(event.start) == datetime(2023, 1, 18, 5, 0, tzinfo=UTC)  # midnight EST
    assert event.start.tzinfo == NY
    assert event.end is None


def test_tbc_event_on_a_day_that_starts_at_one_oclock() -> None:
    # Sao Paulo skipped 00:00-00:59 on 4 November 2018 (UTC-03:00 -> UTC-02:00).
    text = toml(
        '[[places]]\nid = "sp"\nname = "Sao Paulo"\ntz = "America/Sao_Paulo"\n\n'
        + EVENT.replace('"nyc"', '"sp"')
        + "start = 2018-11-04\n"
    )
    (event,) = load(text).trip.events
    assert event.local_date == date(2018, 11, 4)
    assert utc(event.start) == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert (event.start.hour, event.start.utcoffset()) == (1, timedelta(hours=-2))


def test_tbc_event_on_a_day_that_does_not_exist_is_an_error() -> None:
    # Samoa skipped Friday 30 December 2011 entirely (it crossed the date line).
    text = toml(
        '[[places]]\nid = "apia"\nname = "Apia"\ntz = "Pacific/Apia"\n\n'
        + EVENT.replace('"nyc"', '"apia"')
        + "start = 2011-12-30  # <- start\n"
    )
    assert only(text) == expect(
        line_of(text, "# <- start"),
        "events[0].start",
        "2011-12-30 does not exist in Pacific/Apia: the clocks skip that whole day "
        "(the zone moved across the date line)",
    )


def test_tbc_event_keeps_the_authors_place_within_its_day() -> None:
    trip = load_trip(TRIPS / "fs-north-america-2023-01.toml").trip
    ids = [e.id for e in trip.events]
    assert ids[:3] == ["csis-speech", "blinken-bilateral", "blinken-press-conference"]
    assert [e.time_confirmed for e in trip.events[:3]] == [True, False, True]


@pytest.mark.parametrize(
    "written",
    ["2023-01-17T14:15:00Z", "2023-01-17T09:15:00-05:00", "2023-01-17T23:15:00+09:00"],
)
def test_offset_date_time_is_an_absolute_instant(written: str) -> None:
    text = toml(EVENT + f"start = {written}\n")
    (event,) = load(text).trip.events
    assert utc(event.start) == datetime(2023, 1, 17, 14, 15, tzinfo=UTC)
    # Shown at the place: 09:15 EST.
    assert event.start.tzinfo == NY
    assert (event.start.hour, event.start.minute) == (9, 15)
    assert event.local_date == date(2023, 1, 17)
    assert event.time_confirmed is True


def test_offset_date_time_can_fall_on_another_local_date() -> None:
    # 03:00Z on 18 January is still 17 January (22:00 EST) in New York.
    text = toml(EVENT + "start = 2023-01-18T03:00:00Z\n")
    (event,) = load(text).trip.events
    assert event.local_date == date(2023, 1, 17)
    assert event.start.hour == 22


def test_text_that_looks_like_rich_markup_loads_literally() -> None:
    text = toml(
        """\
        [[counterparts]]
        id = "mk"
        name = "[bold red]Markup[/] Person"
        talking_points = ["[link=https://example.com]click[/link]"]

        [[events]]
        id = "a"
        title = "[bold red]Alert[/] [i]not italic[/i]"
        place = "nyc"
        start = 2023-01-17T09:15:00
        venue = "[/]"
        notes = "\\\\[escaped] and [dim]"
        counterparts = ["mk"]
        """
    )
    trip = load(text).trip
    (event,) = trip.events
    assert event.title == "[bold red]Alert[/] [i]not italic[/i]"
    assert event.venue == "[/]"
    assert event.notes == "\\[escaped] and [dim]"
    assert event.counterparts[0].name == "[bold red]Markup[/] Person"
    assert event.counterparts[0].talking_points[0].text == "[link=https://example.com]click[/link]"


# -- whole files ----------------------------------------------------------------------


def test_trip_id_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "my-visit-2024.toml"
    path.write_text(HEAD, encoding="utf-8")
    result = load_trip(path)
    assert result.trip.id == "my-visit-2024"
    assert result.trip.path == str(path)


def test_crlf_and_bom_do_not_shift_line_numbers() -> None:
    body = EVENT + "start = 2023-01-17T10:15:00\nend = 2023-01-17T09:15:00  # <- end\n"
    text = toml(body)
    line = line_of(text, "# <- end")
    data = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    with pytest.raises(TripInvalid) as info:
        parse_trip_bytes(data, source=SRC, default_id="x")
    assert rendered(info.value.problems) == [
        expect(line, "events[0].end", "ends before it starts (09:15 America/New_York)")
    ]


def test_multiline_string_that_looks_like_a_table_does_not_shift_line_numbers() -> None:
    text = toml(
        '''\
        [[events]]
        id = "a"
        title = "A"
        place = "nyc"
        start = 2023-01-17T09:15:00
        notes = """
        [[events]]
        id = "not an event"
        """

        [[events]]
        id = "b"
        title = "B"
        place = "nyc"
        start = 2023-01-17T10:15:00
        end = 2023-01-17T09:15:00  # <- end
        '''
    )
    assert only(text) == expect(
        line_of(text, "# <- end"), "events[1].end", "ends before it starts (09:15 America/New_York)"
    )


@pytest.mark.parametrize(
    ("name", "events", "counterparts", "places"),
    [
        ("fs-north-america-2023-01.toml", 8, 4, 3),
        ("secstate-seoul-anchorage-2021-03.toml", 9, 5, 2),
        ("canada-pm-tokyo-2016-05.toml", 11, 5, 1),
    ],
)
def test_bundled_trips_load_cleanly(name: str, events: int, counterparts: int, places: int) -> None:
    result = load_trip(TRIPS / name)
    assert result.warnings == []
    trip = result.trip
    assert (len(trip.events), len(trip.counterparts), len(trip.places)) == (
        events,
        counterparts,
        places,
    )
    assert trip.id == name.removesuffix(".toml")
    starts = [e.sort_at for e in trip.events]
    assert starts == sorted(starts)
    for e in trip.events:
        assert e.start.tzinfo is not None
        assert e.start.tzinfo == e.place.tz


def test_fs_trip_status_default_is_confirmed() -> None:
    trip = load_trip(TRIPS / "fs-north-america-2023-01.toml").trip
    assert {e.status for e in trip.events} == {Status.CONFIRMED}


def test_item_label_says_what_items_says_of_each_item() -> None:
    """A mark's confirmation looks one item up (item_label) instead of building items()."""
    trip = load_trip(TRIPS / "fs-north-america-2023-01.toml").trip
    items = trip.items()
    assert any("/" in item for item in items)  # talking points are among them
    for item_id, label in items.items():
        assert trip.item_label(item_id) == label
    assert trip.item_label("no-such-item") is None
    assert trip.item_label(trip.events[0].id + "/x") is None
