"""Fixtures every test gets: no test sees the user's real state, cache or config.

The environment is cleaned before each test, whatever the developer's shell
holds: every ``TRIPDASH_*`` variable is removed, and ``HOME`` and the XDG
directories point into the test's own temporary directory. Tests that start
``tripdash`` as a subprocess copy ``os.environ`` and so inherit the same.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _private_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("TRIPDASH_"):
            monkeypatch.delenv(name)
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "VISUAL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
    ):
        monkeypatch.setenv(name, str(home / sub))
