"""Command-line edges: malformed addresses and ports, over-long addresses, ``--at`` at the
ends of the calendar, and trip files whose name cannot be an id.

Every verb that takes an address or ``--at`` answers with one clear line and exit
status 2, never a traceback. Run in-process (``cli.main``): an exception would fail
the test rather than be printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tripdash import cli

ROOT = Path(__file__).resolve().parents[1]
FS = ROOT / "trips" / "fs-north-america-2023-01.toml"

#: Each verb that takes a trip address, as a function of the address.
ADDRESS_VERBS = {
    "dashboard": lambda url: [url],
    "check": lambda url: ["check", url],
    "agenda": lambda url: ["agenda", url],
    "mark": lambda url: ["mark", url, "csis-speech"],
    "log": lambda url: ["log", url],
    "remind": lambda url: ["remind", url],
    "export": lambda url: ["export", url, "-o", "-"],
    "sheet": lambda url: ["sheet", url, "-o", "out.pdf"],
    "diff": lambda url: ["diff", str(FS), url],
    "sync": lambda url: ["sync", url, "--sync", "http://127.0.0.1:9/"],
}

LONG = "https://example.invalid/" + "a" * 5000 + ".toml"
BAD_ADDRESSES = {
    "unclosed-ipv6": ("https://[::1", "https://[::1: not a valid address"),
    "port-too-big": ("https://host:99999/", "the port must be a number from 1 to 65535"),
    "port-not-a-number": ("https://host:http/trip.toml", "not a valid address"),
    "over-long": (LONG, "the address is 5,029 characters long; at most 2,048"),
}

#: Each verb that takes --at, as a function of the time.
AT_VERBS = {
    "dashboard": lambda at: [str(FS), "--at", at],
    "remind": lambda at: ["remind", str(FS), "--at", at],
    "remind-watch": lambda at: ["remind", str(FS), "--watch", "--at", at],
    "export": lambda at: ["export", str(FS), "-o", "-", "--at", at],
    "sheet": lambda at: ["sheet", str(FS), "-o", "out.pdf", "--at", at],
}
BAD_TIMES = {
    "year-1-utc": ("0001-01-01T00:00Z", "is in the year 1"),
    "year-1-ahead-of-utc": ("0001-01-01T00:00+14:00", "is in the year 1"),
    "year-1-zone": ("0001-01-01T00:00 America/New_York", "is in the year 1"),
    "year-9999": ("9999-12-31T23:59Z", "is in the year 9999"),
    "year-9999-zone": ("9999-12-31T23:59 Pacific/Kiritimati", "is in the year 9999"),
    # Not a time, nor a phrase the dashboard reads ("yesterday 08:00" is one).
    "not-a-time": ("25:99", "--at:"),
}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a sheet's -o, should one ever be written, lands here
    monkeypatch.setenv("TRIPDASH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    # The dashboard prints plain text into a pipe; capsys is not a terminal either.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)


@pytest.mark.parametrize("verb", sorted(ADDRESS_VERBS))
@pytest.mark.parametrize("bad", sorted(BAD_ADDRESSES))
def test_a_malformed_address_is_a_usage_error_for_every_verb(
    verb: str, bad: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, message = BAD_ADDRESSES[bad]
    code, out, err = _run(ADDRESS_VERBS[verb](url), capsys)
    assert (code, out) == (2, ""), err
    assert message in err
    assert err.count("\n") == 1 and len(err) < 300  # one line, the address shortened
    assert not (tmp_path / "out.pdf").exists()


@pytest.mark.parametrize("verb", sorted(AT_VERBS))
@pytest.mark.parametrize("bad", sorted(BAD_TIMES))
def test_an_at_time_outside_the_calendar_is_a_usage_error_for_every_verb(
    verb: str, bad: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    at, message = BAD_TIMES[bad]
    code, out, err = _run(AT_VERBS[verb](at), capsys)
    assert (code, out) == (2, ""), err
    assert err.startswith("tripdash: --at:") and message in err, err
    assert not (tmp_path / "out.pdf").exists()


@pytest.mark.parametrize("at", ["1900-01-01T12:00Z", "2200-12-31T12:00Z"])
def test_the_ends_of_the_calendar_are_accepted(at: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["remind", str(FS), "--at", at], capsys)
    assert code == 0, err
    assert out.startswith("Reminders for Foreign Secretary")


# -- the default trip id: the file name, checked like any id ------------------------------


def _without_id(directory: Path, stem: str) -> Path:
    text = FS.read_text(encoding="utf-8")
    line = 'id = "fs-north-america-2023-01"\n'
    assert line in text
    path = directory / f"{stem}.toml"
    path.write_text(text.replace(line, "", 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("stem", "shown", "why"),
    [
        ("a\x1b[31mred", "'a\\x1b[31mred'", "holds control characters or escape sequences"),
        ("abc\u202eexe", "'abc\\u202eexe'", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("rtl\u2067isolate", "'rtl\\u2067isolate'", "U+2067 RIGHT-TO-LEFT ISOLATE"),
        ("zero\u200bwidth", "'zero\\u200bwidth'", "U+200B ZERO WIDTH SPACE"),
        ("word\u2060joiner", "'word\\u2060joiner'", "U+2060 WORD JOINER"),
        ("two words", "'two words'", "holds spaces"),
    ],
)
def test_a_file_name_that_cannot_be_an_id_is_said_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stem: str, shown: str, why: str
) -> None:
    path = _without_id(tmp_path, stem)
    code, out, err = _run(["check", str(path)], capsys)
    assert code == 1
    assert out.startswith("FAIL  ") and out.endswith(".toml  1 error\n")
    (line,) = err.splitlines()
    assert "trip.id: no id given, and the default id (the file name without .toml)" in line
    assert shown in line and why in line, line
    assert "give the trip an id" in line
    # Nothing of the name reaches the terminal raw.
    for raw in ("\x1b", "\u202e", "\u2067", "\u2060"):
        assert raw not in out + err


def test_a_file_name_that_is_a_good_id_is_the_trip_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _without_id(tmp_path, "fs-2023-café")
    code, out, err = _run(["agenda", str(path), "--json"], capsys)
    assert code == 0, err
    code, out, err = _run(["mark", str(path), "csis-speech"], capsys)
    assert code == 0, err
    code, out, err = _run(["log", str(path)], capsys)
    assert code == 0 and "csis-speech" in out, err
    from tripdash.domain.store import MarkStore

    with MarkStore(tmp_path / "state") as store:
        assert store.done_ids("fs-2023-café") == {"csis-speech"}
