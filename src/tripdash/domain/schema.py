"""The trip file format as pydantic models: exactly the TOML contract, unknown keys refused.

Imported only when a trip file is parsed: a dashboard started on a trip whose
validated form is cached never pays for pydantic (see ``loader``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tripdash.domain.model import EVENT_KINDS, EVENT_STATUSES

Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False,
        min_length=1,
        max_length=200,
        # No "/" (it separates counterpart and point in marks), no spaces, no controls.
        pattern=r"^[^/\s\x00-\x1f\x7f-\x9f]+$",
    ),
]
Text = Annotated[str, Field(strict=True)]
#: A protective marking ("OFFICIAL-SENSITIVE"): printed in page headers, so short.
Marking = Annotated[str, Field(strict=True, min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RawTalkingPoint(_Strict):
    id: Id | None = None
    text: Text


class RawCounterpart(_Strict):
    id: Id
    name: Text
    role: Text | None = None
    country: Text | None = None
    notes: Text | None = None
    talking_points: list[Text | RawTalkingPoint] = Field(default_factory=list)


class RawPlace(_Strict):
    id: Id
    name: Text
    tz: Text


class RawEvent(_Strict):
    id: Id
    title: Text
    place: Id
    # datetime before date: a TOML date-time is also a ``date`` in Python.
    start: datetime | date
    end: datetime | None = None
    to: Id | None = None
    kind: Literal[EVENT_KINDS] = "meeting"  # type: ignore[valid-type]
    status: Literal[EVENT_STATUSES] = "confirmed"  # type: ignore[valid-type]
    venue: Text | None = None
    counterparts: list[Id] = Field(default_factory=list)
    press: Text | None = None
    notes: Text | None = None


class RawTrip(_Strict):
    id: Id | None = None
    title: Text
    principal: Text | None = None
    home_tz: Text
    source: Text | None = None
    summary: Text | None = None
    marking: Marking | None = None
