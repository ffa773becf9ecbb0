"""End to end: a hostile trip and a hostile file name, every screen and notice, raw bytes read.

The real ``tripdash`` runs in a 120x40 pane of a private tmux server (its own ``-L``
socket, state, cache and config in ``tmp_path``) on a folder of three trip files: two
valid trips whose every shown string carries marked escape sequences, C1 controls, bidi
controls and separators (tests/hostile_payloads.py), and an invalid one whose *file
name* carries them, so that the picker shows it. Everything the program writes to the
terminal is copied by ``tmux pipe-pane -O`` from before it starts; the test drives the
picker, the dashboard (timeline, details), a reminder's notice and desktop notification,
the event box, the counterparts screen, help, the command palette with a query matching
the hostile title, the changes screen after the file is rewritten, the reload notices
(``r``) and the picker again, and then fails on any escape sequence that came from the
files (a marker inside it, or a payload after its label, byte for byte), any raw C1,
bidi or separator character, a pane title that became a marker, or a tmux paste buffer
(OSC 52 reaching tmux, which keeps clipboard writes with ``set-clipboard on``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_payloads import MARK, PAYLOADS, hostile, hostile_trip_toml, leaks, toml_str

from .test_tmux import POLL, REPO, START_TIMEOUT, Terminal, tripdash_script

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)"
)

WIDTH, HEIGHT = 120, 40
#: 25 seconds before the 5-minute reminder of the first event (09:00 New York): time
#: to read the picker before its toast covers part of it.
AT = "2023-01-17T08:54:35 America/New_York"
#: The file name: everything a name may hold (no '/', no NUL).
#: How the payloads look on screen: escaped, as visible text.
ESCAPED = "PWNED<osc0>\\x1b]0;PWNED-TITLE0\\x07"
BAD_NAME = (
    f"{MARK}<fn>{PAYLOADS['osc0']}{PAYLOADS['rlo']}{PAYLOADS['ls']}{PAYLOADS['c1csi']}"
    f"{PAYLOADS['osc52']}.toml"
)


class HostileTerminal(Terminal):
    """A 120x40 pane whose output is copied, byte for byte, from before tripdash starts."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.socket = f"hostile-{uuid.uuid4().hex[:12]}"
        self.raw = tmp_path / "raw.bin"
        self.go = tmp_path / "go"
        self.config.write_text(self.config.read_text() + "set -s set-clipboard on\n")
        for name, sub in (("TRIPDASH_STATE_DIR", "td-state"), ("TRIPDASH_CACHE_DIR", "td-cache")):
            (tmp_path / sub).mkdir()
            self.env[name] = str(tmp_path / sub)
        self.env["TRIPDASH_CONFIG"] = str(tmp_path / "no-config.toml")
        self.titles: list[str] = []

    def start(self, args: list[str]) -> None:
        go = shlex.quote(str(self.go))
        command = " ".join(
            [
                f"cd {shlex.quote(str(REPO))} &&",
                f"while [ ! -e {go} ]; do sleep 0.05; done;",
                shlex.join([tripdash_script(), *args]) + ";",
                f'echo "EXIT:$?" > {shlex.quote(str(self.status_file))}',
            ]
        )
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT), command
        )
        self.started = True
        path = self.tmux("display-message", "-p", "#{socket_path}", check=False).stdout.strip()
        self.socket_path = Path(path) if path.endswith(self.socket) else None
        self.tmux("pipe-pane", "-O", "-t", self.session, f"cat > {shlex.quote(str(self.raw))}")
        self.go.touch()

    def pane_title(self) -> str:
        title = self.tmux("display-message", "-p", "-t", self.session, "#{pane_title}").stdout
        self.titles.append(title)
        return title

    def step(self, keys: list[str], what: str, *texts: str) -> str:
        """Send ``keys``, wait for ``texts``, and check the pane title at once."""
        if keys:
            self.send(*keys)
        screen = self.wait_for_text(*texts) if texts else self.capture()
        assert MARK not in self.pane_title(), f"the pane title after {what}"
        return screen

    def close_with(self, key: str, what: str, text: str) -> None:
        """Send ``key`` and wait until ``text`` is gone: a key sent right after Escape
        would be read with it as alt+key."""
        self.send(key)
        self.wait_for(f"{what} to close", lambda s: text not in s)
        # Textual reads ESC followed at once by a key as alt+key: leave it time to read
        # the ESC alone (this is about input parsing; nothing is timed).
        time.sleep(0.3)
        assert MARK not in self.pane_title(), f"the pane title after closing {what}"

    def raw_bytes(self) -> bytes:
        try:
            return self.raw.read_bytes()
        except FileNotFoundError:
            return b""


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[HostileTerminal]:
    term = HostileTerminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def _rewrite(path: Path) -> None:
    """A new version: the tentative event an hour later (a change the changes screen lists)."""
    _replace(path, path.read_text(encoding="ascii").replace("T15:00:00", "T16:00:00"))


def _replace(path: Path, text: str) -> None:
    """Write as an editor saves: whole, by rename (tripdash may read the file at any time)."""
    tmp = path.with_name(".tmp-trip")
    tmp.write_text(text, encoding="ascii")
    os.replace(tmp, path)


def test_no_escape_sequence_from_a_file_reaches_the_terminal(
    terminal: HostileTerminal, tmp_path: Path
) -> None:
    trips = tmp_path / "trips"
    trips.mkdir()
    # The hostile trip's own file name is hostile too: the header quotes it once the file
    # turns invalid.
    first = trips / f"{MARK}<fn2>{PAYLOADS['osc2']}{PAYLOADS['rlo']}{PAYLOADS['c1osc']}.toml"
    first.write_text(hostile_trip_toml(), encoding="ascii")
    # A second trip (so that the picker shows), hostile in its title alone: the picker
    # then has room for the hostile file name under both.
    (trips / "later.toml").write_text(
        f'[trip]\nid = "later"\ntitle = {toml_str(hostile("HTB", 1))}\nhome_tz = "UTC"\n'
        '[[places]]\nid = "p"\nname = "P"\ntz = "UTC"\n'
        '[[events]]\nid = "e"\ntitle = "E"\nplace = "p"\nstart = 2023-01-24T09:00:00\n',
        encoding="ascii",
    )
    (trips / BAD_NAME).write_text('[trip]\ntitle = 1\nhome_tz = "UTC"\n', encoding="ascii")

    terminal.start([str(trips), "--at", AT, "--no-bell"])
    # Long words wrap onto lines of their own: each tag is looked for alone, with the
    # escaped payloads.
    terminal.wait_for_text("Choose a trip", "HTB", ESCAPED, timeout=START_TIMEOUT)
    # The file name, shown escaped, with the first of its problems.
    screen = terminal.step([], "the picker", "PWNED<fn>\\x1b]0;PWNED-TITLE0\\x07\\u202e")
    assert "cannot be opened" in screen

    # The trip in progress or soonest first: the hostile trip of the 17th.
    terminal.step(["Enter"], "opening the trip", "EV1", ESCAPED, "Home")
    # The reminder, five seconds in: the notice quotes the title (and the desktop
    # notification, OSC 777 and 9, carries it: checked in the raw bytes below).
    terminal.wait_for_text("In 5 min", "esc Dismiss", timeout=START_TIMEOUT)
    terminal.close_with("Escape", "the reminder notice", "esc Dismiss")
    for key in ("j", "j", "j", "k", "g"):  # the timeline, the details pane beside it
        terminal.step([key], f"the timeline key {key}")

    terminal.step(["Enter"], "the event box", "╮", "POINT1")
    terminal.step(["Space"], "ticking a point off in the event box")
    terminal.close_with("Escape", "the event box", "╮")  # its border

    terminal.step(["c"], "the counterparts screen", "Counterparts", "CP1")
    terminal.step(["j"], "the second counterpart", "CP2")
    terminal.close_with("Escape", "the counterparts screen", "Counterparts ·")

    terminal.step(["?"], "help", "tripdash keys")
    terminal.close_with("Escape", "help", "tripdash keys")

    terminal.step(["C-p"], "the command palette", "Search for commands")
    # A query matching the hostile texts: the palette lists the trip's counterparts and
    # events (issue 17), so their hostile names are drawn there, escaped.
    terminal.step(["-l", "HT PWNED"], "typing in the palette", "Counterpart: CP1")
    terminal.close_with("Escape", "the palette", "🔎")

    _rewrite(first)
    terminal.step(["r"], "reloading a changed file", "Schedule changed")
    terminal.step(["d"], "the changes screen", "Schedule changes this session", "EV4")
    terminal.close_with("Escape", "the changes screen", "Schedule changes this session")
    terminal.send("r")
    terminal.wait_for(
        "the notice of an unchanged file",
        lambda s: "no new version" in s.replace("\n", " ") or "no changes" in s,
    )

    _replace(first, "[trip]\ntitle = 1\n")
    # "⚠ .../PWNED<fn2>\x1b]2;... is not valid ... showing the last good version" (cut).
    terminal.send("r")
    terminal.wait_for("the header to say so", lambda s: "⚠ " in s.splitlines()[0])
    terminal.step([], "the header quoting the file name", "PWNED<fn2>\\x1b]2;")

    terminal.step(["o"], "back to the picker", "Choose a trip", "HTB")
    terminal.send("q")
    assert terminal.wait_exit() == "EXIT:0"
    terminal.assert_no_traceback()

    deadline = time.monotonic() + 5
    while b"\x1b[?1049l" not in terminal.raw_bytes() and time.monotonic() < deadline:
        time.sleep(POLL)  # pipe-pane's cat may still be writing
    raw = terminal.raw_bytes()
    assert b"\x1b[?1049h" in raw and b"HT PWNED<osc0>\\x1b]0;" in raw, "the capture saw the app"
    assert b"]777;notify;" in raw, "the desktop notification was sent (and scanned)"
    found = leaks(raw)
    assert not found, "\n".join(found)
    assert not any(MARK in t for t in terminal.titles), terminal.titles
    assert terminal.tmux("list-buffers").stdout == "", "a clipboard write reached tmux"
