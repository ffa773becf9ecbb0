"""Fixtures for the fetch tests: a real HTTP server on 127.0.0.1, and a guard that fails
any test that tries to resolve (and so connect to) a host outside loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from .server import TestServer

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", "localhost.localdomain"}


@pytest.fixture
def server() -> Iterator[TestServer]:
    """A started test server with no routes yet (everything answers 404)."""
    srv = TestServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every connection in this process goes through getaddrinfo: refuse non-loopback hosts,
    and fail the test if any was attempted (tripdash must refuse such hosts before that)."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.strip("[]").lower() not in LOOPBACK_HOSTS:
            attempts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: {name} is not loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts
    assert attempts == [], f"a test tried to reach a non-loopback host: {attempts}"
