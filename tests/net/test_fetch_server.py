"""Fetching a trip from a real HTTP server on 127.0.0.1: caching, 304s, offline use, and
every bad answer refused with the good copy kept. In-process and through the CLI.

Nothing here contacts a host outside loopback: the ``loopback_only`` fixture fails any
test whose process tries to resolve another name, and CLI subprocesses get the same
guard through a ``sitecustomize`` module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tripdash.domain.fetch import (
    MAX_BODY,
    FetchError,
    FetchSettings,
    TripCache,
    fetch_trip,
)
from tripdash.domain.loader import TripInvalid
from tripdash.domain.sources import TripSource

from .server import (
    BigRoute,
    DelayedRoute,
    RedirectRoute,
    SlowRoute,
    StatusRoute,
    TestServer,
    TripRoute,
)

ROOT = Path(__file__).resolve().parents[2]
FS_FILE = ROOT / "trips" / "fs-north-america-2023-01.toml"
BODY = FS_FILE.read_bytes()
MOVED = BODY.replace(b"start = 2023-01-17T15:30:00", b"start = 2023-01-17T16:00:00")
TOKEN = "tok-5ecret-Zq81"
LAST_MODIFIED = "Tue, 17 Jan 2023 06:12:00 GMT"
T0 = datetime(2023, 1, 17, 9, 0, tzinfo=timezone.utc)
PRESS = "Joint press conference with Secretary Blinken"
MOVED_LINE = f"Moved: {PRESS}: Tue 17 Jan 15:30 EST (20:30 GMT) → Tue 17 Jan 16:00 EST (21:00 GMT)"
FAST = {"connect_timeout": 1.0, "total_timeout": 3.0}


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def settings(**kwargs: Any) -> FetchSettings:
    return FetchSettings(**{**FAST, **kwargs})


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory``, by relative name, with its bytes."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def cache(tmp_path: Path) -> TripCache:
    return TripCache(tmp_path / "cache")


# -- first fetch, conditional refetch, new version -------------------------------------


def test_first_fetch_is_fresh_and_cached_with_its_validators(
    server: TestServer, cache: TripCache
) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    out = fetch_trip(url, cache, settings(), clock=Clock())
    assert out.status == "fresh"
    assert out.error is None and out.problems == ()
    assert out.result.trip.id == "fs-north-america-2023-01"
    assert len(out.result.trip.events) == 8
    assert out.copy.body == BODY
    assert out.copy.etag == '"v1"'
    assert out.copy.last_modified == LAST_MODIFIED
    assert out.copy.fetched_at == T0 == out.copy.stored_at
    assert out.copy.schedule_time() == datetime(2023, 1, 17, 6, 12, tzinfo=timezone.utc)
    (first,) = server.seen("/fs.toml")
    assert first.header("If-None-Match") is None
    assert first.header("If-Modified-Since") is None
    assert first.header("Authorization") is None  # no token configured: none sent
    saved = cache.load(url)
    assert saved is not None and saved.body == BODY and saved.etag == '"v1"'
    files = snapshot(cache.directory)
    assert sorted(Path(n).suffix for n in files) == [".json", ".toml"]
    assert BODY in files.values()


def test_conditional_refetch_is_not_modified(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    fetch_trip(url, cache, settings(), clock=Clock())
    later = Clock(T0 + timedelta(hours=3))
    out = fetch_trip(url, cache, settings(), clock=later)
    assert out.status == "not-modified"
    assert out.error is None
    assert out.result.trip.id == "fs-north-america-2023-01"
    assert out.copy.body == BODY
    assert out.copy.fetched_at == later.at  # the server confirmed it just now
    assert out.copy.stored_at == T0  # ... but the body is the one received first
    _first, second = server.seen("/fs.toml")
    assert second.header("If-None-Match") == '"v1"'
    assert second.header("If-Modified-Since") == LAST_MODIFIED
    saved = cache.load(url)
    assert saved is not None and saved.fetched_at == later.at and saved.body == BODY


def test_conditional_refetch_on_last_modified_alone(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY, etag=None)
    url = server.url("/fs.toml")
    assert fetch_trip(url, cache, settings()).copy.etag is None
    out = fetch_trip(url, cache, settings())
    assert out.status == "not-modified"
    second = server.seen("/fs.toml")[1]
    assert second.header("If-None-Match") is None
    assert second.header("If-Modified-Since") == LAST_MODIFIED


def test_without_validators_every_fetch_is_a_full_one(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY, etag=None, last_modified=None)
    url = server.url("/fs.toml")
    fetch_trip(url, cache, settings())
    out = fetch_trip(url, cache, settings())
    assert out.status == "fresh"
    second = server.seen("/fs.toml")[1]
    assert second.header("If-None-Match") is None and second.header("If-Modified-Since") is None


def test_a_new_version_replaces_the_cached_copy(server: TestServer, cache: TripCache) -> None:
    route = server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    fetch_trip(url, cache, settings())
    route.body, route.etag = MOVED, '"v2"'
    out = fetch_trip(url, cache, settings())
    assert out.status == "fresh"
    assert out.copy.etag == '"v2"'
    press = next(e for e in out.result.trip.events if e.id == "blinken-press-conference")
    assert press.start.strftime("%H:%M") == "16:00"
    saved = cache.load(url)
    assert saved is not None and saved.body == MOVED and saved.etag == '"v2"'
    assert server.seen("/fs.toml")[1].header("If-None-Match") == '"v1"'


def test_loopback_redirects_are_followed(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY)
    server.routes["/old.toml"] = RedirectRoute("/fs.toml", status=301)
    server.routes["/older.toml"] = RedirectRoute(server.url("/old.toml"), status=307)
    out = fetch_trip(server.url("/older.toml"), cache, settings())
    assert out.status == "fresh"
    assert [r.path for r in server.requests] == ["/older.toml", "/old.toml", "/fs.toml"]


# -- offline ------------------------------------------------------------------------------


def test_offline_start_uses_the_cached_copy(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    fetch_trip(url, cache, settings(), clock=Clock())
    before = snapshot(cache.directory)
    server.stop()  # the port is closed: nothing answers
    out = fetch_trip(url, cache, settings(), clock=Clock(T0 + timedelta(hours=3)))
    assert out.status == "offline"
    assert out.error is not None and "cannot connect" in out.error
    assert out.error.startswith(url)
    assert out.result.trip.id == "fs-north-america-2023-01"
    assert out.copy.fetched_at == T0  # when the server last confirmed it, not now
    assert snapshot(cache.directory) == before


def test_offline_source_reports_schedule_date_and_fetch_time(
    server: TestServer, cache: TripCache
) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    online = TripSource(url, cache=cache, settings=settings(), clock=Clock())
    first = online.load()
    assert first.result is not None and not first.status.offline
    server.stop()
    offline = TripSource(
        url, cache=cache, settings=settings(), clock=Clock(T0 + timedelta(hours=3))
    )
    loaded = offline.load()
    assert loaded.result is not None
    assert loaded.result.trip.id == "fs-north-america-2023-01"
    assert loaded.status.offline
    assert loaded.status.reason is not None and "cannot connect" in loaded.status.reason
    assert loaded.status.schedule_as_of == datetime(2023, 1, 17, 6, 12, tzinfo=timezone.utc)
    assert loaded.status.fetched_at == T0
    # Polling again while still offline: nothing new, still offline.
    again = offline.poll()
    assert again.result is None and again.status.offline


def test_source_poll_reports_only_new_versions(server: TestServer, cache: TripCache) -> None:
    route = server.trip("/fs.toml", BODY)
    source = TripSource(server.url("/fs.toml"), cache=cache, settings=settings())
    assert source.load().result is not None
    assert source.poll().result is None  # a 304: nothing new
    route.body, route.etag = MOVED, '"v2"'
    polled = source.poll()
    assert polled.result is not None and not polled.status.offline
    assert source.poll().result is None
    route.body, route.etag = b"[trip\n", '"v3"'
    bad = source.poll()
    assert bad.result is None  # the good version stays in use
    assert bad.status.offline and bad.problems


# -- bad answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    name: str
    route: Callable[[TestServer], Any]
    message: str  # a regex the error must match
    settings: dict[str, Any]
    invalid_trip: bool = False  # a TripInvalid, not a FetchError, when nothing is cached


BIG = MAX_BODY + 1

BAD_CASES = [
    Bad("404", lambda s: StatusRoute(404), r": HTTP 404 Not Found$", {}),
    Bad("500", lambda s: StatusRoute(500), r": HTTP 500 Internal Server Error$", {}),
    Bad("slow", lambda s: SlowRoute(2.0), r": took longer than 0\.5 s$", {"total_timeout": 0.5}),
    Bad(
        "trickle",
        lambda s: SlowRoute(0.2, trickle=True, count=15),
        r": took longer than 0\.5 s$",
        {"total_timeout": 0.5},
    ),
    Bad("oversized", lambda s: BigRoute(BIG), r": the trip is larger than 2 MiB: refused$", {}),
    Bad(
        "oversized-streamed",
        lambda s: BigRoute(BIG, content_length=False),
        r": the trip is larger than 2 MiB: refused$",
        {},
    ),
    Bad(
        "redirect-to-http",
        lambda s: RedirectRoute("http://example.invalid/x.toml"),
        r" redirects to http://example\.invalid/x\.toml, which is not https: refused$",
        {},
    ),
    Bad("redirect-loop", lambda s: RedirectRoute("/fs.toml"), r": more than 5 redirects$", {}),
    Bad(
        "invalid-toml",
        lambda s: TripRoute(b'[trip\ntitle = "x"\n', etag='"bad"'),
        r"^the new version is not a valid trip \(1 errors?\)$",
        {},
        invalid_trip=True,
    ),
    Bad(
        "invalid-trip",
        lambda s: TripRoute(BODY.replace(b'"Europe/London"', b'"Europe/Lndon"'), etag='"bad"'),
        r"^the new version is not a valid trip \(1 errors?\)$",
        {},
        invalid_trip=True,
    ),
]


@pytest.mark.parametrize("bad", BAD_CASES, ids=lambda b: b.name)
def test_bad_answer_keeps_and_uses_the_good_copy(
    server: TestServer, cache: TripCache, bad: Bad
) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    good = fetch_trip(url, cache, settings(token=TOKEN), clock=Clock())
    assert good.status == "fresh"
    before = snapshot(cache.directory)
    server.routes["/fs.toml"] = bad.route(server)
    out = fetch_trip(
        url, cache, settings(token=TOKEN, **bad.settings), clock=Clock(T0 + timedelta(hours=1))
    )
    assert out.status == "offline"
    assert out.error is not None and re.search(bad.message, out.error), out.error
    assert out.result.trip.id == "fs-north-america-2023-01"
    assert out.result.trip == good.result.trip
    assert out.copy.body == BODY and out.copy.fetched_at == T0
    assert snapshot(cache.directory) == before  # not a byte of the good copy changed
    assert TOKEN not in out.error
    if bad.invalid_trip:
        assert out.problems and all(isinstance(p, str) for p in out.problems)
        assert all(url in p for p in out.problems)  # located in the fetched address
    else:
        assert out.problems == ()


@pytest.mark.parametrize("bad", BAD_CASES, ids=lambda b: b.name)
def test_bad_answer_with_no_cached_copy_raises(
    server: TestServer, cache: TripCache, bad: Bad
) -> None:
    server.routes["/fs.toml"] = bad.route(server)
    url = server.url("/fs.toml")
    if bad.invalid_trip:
        with pytest.raises(TripInvalid) as invalid:
            fetch_trip(url, cache, settings(token=TOKEN, **bad.settings))
        assert invalid.value.errors
        assert all(str(p).startswith(url) for p in invalid.value.problems)
    else:
        with pytest.raises(FetchError) as failed:
            fetch_trip(url, cache, settings(token=TOKEN, **bad.settings))
        message = str(failed.value)
        assert message.endswith("; no copy of this trip was saved before")
        assert re.search(
            bad.message, message.removesuffix("; no copy of this trip was saved before")
        )
        assert TOKEN not in message
    assert snapshot(cache.directory) == {}  # nothing bad was cached


def test_slow_server_is_bounded_by_the_total_timeout(server: TestServer, cache: TripCache) -> None:
    import time

    server.routes["/slow.toml"] = SlowRoute(0.2, trickle=True, count=25)
    start = time.monotonic()
    with pytest.raises(FetchError):
        fetch_trip(server.url("/slow.toml"), cache, settings(total_timeout=0.5))
    assert time.monotonic() - start < 2.0


def test_total_timeout_covers_a_chain_of_slow_redirects(
    server: TestServer, cache: TripCache
) -> None:
    """Each hop answers within the timeout, but together they take longer: refused."""
    import time

    server.trip("/fs.toml", BODY)
    server.routes["/a.toml"] = DelayedRoute(0.3, RedirectRoute("/b.toml"))
    server.routes["/b.toml"] = DelayedRoute(0.3, RedirectRoute("/c.toml"))
    server.routes["/c.toml"] = DelayedRoute(0.3, RedirectRoute("/fs.toml"))
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out|took longer than 0\.5 s"):
        fetch_trip(server.url("/a.toml"), cache, settings(total_timeout=0.5))
    assert time.monotonic() - start < 1.0
    assert server.count("/fs.toml") == 0


def test_oversized_body_is_not_read_to_the_end(server: TestServer, cache: TripCache) -> None:
    """With a small max_body the fetch stops early, long before the server sent it all."""
    size = 8 * 1024 * 1024
    server.routes["/big.toml"] = BigRoute(size, content_length=False)
    with pytest.raises(FetchError, match=r"larger than"):
        fetch_trip(server.url("/big.toml"), cache, settings(max_body=64 * 1024))
    assert server.bytes_sent < size


def test_plain_http_outside_loopback_is_refused_before_connecting(cache: TripCache) -> None:
    with pytest.raises(FetchError, match=r"plain http is refused"):
        fetch_trip("http://example.invalid/fs.toml", cache, settings())
    # (the loopback_only fixture fails the test if a lookup of example.invalid was tried)


# -- the token ----------------------------------------------------------------------------------


def test_token_is_sent_as_a_bearer_header(server: TestServer, cache: TripCache) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    fetch_trip(url, cache, settings(token=TOKEN))
    fetch_trip(url, cache, settings(token=TOKEN))
    assert [r.header("Authorization") for r in server.seen("/fs.toml")] == [f"Bearer {TOKEN}"] * 2
    for name, data in snapshot(cache.directory).items():
        assert TOKEN not in name
        assert TOKEN.encode() not in data


def test_token_is_not_handed_to_another_host_on_redirect(
    server: TestServer, cache: TripCache
) -> None:
    server.trip("/fs.toml", BODY)
    server.routes["/same.toml"] = RedirectRoute("/fs.toml")
    server.routes["/other.toml"] = RedirectRoute(f"http://localhost:{server.port}/fs.toml")
    fetch_trip(server.url("/same.toml"), cache, settings(token=TOKEN))
    assert server.seen("/fs.toml")[-1].header("Authorization") == f"Bearer {TOKEN}"
    out = fetch_trip(server.url("/other.toml"), cache, settings(token=TOKEN))
    assert out.status == "fresh"
    assert server.seen("/other.toml")[-1].header("Authorization") == f"Bearer {TOKEN}"
    assert server.seen("/fs.toml")[-1].header("Authorization") is None


def test_credentials_in_the_address_never_reach_a_message_or_the_cache(
    server: TestServer, cache: TripCache
) -> None:
    server.trip("/fs.toml", BODY)
    secret_url = f"http://alice:pw-{TOKEN}@127.0.0.1:{server.port}/fs.toml"
    out = fetch_trip(secret_url, cache, settings())
    assert out.status == "fresh"
    server.routes["/fs.toml"] = StatusRoute(500)
    out = fetch_trip(secret_url, cache, settings())
    assert out.status == "offline" and out.error is not None
    assert TOKEN not in out.error and "alice" not in out.error
    for name, data in snapshot(cache.directory).items():
        assert TOKEN not in name and TOKEN.encode() not in data
    with pytest.raises(FetchError) as failed:
        fetch_trip(secret_url.replace("/fs.toml", "/missing.toml"), cache, settings())
    assert TOKEN not in str(failed.value)


# -- the command line -----------------------------------------------------------------------------

SITECUSTOMIZE = '''
"""Test guard: this process may resolve (and so connect to) loopback names only."""
import socket

_real = socket.getaddrinfo
_ALLOWED = {"127.0.0.1", "::1", "localhost", "localhost.localdomain"}


def _guarded(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.strip("[]").lower() not in _ALLOWED:
        with open(__file__ + ".attempts", "a", encoding="utf-8") as log:
            log.write(name + "\\n")
        raise socket.gaierror(socket.EAI_NONAME, "test guard: not loopback")
    return _real(host, *args, **kwargs)


socket.getaddrinfo = _guarded
'''


@dataclass
class Run:
    code: int
    out: str
    err: str


class CLI:
    """``python -m tripdash`` with its own HOME, XDG dirs, cache and state, and the token."""

    def __init__(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        guard = tmp_path / "guard"
        home.mkdir()
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        self.attempts = guard / "sitecustomize.py.attempts"
        self.cache_dir = tmp_path / "cache"
        self.state_dir = tmp_path / "state"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPDASH_")}
        self.env = {
            **env,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "TRIPDASH_CACHE_DIR": str(self.cache_dir),
            "TRIPDASH_STATE_DIR": str(self.state_dir),
            "TRIPDASH_TOKEN": TOKEN,
            "PYTHONPATH": os.pathsep.join(
                [str(guard), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            "PYTHONIOENCODING": "utf-8",
            "NO_COLOR": "1",
            "TZ": "Pacific/Chatham",
        }

    def __call__(self, *args: str) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "tripdash", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        both = proc.stdout + proc.stderr
        assert "Traceback" not in both, proc.stderr
        assert TOKEN not in both
        assert not self.attempts.exists(), self.attempts.read_text()
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def cache_is_clean(self) -> None:
        for name, data in snapshot(self.cache_dir).items():
            assert TOKEN not in name
            assert TOKEN.encode() not in data


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    return CLI(tmp_path)


def test_cli_check_and_agenda_json_from_the_server(server: TestServer, cli: CLI) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    r = cli("check", url)
    assert (r.code, r.out, r.err) == (0, f"ok  {url}  8 events, 4 counterparts, 3 places\n", "")
    r = cli("agenda", url, "--json")
    assert r.code == 0, r.err
    assert r.err == ""
    from_url = json.loads(r.out)
    from_file = json.loads(cli("agenda", str(FS_FILE), "--json").out)
    assert from_url == from_file
    assert [e["id"] for e in from_url][:3] == [
        "csis-speech",
        "blinken-bilateral",
        "blinken-press-conference",
    ]
    first, second = server.seen("/fs.toml")
    assert first.header("Authorization") == second.header("Authorization") == f"Bearer {TOKEN}"
    assert first.header("If-None-Match") is None
    assert second.header("If-None-Match") == '"v1"'  # the second run used the cache
    cli.cache_is_clean()


def test_cli_mark_and_log_by_url(server: TestServer, cli: CLI) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    r = cli("mark", url, "csis-speech", "--as", "tester")
    assert r.code == 0, r.err
    assert r.out == "csis-speech: done (Speech on UK foreign policy priorities), by tester\n"
    r = cli("log", url)
    assert r.code == 0, r.err
    assert "tester" in r.out and "done    csis-speech" in r.out


def test_cli_offline_start_from_the_cached_copy(server: TestServer, cli: CLI) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    assert cli("check", url).code == 0
    server.stop()
    r = cli("agenda", url)
    assert r.code == 0, r.err
    assert "Joint press conference with Secretary Blinken" in r.out
    assert re.fullmatch(
        # (today the address is named twice: the CLI's prefix and the fetch error's own)
        rf"tripdash: {re.escape(url)}: (?:{re.escape(url)}: )?cannot connect \(.*\); "
        r"using the copy fetched \d{4}-\d\d-\d\d \d\d:\d\d UTC\n",
        r.err,
    ), r.err


CLI_BAD = [b for b in BAD_CASES if b.name not in {"slow", "trickle"}]  # CLI timeouts are 5/20 s


@pytest.mark.parametrize("bad", CLI_BAD, ids=lambda b: b.name)
def test_cli_bad_answer_with_a_cached_copy_uses_it(server: TestServer, cli: CLI, bad: Bad) -> None:
    server.trip("/fs.toml", BODY)
    url = server.url("/fs.toml")
    assert cli("check", url).code == 0
    before = snapshot(cli.cache_dir / "trips")
    server.routes["/fs.toml"] = bad.route(server)
    r = cli("check", url)
    assert r.code == 0, r.err
    assert r.out == f"ok  {url}  8 events, 4 counterparts, 3 places\n"
    first, *rest = r.err.splitlines()
    assert first.startswith(f"tripdash: {url}: ")
    assert "; using the copy fetched " in first
    if bad.invalid_trip:
        assert rest and all(line.startswith(f"  {url}:") for line in rest)
    else:
        assert rest == []
    assert snapshot(cli.cache_dir / "trips") == before
    cli.cache_is_clean()


@pytest.mark.parametrize("bad", CLI_BAD, ids=lambda b: b.name)
def test_cli_bad_answer_with_no_cached_copy_exits_1(server: TestServer, cli: CLI, bad: Bad) -> None:
    server.routes["/fs.toml"] = bad.route(server)
    url = server.url("/fs.toml")
    r = cli("agenda", url)
    assert r.code == 1
    assert r.out == ""
    if bad.invalid_trip:
        assert r.err and all(line.startswith(f"{url}:") for line in r.err.splitlines())
    else:
        (line,) = r.err.splitlines()
        assert line.startswith("tripdash: ")
        assert line.endswith("; no copy of this trip was saved before")
        assert re.search(bad.message, line.removesuffix("; no copy of this trip was saved before"))
    if bad.name in {"404", "invalid-toml"}:  # check's report (each run costs a process)
        r = cli("check", url)
        assert r.code == 1
        assert r.out == (
            f"FAIL  {url}  1 error\n" if bad.invalid_trip else f"FAIL  {url}  cannot be fetched\n"
        )
    assert snapshot(cli.cache_dir / "trips") == {}
    cli.cache_is_clean()


def test_cli_refuses_plain_http_outside_loopback(cli: CLI) -> None:
    r = cli("agenda", "http://example.invalid/fs.toml")
    assert r.code == 1
    assert r.err == (
        "tripdash: http://example.invalid/fs.toml: plain http is refused (the schedule could "
        "be read or changed on the way); use https, or --allow-http if you must\n"
    )


def test_cli_diff_between_a_file_and_a_url(server: TestServer, cli: CLI) -> None:
    server.trip("/fs.toml", MOVED)
    r = cli("diff", str(FS_FILE), server.url("/fs.toml"))
    assert (r.code, r.out, r.err) == (1, f"- {MOVED_LINE}\n", "")
    r = cli("diff", server.url("/fs.toml"), str(FS_FILE))
    assert r.code == 1
    assert r.out == (
        f"- Moved: {PRESS}: Tue 17 Jan 16:00 EST (21:00 GMT) → Tue 17 Jan 15:30 EST (20:30 GMT)\n"
    )
    server.trip("/same.toml", BODY)
    r = cli("diff", str(FS_FILE), server.url("/same.toml"))
    assert (r.code, r.out) == (0, "No changes.\n")
