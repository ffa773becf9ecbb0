"""The shape of a valid trip table, checked without pydantic: the fast path of validation.

Importing pydantic and building the models of :mod:`tripdash.domain.schema` costs about
0.3 s of CPU, more than parsing and validating a 5,000-event trip. Almost every table of
almost every trip file is valid, so each table is first checked here, against the same
contract, by plain type and length tests. A table that passes is returned as a
:class:`Table` with the attributes the pydantic model would have (defaults filled in,
the same objects as the file's values); a table with anything wrong, or anything this
check is not sure of, gives None, and only then is pydantic imported to validate it and
word its problems (:func:`tripdash.domain.validate._validate`).

So this check may refuse more than the models do (that costs only time), never less:
tests/test_shape.py compares the two on every field with values of every kind, and
fails when a field of the models is not mirrored here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from tripdash.domain.model import EVENT_KINDS, EVENT_STATUSES

# schema.Id: 1 to 200 characters, no "/", no whitespace, no control characters. fullmatch,
# not "$": Python's "$" also matches before a final newline, pydantic's (Rust) does not.
_ID = re.compile(r"[^/\s\x00-\x1f\x7f-\x9f]+")

Check = Callable[[Any], bool]


def _id(v: Any) -> bool:
    return type(v) is str and len(v) <= 200 and _ID.fullmatch(v) is not None


def _text(v: Any) -> bool:
    return type(v) is str


def _marking(v: Any) -> bool:
    return type(v) is str and 1 <= len(v) <= 100


def _flag(v: Any) -> bool:
    return type(v) is bool


def _start(v: Any) -> bool:
    # A date-time is also a date in Python: both exact types, as tomli makes them.
    return type(v) is datetime or type(v) is date


def _end(v: Any) -> bool:
    return type(v) is datetime


def _kind(v: Any) -> bool:
    return type(v) is str and v in EVENT_KINDS


def _status(v: Any) -> bool:
    return type(v) is str and v in EVENT_STATUSES


def _ids(v: Any) -> bool:
    return type(v) is list and all(_id(x) for x in v)


def _optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


class Table(SimpleNamespace):
    """A table that passed: its fields as attributes, as on the pydantic model.

    The values are the file's own objects; talking points given as tables stay dicts
    (validation reads them again from the file's table, one by one).
    """


#: A field's default when it must be given, and when it is a new empty list each time.
REQUIRED = object()
_LIST = object()


class Fields:
    """The fields of one model: each one's check, and its default (or :data:`REQUIRED`)."""

    def __init__(self, spec: dict[str, tuple[Check, Any]]) -> None:
        self.spec = spec
        self.checks = {name: check for name, (check, _) in spec.items()}
        self.required = frozenset(n for n, (_, d) in spec.items() if d is REQUIRED)
        self.defaults = {n: d for n, (_, d) in spec.items() if d is not REQUIRED and d is not _LIST}
        self.lists = tuple(n for n, (_, d) in spec.items() if d is _LIST)

    def __iter__(self) -> Iterator[str]:
        return iter(self.spec)


TALKING_POINT = Fields(
    {
        "id": (_optional(_id), None),
        "text": (_text, REQUIRED),
    }
)


def _points(v: Any) -> bool:
    return type(v) is list and all(
        _text(p) or (type(p) is dict and table(TALKING_POINT, p) is not None) for p in v
    )


COUNTERPART = Fields(
    {
        "id": (_id, REQUIRED),
        "name": (_text, REQUIRED),
        "role": (_optional(_text), None),
        "country": (_optional(_text), None),
        "notes": (_optional(_text), None),
        "talking_points": (_points, _LIST),
    }
)
PLACE = Fields(
    {
        "id": (_id, REQUIRED),
        "name": (_text, REQUIRED),
        "tz": (_text, REQUIRED),
    }
)
EVENT = Fields(
    {
        "id": (_id, REQUIRED),
        "title": (_text, REQUIRED),
        "place": (_id, REQUIRED),
        "start": (_start, REQUIRED),
        "end": (_optional(_end), None),
        "to": (_optional(_id), None),
        "kind": (_kind, "meeting"),
        "status": (_status, "confirmed"),
        "venue": (_optional(_text), None),
        "counterparts": (_ids, _LIST),
        "press": (_optional(_text), None),
        "notes": (_optional(_text), None),
        "fixed": (_flag, False),
    }
)
TRIP = Fields(
    {
        "id": (_optional(_id), None),
        "title": (_text, REQUIRED),
        "principal": (_optional(_text), None),
        "home_tz": (_text, REQUIRED),
        "source": (_optional(_text), None),
        "summary": (_optional(_text), None),
        "marking": (_optional(_marking), None),
    }
)

#: The fields of each model of :mod:`tripdash.domain.schema`, by the model's name.
MODELS: dict[str, Fields] = {
    "RawTalkingPoint": TALKING_POINT,
    "RawCounterpart": COUNTERPART,
    "RawPlace": PLACE,
    "RawEvent": EVENT,
    "RawTrip": TRIP,
}


def table(fields: Fields, value: Any) -> Table | None:
    """``value`` as a :class:`Table` when it is surely valid against ``fields``, else None."""
    if type(value) is not dict or not fields.required <= value.keys():
        return None  # not a table, or a required field missing
    checks = fields.checks
    for name, given in value.items():
        check = checks.get(name)
        if check is None or not check(given):
            return None  # an unknown key, or a value that is not surely right
    out = {**fields.defaults, **value}
    for name in fields.lists:
        if name not in value:
            out[name] = []
    return Table(**out)
