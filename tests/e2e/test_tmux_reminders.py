"""End to end: a reminder in a real terminal (tmux), a few seconds into a rehearsal.

``tripdash --at`` starts five seconds before the 5-minute stage of the CSIS speech.
The test waits for the notice on screen, then checks that tmux saw the bell (the
window's bell flag: the session is detached, so tmux flags it), that the desktop
notification's escape sequences were written (everything the program writes is
copied by ``tmux pipe-pane -O`` to a file), and that the reminder command ran once.
Quitting and opening the dashboard again at the same instant fires nothing: the
once-only record remembers the stage.

The tmux server has a socket of its own (``-L remind-…``) and is killed afterwards.
"""

from __future__ import annotations

import re
import shlex
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_tmux import FS_TRIP, POLL, START_TIMEOUT, Terminal, header

AT = "2023-01-17T09:09:55 America/New_York"  # the 09:10 stage comes 5 s after opening
NOTICE = "In 5 min, 09:15 EST / 14:15 GMT: Speech on UK foreign policy"


class ReminderTerminal(Terminal):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.socket = f"remind-{uuid.uuid4().hex[:12]}"
        self.raw = tmp_path / "pane-output.raw"

    def pipe_output(self) -> None:
        """Copy everything the program writes to the pane into ``raw`` (bytes as sent)."""
        self.tmux("pipe-pane", "-O", "-t", self.session, f"cat >> {shlex.quote(str(self.raw))}")

    def bell_flag(self) -> str:
        return self.tmux("display-message", "-p", "-t", self.session, "#{window_bell_flag}").stdout


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[ReminderTerminal]:
    term = ReminderTerminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def wait_until(what: str, ok: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ok():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(POLL)


def test_reminder_notice_bell_osc_and_command_once(terminal: ReminderTerminal, tmp_path: Path):
    ran = tmp_path / "ran.txt"
    command = f'echo "$TRIPDASH_EVENT_ID $TRIPDASH_REMINDER_MINUTES" >> {shlex.quote(str(ran))}'
    args = [
        FS_TRIP,
        "--at",
        AT,
        "--state-dir",
        str(tmp_path / "state"),
        "--reminder-command",
        command,
        "--command-in-rehearsal",
    ]
    terminal.start(args)
    terminal.pipe_output()
    terminal.wait_for(
        "the dashboard before the reminder",
        lambda s: "Tuesday 17 January 2023" in s and "REHEARSAL" in s,
        timeout=START_TIMEOUT,
    )
    assert terminal.bell_flag().strip() == "0"

    screen = terminal.wait_for_text("Reminder", NOTICE, timeout=START_TIMEOUT)
    assert "esc Dismiss" in screen.splitlines()[-1], screen
    assert terminal.bell_flag().strip() == "1"
    wait_until(
        "the desktop notification in the pane's output", lambda: b"]9;" in _raw(terminal), 20
    )
    raw = _raw(terminal)
    osc777 = re.search(rb"\x1b\]777;notify;([^\x07\x1b]*);([^\x07\x1b]*)\x07", raw)
    osc9 = re.search(rb"\x1b\]9;([^\x07\x1b]*)\x07", raw)
    assert osc777 is not None and osc9 is not None, raw[-2000:]
    assert osc777.group(1).decode() == "Reminder: Foreign Secretary: Washington DC and Toronto"
    assert osc777.group(2).decode().startswith(NOTICE)
    assert osc9.group(1).decode().startswith(f"tripdash: {NOTICE}")
    wait_until("the reminder command", lambda: ran.exists() and ran.read_text(), 20)
    assert ran.read_text() == "csis-speech 5\n"

    terminal.send("Escape")
    terminal.wait_for("the notice to go", lambda s: NOTICE not in s)
    terminal.send("q")
    assert terminal.wait_exit() == "EXIT:0"
    terminal.assert_no_traceback()

    # Open again at the same instant and wait until the clock is past the stage: the
    # record says it fired, so no notice, no bell, and the command does not run again.
    terminal.close()
    (tmp_path / "again").mkdir()
    again = ReminderTerminal(tmp_path / "again")
    # Seconds on the clocks (a user's setting; minutes by default), to see the stage pass.
    again.env["TRIPDASH_CLOCK_SECONDS"] = "true"
    try:
        again.start(args)
        again.wait_for(
            "the clock past 09:10:02",
            lambda s: any(re.search(r"09:10:(0[3-9]|[1-5]\d)", line) for line in header(s)),
            timeout=START_TIMEOUT,
        )
        screen = again.capture()
        assert NOTICE not in screen and "Missed reminders" not in screen, screen
        assert again.bell_flag().strip() == "0"
        again.send("q")
        assert again.wait_exit() == "EXIT:0"
        again.assert_no_traceback()
    finally:
        again.close()
    assert ran.read_text() == "csis-speech 5\n"


def _raw(terminal: ReminderTerminal) -> bytes:
    try:
        return terminal.raw.read_bytes()
    except FileNotFoundError:
        return b""
