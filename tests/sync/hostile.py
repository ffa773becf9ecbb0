"""A hostile CouchDB-protocol server of our own, on 127.0.0.1, for the sync tests.

It speaks just enough of CouchDB for tripdash (``GET``/``PUT /{db}``,
``POST /{db}/_bulk_docs``, ``GET /{db}/_changes``, ``POST /{db}/_all_docs``) and
misbehaves as told, per scenario:

* ``keep=False``: answers every push "ok" and keeps nothing (a lying server);
* ``feed``: a function writing the ``_changes`` answer itself (slow, endless, huge,
  forged, pages forever), with the helpers of :class:`Feed`;
* ``redirect``: answers everything with a 302 to that ``Location``.

It counts what it was asked and what it wrote (:attr:`HostileCouch.requests`,
:attr:`HostileCouch.bytes_written`, :attr:`HostileCouch.docs_received`), so the
tests assert figures. Every answer closes its connection (HTTP/1.0 style, no
length): a body ends when the server stops writing, or never. Handlers stop
writing when the client goes away or the server is stopped, so no thread outlives
a test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class Gone(Exception):
    """The client closed the connection, or the server is stopping."""


class Feed:
    """What a ``feed`` function gets: the request's parameters and a way to write."""

    def __init__(self, handler: Handler, params: dict[str, str]) -> None:
        self.handler = handler
        self.server: HostileCouch = handler.server.couch  # type: ignore[attr-defined]
        self.params = params

    @property
    def since(self) -> int:
        try:
            return int(json.loads(self.params.get("since", "0")))
        except (ValueError, TypeError):
            return 0

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if self.server.stopping.is_set():
            raise Gone
        try:
            self.handler.wfile.write(data)
            self.handler.wfile.flush()
        except OSError:
            raise Gone from None
        with self.server.lock:
            self.server.bytes_written += len(data)

    def pause(self, seconds: float) -> None:
        if self.server.stopping.wait(seconds):
            raise Gone


def change(seq: int, doc: dict[str, Any]) -> str:
    """One entry of a feed, as CouchDB writes it (``seq`` first)."""
    return json.dumps({"seq": seq, "id": doc.get("_id"), "changes": [], "doc": doc})


def mark_doc(trip_id: str, n: int, **changes: Any) -> dict[str, Any]:
    """A valid mark document (numbered ``n``: its own id and clock)."""
    doc: dict[str, Any] = {
        "_id": f"m{n:08d}",
        "type": "tripdash.mark",
        "trip_id": trip_id,
        "item_id": f"item-{n % 40}",
        "done": n % 3 != 0,
        "at": "2023-01-17T14:00:00+00:00",
        "who": "hostile",
        "hlc": 1673964000000 + n,
    }
    doc.update(changes)
    return doc


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "HostileCouch/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            return
        with self.server.couch.lock:  # type: ignore[attr-defined]
            self.server.couch.bytes_written += len(data)  # type: ignore[attr-defined]

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _route(self, method: str) -> None:
        couch: HostileCouch = self.server.couch  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with couch.lock:
            couch.requests.append(f"{method} {path.rsplit('/', 1)[-1]}")
        if couch.redirect is not None:
            self.send_response(302)
            # Raw bytes, as a hostile server may send (latin-1 carries C1 controls).
            self.send_header("Location", couch.redirect.encode().decode("latin-1"))
            self.end_headers()
            return
        segments = [s for s in path.split("/") if s]
        if len(segments) == 1:
            if method == "PUT":
                self._answer(201, {"ok": True})
            else:
                info = {"db_name": segments[0], "doc_count": len(couch.docs)}
                if couch.info_padding:
                    info["padding"] = "x" * couch.info_padding
                self._answer(200, info)
            return
        what = segments[1] if len(segments) > 1 else ""
        if what == "_bulk_docs" and method == "POST":
            docs = self._body()["docs"]
            answer = []
            with couch.lock:
                couch.docs_received += len(docs)
                for doc in docs:
                    couch.received_ids.append(doc["_id"])
                    if couch.keep:
                        couch.store(doc)
                    answer.append({"ok": True, "id": doc["_id"], "rev": "1-x"})
            self._answer(201, answer)
        elif what == "_all_docs" and method == "POST":
            keys = self._body()["keys"]
            rows = []
            with couch.lock:
                for key in keys:
                    doc = couch.docs.get(key) if couch.readable else None
                    if doc is None:
                        rows.append({"key": key, "error": "not_found"})
                    else:
                        rows.append({"id": key, "key": key, "value": {"rev": "1-x"}, "doc": doc})
            self._answer(200, {"rows": rows})
        elif what == "_changes" and method == "GET":
            with couch.lock:
                couch.pages += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            for name, value in couch.changes_headers.items():
                self.send_header(name, value)
            self.end_headers()
            feed = Feed(self, params)
            try:
                (couch.feed or honest_feed)(feed)
            except Gone:
                with couch.lock:
                    couch.cut_short += 1
        else:
            self._answer(404, {"error": "not_found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")


def honest_feed(feed: Feed) -> None:
    """The feed as CouchDB answers it: from ``since``, at most ``limit`` changes."""
    couch = feed.server
    limit = int(feed.params.get("limit", "1000000"))
    with couch.lock:
        entries = [(seq, doc) for seq, doc in couch.log if seq > feed.since][:limit]
        last = entries[-1][0] if entries else max(feed.since, couch.seq)
    feed.write('{"results":[')
    feed.write(",".join(change(seq, doc) for seq, doc in entries))
    feed.write(f'],"last_seq":{last},"pending":0}}')


class HostileCouch:
    """The server: start with :meth:`start`, stop with :meth:`stop` (joins its threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.docs: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[int, dict[str, Any]]] = []
        self.seq = 0
        self.keep = True
        self.readable = True  # _all_docs finds what is kept
        self.redirect: str | None = None
        self.feed: Callable[[Feed], None] | None = None
        self.changes_headers: dict[str, str] = {}  # more headers of every _changes answer
        self.info_padding = 0  # characters added to the database's info (a huge answer)
        self.requests: list[str] = []
        self.received_ids: list[str] = []
        self.docs_received = 0
        self.bytes_written = 0
        self.pages = 0
        self.cut_short = 0  # _changes answers the client stopped reading
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = False
        self._http.block_on_close = True
        self._http.couch = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def store(self, doc: dict[str, Any]) -> None:
        """Keep a document and give it the next seq (call with the lock held, or before
        the server starts)."""
        self.seq += 1
        self.docs[doc["_id"]] = doc
        self.log.append((self.seq, doc))

    def start(self) -> HostileCouch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()  # joins the handler threads (block_on_close)
        self._thread.join(timeout=10)

    def __enter__(self) -> HostileCouch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def endless(items: Iterator[str], feed: Feed, pause: float = 0.0) -> None:
    """Write a feed whose results never end (until the client goes away)."""
    feed.write('{"results":[')
    first = True
    for item in items:
        feed.write(item if first else "," + item)
        first = False
        if pause:
            feed.pause(pause)
