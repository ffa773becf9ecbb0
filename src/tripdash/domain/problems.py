"""Problems found in a trip file, and what loading one gives: the leaf the loader,
the validator, the caches and the shell share (so none of them imports another to get
these types).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from tripdash.domain.model import Trip
from tripdash.domain.text import escaped

Severity = Literal["error", "warning"]
PathT = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning, located in a file."""

    source: str
    line: int
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        text = f"{self.source}:{self.line}: {self.field}: {label}{self.message}"
        # One line, and nothing a terminal would act on: a key, a place name or a value
        # quoted in a message may hold newlines, escape sequences or bidi overrides.
        return escaped(text)


class TripInvalid(Exception):
    """A trip file that cannot be used; ``problems`` lists the errors (and warnings) kept.

    ``not_shown`` counts the problems found past the cap on those worded; ``problems``
    then ends with a line saying so.
    """

    def __init__(self, source: str, problems: Sequence[Problem], not_shown: int = 0) -> None:
        self.source = source
        self.problems = list(problems)
        self.not_shown = not_shown
        super().__init__(f"{source}: {self.error_count} error(s)")

    @property
    def error_count(self) -> int:
        """Every problem found that makes the file unusable, shown or not ("12,022", not
        the 500 worded and a last line counting the rest)."""
        errors = len(self.errors)
        return errors - 1 + self.not_shown if self.not_shown else errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class LoadResult:
    """A valid trip and the warnings found while loading it."""

    trip: Trip
    warnings: list[Problem] = field(default_factory=list)


def field_path(path: Sequence[str | int]) -> str:
    """``("events", 3, "end")`` -> ``events[3].end``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(file)"


def describe_toml_type(value: Any) -> str:
    """What a TOML value is, in TOML's words (for 'expected X, got Y' messages)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "an offset date-time" if value.tzinfo else "a local date-time"
    if isinstance(value, date):
        return "a local date"
    if isinstance(value, time):
        return "a local time"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
