"""Test doubles and runners shared by every test folder: ``from fakes import FakeClock``,
``from fakes import run_tripdash``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


class FakeClock:
    """An injected clock that stands still until a test moves it (``clock.at = ...``,
    or ``clock.advance(minutes=5)``; backwards too)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)


REPO = Path(__file__).resolve().parent.parent


def run_tripdash(
    *args: str,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m tripdash ARGS`` as a user starts it, from the repository root.

    The machine's zone is an unusual one (Pacific/Chatham, UTC+13:45) so that a time
    read in the machine's zone shows; output is UTF-8; nothing is read from a terminal.
    It never ends in a traceback (asserted here, for every caller).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "tripdash", *args],
        cwd=cwd,
        env={**os.environ, "TZ": "Pacific/Chatham", "PYTHONIOENCODING": "utf-8", **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


class _Fs:
    """What os.statvfs says of a read-only or a full file system (as root, permissions
    do not bite, so the tests say it this way)."""

    def __init__(self, flag: int, available: int) -> None:
        self.f_flag = flag
        self.f_bavail = available


def read_only_disk(monkeypatch: Any, *, full: bool = False) -> None:
    """Make the store see a read-only (or, with ``full``, a full) disk, through
    ``monkeypatch`` (pytest's fixture)."""
    fs = _Fs(0, 0) if full else _Fs(getattr(os, "ST_RDONLY", 1), 1000)
    monkeypatch.setattr(os, "statvfs", lambda _path: fs)
