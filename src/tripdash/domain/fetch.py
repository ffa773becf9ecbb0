"""Trips from an address: safe fetching with httpx, a cache of the last good copy, offline use.

Rules: ``https://`` only (plain ``http://`` for loopback hosts, or when the
user allows it); TLS certificates verified; redirects followed by hand, each
hop checked by the same rule; connect and total deadlines; bodies over 2 MiB
refused. A bearer token (``TRIPDASH_TOKEN``) goes in a header and never into a
message, a log or a file name.

Every good copy is cached with its ETag and Last-Modified; later fetches are
conditional, so an unchanged trip costs a 304. With no connection, an HTTP
error, or a body that is not a valid trip, the last good copy is used and the
outcome says so. A bad new version never replaces a good one.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from tripdash.domain import safedir
from tripdash.domain.addresses import AnotherTrip as AnotherTrip
from tripdash.domain.addresses import FetchError as FetchError
from tripdash.domain.addresses import default_cache_dir as default_cache_dir
from tripdash.domain.addresses import is_url as is_url
from tripdash.domain.loader import LoadResult, TripInvalid, parse_trip_bytes
from tripdash.domain.text import escaped
from tripdash.domain.times import UTC, Clock, system_clock

MAX_BODY = 2 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 20.0
MAX_REDIRECTS = 5
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def redact(url: str) -> str:
    """``url`` without any user:password part, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_allowed(url: str, *, allow_http: bool) -> None:
    """Refuse addresses tripdash will not fetch from, with the reason."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        if not parts.hostname:
            raise FetchError(escaped(f"{redact(url)}: no host in the address"))
        return
    if parts.scheme == "http":
        if is_loopback(parts.hostname) or allow_http:
            return
        raise FetchError(
            escaped(
                f"{redact(url)}: plain http is refused (the schedule could be read or changed "
                "on the way); use https, or --allow-http if you must"
            )
        )
    raise FetchError(escaped(f"{redact(url)}: only https:// addresses can be fetched"))


def trip_id_from_url(url: str) -> str:
    """The default trip id of a fetched trip: the file name of the address without .toml."""
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return name.removesuffix(".toml") or urlsplit(url).hostname or "trip"


# -- the cache ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedCopy:
    """The last good copy of a trip from one address."""

    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: datetime  # when the server last confirmed this copy (200 or 304)
    stored_at: datetime  # when this body was first received

    def schedule_time(self) -> datetime:
        """The schedule's own date (Last-Modified) when the server gave one, else its arrival."""
        if self.last_modified:
            from email.utils import parsedate_to_datetime

            try:
                return parsedate_to_datetime(self.last_modified).astimezone(UTC)
            except (TypeError, ValueError):
                pass
        return self.stored_at


class TripCache:
    """Cached copies: per address, a metadata file naming a body file by its content hash.

    A new copy's body is written first under its own name, then the metadata is
    switched to it atomically, then the old body is removed: a crash at any point
    leaves the metadata naming a complete body, old or new.

    The directory is checked on every use (owned by the user, private: see
    :mod:`tripdash.domain.safedir`); files are read without following symbolic links
    and written under fresh names created exclusively, then renamed into place.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _key(self, url: str) -> str:
        return hashlib.sha256(redact(url).encode()).hexdigest()[:32]

    def _meta_path(self, url: str) -> Path:
        return self.directory / f"{self._key(url)}.json"

    def _meta(self, url: str) -> dict[str, object] | None:
        try:
            safedir.private_dir(self.directory, create=False)
            meta = json.loads(safedir.read_file(self._meta_path(url), limit=1 << 20))
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def load(self, url: str) -> CachedCopy | None:
        meta = self._meta(url)
        if meta is None:
            return None
        try:
            name = str(meta["body"])
            if "/" in name or "\\" in name or not name.startswith(self._key(url)):
                return None  # a body is always beside its metadata, named by its key
            body = safedir.read_file(self.directory / name, limit=MAX_BODY * 2)
            if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
                return None  # damaged on disk: ignore it rather than trust it
            return CachedCopy(
                body,
                _optional_text(meta.get("etag")),
                _optional_text(meta.get("last_modified")),
                datetime.fromisoformat(str(meta["fetched_at"])),
                datetime.fromisoformat(str(meta.get("stored_at", meta["fetched_at"]))),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def trip_of(self, url: str) -> tuple[str, str] | None:
        """The id and title of the trip cached for ``url``, as saved with it (else None)."""
        meta = self._meta(url)
        if meta is None:
            return None
        ident, title = meta.get("trip_id"), meta.get("trip_title")
        if isinstance(ident, str) and isinstance(title, str):
            return ident, title
        return None

    def save(self, url: str, copy: CachedCopy, trip: tuple[str, str] | None = None) -> None:
        """Keep ``copy`` as the last good one (see the class docstring for crash safety).

        ``trip`` is the copy's trip id and title, kept to notice when the address starts
        serving another trip. Raises ``OSError`` (``UnsafeLocation`` for a directory
        tripdash must not use).
        """
        safedir.private_dir(self.directory)
        digest = hashlib.sha256(copy.body).hexdigest()
        key = self._key(url)
        body_name = f"{key}-{digest[:16]}.toml"
        meta_path = self._meta_path(url)
        old = self._meta(url)
        previous = old.get("body") if old else None
        meta: dict[str, object] = {
            "url": redact(url),
            "etag": copy.etag,
            "last_modified": copy.last_modified,
            "fetched_at": copy.fetched_at.isoformat(),
            "stored_at": copy.stored_at.isoformat(),
            "sha256": digest,
            "body": body_name,
        }
        if trip is None and old and previous == body_name and isinstance(old.get("trip_id"), str):
            trip = (str(old["trip_id"]), str(old.get("trip_title", "")))  # same body, same trip
        if trip is not None:
            meta["trip_id"], meta["trip_title"] = trip
        safedir.write_file(self.directory / body_name, copy.body)
        safedir.write_file(meta_path, json.dumps(meta, indent=2).encode())
        if (
            isinstance(previous, str)
            and previous != body_name
            and previous.startswith(key)
            and "/" not in previous
        ):
            (self.directory / previous).unlink(missing_ok=True)


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- fetching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchOutcome:
    """What a fetch produced: the trip, and whether it is fresh, unchanged or a fallback.

    ``other-trip``: the address now serves a valid trip with another id. The cached
    trip stays in use (``result``, ``copy``); the new one waits in ``another_trip``
    until the user accepts it (``FetchSettings.accept_new_trip``, or
    :meth:`TripCache.save` of ``pending``).
    """

    result: LoadResult
    status: Literal["fresh", "not-modified", "offline", "other-trip"]
    copy: CachedCopy
    error: str | None = None  # why the last good copy is used (status "offline")
    problems: tuple[str, ...] = ()  # a bad new version's validation errors
    another_trip: AnotherTrip | None = None  # status "other-trip"
    pending: CachedCopy | None = None  # the other trip's body, to cache once accepted
    replaced: tuple[str, str] | None = None  # the (id, title) an accepted new trip replaced
    error_total: int | None = None  # the bad version's errors, when ``problems`` is cut


@dataclass(frozen=True)
class FetchSettings:
    """How to fetch: the knobs the command line and the tests set."""

    allow_http: bool = False
    token: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    total_timeout: float = TOTAL_TIMEOUT
    max_body: int = MAX_BODY
    transport: httpx.BaseTransport | None = None  # tests: httpx.MockTransport
    #: Replace the cached trip even when the address now serves one with another id.
    accept_new_trip: bool = False


def fetch_trip(
    url: str,
    cache: TripCache,
    settings: FetchSettings | None = None,
    *,
    clock: Clock = system_clock,
) -> FetchOutcome:
    """Fetch the trip at ``url``, falling back to the cached copy.

    Raises :class:`FetchError` when there is neither a usable answer nor a
    cached copy, and :class:`TripInvalid` when the address serves an invalid
    trip and nothing good is cached.
    """
    settings = settings or FetchSettings()
    check_allowed(url, allow_http=settings.allow_http)
    cached = cache.load(url)
    default_id = trip_id_from_url(url)
    try:
        response_body, status, headers = _download(url, cached, settings)
    except FetchError as exc:
        return _fallback(url, cached, str(exc), default_id)

    now = clock().astimezone(UTC)
    if status == 304 and cached is None:
        # Not an empty trip: a 304 to a request that had nothing to be conditional on.
        reason = f"{redact(url)}: HTTP 304 Not Modified, but nothing was asked conditionally"
        return _fallback(url, cached, reason, default_id)
    if status == 304 and cached is not None:
        copy = CachedCopy(cached.body, cached.etag, cached.last_modified, now, cached.stored_at)
        result = parse_trip_bytes(copy.body, source=redact(url), default_id=default_id)
        _keep(cache, url, copy)
        return FetchOutcome(result, "not-modified", copy)
    try:
        result = parse_trip_bytes(response_body, source=redact(url), default_id=default_id)
    except TripInvalid as exc:
        if cached is None:
            raise
        count = exc.error_count
        reason = f"the new version is not a valid trip ({count} error{'s' if count != 1 else ''})"
        outcome = _fallback(url, cached, reason, default_id)
        return FetchOutcome(
            outcome.result,
            "offline",
            outcome.copy,
            reason,
            tuple(str(p) for p in exc.errors),
            error_total=count,
        )
    copy = CachedCopy(response_body, headers.get("etag"), headers.get("last-modified"), now, now)
    new_trip = (result.trip.id, result.trip.title)
    old_trip = _cached_trip(cache, url, cached, default_id)
    if old_trip is not None and old_trip[0] != new_trip[0]:
        if not settings.accept_new_trip:
            assert cached is not None
            waiting = AnotherTrip(*old_trip, *new_trip, result)
            kept = parse_trip_bytes(cached.body, source=redact(url), default_id=default_id)
            reason = waiting.describe(redact(url))
            return FetchOutcome(kept, "other-trip", cached, reason, (), waiting, copy)
        _keep(cache, url, copy, new_trip)
        return FetchOutcome(result, "fresh", copy, replaced=old_trip)
    _keep(cache, url, copy, new_trip)
    return FetchOutcome(result, "fresh", copy)


def _cached_trip(
    cache: TripCache, url: str, cached: CachedCopy | None, default_id: str
) -> tuple[str, str] | None:
    """The (id, title) of the cached copy's trip: as saved with it, else read from it."""
    if cached is None:
        return None
    known = cache.trip_of(url)
    if known is not None:
        return known
    try:  # a copy cached by an older tripdash: no id saved with it
        trip = parse_trip_bytes(cached.body, source=redact(url), default_id=default_id).trip
    except TripInvalid:
        return None
    return trip.id, trip.title


def _keep(
    cache: TripCache, url: str, copy: CachedCopy, trip: tuple[str, str] | None = None
) -> None:
    """Cache a good copy; a cache that cannot be written costs the offline copy, not the trip."""
    with contextlib.suppress(OSError):
        cache.save(url, copy, trip)


def _fallback(url: str, cached: CachedCopy | None, reason: str, default_id: str) -> FetchOutcome:
    if cached is None:
        raise FetchError(f"{reason}; no copy of this trip was saved before")
    result = parse_trip_bytes(cached.body, source=redact(url), default_id=default_id)
    return FetchOutcome(result, "offline", cached, reason)


#: What tripdash can decode: each layer of a body is inflated as it streams, counted.
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
#: Decoded bytes handed on at a time by each layer: what bounds memory, whatever the ratio.
_PIECE = 64 * 1024
#: Request headers that belong to the origin they were made for (validators of its
#: cached copy, the token): never sent on to another origin by a redirect.
_ORIGIN_HEADERS = ("Authorization", "If-None-Match", "If-Modified-Since", "Cookie")


class _Failed(FetchError):
    """A FetchError whose message quotes a server (a Location, a reason phrase, an error):
    escaped, so that it can be printed or shown anywhere."""

    def __init__(self, message: str) -> None:
        super().__init__(escaped(message))


def _download(
    url: str, cached: CachedCopy | None, settings: FetchSettings
) -> tuple[bytes, int, httpx.Headers]:
    """GET with manual, checked redirects and hard limits. Returns (body, status, headers).

    One deadline covers the whole exchange, every hop, the status line, the headers and
    the body, however slowly a server sends them (see :class:`_Deadline`).
    """
    deadline = _Deadline(settings.total_timeout)
    try:
        return _exchange(url, cached, settings, deadline)
    finally:
        deadline.cancel()


def _exchange(
    url: str, cached: CachedCopy | None, settings: FetchSettings, deadline: _Deadline
) -> tuple[bytes, int, httpx.Headers]:
    late = f"took longer than {settings.total_timeout:g} s"
    headers = {
        "Accept": "application/toml, text/plain;q=0.9, */*;q=0.1",
        # Only what can be inflated layer by layer with a bound (see _decoded).
        "Accept-Encoding": "gzip, deflate",
    }
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    if cached is not None:
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
    timeout = httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout)
    transport = settings.transport or _DeadlineTransport(deadline)
    current = url
    try:
        with httpx.Client(
            timeout=timeout,
            verify=True,
            follow_redirects=False,
            transport=transport,
            trust_env=False,
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                # The total deadline covers every hop, not each one afresh.
                remaining = deadline.left()
                if remaining <= 0:
                    raise _Failed(f"{redact(current)}: {late}")
                hop_timeout = httpx.Timeout(
                    remaining, connect=min(settings.connect_timeout, remaining)
                )
                with client.stream(
                    "GET", current, headers=headers, timeout=hop_timeout
                ) as response:
                    # tripdash keeps no cookies: a cookie is one origin's, and a port
                    # is not part of a cookie's scope.
                    client.cookies.clear()
                    # Not `is_redirect`: that is true of any 3xx, 304 Not Modified included.
                    if response.has_redirect_location:
                        current = _redirect(current, response, headers, settings)
                        continue
                    if response.status_code == 304:
                        return b"", 304, response.headers
                    if response.status_code != 200:
                        phrase = response.reason_phrase or ""
                        raise _Failed(
                            f"{redact(current)}: HTTP {response.status_code} {phrase}".rstrip()
                        )
                    length = response.headers.get("content-length")
                    if length and length.isdigit() and int(length) > settings.max_body:
                        raise _Failed(_too_big(current, settings.max_body))
                    body = _read_body(current, response, settings.max_body, deadline, late)
                    return body, 200, response.headers
            raise _Failed(f"{redact(url)}: more than {MAX_REDIRECTS} redirects")
    except httpx.HTTPError as exc:
        # A read cut off by the deadline can surface as any transport error.
        if deadline.expired or deadline.left() <= 0:
            raise _Failed(f"{redact(current)}: {late}") from None
        if isinstance(exc, httpx.TimeoutException):
            raise _Failed(f"{redact(current)}: timed out") from None
        if isinstance(exc, httpx.ConnectError):
            raise _Failed(f"{redact(current)}: cannot connect ({_short(exc)})") from None
        raise _Failed(f"{redact(current)}: {_short(exc)}") from None


def _redirect(
    current: str, response: httpx.Response, headers: dict[str, str], settings: FetchSettings
) -> str:
    """The next address of a redirect, checked; ``headers`` lose what was ``current``'s."""
    location = str(response.headers.get("location", ""))
    target: str = urljoin(current, location)
    try:
        given = urlsplit(location)
        userinfo = given.username is not None or given.password is not None
    except ValueError:
        raise _Failed(f"{redact(current)}: redirects to an unreadable address: refused") from None
    if userinfo:
        raise _Failed(
            f"{redact(current)}: redirects to {redact(target)} with a user name or password "
            "in the address: refused (credentials are never taken from a server)"
        )
    try:
        check_allowed(target, allow_http=settings.allow_http)
    except FetchError:
        raise _Failed(
            f"{redact(current)}: redirects to {redact(target)}, which is not https: refused"
        ) from None
    if _origin(target) != _origin(current):
        for name in _ORIGIN_HEADERS:
            headers.pop(name, None)  # never hand one origin's token or validators on
    return target


def _read_body(
    url: str, response: httpx.Response, limit: int, deadline: _Deadline, late: str
) -> bytes:
    """The decoded body, counted as it streams: refused as soon as it passes ``limit``."""
    if response.is_stream_consumed:
        # An in-memory answer (httpx.MockTransport, in tests): httpx has read and decoded
        # it already; there is nothing left to stream.
        if len(response.content) > limit:
            raise _Failed(_too_big(url, limit))
        return response.content
    encodings = [
        e.strip().lower()
        for e in response.headers.get("content-encoding", "").split(",")
        if e.strip() and e.strip().lower() != "identity"
    ]
    if len(encodings) > 4:
        raise _Failed(f"{redact(url)}: the body is encoded {len(encodings)} times: refused")
    for encoding in encodings:
        if encoding not in _DECODERS:
            raise _Failed(f"{redact(url)}: the body is encoded as {encoding!r}, which is not read")
    pieces: Iterator[bytes] = response.iter_raw()
    # Content-Encoding lists the codings in the order they were applied: undo them last first.
    for encoding in reversed(encodings):
        pieces = _inflate(pieces, _DECODERS[encoding], url)
    chunks: list[bytes] = []
    size = 0
    for chunk in pieces:
        size += len(chunk)
        if size > limit:
            raise _Failed(_too_big(url, limit))
        if deadline.left() <= 0:
            raise _Failed(f"{redact(url)}: {late}")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(pieces: Iterator[bytes], wbits: int, url: str) -> Iterator[bytes]:
    """One layer of gzip or deflate undone, never more than :data:`_PIECE` bytes at a time.

    ``decompress(data, max_length)`` keeps what it has not inflated yet in
    ``unconsumed_tail``: a bomb costs one piece of memory per layer, not its size.
    """
    decoder = zlib.decompressobj(wbits)
    try:
        for data in pieces:
            while data:
                if decoder.eof:  # another gzip member follows
                    data = decoder.unused_data + data
                    decoder = zlib.decompressobj(wbits)
                out = decoder.decompress(data, _PIECE)
                data = decoder.unconsumed_tail
                if out:
                    yield out
        while not decoder.eof:
            out = decoder.decompress(b"", _PIECE)
            if not out:
                break
            yield out
    except zlib.error as exc:
        raise _Failed(f"{redact(url)}: the body cannot be decoded ({exc})") from None


class _Deadline:
    """The one deadline of an exchange, enforced on its sockets.

    httpx's timeouts bound each read, so a server sending one byte a second never trips
    them. Here every read and write is given at most the time left, and when the time is
    up a timer shuts the exchange's sockets down, which ends a read blocked anywhere (a
    TLS handshake included).
    """

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return self.at - time.monotonic()

    def clamp(self, timeout: float | None, error: type[Exception]) -> float:
        """``timeout`` cut to the time left; ``error`` when none is left."""
        left = self.left()
        if left <= 0 or self.expired:
            raise error("the exchange's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def track(self, sock: object) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline
        deadline.track(inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, wait), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, each wrapped in a :class:`_DeadlineStream`."""

    def __init__(self, deadline: _Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        wait = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, wait, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        wait = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, wait, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self._deadline.left(), 0.0)))


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport (certificates verified, no proxy from the environment) on
    connections that keep the exchange's deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__(verify=True, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
            network_backend=_DeadlineBackend(deadline),
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)


def _too_big(url: str, limit: int) -> str:
    return f"{redact(url)}: the trip is larger than {limit // 1024 // 1024} MiB: refused"


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
