"""Test doubles shared by every test folder: ``from fakes import FakeClock``."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """An injected clock that stands still until a test moves it (``clock.at = ...``,
    or ``clock.advance(minutes=5)``; backwards too)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)
