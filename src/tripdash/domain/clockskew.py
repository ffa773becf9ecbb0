"""How far this laptop's clock is from the sync server's, and what that means.

Sync refuses a pulled mark or record dated more than :data:`CLOCK_MARGIN_MS` ahead of
the receiving laptop's clock (:mod:`tripdash.domain.sync`). A laptop whose own clock
runs that far fast is refused by the whole team, and nothing in what it pulls tells it
so: the server's HTTP ``Date`` does. Kept apart from the sync module (and its httpx)
because the header words it.
"""

from __future__ import annotations

from datetime import timedelta

from tripdash.domain.times import UTC, humanize_delta

#: A pulled mark's clock may be at most this far ahead of the receiving laptop's wall
#: clock (a laptop whose clock is hours wrong still syncs; a forged far-future clock,
#: which would push every later mark's clock towards 2**53, is refused).
CLOCK_MARGIN_MS = 24 * 3600 * 1000
#: A laptop whose clock is further than this from the server's is told (the header and
#: ``tripdash sync``): what is on now and next, and the time of every mark made there,
#: come from that clock. The server's ``Date`` is to the second, and an answer takes a
#: moment to arrive: a right clock reads within about a second of it.
CLOCK_WARN_MS = 2 * 60 * 1000


#: How far inside a threshold a measure must come back before what it set off is lifted
#: (the ``Date`` is to the second and answers take varying time: a clock about 2 minutes
#: off would otherwise be told, then not, round after round).
SLACK_MS = 60 * 1000

#: The levels of :func:`skew_level`, each worse than the last.
NEAR, OFF, REFUSED = 0, 1, 2

_HOURS = CLOCK_MARGIN_MS // 3_600_000


def skew_level(skew_ms: int | None, marks_ahead_ms: int | None = None, before: int = NEAR) -> int:
    """How bad a laptop's clock is against the server's, given the level ``before``.

    :data:`REFUSED`: the clock is more than :data:`CLOCK_MARGIN_MS` either way (fast, the
    team refuses what is made here; slow, this laptop refuses what the team makes), or
    the marks made here are dated that far ahead of the server's clock (``marks_ahead_ms``:
    a clock that ran fast leaves its time in the marks' clock after it is set right).
    :data:`OFF`: more than :data:`CLOCK_WARN_MS` either way. :data:`NEAR` otherwise. A
    level reached holds until the measure is :data:`SLACK_MS` inside its threshold.
    """

    def beyond(value: int | None, threshold: int, level: int) -> bool:
        held = SLACK_MS if before >= level else 0
        return value is not None and value > threshold - held

    size = abs(skew_ms) if skew_ms is not None else None
    if beyond(size, CLOCK_MARGIN_MS, REFUSED) or beyond(marks_ahead_ms, CLOCK_MARGIN_MS, REFUSED):
        return REFUSED
    if beyond(size, CLOCK_WARN_MS, OFF):
        return OFF
    return NEAR


def _minutes(ms: int) -> str:
    # To the nearest minute: a clock 26 h fast reads 25 h 59 min 59.5 s against the
    # middle of the server's second, and is 26 h fast.
    return humanize_delta(timedelta(minutes=round(abs(ms) / 60_000)))


def describe_skew(
    skew_ms: int | None,
    short: bool = False,
    *,
    marks_ahead_ms: int | None = None,
    level: int | None = None,
) -> str:
    """What a laptop's clock that far from the server's means, or "" when it is near.

    ``level`` is :func:`skew_level`'s (worked out from the two measures when not given).
    A refusal either way is said first, since nothing else tells this laptop. ``short``
    is the header's wording.
    """
    if level is None:
        level = skew_level(skew_ms, marks_ahead_ms)
    if level == NEAR:
        return ""
    clock_far = skew_ms is not None and abs(skew_ms) > CLOCK_MARGIN_MS - SLACK_MS
    if skew_ms is None or (level == REFUSED and not clock_far):
        # Refused for the marks' clock, not this clock (which is right now, or only off
        # by minutes): what was made while it ran fast is what the team refuses.
        ahead = _minutes(marks_ahead_ms or 0)
        if short:
            return f"⚠ marks dated {ahead} ahead"
        return (
            f"the marks, notes and shifts made here are dated up to {ahead} ahead of the "
            f"sync server's clock (this laptop's clock ran fast): the team's laptops "
            f"refuse those more than {_HOURS} h ahead of their own clocks until those "
            "clocks catch up"
        )
    delta = _minutes(skew_ms)
    if short:  # the header's: the notice and `tripdash sync` say against what
        return f"⚠ clock {delta} {'fast' if skew_ms > 0 else 'slow'}"
    way = "ahead of" if skew_ms > 0 else "behind"
    text = f"this laptop's clock is {delta} {way} the sync server's"
    if level == REFUSED and skew_ms > 0:
        return (
            f"{text}: the team's laptops refuse marks, notes and shifts dated more than "
            f"{_HOURS} h ahead of their own clocks, so those made here do not reach them; "
            "set this clock right"
        )
    if level == REFUSED and skew_ms < 0:
        return (
            f"{text}: this laptop refuses marks, notes and shifts dated more than {_HOURS} h "
            "ahead of its clock, so the team's do not reach it; set this clock right"
        )
    return (
        f"{text}: set it right (what is on now and next, and the time of every mark "
        "made here, come from it)"
    )


def clock_skew_ms(date: str | None, wall_ms: int) -> int | None:
    """How far ``wall_ms`` is ahead of a server's HTTP ``Date`` (negative: behind).

    The header is to the second, so the server's clock was somewhere in the second it
    names: its middle is taken. None for a header missing, overlong or unreadable (a
    server owes us no clock).
    """
    if not date or len(date) > 64:
        return None
    import email.utils  # here: only a sync round needs it, never the first frame

    try:
        when = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, its zone unknown to the sender
        when = when.replace(tzinfo=UTC)
    try:
        server_ms = int(when.timestamp() * 1000) + 500
    except (OverflowError, OSError, ValueError):
        return None
    return wall_ms - server_ms
