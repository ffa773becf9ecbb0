"""The commented starting trip ``tripdash new`` writes: valid as it is, ready to fill in."""

from __future__ import annotations

from datetime import date

from tripdash.domain.model import EVENT_KINDS, EVENT_STATUSES
from tripdash.domain.tomlwrite import toml_string


def zone_city(zone: str) -> str:
    """The city part of an IANA name: ``America/New_York`` -> ``New York``."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def new_trip_text(*, trip_id: str, title: str, home_tz: str, day: date, schema: str | None) -> str:
    """A trip file with one place (at home), one TBC event on ``day`` and every key explained.

    ``schema``, when given, is the path or address for the ``#:schema`` line editors read.
    """
    city = zone_city(home_tz)
    place_id = "home"
    lines = []
    if schema:
        lines.append(f"#:schema {schema}")
    lines += [
        "# A trip file for tripdash (format 1). `tripdash check FILE` validates it;",
        "# `tripdash FILE` opens it. Keys marked optional may be left out.",
        "",
        "format = 1",
        "",
        "[trip]",
        f"id = {toml_string(trip_id)}  # marks are kept under this id: do not change it later",
        f"title = {toml_string(title)}",
        '# principal = "Name, Office"      # optional: who the trip is for',
        f"home_tz = {toml_string(home_tz)}  # IANA zone: every time is also shown in it",
        '# source = "..."                  # optional: where the programme comes from',
        '# summary = "..."                 # optional: the trip in a few sentences',
        "",
        "# One [[places]] table per place, each with its IANA zone. Local times of events",
        "# are wall-clock times at their place.",
        "[[places]]",
        f"id = {toml_string(place_id)}",
        f"name = {toml_string(city)}",
        f"tz = {toml_string(home_tz)}",
        "",
        "# [[counterparts]]",
        '# id = "someone"',
        '# name = "Their Name"',
        '# role = "Their office"             # optional',
        '# country = "Their country"         # optional',
        '# notes = "..."                     # optional',
        "# talking_points = [                # optional: strings, or { id, text } tables",
        '#   "A point to raise",',
        '#   { id = "kept-id", text = "A point reworded without losing its mark" },',
        "# ]",
        "",
        "# One [[events]] table per event, in any order.",
        "[[events]]",
        'id = "arrival"',
        'title = "Arrival"',
        f"place = {toml_string(place_id)}  # a places id",
        f"start = {day.isoformat()}  # a date alone: time TBC; or {day.isoformat()}T09:15:00",
        f"# end = {day.isoformat()}T10:15:00   # optional; not with a TBC start",
        '# to = "elsewhere"                # optional: a travel event ends at another place',
        f'kind = "travel"  # {", ".join(EVENT_KINDS)}',
        f'status = "tentative"  # {", ".join(EVENT_STATUSES)}',
        '# venue = "..."                   # optional',
        '# counterparts = ["someone"]      # optional: counterparts ids',
        '# press = "..."                   # optional',
        '# notes = "..."                   # optional',
        "",
    ]
    return "\n".join(lines)
