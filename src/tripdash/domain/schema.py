"""The trip file format as pydantic models: exactly the TOML contract, unknown keys refused.

Imported only when a trip file is parsed: a dashboard started on a trip whose
validated form is cached never pays for pydantic (see ``loader``). The
descriptions and examples are those of the JSON Schema ``tripdash schema``
prints (see :mod:`tripdash.domain.json_schema`); they do not change validation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

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

# An editor sees a TOML date or date-time as a string in ISO 8601 form (taplo does):
# "format": "date-time" would refuse the local date-times trip files are written in.
_LOCAL_OR_OFFSET = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?"
_DATE = r"\d{4}-\d{2}-\d{2}"


def _time_schema(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^({pattern})$"}


def _start_schema(schema: dict[str, Any]) -> None:
    schema.pop("anyOf", None)
    schema.update(_time_schema(f"{_LOCAL_OR_OFFSET}|{_DATE}"))


def _end_schema(schema: dict[str, Any]) -> None:
    schema.pop("anyOf", None)
    schema.update(_time_schema(_LOCAL_OR_OFFSET))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RawTalkingPoint(_Strict):
    """A talking point with an id of its own (keep the id to reword it without losing its mark)."""

    id: Id | None = Field(
        None,
        description="The point's id, which marks attach to; default: derived from the text.",
        examples=["akbari"],
    )
    text: Text = Field(
        description="What to raise.",
        examples=["Execution of Alireza Akbari; ambassador recalled"],
    )


class RawCounterpart(_Strict):
    """Someone the principal meets: a [[counterparts]] table."""

    id: Id = Field(
        description="Unique among counterparts; events name it in their counterparts list.",
        examples=["blinken"],
    )
    name: Text = Field(description="The name as it is shown.", examples=["Antony Blinken"])
    role: Text | None = Field(
        None, description="Their title or office.", examples=["US Secretary of State"]
    )
    country: Text | None = Field(
        None, description="The country they represent.", examples=["United States"]
    )
    notes: Text | None = Field(
        None,
        description="Background for the briefing.",
        examples=["Met the Foreign Secretary in Kyiv in November"],
    )
    talking_points: list[Text | RawTalkingPoint] = Field(
        default_factory=list,
        description="Points to raise: strings, or tables { id, text } with their own id.",
        examples=[
            [
                "Go further and faster in giving Ukraine the tools to win",
                {"id": "akbari", "text": "Execution of Alireza Akbari; ambassador recalled"},
            ]
        ],
    )


class RawPlace(_Strict):
    """A place the delegation goes to, with its time zone: a [[places]] table."""

    id: Id = Field(
        description="Unique among places; events name it in place and to.",
        examples=["washington"],
    )
    name: Text = Field(description="The place's name as it is shown.", examples=["Washington DC"])
    tz: Text = Field(
        description="The IANA time zone of the place; its local times are read in it.",
        examples=["America/New_York"],
    )


class RawEvent(_Strict):
    """One event of the programme: an [[events]] table."""

    id: Id = Field(description="Unique among events; marks attach to it.", examples=["csis-speech"])
    title: Text = Field(
        description="What the event is.",
        examples=["Speech on UK foreign policy priorities"],
    )
    place: Id = Field(
        description="The id of the [[places]] table where it happens (or, with to, starts).",
        examples=["washington"],
    )
    # datetime before date: a TOML date-time is also a ``date`` in Python.
    start: datetime | date = Field(
        description=(
            "When it starts: a local date-time is wall-clock time at the place; an "
            "offset date-time is an absolute instant; a date alone means the time is TBC."
        ),
        examples=["2023-01-17T09:15:00", "2023-01-17T14:15:00Z", "2023-01-18"],
        json_schema_extra=_start_schema,
    )
    end: datetime | None = Field(
        None,
        description=(
            "When it ends (leave it out if not known; not with a TBC start): a local "
            "date-time at the place, or at the destination when the event has to."
        ),
        examples=["2023-01-17T10:15:00"],
        json_schema_extra=_end_schema,
    )
    to: Id | None = Field(
        None,
        description="A travel event ends at another place: that place's id.",
        examples=["toronto"],
    )
    kind: Literal[EVENT_KINDS] = Field(  # type: ignore[valid-type]
        "meeting", description="What sort of event it is.", examples=["speech"]
    )
    status: Literal[EVENT_STATUSES] = Field(  # type: ignore[valid-type]
        "confirmed", description="How firm it is.", examples=["tentative"]
    )
    venue: Text | None = Field(
        None,
        description="The building or room.",
        examples=["Centre for Strategic & International Studies"],
    )
    counterparts: list[Id] = Field(
        default_factory=list,
        description="The ids of the [[counterparts]] who attend.",
        examples=[["blinken"]],
    )
    press: Text | None = Field(None, description="Press arrangements.", examples=["Live-streamed"])
    notes: Text | None = Field(
        None,
        description="Anything else the staff should know.",
        examples=["Motorcade leaves the residence at 08:40"],
    )
    fixed: Annotated[bool, Field(strict=True)] = Field(
        False,
        description=(
            "True for an event that does not move when the day runs late (a ceremony at a "
            "set hour); travel events never move. A running-late shift stops before it."
        ),
        examples=[True],
    )


class RawTrip(_Strict):
    """The trip itself: the [trip] table."""

    id: Id | None = Field(
        None,
        description="The trip's id, which marks are kept under; default: the file name "
        "without .toml.",
        examples=["fs-north-america-2023-01"],
    )
    title: Text = Field(
        description="The trip's title, shown in the header.",
        examples=["Foreign Secretary: Washington DC and Toronto"],
    )
    principal: Text | None = Field(
        None,
        description="Who the trip is for.",
        examples=["James Cleverly, Foreign Secretary"],
    )
    home_tz: Text = Field(
        description="The IANA time zone of home: every time is also shown in it.",
        examples=["Europe/London"],
    )
    source: Text | None = Field(
        None,
        description="Where the programme comes from.",
        examples=["FCDO press release, 17 January 2023"],
    )
    summary: Text | None = Field(
        None,
        description="The trip in a few sentences.",
        examples=["First bilateral visit in post to North America."],
    )
    marking: Marking | None = Field(
        None,
        description="A protective marking printed at the top and bottom of every page of "
        "the day sheet and in the calendar export, as government documents require.",
        examples=["OFFICIAL-SENSITIVE"],
    )
