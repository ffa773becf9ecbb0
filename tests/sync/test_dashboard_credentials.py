"""A password given in ``--sync URL`` to the dashboard: said on its screen, never shown.

``tripdash sync`` warns on stderr (tests/sync/test_hostile.py); the dashboard's screen
hides stderr while it runs, so it says it in a notice too. The real program runs in a
private tmux server against the hostile server of :mod:`tests.sync.hostile` (here an
honest one) on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e.test_tmux import START_TIMEOUT, Terminal

from .hostile import HostileCouch
from .test_sync import Run, trip_file, tripdash

__all__ = ["tripdash"]  # a fixture, used by name

needs_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)"
)


@pytest.fixture
def couch() -> Iterator[HostileCouch]:
    with HostileCouch() as server:
        yield server


def flat(screen: str) -> str:
    """The screen's words in one line (a notice wraps its text at any space)."""
    return " ".join(screen.split())


@needs_tmux
def test_the_dashboard_warns_of_a_password_in_the_sync_url_and_never_shows_it(
    couch: HostileCouch, trip_id: str, tmp_path: Path
) -> None:
    trip = trip_file(tmp_path, trip_id)
    url = couch.url.replace("http://", "http://someone:s3cret-pw@")
    terminal = Terminal(tmp_path)
    try:
        terminal.start([str(trip), "--at", "2023-01-17T09:10 America/New_York", "--sync", url])
        # On the dashboard's screen (stderr's line, printed before it, is hidden by it).
        screen = terminal.wait_for(
            "the warning about the password on the dashboard",
            lambda s: "REHEARSAL" in s and "(ps shows it)" in flat(s),
            timeout=START_TIMEOUT,
        )
        assert "TRIPDASH_SYNC_USER and TRIPDASH_SYNC_PASSWORD" in flat(screen)
        terminal.wait_for("the round to be done", lambda s: "⇅ synced" in s)
        terminal.send("q")
        assert terminal.wait_exit() == "EXIT:0"
        terminal.assert_no_traceback()
    finally:
        terminal.close()
    assert couch.requests.count("GET _changes") == 1  # the credentials worked for the round
    assert not any("s3cret-pw" in screen for screen in terminal.screens)


@pytest.mark.parametrize("verb", [("sync",), ()])
def test_help_names_the_environment_variables_for_credentials(
    verb: tuple[str, ...], tripdash: Callable[..., Run]
) -> None:
    r = tripdash(*verb, "--help")
    assert r.code == 0
    text = flat(r.out)
    assert "$TRIPDASH_SYNC_USER / $TRIPDASH_SYNC_PASSWORD" in text
    assert "(a password in the URL is visible to other users in ps)" in text
