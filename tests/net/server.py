"""A small real HTTP server for the fetch tests, on 127.0.0.1 only.

Each test configures its own routes (a path -> a :class:`Route`). The server
answers in a thread (``ThreadingHTTPServer``), counts requests per path and
records their headers, so a test can assert what tripdash sent: conditional
headers, the bearer token, or its absence after a redirect.

Nothing here ever connects anywhere: redirects only *name* other addresses
(``http://example.invalid/...`` must be refused by tripdash before any
connection is made). Slow answers wait on an event that :meth:`TestServer.stop`
sets, so no handler thread outlives a test by more than its bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: A handler route: given the request, write an answer with the helpers of ``Handler``.
Responder = Callable[["Handler", "Recorded"], None]

#: No handler ever sleeps longer than this, whatever a test asks for.
MAX_SLEEP = 5.0


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class TripRoute:
    """A trip file with an ETag and a Last-Modified date; answers 304 when they match.

    ``body``, ``etag`` and ``last_modified`` may be changed by the test between fetches
    (a new version of the trip).
    """

    body: bytes
    etag: str | None = '"v1"'
    last_modified: str | None = "Tue, 17 Jan 2023 06:12:00 GMT"
    content_type: str = "application/toml; charset=utf-8"

    def __call__(self, h: Handler, req: Recorded) -> None:
        if self._not_modified(req):
            h.answer(304, b"", self._validators())
            return
        h.answer(200, self.body, {"Content-Type": self.content_type, **self._validators()})

    def _validators(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["ETag"] = self.etag
        if self.last_modified:
            out["Last-Modified"] = self.last_modified
        return out

    def _not_modified(self, req: Recorded) -> bool:
        inm = req.header("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            tags = [t.strip() for t in inm.split(",")]
            return self.etag is not None and (self.etag in tags or "*" in tags)
        ims = req.header("If-Modified-Since")
        if ims is not None and self.last_modified:
            try:
                return parsedate_to_datetime(self.last_modified) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False


@dataclass
class StatusRoute:
    """An HTTP error (404, 500, ...) with a short body."""

    status: int
    body: bytes = b"nothing here\n"

    def __call__(self, h: Handler, req: Recorded) -> None:
        h.answer(self.status, self.body, {"Content-Type": "text/plain"})


@dataclass
class RedirectRoute:
    """A redirect to ``location`` (absolute, or relative to this server)."""

    location: str
    status: int = 302

    def __call__(self, h: Handler, req: Recorded) -> None:
        h.answer(self.status, b"", {"Location": self.location})


@dataclass
class SlowRoute:
    """Waits ``delay`` seconds before any header (``trickle`` False), or sends the headers
    at once and then one byte every ``delay`` seconds (``trickle`` True), ``count`` times."""

    delay: float
    trickle: bool = False
    count: int = 10
    body: bytes = b""

    def __call__(self, h: Handler, req: Recorded) -> None:
        delay = min(self.delay, MAX_SLEEP)
        if not self.trickle:
            if h.server_obj.stopping.wait(delay):
                return
            h.answer(200, self.body, {"Content-Type": "application/toml"})
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/toml")
        h.send_header("Content-Length", str(self.count))
        h.end_headers()
        h.wfile.flush()
        deadline = time.monotonic() + MAX_SLEEP
        for _ in range(self.count):
            if h.server_obj.stopping.wait(delay) or time.monotonic() > deadline:
                return
            h.wfile.write(b"#")
            h.wfile.flush()


@dataclass
class DelayedRoute:
    """Waits ``delay`` seconds (bounded), then answers as ``inner`` would."""

    delay: float
    inner: Responder

    def __call__(self, h: Handler, req: Recorded) -> None:
        if h.server_obj.stopping.wait(min(self.delay, MAX_SLEEP)):
            return
        self.inner(h, req)


@dataclass
class BigRoute:
    """A body of ``size`` bytes (a TOML comment), with or without a Content-Length."""

    size: int
    content_length: bool = True

    def __call__(self, h: Handler, req: Recorded) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/toml")
        if self.content_length:
            h.send_header("Content-Length", str(self.size))
        else:
            h.close_connection = True  # HTTP/1.0: the body ends when the connection closes
        h.end_headers()
        chunk = b"#" * 65535 + b"\n"
        sent = 0
        while sent < self.size:
            piece = chunk[: self.size - sent]
            h.wfile.write(piece)
            sent += len(piece)
            h.server_obj.bytes_sent += len(piece)


class Handler(BaseHTTPRequestHandler):
    """Looks the path up in the server's routes; 404 for anything unknown."""

    server_version = "tripdash-test/1"
    sys_version = ""

    @property
    def server_obj(self) -> TestServer:
        return self.server.owner  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:
        owner = self.server_obj
        path = self.path.split("?", 1)[0]
        req = Recorded("GET", path, {k.lower(): v for k, v in self.headers.items()})
        with owner.lock:
            owner.requests.append(req)
        route = owner.routes.get(path)
        try:
            if route is None:
                self.answer(404, b"no such route\n", {"Content-Type": "text/plain"})
            else:
                route(self, req)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, or a body too large): that is the test

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest output stays readable


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a name lookup: not wanted here.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-answer is expected in these tests


@dataclass
class TestServer:
    """The server, its routes and what it received."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    routes: dict[str, Responder] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    bytes_sent: int = 0
    _httpd: _Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    def start(self) -> TestServer:
        httpd = _Server(("127.0.0.1", self.port), Handler)  # port 0: a free one
        httpd.owner = self  # type: ignore[attr-defined]
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the port; wakes any slow handler."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def seen(self, path: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def count(self, path: str | None = None) -> int:
        with self.lock:
            return len([r for r in self.requests if path is None or r.path == path])

    def trip(self, path: str, body: bytes, **kwargs: str | None) -> TripRoute:
        route = TripRoute(body, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route
        return route


def http_date(epoch: float) -> str:
    """An HTTP date (``Tue, 17 Jan 2023 06:12:00 GMT``) for ``epoch``."""
    return formatdate(epoch, usegmt=True)


# -- hostile answers ----------------------------------------------------------------------


@dataclass
class TrickleRoute:
    """An answer sent slowly *before* its body: the status line one byte every ``delay``
    seconds (``part`` "status"), or the status line at once and then one new header
    every ``delay`` seconds (``part`` "headers"), then ``body``. Bounded by MAX_SLEEP."""

    delay: float
    part: str = "status"
    body: bytes = b""

    def __call__(self, h: Handler, req: Recorded) -> None:
        stop = h.server_obj.stopping
        until = time.monotonic() + MAX_SLEEP
        if self.part == "status":
            for byte in b"HTTP/1.1 200 OK\r\n" * 8:  # longer than any deadline under test
                if stop.wait(self.delay) or time.monotonic() > until:
                    return
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
        else:
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
            h.wfile.flush()
            for n in range(200):
                if stop.wait(self.delay) or time.monotonic() > until:
                    return
                h.wfile.write(f"X-Slow-{n}: {n}\r\n".encode())
                h.wfile.flush()
        h.wfile.write(f"Content-Length: {len(self.body)}\r\n\r\n".encode() + self.body)


@dataclass
class RawHeadersRoute:
    """An answer whose header lines are written as raw bytes (UTF-8, C1 controls, bidi
    overrides: what ``send_header`` would refuse to encode)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def __call__(self, h: Handler, req: Recorded) -> None:
        h.wfile.write(f"HTTP/1.1 {self.status} Hostile\r\n".encode())
        for name, value in self.headers:
            h.wfile.write(f"{name}: ".encode() + value.encode("utf-8") + b"\r\n")
        h.wfile.write(f"Content-Length: {len(self.body)}\r\n\r\n".encode() + self.body)
        h.close_connection = True


@dataclass
class EncodedRoute:
    """``body`` sent as it is, with a ``Content-Encoding`` header (a bomb, say)."""

    body: bytes
    encoding: str

    def __call__(self, h: Handler, req: Recorded) -> None:
        h.server_obj.bytes_sent += len(self.body)
        h.answer(
            200, self.body, {"Content-Type": "application/toml", "Content-Encoding": self.encoding}
        )


def gzip_zeros(size: int, layers: int) -> bytes:
    """``size`` zero bytes gzipped ``layers`` times, built without holding them in memory."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = []
    for _ in range(size // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.compress(bytes(size % len(block))))
    parts.append(packer.flush())
    data = b"".join(parts)
    for _ in range(layers - 1):
        again = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        data = again.compress(data) + again.flush()
    return data
