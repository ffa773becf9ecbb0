"""Where a trip comes from (a file or an address), and how to notice a new version of it.

A :class:`TripSource` loads a trip and, when polled, says whether a new valid
version exists. A new version that is not valid never replaces the one in use:
the poll reports its problems instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tripdash.domain import loader
from tripdash.domain.loader import LoadResult, TripInvalid
from tripdash.domain.times import Clock, system_clock

if TYPE_CHECKING:
    from tripdash.domain.fetch import FetchSettings, TripCache


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


@dataclass(frozen=True)
class SourceStatus:
    """How fresh the trip in use is, for the header."""

    offline: bool = False
    reason: str | None = None  # why the last good copy is in use
    schedule_as_of: datetime | None = None  # the copy's own date (Last-Modified or arrival)
    fetched_at: datetime | None = None  # when the server last confirmed the copy


@dataclass(frozen=True)
class Loaded:
    """The outcome of loading or polling a source."""

    result: LoadResult | None  # None: nothing new (or the new version was not valid)
    status: SourceStatus = field(default_factory=SourceStatus)
    problems: tuple[str, ...] = ()  # a bad new version's errors, already formatted


class TripSource:
    """A trip file or a trip address."""

    def __init__(
        self,
        location: str,
        *,
        cache: TripCache | None = None,
        settings: FetchSettings | None = None,
        clock: Clock = system_clock,
        parsed_cache: Path | None = None,
    ) -> None:
        self.location = location
        self.is_url = is_url(location)
        self._cache = cache
        self._settings = settings
        self._clock = clock
        self._parsed_cache = parsed_cache
        self._fingerprint: tuple[int, int] | None = None
        self._digest: str | None = None

    @property
    def parsed_cache(self) -> Path | None:
        """Where validated copies of this trip are cached (None: not cached)."""
        return self._parsed_cache

    @property
    def display(self) -> str:
        if not self.is_url:
            return self.location
        from tripdash.domain.fetch import redact

        return redact(self.location)

    def load(self) -> Loaded:
        """Load the trip now. Raises TripInvalid, FetchError or OSError when there is none."""
        if self.is_url:
            return self._fetch()
        path = Path(self.location)
        stat = path.stat()
        with path.open("rb"):
            pass  # unreadable (permissions): an OSError for the caller, not a trip error
        self._fingerprint = (stat.st_mtime_ns, stat.st_size)
        result = loader.load_trip(path, cache_dir=self._parsed_cache)
        return Loaded(result)

    def looks_changed(self) -> bool:
        """For a file: whether it changed on disk since loaded (one stat; cheap to poll)."""
        if self.is_url:
            return True
        try:
            stat = Path(self.location).stat()
        except OSError:
            return True  # let poll() report it
        return (stat.st_mtime_ns, stat.st_size) != self._fingerprint

    def poll(self) -> Loaded:
        """Look for a new version: a file that changed on disk, or a fetch of the address."""
        if self.is_url:
            return self._fetch(only_new=True)
        path = Path(self.location)
        try:
            stat = path.stat()
        except OSError as exc:
            return Loaded(None, SourceStatus(reason=f"{self.location}: {exc.strerror or exc}"))
        fingerprint = (stat.st_mtime_ns, stat.st_size)
        if fingerprint == self._fingerprint:
            return Loaded(None)
        self._fingerprint = fingerprint
        try:
            return Loaded(loader.load_trip(path, cache_dir=self._parsed_cache))
        except TripInvalid as exc:
            return Loaded(None, problems=tuple(str(p) for p in exc.errors))

    def _fetch(self, *, only_new: bool = False) -> Loaded:
        # httpx is imported only when an address is used.
        from tripdash.domain.fetch import FetchSettings, fetch_trip

        if self._cache is None:
            raise FetchError("no cache directory for fetched trips")
        settings = self._settings or FetchSettings()
        outcome = fetch_trip(self.location, self._cache, settings, clock=self._clock)
        status = SourceStatus(
            offline=outcome.status == "offline",
            reason=outcome.error,
            schedule_as_of=outcome.copy.schedule_time(),
            fetched_at=outcome.copy.fetched_at,
        )
        digest = hashlib.sha256(outcome.copy.body).hexdigest()
        if only_new and digest == self._digest:
            return Loaded(None, status, outcome.problems)
        self._digest = digest
        return Loaded(outcome.result, status, outcome.problems)


def expand(paths: list[str]) -> list[str]:
    """Files and addresses: folders become their ``.toml`` files. Raises OSError."""
    found: list[str] = []
    for raw in paths:
        if is_url(raw):
            found.append(raw)
        else:
            found.extend(str(p) for p in loader.discover(raw))
    return found
