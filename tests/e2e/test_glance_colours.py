"""The selected row and secondary text as a terminal shows them (issue 12, items 1-2).

tripdash runs in a private tmux server (socket ``glance-…``); ``capture-pane -e`` gives
every cell's colours, which are read back into (foreground, background, attributes) per
cell. Checked in the dark and light themes at 256 colours, under ``TERM=linux`` (16
colours) and with ``NO_COLOR``: the selected row differs from the row in progress and
from every other row, also with focus in the details pane; home time is drawn like local
time; place and counterparts are secondary, yet legible (never white on light grey).
"""

from __future__ import annotations

import itertools
import re
import shlex
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .test_tmux import REPO, Terminal, tripdash_script

TOKYO = "trips/canada-pm-tokyo-2016-05.toml"
AT = "2016-05-24T11:40 Asia/Tokyo"


@dataclass(frozen=True)
class Cell:
    char: str
    fg: str
    bg: str
    bold: bool
    reverse: bool


_SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def parse_screen(raw: str) -> list[list[Cell]]:
    """``capture-pane -p -e`` output as rows of cells with their colours."""
    rows: list[list[Cell]] = []
    fg, bg, bold, reverse = "default", "default", False, False
    for line in raw.split("\n"):
        row: list[Cell] = []
        pos = 0
        for match in [*_SGR.finditer(line), None]:
            end = match.start() if match else len(line)
            for ch in line[pos:end]:
                row.append(Cell(ch, fg, bg, bold, reverse))
            if match is None:
                break
            pos = match.end()
            codes = [c for c in re.split("[;:]", match.group(1))] or ["0"]
            i = 0
            while i < len(codes):
                code = int(codes[i] or 0)
                if code == 0:
                    fg, bg, bold, reverse = "default", "default", False, False
                elif code == 1:
                    bold = True
                elif code == 22:
                    bold = False
                elif code == 7:
                    reverse = True
                elif code == 27:
                    reverse = False
                elif code in (38, 48):
                    if codes[i + 1] == "5":
                        value, i = f"256:{codes[i + 2]}", i + 2
                    else:
                        value, i = "rgb:" + ",".join(codes[i + 2 : i + 5]), i + 4
                    if code == 38:
                        fg = value
                    else:
                        bg = value
                elif code == 39:
                    fg = "default"
                elif code == 49:
                    bg = "default"
                elif 30 <= code <= 37 or 90 <= code <= 97:
                    fg = f"16:{code}"
                elif 40 <= code <= 47 or 100 <= code <= 107:
                    bg = f"16:{code - 10}"
                i += 1
        rows.append(row)
    return rows


def rgb(colour: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    """An approximate RGB for a parsed colour (xterm's palette)."""
    kind, _, value = colour.partition(":")
    if kind == "rgb":
        r, g, b = (int(x) for x in value.split(","))
        return r, g, b
    if kind == "256":
        n = int(value)
        if n < 16:
            return rgb(f"16:{30 + n if n < 8 else 82 + n}", default)
        if n >= 232:
            level = 8 + 10 * (n - 232)
            return level, level, level
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    if kind == "16":
        n = int(value)
        bright = n >= 90
        n = n - 90 if bright else n - 30
        base = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238),
                (205, 0, 205), (0, 205, 205), (229, 229, 229)]  # fmt: skip
        hi = [(127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255),
              (255, 0, 255), (0, 255, 255), (255, 255, 255)]  # fmt: skip
        return (hi if bright else base)[n]
    return default


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def lum(c: tuple[int, int, int]) -> float:
        def ch(v: int) -> float:
            s = v / 255
            return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

        r, g, b_ = (ch(v) for v in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def look(cell: Cell) -> tuple[str, str, bool]:
    """What a cell looks like: its (shown) background and foreground, and its weight."""
    fg, bg = (cell.bg, cell.fg) if cell.reverse else (cell.fg, cell.bg)
    return bg, fg, cell.bold


def find(rows: list[list[Cell]], text: str) -> tuple[int, int]:
    for y, row in enumerate(rows):
        line = "".join(c.char for c in row)
        x = line.find(text)
        if x >= 0 and y >= 3:  # below the header
            return y, x
    raise AssertionError(f"{text!r} not on screen")


class ColourTerminal(Terminal):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.socket = f"glance-{uuid.uuid4().hex[:12]}"

    def start_with(self, env: dict[str, str], width: int = 120, height: int = 40) -> None:
        settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        state = self.tmp_path / "marks"
        command = (
            f"cd {shlex.quote(str(REPO))} && env {settings} "
            + shlex.join([tripdash_script(), TOKYO, "--at", AT, "--state-dir", str(state)])
            + f'; echo "EXIT:$?" > {shlex.quote(str(self.status_file))}'
        )
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), command
        )
        self.started = True
        path = self.tmux("display-message", "-p", "#{socket_path}", check=False).stdout.strip()
        self.socket_path = Path(path) if path.endswith(self.socket) else None

    def colours(self) -> list[list[Cell]]:
        raw = self.tmux("capture-pane", "-p", "-e", "-t", self.session).stdout
        return parse_screen(raw)


@pytest.fixture
def term(tmp_path: Path) -> Iterator[ColourTerminal]:
    t = ColourTerminal(tmp_path)
    try:
        yield t
    finally:
        t.close()


SETTINGS = {
    "dark-256": {"TERM": "xterm-256color", "TEXTUAL_THEME": "textual-dark"},
    "light-256": {"TERM": "xterm-256color", "TEXTUAL_THEME": "textual-light"},
    "linux": {"TERM": "linux", "TEXTUAL_THEME": "textual-dark"},
    "no-color": {"TERM": "xterm-256color", "NO_COLOR": "1"},
}


def wait_for_cursor_on_honda(term: ColourTerminal) -> None:
    term.wait_for_text("now 11:40 JST", "Honda", timeout=40)
    term.send("j")
    term.wait_for_text("Takahiro Hachigo")  # the details pane follows the selection


def assert_selected_row_unmistakable(rows: list[list[Cell]]) -> None:
    selected_y, x = find(rows, "12:30 JST")  # Honda: the next event, selected
    running_y, _ = find(rows, "11:30 JST")  # Toyota: in progress
    plain_y, _ = find(rows, "14:00 JST")
    past_y, _ = find(rows, "08:30 JST")
    selected = look(rows[selected_y][x])
    others = {name: look(rows[y][x])[0] for name, y in
              (("running", running_y), ("plain", plain_y), ("past", past_y))}  # fmt: skip
    for name, background in others.items():
        assert selected[0] != background, f"selected row looks like the {name} row"
    # The row in progress is told apart from the selected one, and from a plain row.
    assert look(rows[running_y][x]) != look(rows[plain_y][x])


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_selected_row_is_unmistakable(term: ColourTerminal, setting: str) -> None:
    term.start_with(SETTINGS[setting])
    wait_for_cursor_on_honda(term)
    assert_selected_row_unmistakable(term.colours())
    term.send("Tab")  # focus into the details pane
    term.wait_for_text("Takahiro Hachigo")
    rows = term.colours()
    assert_selected_row_unmistakable(rows)
    term.send("q")
    assert term.wait_exit() == "EXIT:0"


@pytest.mark.parametrize("setting", ["dark-256", "light-256"])
def test_secondary_text_is_secondary_and_legible(term: ColourTerminal, setting: str) -> None:
    term.start_with(SETTINGS[setting])
    wait_for_cursor_on_honda(term)
    rows = term.colours()
    y, x_title = find(rows, "Media availability")
    _, x_venue = find(rows, "Hotel New Otani")
    _, x_local = find(rows, "16:30 JST")
    _, x_home = find(rows, "03:30 EDT")
    title, venue = rows[y][x_title], rows[y][x_venue]
    local, home = rows[y][x_local], rows[y][x_home]
    dark = setting.startswith("dark")
    background = rgb(title.bg, (30, 30, 30) if dark else (240, 240, 240))
    # Home time is drawn exactly like local time.
    assert (home.fg, home.bold) == (local.fg, local.bold)
    # The venue is secondary: another colour than the title, dimmer against the background.
    assert venue.fg != title.fg
    title_rgb = rgb(title.fg, (220, 220, 220) if dark else (20, 20, 20))
    venue_rgb = rgb(venue.fg, (220, 220, 220) if dark else (20, 20, 20))
    assert contrast(venue_rgb, background) < contrast(title_rgb, background)
    # ...and legible: never white (the old 231), at least 3:1 against its background.
    assert venue_rgb != (255, 255, 255)
    assert contrast(venue_rgb, background) >= 3.0, (venue, background)
    term.send("q")
    assert term.wait_exit() == "EXIT:0"


def test_an_idle_minute_sends_nothing(term: ColourTerminal) -> None:
    # The clocks show minutes (clock_seconds is off by default): within a minute the
    # once-a-second tick finds every line unchanged and sends the terminal nothing.
    # --at 11:40 starts the rehearsal clock on a whole minute, so the next change is a
    # minute after the start; these seconds fall well inside it.
    term.start_with(SETTINGS["dark-256"])
    wait_for_cursor_on_honda(term)
    screen = term.capture()
    assert "11:40 JST" in screen and not re.search(r"11:40:\d\d", screen), screen
    log = term.tmp_path / "pane.log"
    time.sleep(1.0)  # the details pane fills in after the first frame
    term.tmux("pipe-pane", "-o", "-t", term.session, f"cat >> {shlex.quote(str(log))}")
    time.sleep(3.5)
    sent = log.stat().st_size if log.exists() else 0
    assert sent == 0, f"{sent} bytes sent by an idle dashboard in 3.5 s"
    term.send("q")
    assert term.wait_exit() == "EXIT:0"


def test_the_clock_tick_sends_only_what_changed(term: ColourTerminal) -> None:
    # Item 12: with nothing else changing, a clock tick rewrote all three header lines
    # (954 bytes a tick at 120 columns through pipe-pane). Now one span of the clock line
    # is sent, up to its last changed digit (313 bytes: Textual crops a partial update at
    # its end, not at its start). With seconds on the clocks (clock_seconds).
    term.start_with({**SETTINGS["dark-256"], "TRIPDASH_CLOCK_SECONDS": "true"})
    wait_for_cursor_on_honda(term)
    log = term.tmp_path / "pane.log"
    term.tmux("pipe-pane", "-o", "-t", term.session, f"cat >> {shlex.quote(str(log))}")

    def clock(screen: str) -> str:
        found = re.search(r"11:4\d:\d\d JST", screen)
        return found.group(0) if found else ""

    shown = clock(term.capture())
    sizes = []
    while len(sizes) < 4:
        # Each new second on screen: how many bytes the terminal has received so far.
        screen = term.wait_for(
            "the next second", lambda s, before=shown: clock(s) not in ("", before)
        )
        shown = clock(screen)
        sizes.append(log.stat().st_size if log.exists() else 0)
    per_tick = [b - a for a, b in itertools.pairwise(sizes)]
    assert max(per_tick) < 400, per_tick
    term.send("q")
    assert term.wait_exit() == "EXIT:0"
