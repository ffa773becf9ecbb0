"""An address that starts serving another trip (its id changed), through the shell.

Without ``--accept-new-trip`` the commands keep using the cached trip, and say that
the address now serves another one and how to take it; the cached copy is not
replaced. With it, the new trip replaces the old one in the cache, the commands say
so, and the old trip's marks stay under the old id (nothing deleted, nothing moved).

The server is a real one on 127.0.0.1 (tests/net/server.py); nothing else is contacted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from net.server import TestServer

from tripdash.domain.store import MarkStore

ROOT = Path(__file__).resolve().parents[1]
BODY = (ROOT / "trips" / "fs-north-america-2023-01.toml").read_bytes()
OLD_ID = "fs-north-america-2023-01"
NEW_ID = "fs-north-america-2023-02"
OTHER = BODY.replace(f'id = "{OLD_ID}"'.encode(), f'id = "{NEW_ID}"'.encode()).replace(
    b'title = "Foreign Secretary: Washington DC and Toronto"',
    b'title = "Foreign Secretary: Ottawa"',
)


@pytest.fixture
def server() -> Iterator[TestServer]:
    srv = TestServer().start()
    try:
        yield srv
    finally:
        srv.stop()


class Shell:
    """``tripdash`` in a subprocess, with its own state and cache directories."""

    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "state"
        self.cache = tmp_path / "cache"
        self.env = {
            **os.environ,
            "TRIPDASH_STATE_DIR": str(self.state),
            "TRIPDASH_CACHE_DIR": str(self.cache),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "tripdash", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return done

    def cached(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((self.cache / "trips").iterdir())}


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def test_another_trip_at_the_address_needs_accept_new_trip(
    server: TestServer, shell: Shell
) -> None:
    route = server.trip("/trip.toml", BODY)
    url = server.url("/trip.toml")
    assert shell("mark", url, "csis-speech").returncode == 0
    before = shell.cached()

    route.body, route.etag = OTHER, '"v2"'  # the same address, another trip
    for args in (["agenda", url], ["log", url], ["check", url]):
        done = shell(*args)
        assert done.returncode == 0, done.stderr
        assert (
            f"{url} now serves another trip: 'Foreign Secretary: Ottawa' (id {NEW_ID}), not "
            f"'Foreign Secretary: Washington DC and Toronto' (id {OLD_ID})"
        ) in done.stderr
        assert f"Still using the copy of {OLD_ID}; run again with --accept-new-trip" in (
            done.stderr
        )
    # Refused: the old trip is still the one shown, its marks with it, the cache as it was.
    done = shell("log", url)
    assert "csis-speech" in done.stdout
    done = shell("agenda", url, "--json")
    assert any(e["done"] for e in json.loads(done.stdout))
    assert shell.cached() == before

    done = shell("agenda", url, "--json", "--accept-new-trip")
    assert done.returncode == 0, done.stderr
    assert (
        f"the cached trip 'Foreign Secretary: Washington DC and Toronto' (id {OLD_ID}) was "
        "replaced by another trip; its marks stay under its id"
    ) in done.stderr
    assert not any(e["done"] for e in json.loads(done.stdout))  # the new trip's: none yet
    assert shell.cached() != before

    # From now on the new trip is the one at the address: no question, no marks.
    done = shell("log", url)
    assert (done.returncode, done.stderr) == (0, "")
    assert "csis-speech" not in done.stdout
    done = shell("check", url)
    assert (done.returncode, done.stderr) == (0, "")
    # The old marks stay, under the old id.
    with MarkStore(shell.state) as store:
        assert store.done_ids(OLD_ID) == {"csis-speech"}
        assert store.done_ids(NEW_ID) == set()


def test_a_mark_without_accepting_goes_to_the_trip_in_use(server: TestServer, shell: Shell) -> None:
    route = server.trip("/trip.toml", BODY)
    url = server.url("/trip.toml")
    assert shell("check", url).returncode == 0
    route.body, route.etag = OTHER, '"v2"'
    done = shell("mark", url, "csis-speech")
    assert done.returncode == 0, done.stderr
    assert "--accept-new-trip" in done.stderr
    with MarkStore(shell.state) as store:
        assert store.done_ids(OLD_ID) == {"csis-speech"}
        assert store.done_ids(NEW_ID) == set()


def test_a_new_version_of_the_same_trip_needs_no_confirmation(
    server: TestServer, shell: Shell
) -> None:
    route = server.trip("/trip.toml", BODY)
    url = server.url("/trip.toml")
    assert shell("check", url).returncode == 0
    route.body = BODY.replace(b"start = 2023-01-17T15:30:00", b"start = 2023-01-17T16:00:00")
    route.etag = '"v2"'
    done = shell("agenda", url)
    assert (done.returncode, done.stderr) == (0, "")
    assert "16:00 EST" in done.stdout
