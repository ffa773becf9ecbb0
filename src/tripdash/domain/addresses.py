"""Addresses and what fetching them can say: the leaf that sources and fetch share.

:mod:`tripdash.domain.sources` uses :mod:`tripdash.domain.fetch` (only when an address
is opened, so that httpx is imported only then); both need these, so they live here
and neither imports the other to get them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tripdash.domain.problems import LoadResult


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$TRIPDASH_CACHE_DIR``, else the platform's user cache directory for tripdash."""
    env = os.environ if env is None else env
    if env.get("TRIPDASH_CACHE_DIR"):
        return Path(env["TRIPDASH_CACHE_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("tripdash", appauthor=False))


class FetchError(Exception):
    """Fetching failed; the message is safe to show (no token, no credentials).

    Defined here, not in :mod:`tripdash.domain.fetch`, so that catching it does
    not import httpx when no address is in use.
    """


def is_url(text: str) -> bool:
    """Whether a PATH argument is an address rather than a file."""
    return text.startswith(("https://", "http://"))


#: Longer addresses are refused (servers and httpx refuse them anyway, less clearly).
MAX_URL = 2048


def check_url(url: str) -> None:
    """Raise ValueError, with a message for the user, when ``url`` is not a usable address.

    A bracket left open (``https://[::1``), a port out of range (``:99999``) or an
    address of several kilobytes would otherwise fail deep in the URL parser.
    """
    from urllib.parse import urlsplit

    if len(url) > MAX_URL:
        raise ValueError(f"the address is {len(url):,} characters long; at most {MAX_URL:,}")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise ValueError("the address holds spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        reason = str(exc)
        if "Port" in reason or "port" in reason:
            reason = "the port must be a number from 1 to 65535"
        raise ValueError(f"not a valid address: {reason}") from None
    if not parts.hostname:
        raise ValueError("not a valid address: no host")
    if port == 0:
        raise ValueError("not a valid address: the port must be a number from 1 to 65535")


@dataclass(frozen=True)
class AnotherTrip:
    """A new version whose trip id differs from the trip in use: never applied silently.

    The UI asks; :meth:`TripSource.accept_new_trip` applies it. The marks of the old
    trip stay under its id (marks are kept per trip id), whatever is chosen.
    """

    old_id: str
    old_title: str
    new_id: str
    new_title: str
    result: LoadResult  # the new trip, validated

    def describe(self, where: str) -> str:
        """``WHERE now serves another trip: ...``, one terminal-safe line."""
        from tripdash.domain.text import one_line

        verb = "now serves" if is_url(where) else "now holds"
        return one_line(
            f"{where} {verb} another trip: {self.new_title!r} (id {self.new_id}), not "
            f"{self.old_title!r} (id {self.old_id}); the marks of {self.old_id} stay "
            "under its id"
        )
