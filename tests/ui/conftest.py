"""Fixtures for the Textual app: a frozen injected clock, pinned environment, safe snapshots.

Snapshots are deterministic the way posting and memray make them: the clock is
injected (never the real time), NO_COLOR and TEXTUAL_THEME are removed, the
terminal size is fixed, and no real config or state directory is touched.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClock
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tripdash.app import TripDashApp, make_app
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.times import parse_instant

ROOT = Path(__file__).resolve().parents[2]
TRIPS = ROOT / "trips"
DATA = ROOT / "tests" / "data"
FS_TRIP = TRIPS / "fs-north-america-2023-01.toml"
SEOUL_TRIP = TRIPS / "secstate-seoul-anchorage-2021-03.toml"


@pytest.fixture(autouse=True)
def _pinned_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No colour or theme overrides from the developer's shell, and no real $HOME."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "TEXTUAL_ANIMATIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def at(text: str) -> datetime:
    """``at("2023-01-17T09:20 America/New_York")``: an aware instant."""
    return parse_instant(text)


def trip(path: Path = FS_TRIP) -> Trip:
    return load_trip(path).trip


@pytest.fixture
def build_app(tmp_path: Path) -> Callable[..., TripDashApp]:
    """Make the app with a frozen clock at ``when`` and a private state directory."""

    def build(trips: Iterable[Trip] | Trip, when: str, **kwargs: Any) -> TripDashApp:
        listed = [trips] if isinstance(trips, Trip) else list(trips)
        return make_app(listed, clock=FakeClock(at(when)), state_dir=tmp_path / "state", **kwargs)

    return build


async def details_settled(pilot: Pilot[Any]) -> None:
    """Wait for the dashboard's details pane to follow the selection.

    It follows a moment after the last key (``DETAILS_DELAY``, longer while typing a
    search), by a timer: a loaded machine could take the screenshot before the timer
    fires, and the picture would show the pane on the event before.
    """
    for _ in range(200):
        timer = getattr(pilot.app.screen, "_details_timer", None)
        task = getattr(timer, "_task", None)
        if task is None or task.done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the details pane did not follow the selection within 4 s")


@pytest.fixture
def snap(snap_compare: Callable[..., bool]) -> Callable[..., None]:
    """``snap_compare`` that also fails when the app raised while being driven.

    Plain ``snap_compare`` takes the screenshot even after an exception, and
    ``--snapshot-update`` would save that broken screen.
    """

    def check(
        app: App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (100, 30),
        run_before: Callable[[Pilot[Any]], Any] | None = None,
    ) -> None:
        keys = list(press)

        async def drive(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                result = run_before(pilot)
                if inspect.isawaitable(result):
                    await result
            if keys:
                await pilot.press(*keys)
            await details_settled(pilot)
            # A text cursor blinks every half second: which phase a screenshot catches
            # depends on the machine's pace. Held on, as the snapshots show it.
            for line in pilot.app.screen.query(Input):
                line.cursor_blink = False
            await pilot.pause()

        matched = snap_compare(app, terminal_size=terminal_size, run_before=drive)
        assert app._exception is None, f"app raised while driven: {app._exception!r}"
        assert matched, "screen differs from the snapshot (see snapshot_report.html)"

    return check
