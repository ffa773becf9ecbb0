"""Fine-grained fetch rules with httpx.MockTransport: no socket is ever opened.

Host names here (trips.example, cdn.example, evil.example) are never resolved: the
mock transport answers every request in-process, and the rules under test refuse
addresses before any transport is asked.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tripdash.domain.fetch import (
    MAX_REDIRECTS,
    FetchError,
    FetchSettings,
    TripCache,
    check_allowed,
    fetch_trip,
    is_loopback,
    is_url,
    redact,
    trip_id_from_url,
)
from tripdash.domain.loader import TripInvalid

ROOT = Path(__file__).resolve().parent.parent
BODY = (ROOT / "trips" / "fs-north-america-2023-01.toml").read_bytes()
URL = "https://trips.example/fs.toml"
TOKEN = "tok-unit-9f3e"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport whose handler is a per-test function; every request is kept."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.handler = handler
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]

    def settings(self, **kwargs: Any) -> FetchSettings:
        return FetchSettings(transport=self.transport, **kwargs)


def serve(body: bytes = BODY, **headers: str) -> Handler:
    return lambda request: httpx.Response(200, content=body, headers=headers)


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """MockTransport needs no network: any name lookup or connection is a test failure."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test tried to use the network: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def cache(tmp_path: Path) -> TripCache:
    return TripCache(tmp_path / "cache")


# -- which addresses may be fetched -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/fs.toml",
        "http://127.0.0.1:8080/fs.toml",
        "http://127.1.2.3/fs.toml",  # all of 127/8 is loopback
        "http://[::1]/fs.toml",
        "http://[::1]:8080/fs.toml",
        "http://localhost/fs.toml",
        "http://LOCALHOST:8000/fs.toml",
    ],
)
def test_plain_http_is_allowed_on_loopback(url: str, cache: TripCache) -> None:
    check_allowed(url, allow_http=False)
    rec = Recorder(serve())
    out = fetch_trip(url, cache, rec.settings())
    assert out.status == "fresh"
    assert rec.urls == [url.replace("LOCALHOST", "localhost")]


@pytest.mark.parametrize(
    "url",
    [
        "http://trips.example/fs.toml",
        "http://10.0.0.1/fs.toml",
        "http://127.0.0.1.evil.example/fs.toml",
        "http://localhost.evil.example/fs.toml",
        "http://0.0.0.0/fs.toml",
    ],
)
def test_plain_http_is_refused_elsewhere_before_any_request(url: str, cache: TripCache) -> None:
    rec = Recorder(serve())
    with pytest.raises(FetchError) as failed:
        fetch_trip(url, cache, rec.settings())
    assert str(failed.value) == (
        f"{url}: plain http is refused (the schedule could be read or changed on the way); "
        "use https, or --allow-http if you must"
    )
    assert rec.requests == []


def test_allow_http_allows_any_host(cache: TripCache) -> None:
    rec = Recorder(serve())
    out = fetch_trip("http://trips.example/fs.toml", cache, rec.settings(allow_http=True))
    assert out.status == "fresh"
    assert rec.urls == ["http://trips.example/fs.toml"]


@pytest.mark.parametrize(
    "url",
    ["ftp://trips.example/fs.toml", "file:///etc/passwd", "trips.example/fs.toml"],
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match=r"only https:// addresses can be fetched"):
        check_allowed(url, allow_http=True)


def test_https_needs_a_host() -> None:
    with pytest.raises(FetchError, match=r"no host in the address"):
        check_allowed("https:///fs.toml", allow_http=False)


def test_is_loopback_and_is_url() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and is_loopback("Localhost")
    assert not is_loopback(None) and not is_loopback("") and not is_loopback("example.com")
    assert not is_loopback("192.168.1.1")
    assert is_url("https://x/y") and is_url("http://x/y")
    assert not is_url("trips/fs.toml") and not is_url("ftp://x/y")


def test_trip_id_from_url() -> None:
    assert trip_id_from_url("https://trips.example/a/b/fs-2023.toml?x=1") == "fs-2023"
    assert trip_id_from_url("https://trips.example/") == "trips.example"


# -- redirects -----------------------------------------------------------------------------


def redirects(chain: dict[str, str], final: Handler | None = None) -> Handler:
    """Answer 302 to each address in ``chain`` (address -> Location), else ``final``."""

    def handle(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url in chain:
            return httpx.Response(302, headers={"Location": chain[url]})
        return (final or serve())(request)

    return handle


def test_https_redirect_chain_is_followed(cache: TripCache) -> None:
    rec = Recorder(
        redirects(
            {
                URL: "https://trips.example/v2/fs.toml",
                "https://trips.example/v2/fs.toml": "https://cdn.example/fs.toml",
                "https://cdn.example/fs.toml": "/current/fs.toml",  # relative to cdn.example
            }
        )
    )
    out = fetch_trip(URL, cache, rec.settings())
    assert out.status == "fresh"
    assert rec.urls == [
        URL,
        "https://trips.example/v2/fs.toml",
        "https://cdn.example/fs.toml",
        "https://cdn.example/current/fs.toml",
    ]
    # The copy is cached under the address asked for, not the last hop.
    assert cache.load(URL) is not None


@pytest.mark.parametrize(
    "target",
    ["http://trips.example/fs.toml", "http://cdn.example:8080/fs.toml", "ftp://cdn.example/x"],
)
def test_redirect_off_https_is_refused_before_following(cache: TripCache, target: str) -> None:
    rec = Recorder(redirects({URL: target}))
    with pytest.raises(FetchError) as failed:
        fetch_trip(URL, cache, rec.settings())
    assert str(failed.value) == (
        f"{URL}: redirects to {target}, which is not https: refused; "
        "no copy of this trip was saved before"
    )
    assert rec.urls == [URL]


def test_redirect_to_http_loopback_is_followed(cache: TripCache) -> None:
    rec = Recorder(redirects({URL: "http://127.0.0.1:8000/fs.toml"}))
    assert fetch_trip(URL, cache, rec.settings()).status == "fresh"
    assert rec.urls == [URL, "http://127.0.0.1:8000/fs.toml"]


def test_redirect_to_http_is_followed_with_allow_http(cache: TripCache) -> None:
    rec = Recorder(redirects({URL: "http://cdn.example/fs.toml"}))
    assert fetch_trip(URL, cache, rec.settings(allow_http=True)).status == "fresh"


def _hops(n: int) -> dict[str, str]:
    return {
        (URL if i == 0 else f"https://trips.example/hop{i}"): f"https://trips.example/hop{i + 1}"
        for i in range(n)
    }


def test_exactly_the_redirect_limit_is_followed(cache: TripCache) -> None:
    rec = Recorder(redirects(_hops(MAX_REDIRECTS)))
    assert fetch_trip(URL, cache, rec.settings()).status == "fresh"
    assert len(rec.requests) == MAX_REDIRECTS + 1


def test_too_many_redirects_are_refused(cache: TripCache) -> None:
    rec = Recorder(redirects(_hops(MAX_REDIRECTS + 1)))
    with pytest.raises(FetchError, match=rf"^{URL}: more than {MAX_REDIRECTS} redirects;"):
        fetch_trip(URL, cache, rec.settings())
    assert len(rec.requests) == MAX_REDIRECTS + 1


def test_redirect_loop_is_refused(cache: TripCache) -> None:
    rec = Recorder(redirects({URL: URL}))
    with pytest.raises(FetchError, match=r"more than 5 redirects"):
        fetch_trip(URL, cache, rec.settings())


def test_token_is_kept_on_the_same_host_and_dropped_for_another(cache: TripCache) -> None:
    rec = Recorder(
        redirects(
            {
                URL: "https://trips.example/v2/fs.toml",
                "https://trips.example/v2/fs.toml": "https://evil.example/steal",
                "https://evil.example/steal": "https://trips.example/v3/fs.toml",
            }
        )
    )
    fetch_trip(URL, cache, rec.settings(token=TOKEN))
    auth = [r.headers.get("Authorization") for r in rec.requests]
    assert auth == [f"Bearer {TOKEN}", f"Bearer {TOKEN}", None, None]


def test_no_token_no_authorization_header(cache: TripCache) -> None:
    rec = Recorder(serve())
    fetch_trip(URL, cache, rec.settings())
    (request,) = rec.requests
    assert "Authorization" not in request.headers


# -- body size -------------------------------------------------------------------------------


class Body(httpx.SyncByteStream):
    """A response body that records how much of it was read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.opened = False

    def __iter__(self) -> Iterator[bytes]:
        self.opened = True
        for chunk in self.chunks:
            self.read += len(chunk)
            yield chunk


def test_content_length_over_the_limit_is_refused_without_reading(cache: TripCache) -> None:
    body = Body(iter([b"#" * 1024] * 100))
    rec = Recorder(
        lambda r: httpx.Response(200, headers={"Content-Length": str(100 * 1024)}, stream=body)
    )
    with pytest.raises(FetchError) as failed:
        fetch_trip(URL, cache, rec.settings(max_body=10 * 1024))
    assert str(failed.value).startswith(f"{URL}: the trip is larger than")
    assert body.read == 0 and not body.opened


def test_default_limit_is_2_mib(cache: TripCache) -> None:
    big = 2 * 1024 * 1024 + 1
    body = Body(iter([b"#" * big]))
    rec = Recorder(lambda r: httpx.Response(200, headers={"Content-Length": str(big)}, stream=body))
    with pytest.raises(FetchError, match=r"larger than 2 MiB: refused"):
        fetch_trip(URL, cache, rec.settings())
    assert body.read == 0


def test_streamed_body_over_the_limit_is_refused_while_reading(cache: TripCache) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):  # 640 MiB if it were all read
            yield b"#" * 65536

    body = Body(endless())
    rec = Recorder(lambda r: httpx.Response(200, stream=body))  # no Content-Length
    with pytest.raises(FetchError, match=r"larger than"):
        fetch_trip(URL, cache, rec.settings(max_body=256 * 1024))
    assert 256 * 1024 < body.read <= 256 * 1024 + 65536  # stopped at the first chunk over


def test_a_lying_content_length_does_not_bypass_the_limit(cache: TripCache) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(100):
            yield b"#" * 65536

    body = Body(endless())
    rec = Recorder(lambda r: httpx.Response(200, headers={"Content-Length": "10"}, stream=body))
    with pytest.raises(FetchError, match=r"larger than"):
        fetch_trip(URL, cache, rec.settings(max_body=128 * 1024))
    assert body.read <= 128 * 1024 + 65536


def test_a_body_of_exactly_the_limit_is_accepted(cache: TripCache) -> None:
    rec = Recorder(serve())
    assert fetch_trip(URL, cache, rec.settings(max_body=len(BODY))).status == "fresh"
    with pytest.raises(FetchError, match=r"larger than"):
        fetch_trip(URL, TripCache(cache.directory / "other"), rec.settings(max_body=len(BODY) - 1))


# -- 304, errors, validators ---------------------------------------------------------------------


def test_304_with_no_cached_copy_is_a_fetch_error(cache: TripCache) -> None:
    rec = Recorder(lambda r: httpx.Response(304))
    with pytest.raises(FetchError) as failed:
        fetch_trip(URL, cache, rec.settings())
    message = str(failed.value)
    assert message.startswith(f"{URL}: HTTP 304 Not Modified")
    assert message.endswith("; no copy of this trip was saved before")
    assert not cache.directory.exists() or not any(cache.directory.iterdir())


def test_304_with_a_cached_copy_reuses_it(cache: TripCache) -> None:
    rec = Recorder(serve(ETag='"a"'))
    fetch_trip(URL, cache, rec.settings())
    rec.handler = lambda r: httpx.Response(304)
    out = fetch_trip(URL, cache, rec.settings())
    assert out.status == "not-modified" and out.copy.body == BODY
    assert rec.requests[1].headers["If-None-Match"] == '"a"'
    assert "If-Modified-Since" not in rec.requests[1].headers


def test_a_300_without_location_is_an_http_error(cache: TripCache) -> None:
    rec = Recorder(lambda r: httpx.Response(300))
    with pytest.raises(FetchError, match=r": HTTP 300 Multiple Choices;"):
        fetch_trip(URL, cache, rec.settings())


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ConnectTimeout("slow"), f"{URL}: timed out"),
        (httpx.ReadTimeout("slow"), f"{URL}: timed out"),
        (httpx.ConnectError("[Errno 111] Connection refused"), f"{URL}: cannot connect "),
        (httpx.RemoteProtocolError("peer closed"), f"{URL}: peer closed"),
    ],
)
def test_transport_failures_become_fetch_errors(
    cache: TripCache, exc: Exception, message: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(FetchError) as failed:
        fetch_trip(URL, cache, Recorder(fail).settings(token=TOKEN))
    assert str(failed.value).startswith(message)
    assert TOKEN not in str(failed.value)


def test_invalid_body_with_no_cached_copy_raises_trip_invalid(cache: TripCache) -> None:
    rec = Recorder(serve(b"format = 1\n[trip]\n"))
    with pytest.raises(TripInvalid) as invalid:
        fetch_trip(URL, cache, rec.settings())
    assert all(p.source == URL for p in invalid.value.problems)
    assert not cache.directory.exists() or not any(cache.directory.iterdir())


def test_client_verifies_tls_and_ignores_proxy_environment(
    cache: TripCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    real = httpx.Client

    def spy(**kwargs: Any) -> httpx.Client:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(httpx, "Client", spy)
    fetch_trip(URL, cache, Recorder(serve()).settings())
    assert seen["verify"] is True
    assert seen["trust_env"] is False
    assert seen["follow_redirects"] is False


# -- redact ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alice:s3cret@trips.example/fs.toml", "https://trips.example/fs.toml"),
        ("https://alice@trips.example:8443/fs.toml?v=2", "https://trips.example:8443/fs.toml?v=2"),
        ("https://:s3cret@trips.example/fs.toml", "https://trips.example/fs.toml"),
        ("http://alice:s3cret@[::1]:8080/fs.toml", "http://[::1]:8080/fs.toml"),
        ("https://trips.example/fs.toml", "https://trips.example/fs.toml"),
    ],
)
def test_redact_strips_user_and_password(url: str, expected: str) -> None:
    assert redact(url) == expected


def test_credentials_in_the_address_stay_out_of_messages_and_cache(cache: TripCache) -> None:
    secret = "https://alice:s3cret-pw@trips.example/fs.toml"
    rec = Recorder(serve(ETag='"a"'))
    fetch_trip(secret, cache, rec.settings())
    rec.handler = lambda r: httpx.Response(503)
    out = fetch_trip(secret, cache, rec.settings())
    assert out.status == "offline"
    assert out.error == "https://trips.example/fs.toml: HTTP 503 Service Unavailable"
    for path in cache.directory.iterdir():
        assert "s3cret" not in path.name and b"s3cret" not in path.read_bytes()
    assert out.result.trip.events[0].id == "csis-speech"
