"""The pydantic-free shape check (domain/shape.py) against the pydantic models it stands in for.

The check may refuse what the models accept (validation then falls back to them), but it
must never accept what they refuse, and what it accepts must read the same. Its fields must
be the models' fields, so a field added to the schema without its check here fails now.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tripdash.domain import schema, shape
from tripdash.domain.loader import load_trip
from tripdash.domain.model import EVENT_KINDS, EVENT_STATUSES

REPO = Path(__file__).resolve().parent.parent
TRIPS = sorted((REPO / "trips").glob("*.toml"))
MODELS: dict[str, type[BaseModel]] = {name: getattr(schema, name) for name in shape.MODELS}


@pytest.mark.parametrize("name", sorted(shape.MODELS))
def test_each_model_is_mirrored_field_by_field(name: str) -> None:
    model, fields = MODELS[name], shape.MODELS[name]
    assert set(fields) == set(model.model_fields), name
    for field, info in model.model_fields.items():
        assert (field in fields.required) == info.is_required(), f"{name}.{field}"
        if info.is_required():
            continue
        default = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
        made = shape.table(fields, _minimal(name))
        assert made is not None, name
        assert getattr(made, field) == default, f"{name}.{field}"


def _minimal(name: str) -> dict[str, Any]:
    """A table with only the required fields of ``name``, valid."""
    values: dict[str, Any] = {"start": datetime(2023, 1, 17, 9, 15)}
    return {f: values.get(f, "x") for f in shape.MODELS[name].required}


# Values of every kind a parsed TOML document can hold, near each rule's edges.
_CHARS = "a/ \t\n\x00\x1f\x7f\x85\x9f\xa0é\u2028\u200b\u3000-_.Я"
_strings = st.one_of(
    st.text(alphabet=_CHARS, max_size=4),
    st.sampled_from(
        ["", "a" * 100, "a" * 101, "a" * 200, "a" * 201, "abc\n", *EVENT_KINDS, *EVENT_STATUSES]
    ),
)
_scalars = st.one_of(
    _strings,
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_nan=False),
    st.dates(min_value=date(1800, 1, 1), max_value=date(2300, 1, 1)),
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2300, 1, 1)),
    st.builds(
        lambda d, h: d.replace(tzinfo=timezone(timedelta(hours=h))),
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
        st.integers(-12, 12),
    ),
    st.just(time(9, 15)),
)
_points = st.fixed_dictionaries({"text": _strings}, optional={"id": _strings, "x": _scalars})
_values = st.one_of(
    _scalars,
    st.lists(st.one_of(_strings, _points, _scalars), max_size=3),
    st.dictionaries(st.sampled_from(["id", "text"]), _strings, max_size=2),
)


def _tables(name: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = list(shape.MODELS[name])
    good = _minimal(name)
    return st.builds(
        lambda base, changes, extra: {**base, **changes, **extra},
        st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in good.items()}),
        st.dictionaries(st.sampled_from(fields), _values, max_size=4),
        st.dictionaries(st.sampled_from(["strat", "Id", "x"]), _scalars, max_size=1),
    )


def _read(value: Any) -> Any:
    """A model's value as the shape check keeps it (talking point models as tables)."""
    if isinstance(value, list):
        return [_read(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return value


@pytest.mark.parametrize("name", sorted(shape.MODELS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_check_accepts_exactly_what_the_model_accepts(name: str, data: st.DataObject) -> None:
    table = data.draw(_tables(name))
    fast = shape.table(shape.MODELS[name], table)
    try:
        model = MODELS[name].model_validate(table)
    except ValidationError:
        assert fast is None, f"accepted what {name} refuses: {table!r}"
        return
    assert fast is not None, f"refused what {name} accepts: {table!r}"
    for field in shape.MODELS[name]:
        got, want = getattr(fast, field), _read(getattr(model, field))
        assert got == want and type(got) is type(want), f"{name}.{field}: {table!r}"


EVENT = {"id": "a", "title": "t", "place": "p", "start": date(2023, 1, 1)}


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("RawEvent", {**EVENT, "x": 1}),
        ("RawEvent", {**EVENT, "id": "a/b"}),
        ("RawEvent", {**EVENT, "start": "2023-01-01"}),
        ("RawEvent", {**EVENT, "start": time(9, 0)}),
        ("RawEvent", {**EVENT, "fixed": 1}),
        ("RawEvent", {**EVENT, "kind": "Meeting"}),
        ("RawEvent", {**EVENT, "counterparts": ("a",)}),
        ("RawPlace", {"id": "a\n", "name": "n", "tz": "UTC"}),
        ("RawPlace", {"id": "a" * 201, "name": "n", "tz": "UTC"}),
        ("RawTrip", {"title": "t", "home_tz": "UTC", "marking": ""}),
        ("RawCounterpart", {"id": "c", "name": "n", "talking_points": [{"txt": "x"}]}),
        ("RawCounterpart", {"id": "c", "name": "n", "talking_points": "x"}),
        ("RawTalkingPoint", {"id": "", "text": "x"}),
    ],
)  # fmt: skip
def test_tables_with_a_fault_are_left_to_the_model(name: str, table: dict[str, Any]) -> None:
    assert shape.table(shape.MODELS[name], table) is None
    with pytest.raises(ValidationError):
        MODELS[name].model_validate(table)


@pytest.mark.parametrize("trip", TRIPS, ids=lambda p: p.name)
def test_a_valid_trip_reads_the_same_as_through_the_models(
    trip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = load_trip(trip)
    # Every table through pydantic instead: the shape check refusing everything.
    monkeypatch.setattr(shape, "table", lambda fields, value: None)
    slow = load_trip(trip)
    assert fast.trip == slow.trip
    assert fast.warnings == slow.warnings


def test_checking_a_valid_trip_imports_no_pydantic(tmp_path: Path) -> None:
    code = (
        "import sys; from tripdash.domain.loader import load_trip; "
        f"r = load_trip({str(TRIPS[0])!r}); "
        "print(len(r.trip.events), 'pydantic' in sys.modules, "
        "'tripdash.domain.schema' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 0
    assert out[1:] == ["False", "False"]


def test_an_invalid_table_is_still_worded_by_the_model(tmp_path: Path) -> None:
    from tripdash.domain.loader import TripInvalid

    path = tmp_path / "t.toml"
    source = (
        TRIPS[0].read_text(encoding="utf-8").replace("[[events]]\n", "[[events]]\nstrat = 1\n", 1)
    )
    path.write_text(source, encoding="utf-8")
    with pytest.raises(TripInvalid) as caught:
        load_trip(path)
    assert any(
        "unknown key 'strat' (did you mean 'start'?)" in str(p) for p in caught.value.problems
    )


def _rules(model: type[BaseModel]) -> str:
    """What the model checks: its settings, and each field's type, constraints and default."""
    lines = [repr(sorted(model.model_config.items()))]
    for field, info in model.model_fields.items():
        lines.append(
            f"{field}: {info.annotation!r} {info.metadata!r} "
            f"default={info.default!r} factory={info.default_factory!r}"
        )
    return "\n".join(lines)


#: The SHA-256 of each model's rules (see _rules) that shape.py mirrors.
MIRRORED = {
    "RawCounterpart": "64f7c9ac96305b2b23af00ad30541aa79107571a2fc7c001272fa2b03766b9c2",
    "RawEvent": "b102af69218a0dd5b8118c12cb95554765e13a79b1307898272d8a3c84a6834d",
    "RawPlace": "8d43e63278eb8c9ada06eae726de0a29e59ab8387d3b0b624b6f42f721514896",
    "RawTalkingPoint": "bb5ba4f296e260c3ce54de6cbf0831f52fab725fd27154ea221fb93365260dfd",
    "RawTrip": "d8f58b9c848014fc145e6a5f1c771c25db567461dd60662a26bc8c01d99e2664",
}


@pytest.mark.parametrize("name", sorted(shape.MODELS))
def test_the_models_rules_are_those_mirrored(name: str) -> None:
    rules = _rules(MODELS[name])
    assert hashlib.sha256(rules.encode()).hexdigest() == MIRRORED[name], (
        f"the rules of schema.{name} changed: mirror them in domain/shape.py (a check that "
        f"accepts less than the model is fine, one that accepts more is not), then record "
        f"the new digest here. The rules now: {rules}"
    )
