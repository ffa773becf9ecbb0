"""Hostile payloads with markers, and a scanner of what a program wrote to a terminal.

Shared by tests/test_hostile_verbs.py (every shell verb) and
tests/e2e/test_hostile_tmux.py (the dashboard in tmux): ``from hostile_payloads import ...``.

Each payload is a sequence a terminal acts on (sets the window title, writes the
clipboard, makes a link, types a report back as input, reorders the line) carried
with a unique marker: a label written just before it, ``PWNED<osc0>``, and for the
sequences that carry text, a marker inside (``PWNED-TITLE``). Textual's own escape
sequences never hold a marker, so a sequence that does came from the file; and the
label followed by the raw sequence is the file's text reaching the terminal byte for
byte. :func:`leaks` finds both, and every raw C1 control, bidi control and line or
paragraph separator (tripdash writes none of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARK = "PWNED"

#: name -> the raw sequence. Every one a terminal would act on.
PAYLOADS: dict[str, str] = {
    "osc0": "\x1b]0;PWNED-TITLE0\x07",  # window and icon title
    "osc2": "\x1b]2;PWNED-TITLE2\x1b\\",  # window title, ST-terminated
    "osc52": "\x1b]52;c;UFdORUQtQ0xJUA==\x07",  # clipboard := "PWNED-CLIP"
    "osc8": "\x1b]8;;https://pwned.example/PWNED-LINK\x1b\\link\x1b]8;;\x1b\\",
    "csi6n": "\x1b[6n",  # cursor position report, typed back as input
    "da": "\x1b[c",  # device attributes report
    "csi21t": "\x1b[21t",  # report the window title (typed back: the old title attack)
    "oscq": "\x1b]11;?\x07",  # report the background colour
    "decrqss": "\x1bP$qm\x1b\\",  # report a setting
    "c1csi": "\x9b6n",  # the single-character CSI
    "c1osc": "\x9d0;PWNED-C1TITLE\x9c",  # OSC and ST as C1 controls
    "nel": "\x85",
    "rlo": "\u202e",  # right-to-left override: reorders what follows
    "lri": "\u2066",  # left-to-right isolate
    "pdi": "\u2069",
    "ls": "\u2028",  # line separator
    "ps": "\u2029",  # paragraph separator
    "bel": "\x07",
    "clear": "\x1b[2J\x1b[H",
}

#: Markers inside sequences (the base64 of the clipboard payload is "UFdORUQ").
INNER_MARKS = (MARK.encode(), b"UFdORUQ")


def hostile(tag: str, half: int | None = None) -> str:
    """``TAG`` then every payload after its label: ``TAG PWNED<osc0>\\x1b]0;... end``.

    ``half`` 0 or 1: every other payload only (the first, third... or the second,
    fourth...), which keeps a title or a name within the loader's 250 characters; the
    two halves together hold them all.
    """
    items = list(PAYLOADS.items())
    if half is not None:
        items = items[half::2]
    return f"{tag} " + "".join(f"{MARK}<{name}>{seq}" for name, seq in items) + " end"


def toml_str(value: str) -> str:
    """A TOML basic string, every control and non-ASCII character as a \\u escape."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch >= "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def hostile_trip_toml(*, title_tag: str = "HT", day: str = "2023-01-17") -> str:
    """A valid trip whose every shown string is hostile (ids within the id rule): notes
    and press lines with every payload, the shorter texts with one half or the other."""

    def h(tag: str, half: int | None = None) -> str:
        return toml_str(hostile(tag, half))

    return f"""format = 1

[trip]
id = "hostile"
title = {h(title_tag, 0)}
principal = {h("PRINCIPAL", 1)}
home_tz = "Europe/London"
source = {h("SOURCE")}
summary = {h("SUMMARY")}

[[places]]
id = "ny"
name = {h("PLACE1", 0)}
tz = "America/New_York"

[[places]]
id = "to"
name = {h("PLACE2", 1)}
tz = "America/Toronto"

[[counterparts]]
id = "c1"
name = {h("CP1", 0)}
role = {h("ROLE1", 1)}
country = {h("COUNTRY1", 0)}
notes = {h("CPNOTES1")}
talking_points = [{h("POINT1", 1)}, {{ id = "p2", text = {h("POINT2", 0)} }}]

[[counterparts]]
id = "c2"
name = {h("CP2", 1)}
talking_points = [{h("POINT3", 0)}]

[[events]]
id = "e1"
title = {h("EV1", 1)}
place = "ny"
start = {day}T09:00:00
end = {day}T10:00:00
venue = {h("VENUE1", 0)}
counterparts = ["c1", "c2"]
press = {h("PRESS1")}
notes = {h("NOTES1")}

[[events]]
id = "e2"
title = {h("EV2", 1)}
place = "ny"
start = {day}
counterparts = ["c1"]

[[events]]
id = "e3"
title = {h("EV3", 1)}
place = "ny"
to = "to"
kind = "travel"
start = {day}T12:00:00
end = {day}T13:30:00
press = {h("PRESS3")}

[[events]]
id = "e4"
title = {h("EV4", 0)}
place = "to"
start = {day}T15:00:00
status = "tentative"
notes = {h("NOTES4")}
counterparts = ["c2"]
"""


#: Raw characters no terminal output may hold: C0 controls but newline (and tab, which
#: the terminal-safe function turns into spaces), DEL, C1, bidi controls, separators.
RAW_TEXT_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


def raw_controls(text: str) -> list[str]:
    """Every raw control, C1, bidi or separator character in ``text`` (newline allowed)."""
    return RAW_TEXT_CONTROL.findall(text)


@dataclass(frozen=True)
class Sequence:
    """One escape sequence found in a terminal's input: its kind and bytes."""

    kind: str  # "CSI", "OSC", "DCS", "ESC", "APC", "PM", "SOS"
    data: bytes

    @property
    def osc_command(self) -> str | None:
        if self.kind != "OSC":
            return None
        body = self.data[2:]
        return body.split(b";", 1)[0].decode("ascii", "replace")


_STRING_KINDS = {ord("]"): "OSC", ord("P"): "DCS", ord("_"): "APC", ord("^"): "PM", ord("X"): "SOS"}


def sequences(raw: bytes) -> list[Sequence]:
    """The escape sequences in ``raw``, as a VT parser splits them (7-bit introducers).

    A string sequence (OSC, DCS, APC, PM, SOS) runs to BEL or ST (ESC \\); an ESC inside
    a DCS is kept in it only when doubled (tmux's passthrough wrapping) or when it is ST.
    """
    found: list[Sequence] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i] != 0x1B or i + 1 >= n:
            i += 1
            continue
        start, nxt = i, raw[i + 1]
        if nxt == ord("["):
            j = i + 2
            while j < n and not 0x40 <= raw[j] <= 0x7E:
                j += 1
            found.append(Sequence("CSI", raw[start : j + 1]))
            i = j + 1
        elif nxt in _STRING_KINDS:
            kind = _STRING_KINDS[nxt]
            j = i + 2
            while j < n:
                if raw[j] == 0x07 and kind == "OSC":
                    j += 1
                    break
                if raw[j] == 0x1B:
                    if j + 1 < n and raw[j + 1] == ord("\\"):
                        j += 2
                        break
                    if kind == "DCS" and j + 1 < n and raw[j + 1] == 0x1B:
                        j += 2  # tmux passthrough: ESC doubled inside
                        continue
                    break  # ESC starts another sequence: this one is cut short
                j += 1
            found.append(Sequence(kind, raw[start:j]))
            i = j
        else:
            found.append(Sequence("ESC", raw[start : i + 2]))
            i += 2
    return found


#: OSC commands tripdash sends on purpose, with trip text in them: desktop notifications.
NOTIFICATIONS = {"777", "9"}


def _notification_ok(seq: Sequence) -> bool:
    """A desktop notification (or tmux's wrapping of one) whose text holds no raw control:
    the trip's title quoted in it, escaped."""
    data = seq.data
    if seq.kind == "DCS":
        if not data.startswith(b"\x1bPtmux;"):
            return False
        data = data[len(b"\x1bPtmux;") : -2].replace(b"\x1b\x1b", b"\x1b")
        inner = sequences(data)
        return len(inner) == 1 and inner[0].kind == "OSC" and _notification_ok(inner[0])
    if seq.osc_command not in NOTIFICATIONS:
        return False
    end = -1 if data.endswith(b"\x07") else -2
    body = data[2:end].decode("utf-8", "replace")
    return not raw_controls(body)


def leaks(raw: bytes) -> list[str]:
    """What of the hostile payloads reached the terminal as something it would act on."""
    problems: list[str] = []
    for seq in sequences(raw):
        if any(mark in seq.data for mark in INNER_MARKS) and not _notification_ok(seq):
            problems.append(f"a marker inside an escape sequence: {seq.data[:80]!r}")
        if seq.osc_command in {"0", "1", "2", "52", "8"}:
            problems.append(f"OSC {seq.osc_command} (title, clipboard or link): {seq.data[:80]!r}")
    for name, payload in PAYLOADS.items():
        label = f"{MARK}<{name}>".encode()
        if label + payload.encode() in raw:
            problems.append(f"payload {name} written raw after its label")
    text = raw.decode("utf-8", "surrogateescape")
    odd = sorted({f"U+{ord(c):04X}" for c in text if "\x80" <= c <= "\x9f"})
    odd += sorted({f"U+{ord(c):04X}" for c in text if "\u2028" <= c <= "\u202e"})
    odd += sorted({f"U+{ord(c):04X}" for c in text if "\u2066" <= c <= "\u2069"})
    if odd:
        problems.append(f"raw C1, bidi or separator characters: {', '.join(odd)}")
    if "\udc9b" in text or "\udc9d" in text:
        problems.append("a raw 8-bit CSI or OSC byte")
    return problems
