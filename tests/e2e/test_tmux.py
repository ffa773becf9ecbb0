"""End to end: the real ``tripdash`` console script in a real terminal (tmux).

Each test starts a private tmux server (its own ``-L`` socket and config file, so the
user's tmux is never touched), runs ``tripdash`` in a 100x30 pane exactly as a user
would type it, waits for the screen by polling ``capture-pane``, presses keys with
``send-keys`` and checks that ``q`` ends the program with exit status 0. The exit
status is written by the shell to a file under ``tmp_path``; stderr is left alone
because Textual draws on it.

No fixed sleeps: every expectation is polled every 0.1 s up to a generous deadline,
so the tests take a few seconds normally and still pass on a loaded 2-core machine.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
TRIPS = REPO / "trips"
FS_TRIP = "trips/fs-north-america-2023-01.toml"

WIDTH, HEIGHT = 100, 30
POLL = 0.1
START_TIMEOUT = 40.0  # first paint: Python + Textual import on a cold, loaded machine
KEY_TIMEOUT = 20.0  # the screen reacting to one key
EXIT_TIMEOUT = 20.0  # q until the shell has written the exit status

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)"
)


def tripdash_script() -> str:
    """The console script installed next to the running interpreter (the venv's)."""
    candidate = Path(sys.executable).parent / "tripdash"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("tripdash")
    if found is None:
        pytest.fail(f"no tripdash console script next to {sys.executable} or on PATH")
    return found


def private_env(tmp_path: Path) -> dict[str, str]:
    """The user's environment without anything that changes how the app looks or sizes
    itself, with HOME and the XDG directories under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPDASH_")}
    for name in (
        "NO_COLOR",
        "TEXTUAL_THEME",
        "TEXTUAL_DRIVER",
        "FORCE_COLOR",
        "TEXTUAL_ANIMATIONS",
        "COLUMNS",
        "LINES",
        "TMUX",
        "TMUX_PANE",
    ):
        env.pop(name, None)
    for name, sub in (
        ("HOME", "home"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
    ):
        path = tmp_path / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["TERM"] = "xterm-256color"
    return env


def details_pane(screen: str) -> str:
    """The text under the last full-width rule: the details pane, below the timeline at
    100 columns. Empty if there is no such rule (a modal covers it, say)."""
    lines = screen.splitlines()
    rule = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) >= WIDTH - 2 and set(stripped) == {"─"}:
            rule = i
    return "" if rule is None else "\n".join(lines[rule + 1 :])


def header(screen: str) -> list[str]:
    return screen.splitlines()[:3]


def timeline_row(screen: str, title: str) -> str:
    """The timeline row of an event (not the header's "Now:"/"Next:" line, nor details)."""
    rows = [line for line in screen.splitlines()[3:] if title in line and " EST " in line]
    assert rows, f"no timeline row for {title!r}:\n{screen}"
    return rows[0]


class Terminal:
    """tripdash running in one pane of a private tmux server."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        tag = uuid.uuid4().hex[:12]
        self.socket = f"tripdash-e2e-{tag}"
        self.session = f"tripdash-{tag}"
        self.status_file = tmp_path / "status"
        self.env = private_env(tmp_path)
        self.config = tmp_path / "tmux.conf"
        self.config.write_text(
            # Exactly WIDTH x HEIGHT for the app (no status line), escape sent at once,
            # a common TERM (xterm-256color), and the pane kept after the program
            # exits so that a crash is still on screen to be read.
            "set -g status off\n"
            "set -s escape-time 0\n"
            'set -g default-terminal "xterm-256color"\n'
            'set -g default-shell "/bin/sh"\n'
            "set -g remain-on-exit on\n"
            "set -g history-limit 5000\n"
        )
        self.screens: list[str] = []
        self.started = False
        self.socket_path: Path | None = None

    # -- tmux plumbing -----------------------------------------------------------------

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=check,
        )

    def start(self, args: list[str]) -> None:
        command = " ".join(
            [
                f"cd {shlex.quote(str(REPO))} &&",
                shlex.join([tripdash_script(), *args]) + ";",
                f'echo "EXIT:$?" > {shlex.quote(str(self.status_file))}',
            ]
        )
        self.tmux(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            command,
        )
        self.started = True
        path = self.tmux("display-message", "-p", "#{socket_path}", check=False).stdout.strip()
        self.socket_path = Path(path) if path.endswith(self.socket) else None

    def close(self) -> None:
        if not self.started:
            return
        self.tmux("kill-session", "-t", self.session, check=False)
        self.tmux("kill-server", check=False)
        # tmux leaves its socket file behind; it is ours alone (a uuid name).
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)

    def capture(self, history: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", self.session]
        if history:
            args += ["-S", "-"]
        screen = self.tmux(*args).stdout
        self.screens.append(screen)
        if "Traceback" in screen:
            self.fail_crashed(screen)
        return screen

    def fail_crashed(self, screen: str) -> None:
        """A traceback is on screen: give the program a moment to end, then fail with the
        whole pane (history included) and its exit status."""
        deadline = time.monotonic() + 5
        while self.exit_status() is None and time.monotonic() < deadline:
            time.sleep(POLL)
        full = self.tmux("capture-pane", "-p", "-S", "-", "-t", self.session).stdout
        pytest.fail(
            f"tripdash raised (exit status file: {self.exit_status()}):\n{full or screen}",
            pytrace=False,
        )

    def assert_no_traceback(self) -> None:
        assert self.screens, "nothing was ever captured"
        assert not any("Traceback" in s for s in self.screens)

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    # -- waiting -----------------------------------------------------------------------

    def wait_for(self, what: str, ok: Callable[[str], bool], timeout: float = KEY_TIMEOUT) -> str:
        """Poll the screen until ok(screen) holds; fail with the last screen if it never
        does (or if the program ended meanwhile)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.capture()
            if ok(screen):
                return screen
            if self.exit_status() is not None:
                final = self.capture(history=True)
                pytest.fail(
                    f"tripdash ended ({self.exit_status()}) while waiting for {what}:\n{final}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out after {timeout:.0f} s waiting for {what}; screen:\n{screen}"
                )
            time.sleep(POLL)

    def wait_for_text(self, *texts: str, timeout: float = KEY_TIMEOUT) -> str:
        return self.wait_for(
            " and ".join(repr(t) for t in texts),
            lambda screen: all(t in screen for t in texts),
            timeout,
        )

    def exit_status(self) -> str | None:
        try:
            text = self.status_file.read_text().strip()
        except FileNotFoundError:
            return None
        return text if text.startswith("EXIT:") else None

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                screen = self.capture(history=True)
                pytest.fail(f"tripdash did not exit within {timeout:.0f} s; screen:\n{screen}")
            time.sleep(POLL)
        # The pane stays (remain-on-exit): whatever was printed on the way out is here.
        self.capture(history=True)
        return status


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def test_rehearsal_dashboard_keys_and_quit(terminal: Terminal) -> None:
    terminal.start([FS_TRIP, "--at", "2023-01-17T09:10 America/New_York"])

    # Wait for the whole first screen: the timeline can be drawn a frame before the
    # header's clocks are.
    screen = terminal.wait_for(
        "the timeline and the rehearsal header",
        lambda s: (
            "Tuesday 17 January 2023" in s
            and "09:15 EST" in s
            and "REHEARSAL" in s
            and any("Home" in line and "GMT" in line and "EST" in line for line in header(s))
            and "─── now" in s
        ),
        timeout=START_TIMEOUT,
    )
    lines = screen.splitlines()
    assert "REHEARSAL" in lines[0], screen
    # 09:10 EST is 14:10 GMT; the clock runs on from there, seconds at most.
    clocks = next(line for line in header(screen) if "Home" in line)
    assert "14:10" in clocks and "GMT" in clocks, clocks
    assert "09:10" in clocks and "EST" in clocks, clocks
    speech = timeline_row(screen, "Speech on UK foreign policy")
    assert "09:15 EST" in speech and "14:15 GMT" in speech, speech
    assert "→" in speech, f"the speech is next: {speech}"
    press = timeline_row(screen, "Joint press conference")
    assert "15:30 EST" in press and "20:30 GMT" in press, press
    now_line = next((line for line in lines if "now" in line and "───" in line), None)
    assert now_line is not None, screen
    assert "09:10 EST" in now_line and "14:10 GMT" in now_line, now_line
    assert lines.index(now_line) < lines.index(speech), "the now line sits before the next event"

    # ] : next day; the details pane shows Wednesday's first event.
    terminal.send("]")
    screen = terminal.wait_for(
        "Wednesday's first event in the details pane",
        lambda s: "Wreath-laying" in details_pane(s) and "Wed 18 Jan" in details_pane(s),
    )

    # n : back to now, i.e. the next event: the speech at 09:15.
    terminal.send("n")
    screen = terminal.wait_for(
        "the speech in the details pane",
        lambda s: (
            "Speech on UK foreign policy priorities" in details_pane(s)
            and "Wreath-laying" not in details_pane(s)
        ),
    )
    details = details_pane(screen)
    assert "09:15 EST" in details and "14:15 GMT" in details, details
    assert "Wreath-laying" not in details

    # ? : help; escape closes it.
    terminal.send("?")
    terminal.wait_for_text("tripdash keys")
    terminal.send("Escape")
    terminal.wait_for(
        "the help to close",
        lambda s: "tripdash keys" not in s and "Tuesday 17 January 2023" in s,
    )

    # + : the rehearsal clock moves 15 minutes; the speech is now in progress.
    terminal.send("+")
    screen = terminal.wait_for(
        "the clock at 09:25 EST with the speech running",
        lambda s: (
            any("09:25" in line and "EST" in line for line in header(s))
            and any(
                "Speech on UK foreign policy" in line and "running" in line
                for line in s.splitlines()[3:]
            )
        ),
    )
    assert "REHEARSAL" in screen.splitlines()[0]
    clocks = next(line for line in header(screen) if "Home" in line)
    assert "14:25" in clocks and "GMT" in clocks, clocks
    speech = timeline_row(screen, "Speech on UK foreign policy")
    assert "▶" in speech, speech

    terminal.send("q")
    assert terminal.wait_exit() == "EXIT:0"
    terminal.assert_no_traceback()


def bundled_trip_titles() -> list[str]:
    titles = []
    for path in sorted(TRIPS.glob("*.toml")):
        with path.open("rb") as f:
            titles.append(tomllib.load(f)["trip"]["title"])
    return titles


def test_folder_opens_picker_then_dashboard(terminal: Terminal) -> None:
    titles = bundled_trip_titles()
    assert len(titles) == 3, titles

    terminal.start(["trips/"])

    screen = terminal.wait_for_text("Choose a trip", *titles, timeout=START_TIMEOUT)
    # The first one listed is the one selected; enter opens it.
    first = min(titles, key=screen.index)

    terminal.send("Enter")
    screen = terminal.wait_for(
        f"the dashboard of {first!r}",
        lambda s: (
            "Choose a trip" not in s
            and first in s.splitlines()[0]
            and "Home" in s
            and any("now" in line and "───" in line for line in s.splitlines())
        ),
    )

    terminal.send("q")
    assert terminal.wait_exit() == "EXIT:0"
    terminal.assert_no_traceback()
