"""Reminder settings: one frozen value the command line (and later the config file) fills.

Kept apart from :mod:`tripdash.domain.reminders` (the schedule, the texts, the
command) because the dashboard's options carry a :class:`ReminderSettings` from
start-up, while the rest is needed only from the first tick on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time

from tripdash.domain.model import EVENT_KINDS
from tripdash.domain.text import one_line

#: Minutes before an event's start, by default and for the kinds that differ.
DEFAULT_STAGES = (15, 5)
DEFAULT_KIND_STAGES: tuple[tuple[str, tuple[int, ...]], ...] = (("travel", (60,)),)
#: A stage may be a week ahead at most (a typo of 100000 should not be accepted).
MAX_STAGE_MINUTES = 7 * 24 * 60
#: How long the user command may run before it is killed.
COMMAND_TIMEOUT = 10.0


class ReminderConfigError(ValueError):
    """A reminder setting that cannot be used; the message says which and why."""


# -- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """A local-time window (``22:00-07:00``) in which reminders only show in the dashboard.

    Local time is where the delegation is at that moment; a window whose end is
    earlier than its start runs over midnight.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ReminderConfigError(
                f"quiet hours {self}: the window is empty (start and end are the same)"
            )

    def covers(self, local: datetime) -> bool:
        """True when the wall-clock time of ``local`` falls in the window."""
        t = (local.hour, local.minute)
        start = (self.start.hour, self.start.minute)
        end = (self.end.hour, self.end.minute)
        if start < end:
            return start <= t < end
        return t >= start or t < end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class ReminderSettings:
    """Every reminder setting, in one frozen value (the command line or the config fills it).

    ``stages`` are the minutes before the start for every kind not in ``kinds``;
    ``kinds`` pairs a kind with its own stages (an empty tuple: none for that kind).
    """

    enabled: bool = True
    stages: tuple[int, ...] = DEFAULT_STAGES
    kinds: tuple[tuple[str, tuple[int, ...]], ...] = DEFAULT_KIND_STAGES
    #: Ring the terminal bell.
    bell: bool = True
    #: Send a desktop notification through the terminal (OSC 777 and OSC 9).
    desktop: bool = True
    #: Only the dashboard notice during this window: no bell, desktop or command.
    quiet: QuietHours | None = None
    #: A shell command run for each reminder, with the event in TRIPDASH_* variables.
    command: str | None = None
    #: Run the command during a rehearsal too (never, unless asked).
    command_in_rehearsal: bool = False
    command_timeout: float = COMMAND_TIMEOUT

    def __post_init__(self) -> None:
        for stage in self.stages:
            _check_stage(stage, "stages")
        seen: set[str] = set()
        for kind, stages in self.kinds:
            if kind not in EVENT_KINDS:
                raise ReminderConfigError(f"unknown event kind {kind!r}{_kind_hint(kind)}")
            if kind in seen:
                raise ReminderConfigError(f"the stages of {kind!r} are given twice")
            seen.add(kind)
            for stage in stages:
                _check_stage(stage, kind)
        if self.command is not None and not self.command.strip():
            raise ReminderConfigError("the reminder command is empty")
        if not self.command_timeout > 0:
            raise ReminderConfigError("the command timeout must be a positive number of seconds")

    def stages_for(self, kind: str) -> tuple[int, ...]:
        """The stages of an event of ``kind``, farthest first, each once."""
        chosen = self.stages
        for k, stages in self.kinds:
            if k == kind:
                chosen = stages
                break
        return tuple(sorted(set(chosen), reverse=True))

    def describe(self) -> str:
        """``15, 5 min before; travel: 60`` (or ``off``), for listings and help."""
        if not self.enabled:
            return "off"
        parts = [f"{_stages_words(self.stages)} before"]
        parts += [f"{kind}: {_stages_words(stages)}" for kind, stages in self.kinds]
        return "; ".join(parts)


def _stages_words(stages: Sequence[int]) -> str:
    ordered = sorted(set(stages), reverse=True)
    return ", ".join(str(s) for s in ordered) + " min" if ordered else "none"


def _check_stage(stage: object, where: str) -> None:
    if isinstance(stage, bool) or not isinstance(stage, int):
        raise ReminderConfigError(f"{where}: a stage is a whole number of minutes, not {stage!r}")
    if not 1 <= stage <= MAX_STAGE_MINUTES:
        raise ReminderConfigError(
            f"{where}: a stage is a number of minutes from 1 to {MAX_STAGE_MINUTES}, not {stage}"
        )


def _kind_hint(kind: str) -> str:
    import difflib  # only when a kind is wrong

    close = difflib.get_close_matches(kind, EVENT_KINDS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; the kinds are {', '.join(EVENT_KINDS)}"


def parse_stages(text: str, where: str) -> tuple[int, ...]:
    """``15,5`` -> ``(15, 5)``; ``off`` -> ``()``. ReminderConfigError names ``where``."""
    raw = text.strip()
    if raw.lower() in ("off", "none"):
        return ()
    stages = []
    for part in raw.split(","):
        piece = part.strip().removesuffix("min").removesuffix("m").strip()
        if not re.fullmatch(r"[0-9]{1,6}", piece):
            raise ReminderConfigError(
                f"{where}: a stage is a whole number of minutes (as in 15,5), "
                f"not '{one_line(part.strip())}'"
            )
        value = int(piece)
        _check_stage(value, where)
        stages.append(value)
    return tuple(stages)


def apply_remind_options(settings: ReminderSettings, values: Iterable[str]) -> ReminderSettings:
    """``settings`` changed by ``--remind`` values: ``15,5``, ``travel=60,20`` or ``off``.

    ``off`` alone turns every reminder off; ``KIND=off`` turns off one kind. Later
    values win over earlier ones. ReminderConfigError says what is wrong.
    """
    enabled = settings.enabled
    stages = settings.stages
    kinds = dict(settings.kinds)
    for value in values:
        where = f"--remind '{one_line(value)}'"
        if "=" in value:
            kind, _, rest = value.partition("=")
            kind = kind.strip().lower()
            if kind not in EVENT_KINDS:
                raise ReminderConfigError(
                    f"{where}: unknown event kind '{one_line(kind)}'{_kind_hint(kind)}"
                )
            kinds[kind] = parse_stages(rest, where)
            enabled = True
        elif value.strip().lower() in ("off", "none"):
            enabled = False
        else:
            stages = parse_stages(value, where)
            enabled = True
    return replace(settings, enabled=enabled, stages=stages, kinds=tuple(kinds.items()))


_HHMM = r"([01]?[0-9]|2[0-3]):([0-5][0-9])"


def parse_quiet(text: str) -> QuietHours:
    """``22:00-07:00`` -> QuietHours (local time where the delegation is)."""
    start, sep, end = text.strip().partition("-")
    a, b = re.fullmatch(_HHMM, start.strip()), re.fullmatch(_HHMM, end.strip())
    if not sep or a is None or b is None:
        raise ReminderConfigError(
            f"--quiet '{one_line(text)}': give a local-time window such as 22:00-07:00"
        )
    return QuietHours(time(int(a[1]), int(a[2])), time(int(b[1]), int(b[2])))
