"""Ids that look the same: NFC normalisation, invisible and bidi characters, mixed scripts.

``tripdash mark`` is given what a person types; an id that differs from another only in
ways nobody can see would let that hit the wrong item, or none.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from tripdash import cli
from tripdash.domain.loader import LoadResult, TripInvalid, parse_trip_text

SRC = "ids.toml"

HEAD = """[trip]
title = "T"
home_tz = "Europe/London"

[[places]]
id = "{place}"
name = "Paris"
tz = "Europe/Paris"

[[counterparts]]
id = "{person}"
name = "Someone"
talking_points = [{{ id = "{point}", text = "A point" }}]
"""

EVENT = """
[[events]]
id = "{event}"
title = "E"
place = "{place_ref}"
counterparts = ["{person_ref}"]
start = 2023-01-17T09:00:00
"""


def trip_text(
    *,
    place: str = "paris",
    person: str = "bob",
    point: str = "pt",
    events: tuple[str, ...] = ("meet",),
    place_ref: str | None = None,
    person_ref: str | None = None,
) -> str:
    """A trip whose ids are given as TOML escapes (so the file itself is plain ASCII)."""
    text = HEAD.format(place=place, person=person, point=point)
    for event in events:
        text += EVENT.format(
            event=event, place_ref=place_ref or place, person_ref=person_ref or person
        )
    return text


def load(text: str) -> LoadResult:
    return parse_trip_text(text, source=SRC, default_id="x")


def errors(text: str) -> list[str]:
    with pytest.raises(TripInvalid) as info:
        load(text)
    return [str(p) for p in info.value.errors]


def test_ids_are_normalised_to_nfc_in_definitions_and_references() -> None:
    # "café" written decomposed (e + U+0301) in the definition, composed in the reference.
    trip = load(trip_text(place="cafe\\u0301", place_ref="caf\\u00e9", person="jose\\u0301")).trip
    assert trip.places[0].id == "caf\u00e9"
    assert trip.counterparts[0].id == "jos\u00e9"
    (event,) = trip.events
    assert event.place.id == "caf\u00e9"
    assert [c.id for c in event.counterparts] == ["jos\u00e9"]
    assert "jos\u00e9/pt" in trip.items()


def test_ids_that_differ_only_by_normalisation_are_duplicates() -> None:
    found = errors(trip_text(events=("caf\\u00e9", "cafe\\u0301")))
    assert len(found) == 1, found
    assert "events[1].id: duplicate event id 'café' (first at line 16)" in found[0]


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("me\\u200bet", "U+200B ZERO WIDTH SPACE"),
        ("me\\u200det", "U+200D ZERO WIDTH JOINER"),
        ("me\\u2060et", "U+2060 WORD JOINER"),
        ("me\\ufeffet", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("me\\u202eet", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("me\\u2067et", "U+2067 RIGHT-TO-LEFT ISOLATE"),
        ("me\\u200fet", "U+200F RIGHT-TO-LEFT MARK"),
        ("me\\u00adet", "U+00AD SOFT HYPHEN"),
        ("me\\ufe0fet", "U+FE0F VARIATION SELECTOR-16"),
        ("me\\U000e0041et", "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("me\\u3164et", "U+3164 HANGUL FILLER"),
    ],
)
def test_ids_with_invisible_or_bidi_characters_are_refused(written: str, named: str) -> None:
    found = errors(trip_text(events=(written,)))
    # One message, naming the character; no cascade.
    assert len(found) == 1, found
    assert found[0].startswith(f"{SRC}:16: events[0].id: ")
    assert f"holds invisible or bidi characters ({named})" in found[0]
    assert not any("\u200b" <= ch <= "\u206f" or ch == "\ufeff" for ch in found[0])


def test_a_reference_with_an_invisible_character_is_refused_once() -> None:
    found = errors(trip_text(person_ref="b\\u200bob"))
    assert len(found) == 1, found
    assert "events[0].counterparts[0]: 'b\\u200bob' holds invisible" in found[0]


@pytest.mark.parametrize("where", ["place", "person", "point"])
def test_every_kind_of_id_is_checked(where: str) -> None:
    found = errors(trip_text(**{where: "x\\u200by"}))  # type: ignore[arg-type]
    assert any("holds invisible or bidi characters (U+200B ZERO WIDTH SPACE)" in m for m in found)


def test_a_mixed_script_id_is_a_warning_naming_the_odd_letters() -> None:
    # "pаris" with a Cyrillic а (U+0430): looks like "paris", is not.
    result = load(trip_text(place="p\\u0430ris"))
    warnings = [str(p) for p in result.warnings]
    assert warnings == [
        f"{SRC}:6: places[0].id: warning: 'p\u0430ris' mixes Latin letters with Cyrillic "
        "ones (U+0430 CYRILLIC SMALL LETTER A): it looks like another id but is not the "
        "same; write it in one script"
    ]


@pytest.mark.parametrize(
    "one_script",
    ["paris", "\\u043c\\u043e\\u0441\\u043a\\u0432\\u0430", "東京タワー", "서울-1", "x-2"],
)
def test_ids_of_one_script_or_of_scripts_written_together_get_no_warning(one_script: str) -> None:
    assert load(trip_text(place=one_script)).warnings == []


def test_mark_finds_an_nfc_id_typed_decomposed(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(trip_text(events=("caf\\u00e9",)), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["mark", str(path), "cafe\u0301", "--state-dir", str(tmp_path / "s")])
    assert code == 0, err.getvalue()
    assert out.getvalue().startswith("caf\u00e9: done")
