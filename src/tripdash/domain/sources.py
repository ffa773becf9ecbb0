"""Where a trip comes from (a file or an address), and how to notice a new version of it.

A :class:`TripSource` loads a trip and, when polled, says whether a new valid
version exists. A new version that is not valid never replaces the one in use:
the poll reports its problems instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tripdash.domain import loader
from tripdash.domain.addresses import (
    MAX_URL as MAX_URL,
)
from tripdash.domain.addresses import (
    AnotherTrip as AnotherTrip,
)
from tripdash.domain.addresses import (
    FetchError as FetchError,
)
from tripdash.domain.addresses import (
    check_url as check_url,
)
from tripdash.domain.addresses import (
    default_cache_dir as default_cache_dir,
)
from tripdash.domain.addresses import (
    is_url as is_url,
)
from tripdash.domain.loader import LoadResult, TripInvalid
from tripdash.domain.times import Clock, system_clock

if TYPE_CHECKING:
    from tripdash.domain.fetch import FetchSettings, TripCache


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
    #: Set when the new version is another trip (another id): ``result`` is then the
    #: trip still in use (or None from a poll); ask, then call accept_new_trip().
    another_trip: AnotherTrip | None = None
    #: (id, title) of the trip an accepted new one replaced (``--accept-new-trip``).
    replaced: tuple[str, str] | None = None
    #: How many errors the bad version has when ``problems`` holds only the first ones
    #: and a line counting the rest (:attr:`TripInvalid.error_count`); None: one each.
    error_total: int | None = None

    @property
    def error_count(self) -> int:
        """Every error of the bad new version, shown in ``problems`` or not."""
        return len(self.problems) if self.error_total is None else self.error_total


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
        #: The id and title of the trip in use (to notice a version that is another trip).
        self._trip: tuple[str, str] | None = None
        self._waiting: AnotherTrip | None = None
        self._waiting_copy: object | None = None  # an address's: the CachedCopy to keep
        self._announced: str | None = None  # the waiting body's digest, once reported

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
        self._use(result)
        return Loaded(result)

    def _use(self, result: LoadResult) -> None:
        self._trip = (result.trip.id, result.trip.title)
        self._waiting = self._waiting_copy = None
        self._announced = None

    @property
    def waiting(self) -> AnotherTrip | None:
        """A new version that is another trip, waiting to be accepted (else None)."""
        return self._waiting

    def accept_new_trip(self) -> Loaded:
        """Apply the waiting other trip (the user said yes); Loaded(None) if none waits.

        For an address, its copy replaces the cached one (the old trip's marks stay
        under the old id). A cache that cannot be written is said in the status.
        """
        waiting = self._waiting
        if waiting is None:
            return Loaded(None)
        status = SourceStatus()
        if self.is_url and self._waiting_copy is not None and self._cache is not None:
            import hashlib

            from tripdash.domain.fetch import CachedCopy

            copy = self._waiting_copy
            assert isinstance(copy, CachedCopy)
            try:
                self._cache.save(self.location, copy, (waiting.new_id, waiting.new_title))
            except OSError as exc:
                status = SourceStatus(reason=f"the new trip could not be cached: {exc}")
            self._digest = hashlib.sha256(copy.body).hexdigest()
            status = SourceStatus(
                reason=status.reason,
                schedule_as_of=copy.schedule_time(),
                fetched_at=copy.fetched_at,
            )
        self._use(waiting.result)
        return Loaded(waiting.result, status, replaced=(waiting.old_id, waiting.old_title))

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
            result = loader.load_trip(path, cache_dir=self._parsed_cache)
        except TripInvalid as exc:
            errors = tuple(str(p) for p in exc.errors)
            return Loaded(None, problems=errors, error_total=exc.error_count)
        if self._trip is not None and result.trip.id != self._trip[0]:
            self._waiting = AnotherTrip(*self._trip, result.trip.id, result.trip.title, result)
            reason = self._waiting.describe(self.display)
            return Loaded(None, SourceStatus(reason=reason), another_trip=self._waiting)
        self._use(result)
        return Loaded(result)

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
        if outcome.another_trip is not None and outcome.pending is not None:
            waiting = outcome.another_trip
            self._waiting, self._waiting_copy = waiting, outcome.pending
            pending = hashlib.sha256(outcome.pending.body).hexdigest()
            news = pending != self._announced  # each new body is reported once
            self._announced = pending
            if only_new:
                return Loaded(
                    None,
                    status,
                    outcome.problems,
                    waiting if news else None,
                    error_total=outcome.error_total,
                )
            self._digest = hashlib.sha256(outcome.copy.body).hexdigest()
            self._trip = (outcome.result.trip.id, outcome.result.trip.title)
            return Loaded(
                outcome.result, status, outcome.problems, waiting, error_total=outcome.error_total
            )
        digest = hashlib.sha256(outcome.copy.body).hexdigest()
        if only_new and digest == self._digest:
            return Loaded(None, status, outcome.problems, error_total=outcome.error_total)
        self._digest = digest
        self._use(outcome.result)
        return Loaded(
            outcome.result,
            status,
            outcome.problems,
            replaced=outcome.replaced,
            error_total=outcome.error_total,
        )


def expand(paths: list[str]) -> list[str]:
    """Files and addresses: folders become their ``.toml`` files. Raises OSError."""
    found: list[str] = []
    for raw in paths:
        if is_url(raw):
            found.append(raw)
        else:
            found.extend(str(p) for p in loader.discover(raw))
    return found
