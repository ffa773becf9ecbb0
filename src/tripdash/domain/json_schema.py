"""The JSON Schema of trip format 1, generated from the pydantic models of the format.

``tripdash schema`` prints it and ``schema/trip-v1.schema.json`` is a copy (a test keeps
them equal). Editors that read JSON Schema for TOML (taplo, Even Better TOML) use it
for completion and checking; they see TOML dates and times as ISO 8601 strings, so the
schema describes those as patterns. What the schema cannot see (zone names, references
between tables, DST, overlaps) only ``tripdash check`` reports.
"""

from __future__ import annotations

import json
from typing import Any

from tripdash.domain.model import FORMAT_VERSION

#: The models' class names and the names their definitions take in the schema.
_DEF_NAMES = {
    "RawTrip": "trip",
    "RawPlace": "place",
    "RawCounterpart": "counterpart",
    "RawTalkingPoint": "talking_point",
    "RawEvent": "event",
}


def trip_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole trip file."""
    from pydantic.json_schema import models_json_schema

    from tripdash.domain.schema import RawCounterpart, RawEvent, RawPlace, RawTrip

    _, top = models_json_schema(
        [(m, "validation") for m in (RawTrip, RawPlace, RawCounterpart, RawEvent)],
        ref_template="#/$defs/{model}",
    )
    defs = {_DEF_NAMES.get(k, k): _tidy(v) for k, v in top["$defs"].items()}
    for name, definition in defs.items():
        definition["title"] = name
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"tripdash trip file, format {FORMAT_VERSION}",
        "description": (
            "One official trip's programme: the trip, its places, counterparts and events. "
            "`tripdash check` also checks what a schema cannot: zone names, references "
            "between tables, times that DST skips or repeats, duplicate ids and overlaps."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["trip"],
        "properties": {
            "format": {
                "description": f"The format version; this tripdash reads {FORMAT_VERSION}.",
                "type": "integer",
                "const": FORMAT_VERSION,
                "examples": [FORMAT_VERSION],
            },
            "trip": {"$ref": "#/$defs/trip"},
            "places": _array_of("place", "The places the delegation goes to ([[places]])."),
            "counterparts": _array_of(
                "counterpart", "The people the principal meets ([[counterparts]])."
            ),
            "events": _array_of("event", "The programme, one table per event ([[events]])."),
        },
        "$defs": dict(sorted(defs.items())),
    }
    renamed: dict[str, Any] = _rename_refs(schema)
    return renamed


def schema_text() -> str:
    """:func:`trip_schema` as the committed file holds it: sorted keys, two spaces, newline."""
    return json.dumps(trip_schema(), indent=2, ensure_ascii=False) + "\n"


def _array_of(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "array",
        "items": {"$ref": f"#/$defs/{name}"},
    }


def _tidy(node: Any) -> Any:
    """Drop what TOML cannot say: ``null`` (an absent key is TOML's only "none")."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tidy(v) for k, v in node.items()}
    if "anyOf" in out:
        options = [o for o in out["anyOf"] if o != {"type": "null"}]
        if len(options) == 1:
            del out["anyOf"]
            out = {**options[0], **out}
        else:
            out["anyOf"] = options
    if "default" in out and out["default"] is None:
        del out["default"]
    return out


def _rename_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_rename_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            model = value.rsplit("/", 1)[-1]
            value = f"#/$defs/{_DEF_NAMES.get(model, model)}"
        out[key] = _rename_refs(value)
    return out
