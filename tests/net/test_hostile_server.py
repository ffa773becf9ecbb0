"""A hostile server on loopback: redirects that try to take one origin's secrets to
another, answers that trickle in past the deadline, compression bombs, and Locations that
hold escape sequences. Each case asserts what the second host saw, the outcome, peak
memory, and (loosely, never as a benchmark) that the deadline bounded the time.
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tripdash.domain import fetch
from tripdash.domain.fetch import MAX_BODY, FetchError, FetchSettings, TripCache, fetch_trip
from tripdash.domain.loader import TripInvalid
from tripdash.domain.sources import TripSource

from .server import (
    EncodedRoute,
    RawHeadersRoute,
    RedirectRoute,
    TestServer,
    TrickleRoute,
    gzip_zeros,
)
from .test_fetch_server import BODY, TOKEN, Clock

#: A short deadline, injected: the tests assert the outcome, and only loosely the time.
DEADLINE = 0.5
LOOSE = 3 * DEADLINE + 1.0  # generous: a loaded 2-core machine


def settings(**kwargs: object) -> FetchSettings:
    return FetchSettings(**{"connect_timeout": 1.0, "total_timeout": 3.0, **kwargs})  # type: ignore[arg-type]


@pytest.fixture
def cache(tmp_path: Path) -> TripCache:
    return TripCache(tmp_path / "cache")


@pytest.fixture
def other() -> Iterator[TestServer]:
    """A second origin: same address, another port."""
    srv = TestServer().start()
    try:
        yield srv
    finally:
        srv.stop()


# -- redirects across origins --------------------------------------------------------------


def test_a_redirect_to_another_origin_carries_nothing_of_the_first(
    server: TestServer, other: TestServer, cache: TripCache
) -> None:
    url = server.url("/fs.toml")
    server.trip("/fs.toml", BODY)
    assert fetch_trip(url, cache, settings(token=TOKEN)).status == "fresh"  # validators cached
    # Now the first origin sets a cookie and sends the client on to the second one.
    server.routes["/fs.toml"] = RawHeadersRoute(
        302, [("Location", other.url("/fs.toml")), ("Set-Cookie", "session=first-origin; Path=/")]
    )
    other.trip("/fs.toml", BODY, etag='"other"')
    out = fetch_trip(url, cache, settings(token=TOKEN))
    assert out.status == "fresh"
    first = server.seen("/fs.toml")[-1]
    assert first.header("Authorization") == f"Bearer {TOKEN}"
    assert first.header("If-None-Match") == '"v1"'
    (second,) = other.seen("/fs.toml")
    for name in ("Authorization", "If-None-Match", "If-Modified-Since", "Cookie"):
        assert second.header(name) is None, (name, second.headers)
    assert TOKEN not in repr(second.headers) and '"v1"' not in repr(second.headers)


def test_a_redirect_within_the_origin_keeps_the_token_and_validators(
    server: TestServer, cache: TripCache
) -> None:
    server.trip("/fs.toml", BODY)
    server.routes["/old.toml"] = RedirectRoute("/fs.toml")
    fetch_trip(server.url("/old.toml"), cache, settings(token=TOKEN))
    assert fetch_trip(server.url("/old.toml"), cache, settings(token=TOKEN)).status == (
        "not-modified"
    )
    last = server.seen("/fs.toml")[-1]
    assert last.header("Authorization") == f"Bearer {TOKEN}"
    assert last.header("If-None-Match") == '"v1"'


@pytest.mark.parametrize("userinfo", ["user:pass@", "user@", ":pass@"])
def test_a_redirect_with_userinfo_is_refused_and_says_so(
    server: TestServer, other: TestServer, cache: TripCache, userinfo: str
) -> None:
    server.routes["/fs.toml"] = RedirectRoute(f"http://{userinfo}127.0.0.1:{other.port}/fs.toml")
    other.trip("/fs.toml", BODY)
    with pytest.raises(FetchError) as failed:
        fetch_trip(server.url("/fs.toml"), cache, settings())
    message = str(failed.value)
    assert "with a user name or password in the address: refused" in message
    assert "pass" not in message.replace("password", "") and "user:" not in message
    assert other.count() == 0  # never followed: no Basic credentials made from it


@pytest.mark.parametrize(
    ("location", "shown", "why"),
    [
        # C1 CSI, a bidi override and a line separator: a URL httpx reads, refused by rule.
        (
            "ftp://evil.example/\x9b6n\u202eexe.toml\u2028",
            "\\x9b6n\\u202eexe.toml\\u2028",
            "is not https: refused",
        ),
        # ESC and BEL: httpx refuses the URL itself, and says where.
        ("https://evil.example/\x1b]0;pwned\x07", "'\\x1b' at position", "Invalid URL"),
    ],
)
def test_a_location_with_escapes_is_quoted_escaped(
    server: TestServer, cache: TripCache, location: str, shown: str, why: str
) -> None:
    server.routes["/fs.toml"] = RawHeadersRoute(302, [("Location", location)])
    with pytest.raises(FetchError) as failed:
        fetch_trip(server.url("/fs.toml"), cache, settings())
    message = str(failed.value)
    assert why in message and shown in message, message
    for raw in ("\x9b", "\u202e", "\u2028", "\x1b", "\x07"):
        assert raw not in message


def test_a_reason_phrase_with_escapes_is_quoted_escaped(
    server: TestServer, cache: TripCache
) -> None:
    class Phrase(RawHeadersRoute):
        def __call__(self, h, req):  # type: ignore[no-untyped-def]
            h.wfile.write("HTTP/1.1 503 \x1b]52;c;cHduZWQ=\x07\u202e\r\n".encode())
            h.wfile.write(b"Content-Length: 0\r\n\r\n")

    server.routes["/fs.toml"] = Phrase(503, [])
    with pytest.raises(FetchError) as failed:
        fetch_trip(server.url("/fs.toml"), cache, settings())
    message = str(failed.value)
    assert "HTTP 503" in message
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message


# -- one deadline for the whole exchange ----------------------------------------------------


@pytest.mark.parametrize("part", ["status", "headers"])
def test_a_trickled_status_line_or_headers_meet_the_deadline(
    server: TestServer, cache: TripCache, part: str
) -> None:
    server.routes["/slow.toml"] = TrickleRoute(0.1, part)
    start = time.monotonic()
    with pytest.raises(FetchError) as failed:
        fetch_trip(server.url("/slow.toml"), cache, settings(total_timeout=DEADLINE))
    elapsed = time.monotonic() - start
    assert str(failed.value).endswith(
        f"took longer than {DEADLINE:g} s; no copy of this trip was saved before"
    )
    assert elapsed < LOOSE, elapsed  # the server would go on for 5 s and more


@pytest.mark.parametrize("part", ["status", "headers"])
def test_on_expiry_the_good_copy_is_used_in_the_background_refresh(
    server: TestServer, cache: TripCache, part: str
) -> None:
    url = server.url("/fs.toml")
    server.trip("/fs.toml", BODY)
    source = TripSource(url, cache=cache, settings=settings(total_timeout=DEADLINE), clock=Clock())
    assert source.load().result is not None
    server.routes["/fs.toml"] = TrickleRoute(0.1, part)
    start = time.monotonic()
    polled = source.poll()  # what the dashboard's refresh worker calls
    elapsed = time.monotonic() - start
    assert polled.status.offline
    assert polled.status.reason == f"{url}: took longer than {DEADLINE:g} s"
    assert polled.status.fetched_at is not None
    assert elapsed < LOOSE, elapsed


def test_on_expiry_the_shell_uses_the_good_copy(
    server: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripdash import cli

    url = server.url("/fs.toml")
    server.trip("/fs.toml", BODY)
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(
        fetch, "FetchSettings", functools.partial(FetchSettings, total_timeout=DEADLINE)
    )
    state = ["--state-dir", str(tmp_path / "state")]

    def agenda() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["agenda", url, *state])
        return code, out.getvalue(), err.getvalue()

    code, fresh, err = agenda()
    assert (code, err) == (0, "")
    server.routes["/fs.toml"] = TrickleRoute(0.1, "headers")
    start = time.monotonic()
    code, offline, err = agenda()
    elapsed = time.monotonic() - start
    assert code == 0 and offline == fresh
    assert err.startswith(f"tripdash: {url}: took longer than {DEADLINE:g} s; using the copy ")
    assert elapsed < LOOSE, elapsed


# -- bodies encoded more than once -----------------------------------------------------------

BOMB = 64 * 1024 * 1024  # decoded size: 32 times the limit


@functools.cache
def bomb(layers: int) -> bytes:
    return gzip_zeros(BOMB, layers)


def peak_of(call: object) -> tuple[BaseException | None, int]:
    """Run ``call``; return what it raised and the peak of Python memory meanwhile."""
    tracemalloc.start()
    try:
        try:
            call()  # type: ignore[operator]
        except (FetchError, TripInvalid) as exc:
            return exc, tracemalloc.get_traced_memory()[1]
        return None, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("layers", "header"),
    [(1, "gzip"), (2, "gzip, gzip"), (3, "gzip, gzip, gzip"), (2, "x-gzip,gzip")],
)
def test_a_compression_bomb_is_refused_at_the_limit_with_little_memory(
    server: TestServer, cache: TripCache, layers: int, header: str
) -> None:
    body = bomb(layers)
    assert len(body) < MAX_BODY  # small on the wire: only decoding shows its size
    server.routes["/bomb.toml"] = EncodedRoute(body, header)
    raised, peak = peak_of(lambda: fetch_trip(server.url("/bomb.toml"), cache, settings()))
    assert isinstance(raised, FetchError), raised
    assert "larger than 2 MiB: refused" in str(raised)
    # The limit plus a few pieces in flight, not the 64 MiB the bomb inflates to.
    assert peak < MAX_BODY + 6 * 1024 * 1024, peak


def test_gzip_inside_gzip_under_one_header_is_decoded_once(
    server: TestServer, cache: TripCache
) -> None:
    """One ``gzip`` layer named, two applied: the decoded body is gzip data, not a trip,
    and it is never inflated further."""
    server.routes["/nested.toml"] = EncodedRoute(bomb(2), "gzip")
    raised, peak = peak_of(lambda: fetch_trip(server.url("/nested.toml"), cache, settings()))
    assert isinstance(raised, TripInvalid), raised
    assert "not UTF-8 text" in str(raised.problems[0])
    assert peak < 4 * 1024 * 1024, peak


def test_a_real_gzipped_trip_is_read(server: TestServer, cache: TripCache) -> None:
    once = zlib.compress(BODY, wbits=16 + zlib.MAX_WBITS)
    server.routes["/gz.toml"] = EncodedRoute(once, "gzip")
    assert fetch_trip(server.url("/gz.toml"), cache, settings()).copy.body == BODY
    packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    twice = packer.compress(once) + packer.flush()
    server.routes["/gz2.toml"] = EncodedRoute(twice, "gzip, gzip")
    assert fetch_trip(server.url("/gz2.toml"), cache, settings()).copy.body == BODY
    deflated = zlib.compress(BODY)
    server.routes["/df.toml"] = EncodedRoute(deflated, "deflate")
    assert fetch_trip(server.url("/df.toml"), cache, settings()).copy.body == BODY
    assert server.seen("/gz.toml")[-1].header("Accept-Encoding") == "gzip, deflate"


@pytest.mark.parametrize(
    ("header", "message"),
    [("br", "encoded as 'br', which is not read"), ("gzip, " * 5 + "gzip", "encoded 6 times")],
)
def test_encodings_that_cannot_be_bounded_are_refused(
    server: TestServer, cache: TripCache, header: str, message: str
) -> None:
    server.routes["/enc.toml"] = EncodedRoute(b"\x00" * 32, header)
    with pytest.raises(FetchError, match=message):
        fetch_trip(server.url("/enc.toml"), cache, settings())


def test_a_corrupt_gzip_body_is_a_clear_error(server: TestServer, cache: TripCache) -> None:
    server.routes["/bad.toml"] = EncodedRoute(b"\x1f\x8bnot really gzip", "gzip")
    with pytest.raises(FetchError, match="the body cannot be decoded"):
        fetch_trip(server.url("/bad.toml"), cache, settings())
