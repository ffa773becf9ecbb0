"""Every shell verb on a hostile trip: nothing a terminal acts on reaches stdout or stderr.

The trip (tests/hostile_payloads.py) carries window-title, clipboard, link and report
sequences, C1 controls, bidi overrides and isolates and line separators in every string
it shows. Each verb of ``cli.VERBS`` is run on it in process (its output captured at the
file descriptors, so a verb writing bytes to ``sys.stdout.buffer`` is seen too), and the
output must hold none of them raw. A verb added to ``VERBS`` without a case here fails
the first test, so new verbs are covered as they come.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_payloads import MARK, PAYLOADS, hostile, hostile_trip_toml, leaks, raw_controls

from tripdash import cli

AT = "2023-01-17T08:40 America/New_York"


def ics_text() -> str:
    """A calendar whose texts hold every payload (raw: ICS has no escapes for them)."""
    summary = hostile("ICSSUM", 0).replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
        f"X-WR-CALNAME:{summary}\r\n"
        "BEGIN:VEVENT\r\nUID:1@hostile\r\nDTSTAMP:20230101T000000Z\r\n"
        "DTSTART;TZID=America/New_York:20230117T090000\r\n"
        "DTEND;TZID=America/New_York:20230117T100000\r\n"
        f"SUMMARY:{summary}\r\nLOCATION:{summary}\r\nDESCRIPTION:{summary}\r\n"
        f"ATTENDEE;CN={MARK}-CN:mailto:x@example.org\r\n"
        f"ORGANIZER;CN=org:mailto:y@example.org\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("TRIPDASH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    trip = tmp_path / "hostile.toml"
    trip.write_text(hostile_trip_toml(), encoding="ascii")
    newer = tmp_path / "newer.toml"
    newer.write_text(
        hostile_trip_toml(title_tag="NEWER").replace("T15:00:00", "T16:00:00"), encoding="ascii"
    )
    ics = tmp_path / "hostile.ics"
    ics.write_bytes(ics_text().encode("utf-8"))
    config = tmp_path / "config.toml"
    # Every value the config check quotes back: a theme and a keymap key that do not exist.
    config.write_text(
        f'theme = {_toml(hostile("THEME"))}\n[keymap]\n{_toml(hostile("KEY"))} = "x"\n',
        encoding="ascii",
    )
    return {"trip": trip, "newer": newer, "ics": ics, "config": config, "tmp": tmp_path}


def _toml(value: str) -> str:
    from hostile_payloads import toml_str

    return toml_str(value)


#: Every verb of cli.VERBS, with the arguments of each run (several for some).
CASES: dict[str, Callable[[dict[str, Path]], list[list[str]]]] = {
    "check": lambda f: [["check", str(f["trip"]), str(f["newer"])]],
    "agenda": lambda f: [
        ["agenda", str(f["trip"])],
        ["agenda", str(f["trip"]), "--json"],
        ["agenda", str(f["trip"]), "--day", "2023-01-17"],
    ],
    "mark": lambda f: [
        ["mark", str(f["trip"]), "e1", "--as", hostile("WHO")],
        ["mark", str(f["trip"]), "c1/p2"],
        ["mark", str(f["trip"]), "e1", "--undo"],
        ["mark", str(f["trip"]), "nope" + PAYLOADS["osc0"]],
    ],
    "log": lambda f: [["log", str(f["trip"])]],
    # No server listens on port 9: the failure is reported, quoting the address.
    "sync": lambda f: [["sync", str(f["trip"]), "--sync", "http://127.0.0.1:9/"]],
    "diff": lambda f: [["diff", str(f["trip"]), str(f["newer"])]],
    "remind": lambda f: [["remind", str(f["trip"]), "--at", AT]],
    "config": lambda f: [["config", "--config", str(f["config"])]],
    "schema": lambda f: [["schema"]],
    "new": lambda f: [
        [
            "new",
            str(f["tmp"] / "made.toml"),
            "--title",
            hostile("NEWTITLE", 0),
            "--home-tz",
            "Europe/London",
        ]
    ],
    "import": lambda f: [
        ["import", str(f["ics"])],
        ["import", str(f["ics"]), "-o", str(f["tmp"] / "imported.toml")],
    ],
    "export": lambda f: [
        ["export", str(f["trip"]), "--at", AT],
        ["export", str(f["trip"]), "--at", AT, "--redact", "logistics"],
        ["export", str(f["trip"]), "--at", AT, "-o", str(f["tmp"] / "out.ics")],
    ],
    # A note is outside text too: stored as typed, shown escaped (--show, log, readout).
    "note": lambda f: [
        ["note", str(f["trip"]), "e1", hostile("NOTE"), "--as", hostile("WHO")],
        ["note", str(f["trip"]), "c1", hostile("CPNOTE")],
        ["note", str(f["trip"]), "e1", "--show"],
        ["note", str(f["trip"]), "nope" + PAYLOADS["osc0"], "text"],
    ],
    "late": lambda f: [
        ["late", str(f["trip"]), "20", "--from", "e1", "--at", AT, "--as", hostile("WHO")],
        ["late", str(f["trip"]), "5", "--from", "nope" + PAYLOADS["osc52"]],
    ],
    "readout": lambda f: [
        ["readout", str(f["trip"]), "--day", "2023-01-17"],
        ["readout", str(f["trip"]), "--day", "2023-01-17", "-o", str(f["tmp"] / "r.md")],
    ],
    # The PDF itself is binary: written to a file, only the messages are read.
    "sheet": lambda f: [
        ["sheet", str(f["trip"]), "--at", AT, "-o", str(f["tmp"] / "out.pdf")],
        ["sheet", str(f["trip"]), "--at", AT, "--redact", "public", "-o", str(f["tmp"] / "p.pdf")],
    ],
}


def test_every_verb_is_tried() -> None:
    assert set(CASES) == set(cli.VERBS), (
        "a verb without a hostile-input case here (add it to CASES): "
        f"{sorted(set(cli.VERBS) - set(CASES))}"
    )


def _run(args: list[str], capfdbinary: pytest.CaptureFixture[bytes]) -> tuple[int, bytes, bytes]:
    code = cli.main(args)
    out, err = capfdbinary.readouterr()
    return code, out, err


@pytest.mark.parametrize("verb", sorted(CASES))
def test_a_verb_prints_nothing_a_terminal_acts_on(
    verb: str, files: dict[str, Path], capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    for args in CASES[verb](files):
        code, out, err = _run(args, capfdbinary)
        assert code in (0, 1, 2), (args, code)
        for name, stream in (("stdout", out), ("stderr", err)):
            # strict: the output is UTF-8; CRLF ends iCalendar's lines and moves nothing.
            text = stream.decode("utf-8").replace("\r\n", "\n")
            assert "Traceback" not in text, (args, text[-2000:])
            assert not raw_controls(text), (args, name, sorted(set(raw_controls(text))))
            assert not leaks(stream), (args, name, leaks(stream))


def test_the_verbs_say_something_of_the_hostile_text(
    files: dict[str, Path], capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """The control cases: the texts are there, escaped, so the checks above saw them."""
    code, out, _ = _run(["agenda", str(files["trip"])], capfdbinary)
    assert code == 0
    text = out.decode()
    assert f"HT {MARK}<osc0>\\x1b]0;PWNED-TITLE0\\x07" in text
    assert "\\u202e" in text and "\\u2028" in text and "\\x9b6n" in text
    code, out, _ = _run(["export", str(files["trip"]), "--at", AT], capfdbinary)
    assert code == 0 and b"EV1 PWNED<osc2>" in out
    code, out, err = _run(["import", str(files["ics"])], capfdbinary)
    assert code == 0, err
    assert b"ICSSUM PWNED<osc0>" in out
    code, _, err = _run(["note", str(files["trip"]), "e1", hostile("NOTE")], capfdbinary)
    assert code == 0, err
    code, out, _ = _run(["note", str(files["trip"]), "e1", "--show"], capfdbinary)
    assert code == 0 and b"NOTE PWNED<osc0>\\x1b]0;" in out, out


def test_the_dashboard_into_a_pipe_prints_nothing_a_terminal_acts_on(
    files: dict[str, Path], capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """``tripdash PATH`` with stdout not a terminal prints the agenda instead."""
    assert not os.isatty(1)
    code, out, err = _run([str(files["trip"]), "--at", AT], capfdbinary)
    assert code == 0, err
    assert b"HT PWNED" in out
    for stream in (out, err):
        assert not raw_controls(stream.decode()) and not leaks(stream)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_the_scanner_finds_each_payload_written_raw(name: str) -> None:
    """The control case of the scanner the tmux test relies on: every payload, written
    raw after its label, is found; the same text escaped, and Textual's own kind of
    output (modes, colours, a desktop notification quoting the title), is not."""
    label = f"{MARK}<{name}>"
    raw = f"\x1b[?1049h\x1b[38;2;1;2;3mtext {label}{PAYLOADS[name]} end\x1b[0m".encode()
    assert leaks(raw), name
    escaped = f"\x1b[?1049h{label}{PAYLOADS[name]!r}\x1b]777;notify;T;{label}\\x1b]0;\x07"
    assert leaks(escaped.encode()) == [], name
