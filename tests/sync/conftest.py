"""Fixtures for the team sync tests: a real CouchDB-compatible server on 127.0.0.1.

Apache CouchDB cannot be installed on these machines, so the tests run
``pouchdb-server`` (pinned in ``tests/sync/pouchdb/package.json``, its exact tree in
``package-lock.json``). A missing Node or npm is a *failing* run, never a skip: these
tests are the only proof that sync speaks the protocol of a real server.

* :func:`couch` (session): one in-memory server for the whole run, on a free port.
  Every test gets its own trip id (:func:`trip_id`), hence its own database
  ``tripdash-<trip id>``, so tests never see each other's marks.
* :func:`start_server` (per test): a private server, for tests that stop, kill or
  secure it. It can keep its data on disk (``persistent=True``) so that a killed
  server comes back with it, as a real CouchDB does; that uses leveldown's prebuilt
  binary (shipped in the npm package, so ``--ignore-scripts`` is fine; Linux x64/arm64,
  macOS x64 and Windows have one).

Every server runs in its own process group, with its working directory (where
pouchdb-server writes ``log.txt`` and ``config.json``) and log under a temporary
directory, and is stopped by its PID (the whole group) when its fixture ends.

A quirk of pouchdb-server 4.2.0 to know about: once an admin exists, an
*unauthenticated* ``PUT /newdb`` crashes the server (``db.info is not a function``).
The tests of credentials therefore use a private server and always authenticate
before a database is created.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tripdash.domain.times import parse_instant

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_DIR = HERE / "pouchdb"
PACKAGE = "pouchdb-server"
BIN = NODE_DIR / "node_modules" / ".bin" / PACKAGE

INSTALL_TIMEOUT = 300.0  # npm ci on a fresh machine (about 10 s with a warm cache)
START_TIMEOUT = 30.0  # until GET / answers (about 1-3 s)
STOP_TIMEOUT = 5.0  # SIGTERM, then SIGKILL

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", "localhost.localdomain"}


# -- installing pouchdb-server ------------------------------------------------------------


def _pinned_version() -> str:
    package = json.loads((NODE_DIR / "package.json").read_text(encoding="utf-8"))
    return str(package["dependencies"][PACKAGE])


def _installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / PACKAGE / "package.json"
    if not BIN.exists() or not manifest.exists():
        return None
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: the team sync tests need Node.js and npm to run "
            f"pouchdb-server (a CouchDB-compatible server). Install Node.js 18 or later "
            f"(with npm), then run `npm ci --ignore-scripts` in {NODE_DIR.relative_to(ROOT)} "
            "or just pytest again. This is a failure, not a skip: CI must run these tests.",
            pytrace=False,
        )
    return path


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """One `npm ci` at a time on this machine (pytest-xdist workers start together)."""
    key = hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"tripdash-pouchdb-install-{key}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(npm: str) -> None:
    """`npm ci --ignore-scripts` from the lock file, when pouchdb-server is missing or stale."""
    pinned = _pinned_version()
    if _installed_version() == pinned:
        return
    with _install_lock():
        if _installed_version() == pinned:  # another worker did it meanwhile
            return
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
        try:
            proc = subprocess.run(
                command,
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"`{' '.join(command[1:])}` in {NODE_DIR} took longer than "
                f"{INSTALL_TIMEOUT:.0f} s (is the npm registry reachable?)",
                pytrace=False,
            )
        if proc.returncode != 0 or _installed_version() != pinned:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            pytest.fail(
                f"`npm {' '.join(command[1:])}` in {NODE_DIR} failed (exit "
                f"{proc.returncode}); pouchdb-server {pinned} is needed:\n{tail}",
                pytrace=False,
            )


# -- running it -------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL when pytest dies without tearing down
    (killed by a CI timeout, say), so no server outlives the run even then."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (just now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PouchServer:
    """One pouchdb-server process on 127.0.0.1, in memory unless given a data directory."""

    def __init__(self, node: str, workdir: Path, *, data_dir: Path | None = None) -> None:
        self.node = node
        self.workdir = workdir
        self.data_dir = data_dir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> PouchServer:
        """Start (or start again, on the same port) and wait until GET / answers."""
        assert self.proc is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            self.node,
            str(BIN.resolve()),
            "--port",
            str(self.port),
            "--host",
            "127.0.0.1",
            "--config",
            str(self.workdir / "config.json"),
            "--no-color",
        ]
        if self.data_dir is None:
            args.append("--in-memory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            args += ["--dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=self.workdir,  # pouchdb-server writes log.txt here
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(
                        f"pouchdb-server exited with {self.proc.returncode} at start "
                        f"(port {self.port}):\n{self.log_tail()}",
                        pytrace=False,
                    )
                try:
                    answer = client.get(f"{self.url}/")
                    if answer.status_code == 200 and "version" in answer.json():
                        return
                    last = f"HTTP {answer.status_code}"
                except (httpx.HTTPError, ValueError) as exc:
                    last = repr(exc)
                time.sleep(0.1)
        pytest.fail(
            f"pouchdb-server did not answer GET {self.url}/ within {START_TIMEOUT:.0f} s "
            f"({last}):\n{self.log_tail()}",
            pytrace=False,
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process group by the PID (SIGKILL if it does not go within 5 s)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        # Nothing of the group may be left (node spawns no children, but make sure).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Die at once, as a crashed server does."""
        self.stop(signal.SIGKILL)

    # -- looking at the server directly ---------------------------------------------------

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            return client.get(f"{self.url}{path}", **kwargs)

    def doc_count(self, db: str) -> int:
        answer = self.get(f"/{db}")
        answer.raise_for_status()
        return int(answer.json()["doc_count"])

    def docs(self, db: str) -> list[dict[str, Any]]:
        answer = self.get(f"/{db}/_all_docs", params={"include_docs": "true"})
        answer.raise_for_status()
        return [row["doc"] for row in answer.json()["rows"]]

    def post_docs(self, db: str, docs: list[dict[str, Any]], **kwargs: Any) -> None:
        """Write documents straight into a database (created if needed), bypassing tripdash."""
        with httpx.Client(trust_env=False, timeout=10.0, **kwargs) as client:
            created = client.put(f"{self.url}/{db}")
            assert created.status_code in (201, 412), created.text
            answer = client.post(f"{self.url}/{db}/_bulk_docs", json={"docs": docs})
            assert answer.status_code == 201, answer.text
            assert all("error" not in row for row in answer.json()), answer.text


@pytest.fixture(scope="session")
def node() -> str:
    """Node.js, with pouchdb-server installed from the lock file. Fails when missing."""
    node = _require_tool("node")
    npm = _require_tool("npm")
    ensure_installed(npm)
    return node


@pytest.fixture(scope="session")
def couch_server(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PouchServer]:
    server = PouchServer(node, tmp_path_factory.mktemp("pouchdb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def couch(couch_server: PouchServer) -> PouchServer:
    """The session's server, checked alive (a test that broke it fails, not the next ones)."""
    assert couch_server.proc is not None and couch_server.proc.poll() is None, (
        f"the session's pouchdb-server died:\n{couch_server.log_tail()}"
    )
    return couch_server


@pytest.fixture
def start_server(node: str, tmp_path: Path) -> Iterator[Callable[..., PouchServer]]:
    """``start_server(persistent=False)``: a private server, stopped at the end of the test."""
    started: list[PouchServer] = []

    def start(*, persistent: bool = False) -> PouchServer:
        workdir = tmp_path / f"pouchdb-{len(started)}"
        server = PouchServer(node, workdir, data_dir=workdir / "data" if persistent else None)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def closed_url() -> str:
    """An address on 127.0.0.1 where nothing listens: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def trip_id() -> str:
    """A trip id of this test only, so its database ``tripdash-<id>`` is its own."""
    return f"sync-test-{uuid.uuid4().hex[:12]}"


# -- a clean, loopback-only environment ---------------------------------------------------


@pytest.fixture(autouse=True)
def _pinned_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No sync settings, state directory or $HOME of the developer's shell."""
    for name in (
        "TRIPDASH_SYNC_URL",
        "TRIPDASH_SYNC_USER",
        "TRIPDASH_SYNC_PASSWORD",
        "TRIPDASH_STATE_DIR",
        "TRIPDASH_AS",
        "TRIPDASH_TOKEN",
        "NO_COLOR",
        "TEXTUAL_THEME",
        "FORCE_COLOR",
        "TEXTUAL_ANIMATIONS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every connection of this process resolves its host first: refuse non-loopback ones."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.strip("[]").lower() not in LOOPBACK_HOSTS:
            attempts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: {name} is not loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    assert attempts == [], f"a test tried to reach a non-loopback host: {attempts}"


# -- clocks ------------------------------------------------------------------------------


def at(text: str) -> datetime:
    """``at("2023-01-17T09:20 America/New_York")``: an aware instant."""
    return parse_instant(text)
