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


def describe_skew(skew_ms: int | None, short: bool = False) -> str:
    """What a laptop's clock that far from the server's means, or "" when it is near.

    Ahead by more than :data:`CLOCK_MARGIN_MS`, the others refuse the marks and records
    made here (see :func:`validate_mark`): that is said first, since nothing else tells
    this laptop. ``short`` is the header's wording.
    """
    if skew_ms is None or abs(skew_ms) <= CLOCK_WARN_MS:
        return ""
    # To the nearest minute: a clock 26 h fast reads 25 h 59 min 59.5 s against the
    # middle of the server's second, and is 26 h fast.
    delta = humanize_delta(timedelta(minutes=round(abs(skew_ms) / 60_000)))
    way = "ahead of" if skew_ms > 0 else "behind"
    if short:  # the header's: the notice and `tripdash sync` say against what
        return f"⚠ clock {delta} {'fast' if skew_ms > 0 else 'slow'}"
    text = f"this laptop's clock is {delta} {way} the sync server's"
    if skew_ms > CLOCK_MARGIN_MS:
        hours = CLOCK_MARGIN_MS // 3_600_000
        return (
            f"{text}: the team's laptops refuse marks, notes and shifts dated more than "
            f"{hours} h ahead of their own clocks, so those made here do not reach them; "
            "set this clock right"
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
