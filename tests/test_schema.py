"""The JSON Schema of trip files: in sync with the models, accepting every valid trip and
rejecting typos and wrong types, as an editor using it would; and ``tripdash new``."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomli

from tripdash import cli
from tripdash.domain.json_schema import schema_text, trip_schema
from tripdash.domain.loader import load_trip

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "schema" / "trip-v1.schema.json"
TRIPS = sorted((REPO / "trips").glob("*.toml")) + sorted((REPO / "tests" / "data").glob("*.toml"))


def as_json(value: Any) -> Any:
    """A parsed TOML document as an editor hands it to a JSON Schema: times as ISO strings."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schema/trip-v1.schema.json is out of date: run `tripdash schema > "
        "schema/trip-v1.schema.json` and commit it"
    )


def test_the_schema_verb_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()


def test_every_field_has_a_description_and_an_example() -> None:
    schema = trip_schema()
    assert schema["properties"]["format"]["examples"] == [1]
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), name
        for field, spec in definition["properties"].items():
            assert spec.get("description"), f"{name}.{field}"
            assert spec.get("examples"), f"{name}.{field}"


def test_examples_are_valid_values_of_their_fields() -> None:
    schema = trip_schema()
    for definition in schema["$defs"].values():
        for spec in definition["properties"].values():
            sub = {**spec, "$defs": schema["$defs"]}
            for example in spec["examples"]:
                jsonschema.validate(example, sub, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("path", TRIPS, ids=lambda p: p.name)
def test_every_bundled_and_test_trip_is_valid_against_the_schema(path: Path) -> None:
    doc = as_json(tomli.loads(path.read_text(encoding="utf-8")))
    errors = [e.message for e in validator().iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("path", sorted((REPO / "trips").glob("*.toml")), ids=lambda p: p.name)
def test_bundled_trips_name_the_schema_and_still_load(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "#:schema ../schema/trip-v1.schema.json"
    assert (path.parent / first.split(" ", 1)[1]).resolve() == COMMITTED
    assert load_trip(path).trip.events


def broken(edit: Any) -> dict[str, Any]:
    doc = as_json(tomli.loads((REPO / "trips" / "fs-north-america-2023-01.toml").read_text()))
    doc = copy.deepcopy(doc)
    edit(doc)
    return doc


CASES = {
    "typo key in an event": (lambda d: d["events"][0].update(strat="x"), "'strat' was unexpected"),
    "typo key at the top": (lambda d: d.update(event=[]), "'event' was unexpected"),
    "typo key in trip": (lambda d: d["trip"].update(home_zt="x"), "'home_zt' was unexpected"),
    "title an integer": (lambda d: d["trip"].update(title=5), "5 is not of type 'string'"),
    "counterparts a string": (
        lambda d: d["events"][0].update(counterparts="blinken"),
        "'blinken' is not of type 'array'",
    ),
    "kind misspelt": (lambda d: d["events"][0].update(kind="meting"), "'meting' is not one of"),
    "start not a time": (
        lambda d: d["events"][0].update(start="tomorrow"),
        "'tomorrow' does not match",
    ),
    "end a date": (lambda d: d["events"][0].update(end="2023-01-17"), "does not match"),
    "id with a space": (lambda d: d["places"][0].update(id="a b"), "does not match"),
    "format 2": (lambda d: d.update(format=2), "1 was expected"),
    "no trip": (lambda d: d.pop("trip"), "'trip' is a required property"),
    "talking point a number": (
        lambda d: d["counterparts"][0]["talking_points"].append(3),
        "3 is not valid under any of the given schemas",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_schema_rejects_typos_and_wrong_types(case: str) -> None:
    edit, expected = CASES[case]
    errors = [e.message for e in validator().iter_errors(broken(edit))]
    assert len(errors) == 1, errors
    assert expected in errors[0]


# -- tripdash new ------------------------------------------------------------------------


def test_new_writes_a_trip_that_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "envoy-paris-2027.toml"
    args = ["new", str(target), "--title", 'Envoy: "Paris"', "--home-tz", "Europe/Paris"]
    assert cli.main([*args, "--date", "2027-03-01", "--schema", str(COMMITTED)]) == 0
    text = target.read_text()
    assert text.startswith(f"#:schema {COMMITTED}\n")
    trip = load_trip(target).trip
    assert (trip.id, trip.title, trip.home_tz.key) == (
        "envoy-paris-2027",
        'Envoy: "Paris"',
        "Europe/Paris",
    )
    (event,) = trip.events
    assert (event.local_date, event.time_confirmed, event.place.name) == (
        date(2027, 3, 1),
        False,
        "Paris",
    )
    assert list(validator().iter_errors(as_json(tomli.loads(text)))) == []
    capsys.readouterr()
    assert cli.main(["check", str(target)]) == 0
    # Every optional key is there to uncomment.
    for key in ("principal", "source", "summary", "end", "to", "venue", "press", "notes"):
        assert f"# {key} = " in text


def test_new_refuses_to_overwrite_and_bad_zones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "t.toml"
    target.write_text("mine")
    assert cli.main(["new", str(target)]) == 1
    assert target.read_text() == "mine"
    assert "already exists: not overwritten" in capsys.readouterr().err
    other = tmp_path / "u.toml"
    assert cli.main(["new", str(other), "--home-tz", "Europe/Londn"]) == 2
    assert "did you mean 'Europe/London'" in capsys.readouterr().err
    assert cli.main(["new", str(tmp_path / "v.txt")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.toml"]
