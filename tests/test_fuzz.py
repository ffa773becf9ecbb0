"""Fuzzing ``tripdash check`` with trip files made from valid ones by mutation.

Every mutant starts as one of the bundled trips (``trips/*.toml``, ``tests/data/*.toml``)
and gets one to four mutations: lines deleted, duplicated or swapped, values swapped
between keys, values of another TOML type, 100 KB strings, odd unicode (bidi overrides,
zero-width, escaped surrogates, emoji, NUL and ESC through escapes), impossible dates and
times, odd zone names, duplicated tables, deeply nested arrays and tables, a truncated
file, random bytes. Whatever comes out, ``tripdash check`` must answer with exit status 0
or 1 and never a traceback; every line it writes to stderr must be a problem in the form
``FILE:LINE: field: message``. A mutant that is still valid must also print as an agenda.

The number of examples comes from ``TRIPDASH_FUZZ_EXAMPLES`` (60 here; ``python
bench/run.py --fuzz N`` runs many more). Runs are derandomized, so the suite is
repeatable; ``TRIPDASH_FUZZ_RANDOM=1`` explores new ground each run instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tripdash import cli
from tripdash.domain.agenda import agenda_json, agenda_text
from tripdash.domain.loader import TripInvalid, load_trip
from tripdash.domain.schedule import Schedule, group_days

REPO = Path(__file__).resolve().parent.parent
SEEDS: dict[str, str] = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted([*(REPO / "trips").glob("*.toml"), *(REPO / "tests" / "data").glob("*.toml")])
}
EXAMPLES = int(os.environ.get("TRIPDASH_FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("TRIPDASH_FUZZ_RANDOM", "") not in ("", "0")

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)

T = TypeVar("T")

# -- building blocks -------------------------------------------------------------------

#: ``key = value`` on one line, the value complete on that line.
KEY_VALUE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\"'-]+)\s*=\s*(?P<value>.+?)\s*$")
TABLE_HEADER = re.compile(r"^\s*\[\[?[^\]]+\]\]?\s*$")

HUGE = 100 * 1024

ODD_UNICODE = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE, raw
    "\\u202E\\u2066",  # bidi overrides, escaped
    "\u200b\u200d\ufeff",  # zero-width space, joiner, BOM
    "\\u200B",
    "\\uD800",  # an escaped lone surrogate: not a TOML string
    "\\uDFFF\\uD83D",
    "\\U0001F600",  # 😀, escaped
    "🇬🇧👩🏽‍💼",  # emoji with skin tone, ZWJ and a flag, raw
    "\\u0000",  # NUL through an escape
    "a\\u0000b",
    "\\u001b[31m",  # ESC through an escape
    "\\e]0;title\\u0007",  # TOML 1.1 \e and BEL
    "\\u009b2J",  # C1 CSI
    "\\x7f\\x85",  # TOML 1.1 \xHH: DEL and NEL
    "\\r\\n\\t\\b\\f",
    "\u0301\u0301\u0301e",  # combining marks on nothing
    "𝕿𝖗𝖎𝖕",  # mathematical letters
    "\\UFFFFFFFF",  # beyond unicode: not a TOML string
    "ǅ\u0130\u03a3",  # title case, dotted I, sigma
    "\u2028\u2029",  # line and paragraph separators
]

BAD_DATES = [
    "2023-02-30T09:00:00",  # no such day
    "2023-02-29",  # not a leap year
    "2024-02-29T09:00:00",  # a leap year: valid
    "2023-13-01T09:00:00",
    "2023-00-10",
    "2023-01-17T25:00:00",  # no such hour
    "2023-01-17T24:00:00",
    "2023-01-17T09:60:00",
    "2023-01-17T09:15:61",
    "2023-01-17T09:15:60",  # a leap second
    "25:00:00",  # a bare time, and an impossible one
    "09:15:00",  # a bare local time: no date
    "2023-01-17T09:15",  # seconds left out (TOML 1.1)
    "2023-01-17 09:15:00",  # space instead of T
    "2023-01-17t09:15:00z",
    "2023-01-17T09:15:00.123456789",
    "2023-01-17T09:15:00+24:00",
    "2023-01-17T09:15:00+14:00",
    "2023-01-17T09:15:00-12:00",
    "2023-01-17T09:15:00+05:45",
    "2023-03-12T02:30:00",  # skipped by the US DST change
    "2023-11-05T01:30:00",  # repeated by the US DST change
    "2023-03-26T01:30:00",  # skipped in Europe
    "2011-12-30",  # a day Samoa skipped
    "1900-01-01T00:00:00",  # before standard zones
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:08Z",
    "2100-02-29",
    "0000-01-01",
    "99999-01-01",
    "2023-1-7",
    '"2023-01-17T09:15:00"',  # a date in quotes: a string
]

#: Dates at the edges of what Python's datetime can hold. Converting some of them between
#: zones overflows: a known bug (see the end of this file), so they are drawn only with
#: TRIPDASH_FUZZ_KNOWN_BUGS=1.
EXTREME_DATES = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31",
]

ODD_ZONES = [
    "",
    " ",
    "UTC",
    "Etc/GMT+14",
    "Etc/GMT-14",
    "localtime",
    "Factory",
    "posixrules",
    "/etc/localtime",
    "../../../../etc/passwd",
    "..",
    ".",
    "America/",
    "America",
    "right/UTC",
    "posix/Europe/London",
    "Europe/London ",
    "europe/london",
    "EUROPE/LONDON",
    "Europe\\\\London",
    "EST5EDT",
    "US/Eastern",
    "GMT+0",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/New_York\\u0000",
    "\\u202eUTC",
    "Europe/Lon\u200bdon",
    "Zoneinfo/America/New_York",
    "America/New York",
    "+05:00",
    "UTC+5",
    "Europe/Kyiv",
    "Europe/Kiev",
    "NUL",
    "CON",
    "x" * 300,
    "A/" * 100,
    "🕐",
]

KNOWN_BUGS = os.environ.get("TRIPDASH_FUZZ_KNOWN_BUGS", "") not in ("", "0")
if KNOWN_BUGS:
    BAD_DATES += EXTREME_DATES
    ODD_ZONES.append("A/" * 300)

BAD_IDS = ["", " ", "a b", "a/b", "x" * 201, "x" * 200, "ÿ", "[bold]", "-", "a\\tb", "a\\nb"]

INSERTED_LINES = [
    "[trip]",
    "[[trip]]",
    "[[events]]",
    "[[places]]",
    "[[counterparts]]",
    "[events]",
    "[places.x]",
    "[events.counterparts]",
    "[[events.counterparts]]",
    "[[counterparts.talking_points]]",
    "[trip.title]",
    "format = 1",
    "format = 2",
    "format = 1.0",
    'format = "1"',
    "x = 1",
    "title = 1",
    "strat = 2023-01-17T09:15:00",
    'kind = "meting"',
    'status = "canceled"',
    'status = "cancelled"',
    'to = "nowhere"',
    'place = "nowhere"',
    'counterparts = ["nobody", "nobody"]',
    'talking_points = ["Same", "same", { id = "same", text = "x" }]',
    'talking_points = [{ text = "" }, { id = "", text = "x" }, 3, [], {}]',
    "end = 2000-01-01T00:00:00",
    "end = 2023-01-17",
    'a.b.c = "dotted"',
    '"quoted key" = 1',
    '"\\u001b[31m" = 1',
    '"\\u0041\\U0001F600" = 1',
    "'literal key' = 1",
    '"a\\nb" = 1',
    '"" = 1',
    "trip.title = 1",
    "= 1",
    "x =",
    "x = ]",
    "[",
    "]]",
    '"""',
    "'''",
    "x = '''\nmulti\nline'''",
    'x = """\nmulti \\\n  line"""',
    "x = { a = 1,\n b = 2 }",
    "x = [1, 'a', 2.5, true, 2023-01-17, {}]",
    "x = inf",
    "x = nan",
    "x = -0.0",
    "x = 1e400",
    "x = 0x7fffffffffffffffffff",
    "x = 99999999999999999999999999999",
    "# comment \u202e with an override",
    "\t\t",
    "\ufeff",
]

TYPED_VALUES = [
    '"a string"',
    "''",
    "'literal \\ string'",
    '"""multi\nline"""',
    "42",
    "-1",
    "0",
    "+7",
    "1_000",
    "0o777",
    "0b101",
    "3.14",
    "-0.0",
    "inf",
    "-inf",
    "nan",
    "true",
    "false",
    "2023-01-17",
    "2023-01-17T09:15:00",
    "2023-01-17T09:15:00Z",
    "2023-01-17T09:15:00-05:00",
    "09:15:00",
    "[]",
    "[[]]",
    '["a", "b"]',
    "[1, 2]",
    "[2023-01-17T09:15:00]",
    '[{ id = "x", text = "y" }]',
    "{}",
    '{ id = "x" }',
    '{ text = "y" }',
    "{ a = { b = { c = 1 } } }",
]


# -- the mutations ---------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]


def pick(draw: Draw, items: Sequence[T]) -> T:
    return draw(st.sampled_from(items))  # type: ignore[no-any-return]


def value_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if KEY_VALUE.match(line)]


def set_value(draw: Draw, lines: list[str], make: Callable[[str, str], str]) -> list[str]:
    """Replace the value of one ``key = value`` line with ``make(key, old_value)``."""
    candidates = value_lines(lines)
    if not candidates:
        return lines
    i = pick(draw, candidates)
    m = KEY_VALUE.match(lines[i])
    assert m is not None
    new = make(m["key"], m["value"])
    return [*lines[:i], f"{m['indent']}{m['key']} = {new}", *lines[i + 1 :]]


def set_value_of(draw: Draw, lines: list[str], keys: set[str], values: Sequence[str]) -> list[str]:
    """Give a line whose key is one of ``keys`` (else any value line) one of ``values``."""
    candidates = [
        i for i in value_lines(lines) if (m := KEY_VALUE.match(lines[i])) and m["key"] in keys
    ]
    if not candidates:
        return set_value(draw, lines, lambda key, old: pick(draw, values))
    i = pick(draw, candidates)
    m = KEY_VALUE.match(lines[i])
    assert m is not None
    return [*lines[:i], f"{m['indent']}{m['key']} = {pick(draw, values)}", *lines[i + 1 :]]


def m_delete_lines(draw: Draw, lines: list[str]) -> list[str]:
    if not lines:
        return lines
    start = draw(st.integers(0, len(lines) - 1))
    count = draw(st.integers(1, 8))
    return lines[:start] + lines[start + count :]


def m_duplicate_lines(draw: Draw, lines: list[str]) -> list[str]:
    """Duplicate a line or a run of lines: duplicated keys, tables, events."""
    if not lines:
        return lines
    start = draw(st.integers(0, len(lines) - 1))
    count = draw(st.integers(1, 12))
    run = lines[start : start + count]
    where = draw(st.integers(0, len(lines)))
    return lines[:where] + run + lines[where:]


def m_duplicate_table(draw: Draw, lines: list[str]) -> list[str]:
    """Copy a whole table (``[trip]``, one ``[[events]]``...) somewhere else in the file."""
    headers = [i for i, line in enumerate(lines) if TABLE_HEADER.match(line)]
    if not headers:
        return lines
    start = pick(draw, headers)
    end = next((h for h in headers if h > start), len(lines))
    where = draw(st.integers(0, len(lines)))
    return lines[:where] + lines[start:end] + lines[where:]


def m_swap_lines(draw: Draw, lines: list[str]) -> list[str]:
    if len(lines) < 2:
        return lines
    a = draw(st.integers(0, len(lines) - 1))
    b = draw(st.integers(0, len(lines) - 1))
    out = list(lines)
    out[a], out[b] = out[b], out[a]
    return out


def m_swap_values(draw: Draw, lines: list[str]) -> list[str]:
    """Swap the values of two keys (title <-> start, tz <-> id...)."""
    candidates = value_lines(lines)
    if len(candidates) < 2:
        return lines
    a, b = pick(draw, candidates), pick(draw, candidates)
    ma, mb = KEY_VALUE.match(lines[a]), KEY_VALUE.match(lines[b])
    assert ma is not None and mb is not None
    out = list(lines)
    out[a] = f"{ma['indent']}{ma['key']} = {mb['value']}"
    out[b] = f"{mb['indent']}{mb['key']} = {ma['value']}"
    return out


def m_change_type(draw: Draw, lines: list[str]) -> list[str]:
    """A value of another TOML type: string, integer, float, boolean, date, array, table..."""
    return set_value(draw, lines, lambda key, old: pick(draw, TYPED_VALUES))


def m_wrap_value(draw: Draw, lines: list[str]) -> list[str]:
    """The same value, but in an array, in a table, quoted, or unquoted."""

    def wrap(key: str, old: str) -> str:
        how = pick(draw, ["array", "table", "quote", "unquote", "literal", "nested"])
        if how == "array":
            return f"[{old}]"
        if how == "table":
            return f"{{ value = {old} }}"
        if how == "quote":
            return '"' + old.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if how == "unquote":
            return old.strip("\"'")
        if how == "literal":
            return "'" + old.strip('"') + "'"
        return f"[[{old}], {{ a = [{old}] }}]"

    return set_value(draw, lines, wrap)


def m_huge_string(draw: Draw, lines: list[str]) -> list[str]:
    """A 100 KB string: as a value, a key, a comment, or a zone name."""
    unit = pick(draw, ["x", "é", "😀", "a b ", "[b]", "\\u001b[1m", "\\\\", "\\u202e"])
    body = unit * (HUGE // len(unit.encode()) + 1)
    where = pick(draw, ["value", "key", "comment", "tz", "id", "kind", "line"])
    if where == "value":
        return set_value(draw, lines, lambda key, old: f'"{body}"')
    if where == "tz":
        return set_value_of(draw, lines, {"tz", "home_tz"}, [f'"{body}"'])
    if where == "id":
        return set_value_of(draw, lines, {"id", "place", "to"}, [f'"{body}"'])
    if where == "kind":
        return set_value_of(draw, lines, {"kind", "status"}, [f'"{body}"'])
    at = draw(st.integers(0, len(lines)))
    if where == "key":
        return [*lines[:at], f'"{body}" = 1', *lines[at:]]
    if where == "comment":
        return [*lines[:at], f"# {body}", *lines[at:]]
    return [*lines[:at], body, *lines[at:]]  # a bare 100 KB line


def m_odd_unicode(draw: Draw, lines: list[str]) -> list[str]:
    odd = pick(draw, ODD_UNICODE)
    where = pick(draw, ["replace", "append", "prepend", "key", "raw-line"])
    if where == "key":
        at = draw(st.integers(0, len(lines)))
        return [*lines[:at], f'"{odd}" = "{odd}"', *lines[at:]]
    if where == "raw-line":
        at = draw(st.integers(0, len(lines)))
        return [*lines[:at], odd, *lines[at:]]

    def edit(key: str, old: str) -> str:
        if where == "replace" or not old.startswith('"') or not old.endswith('"'):
            return f'"{odd}"'
        inner = old[1:-1]
        return f'"{inner}{odd}"' if where == "append" else f'"{odd}{inner}"'

    return set_value(draw, lines, edit)


def m_bad_date(draw: Draw, lines: list[str]) -> list[str]:
    return set_value_of(draw, lines, {"start", "end"}, BAD_DATES)


def m_odd_zone(draw: Draw, lines: list[str]) -> list[str]:
    zone = pick(draw, ODD_ZONES)
    quoted = f'"{zone}"' if not zone.startswith('"') else zone
    return set_value_of(draw, lines, {"tz", "home_tz"}, [quoted])


def m_bad_id(draw: Draw, lines: list[str]) -> list[str]:
    ident = pick(draw, BAD_IDS)
    return set_value_of(draw, lines, {"id", "place", "to"}, [f'"{ident}"'])


def m_deep_nesting(draw: Draw, lines: list[str]) -> list[str]:
    """Deeply nested arrays or inline tables, as a value or a whole new key."""
    depth = pick(draw, [2, 10, 100, 500, 999, 1000, 3000, 50_000])
    shape = pick(draw, ["arrays", "tables", "mixed", "dotted"])
    if shape == "arrays":
        value = "[" * depth + "]" * depth
    elif shape == "tables":
        value = "{ a = " * depth + "1" + " }" * depth
    elif shape == "mixed":
        value = "[{ a = " * depth + "1" + " }]" * depth
    else:
        at = draw(st.integers(0, len(lines)))
        return [*lines[:at], "k" + ".k" * depth + " = 1", *lines[at:]]
    return set_value(draw, lines, lambda key, old: value)


def m_insert_line(draw: Draw, lines: list[str]) -> list[str]:
    at = draw(st.integers(0, len(lines)))
    return [*lines[:at], *pick(draw, INSERTED_LINES).split("\n"), *lines[at:]]


def m_rename_key(draw: Draw, lines: list[str]) -> list[str]:
    candidates = value_lines(lines)
    if not candidates:
        return lines
    i = pick(draw, candidates)
    m = KEY_VALUE.match(lines[i])
    assert m is not None
    key = m["key"]
    new = pick(
        draw,
        [key[:-1] or "x", key + "s", key.upper(), f'"{key}"', f"'{key}'", f"{key}.x", "_" + key],
    )
    return [*lines[:i], f"{m['indent']}{new} = {m['value']}", *lines[i + 1 :]]


MUTATIONS: dict[str, Callable[[Draw, list[str]], list[str]]] = {
    "delete lines": m_delete_lines,
    "duplicate lines": m_duplicate_lines,
    "duplicate table": m_duplicate_table,
    "swap lines": m_swap_lines,
    "swap values": m_swap_values,
    "change type": m_change_type,
    "wrap value": m_wrap_value,
    "huge string": m_huge_string,
    "odd unicode": m_odd_unicode,
    "bad date": m_bad_date,
    "odd zone": m_odd_zone,
    "bad id": m_bad_id,
    "deep nesting": m_deep_nesting,
    "insert line": m_insert_line,
    "rename key": m_rename_key,
}


@st.composite
def mutants(draw: Draw) -> bytes:
    """A bundled trip after one to four mutations, then maybe truncated or given random bytes."""
    name = pick(draw, sorted(SEEDS))
    lines = SEEDS[name].split("\n")
    for _ in range(pick(draw, [1, 1, 1, 1, 2, 2, 3, 4])):
        what = pick(draw, sorted(MUTATIONS))
        event(f"mutation: {what}")
        lines = MUTATIONS[what](draw, lines)
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    ending = pick(draw, ["none"] * 6 + ["truncate", "bytes", "crlf"])
    event(f"ending: {ending}")
    if ending == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif ending == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    elif ending == "crlf":
        data = data.replace(b"\n", b"\r\n")
    return data  # type: ignore[no-any-return]


# -- the checks ------------------------------------------------------------------------


def problem_line(path: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(str(path))}:\d+: .+: .+$")


def describe(data: bytes, limit: int = 1500) -> str:
    text = data.decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


@contextlib.contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def assert_clean_answer(path: Path, code: int, out: str, err: str, data: bytes) -> None:
    shown = f"\n--- mutant ---\n{describe(data)}\n--- stdout ---\n{out[:3000]}\n--- stderr ---\n"
    shown += err[:3000]
    assert code in (0, 1), f"exit status {code}" + shown
    assert "Traceback" not in err, "traceback on stderr" + shown
    pattern = problem_line(path)
    lines = err.splitlines()
    if code == 1:
        assert lines, "invalid, but no problem was printed" + shown
        assert out.startswith(f"FAIL  {path}"), "no FAIL line on stdout" + shown
    else:
        assert out.startswith(f"ok  {path}"), "no ok line on stdout" + shown
    for line in lines:  # errors, or the warnings of a valid file
        assert pattern.match(line), f"not FILE:LINE: field: message: {line[:300]!r}" + shown
        assert "\x1b" not in line and "\x9b" not in line, "raw escape on stderr" + shown


def check_in_process(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    with captured() as (out, err):
        try:
            code = cli.main(["check", str(path)])
        except BaseException:  # SystemExit included: check must return, not exit or raise
            pytest.fail(
                "tripdash check raised\n" + traceback.format_exc() + f"\n{describe(data)}",
                pytrace=False,
            )
    assert_clean_answer(path, code, out.getvalue(), err.getvalue(), data)
    return code


def assert_agenda_prints(path: Path, data: bytes) -> None:
    """A mutant that passed ``check`` is a usable trip: the agenda and schedule work."""
    try:
        trip = load_trip(path).trip
        text = agenda_text(trip)
        raw_json = agenda_json(trip)
        schedule = Schedule(trip)
        group_days(trip)
        for event_ in trip.events:
            schedule.until(event_)
    except TripInvalid:
        pytest.fail(f"check passed but load_trip refused it\n{describe(data)}", pytrace=False)
    except Exception:
        pytest.fail(
            "a trip that passed check could not be shown\n"
            + traceback.format_exc()
            + f"\n{describe(data)}",
            pytrace=False,
        )
    for output in (text, raw_json):
        assert "\x1b" not in output and "\x07" not in output
        assert not re.search("[\x80-\x9f]", output)


@pytest.fixture
def fuzz_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache, state and home: the checker caches parsed trips."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIPDASH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    work = tmp_path / "work"
    work.mkdir()
    return work


# -- the tests -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_is_valid(name: str, fuzz_dir: Path) -> None:
    # The mutations start from valid files: otherwise "exit 1" would prove nothing.
    code = check_in_process(fuzz_dir / name, SEEDS[name].encode())
    assert code == 0


@FUZZ_SETTINGS
@given(data=mutants())
def test_check_answers_every_mutant_with_a_status_and_located_problems(
    data: bytes, fuzz_dir: Path
) -> None:
    path = fuzz_dir / "mutant.toml"
    code = check_in_process(path, data)
    event(f"exit {code}")
    if code == 0:
        assert_agenda_prints(path, data)


@settings(FUZZ_SETTINGS, max_examples=max(1, min(EXAMPLES // 10, 6)))
@given(data=mutants())
def test_check_in_a_real_process(data: bytes, fuzz_dir: Path) -> None:
    path = fuzz_dir / "mutant.toml"
    path.write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "tripdash", "check", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
        timeout=120,
    )
    assert_clean_answer(path, proc.returncode, proc.stdout, proc.stderr, data)


# Mutations written out by hand, one for each thing the fuzzer has found or must keep
# finding; each runs in every suite run, whatever the examples drawn above.
REGRESSIONS = {
    # A quoted key with a \u escape, in a file with a problem: the line finder decoded
    # escapes as Python's and raised UnicodeDecodeError.
    "unicode escape in a key": '[trip]\ntitle = "x"\nhome_tz = "UTC"\n"b\\u0041d" = 1\n',
    "long escape in a key": '[trip]\ntitle = "x"\nhome_tz = "UTC"\n"\\U0001F600" = 1\n',
    "hex escape in a key": '[trip]\ntitle = "x"\nhome_tz = "UTC"\n"\\x41\\e" = 1\n',
    # A key with a newline or ESC: the problem line was split in two, with a raw escape.
    "newline in a key": '[trip]\ntitle = "x"\nhome_tz = "UTC"\n"a\\nb\\u001b[31m" = 1\n',
    "escape in a table name": '["\\u001b]0;x\\u0007"]\na = 1\n',
    "duplicate key": '[trip]\ntitle = "x"\ntitle = "y"\nhome_tz = "UTC"\n',
    "surrogate escape": '[trip]\ntitle = "\\uD800"\nhome_tz = "UTC"\n',
    "nul escape in zone": '[trip]\ntitle = "x"\nhome_tz = "UTC\\u0000"\n',
    "path zone": '[trip]\ntitle = "x"\nhome_tz = "../../../../etc/passwd"\n',
    "huge zone": '[trip]\ntitle = "x"\nhome_tz = "' + "EuropeLondon" * 9000 + '"\n',
    "deep arrays": "x = " + "[" * 3000 + "]" * 3000 + "\n",
    "deep tables": "x = " + "{ a = " * 3000 + "1" + " }" * 3000 + "\n",
    "deep dotted key": "k" + ".k" * 3000 + " = 1\n",
    "truncated string": '[trip]\ntitle = "x',
    "only a bom": "\ufeff",
    "empty": "",
    "not utf-8": "[trip]\ntitle = '\udcff'\n",
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str, fuzz_dir: Path) -> None:
    text = REGRESSIONS[name]
    data = text.encode("utf-8", "surrogateescape")
    assert check_in_process(fuzz_dir / "case.toml", data) == 1


EDGE_TRIP = """
[trip]
title = "Edges"
home_tz = "{home}"

[[places]]
id = "p"
name = "P"
tz = "{zone}"

[[events]]
id = "e"
title = "E"
place = "p"
start = {start}
"""


def edge_trip(start: str, zone: str = "UTC", home: str = "UTC") -> bytes:
    return EDGE_TRIP.format(start=start, zone=zone, home=home).encode()


# -- dates and zones at the edges: refused with a located message, never an overflow ----

EDGE_DATES = [
    # Each once overflowed somewhere: validate._resolve_time (an offset date-time),
    # times.resolve_wall_time (a wall-clock time), times.local_midnight (a TBC date), or
    # schedule.Schedule (start + an hour, the day after the last) once the file passed.
    ("0001-01-01T00:00:00", "UTC", "UTC"),
    ("0001-01-01T00:00:00Z", "UTC", "UTC"),
    ("0001-01-01", "UTC", "UTC"),
    ("0001-01-01T00:00:00+14:00", "UTC", "UTC"),
    ("9999-12-31T23:59:59-12:00", "UTC", "UTC"),
    ("0001-01-01T00:00:00", "Asia/Tokyo", "UTC"),
    ("9999-12-31T23:59:59", "America/New_York", "UTC"),
    ("0001-01-01", "Asia/Tokyo", "UTC"),
    ("9999-12-31T23:59:59", "UTC", "UTC"),
    ("9999-12-31", "UTC", "UTC"),
    ("1899-12-31T23:00:00", "UTC", "UTC"),
    ("2201-01-01", "UTC", "UTC"),
]


def check_stderr(path: Path, data: bytes) -> tuple[int, str]:
    """``check`` in process: its exit code and what it wrote to stderr."""
    path.write_bytes(data)
    with captured() as (out, err):
        code = cli.main(["check", str(path)])
    assert_clean_answer(path, code, out.getvalue(), err.getvalue(), data)
    return code, err.getvalue()


@pytest.mark.parametrize(("start", "zone", "home"), EDGE_DATES)
def test_dates_no_trip_has_are_refused(start: str, zone: str, home: str, fuzz_dir: Path) -> None:
    """Years outside 1900-2200 are an error on the start line, not an overflow later."""
    code, err = check_stderr(fuzz_dir / "edge.toml", edge_trip(start, zone, home))
    assert code == 1
    assert "events[0].start: " in err
    assert "is not a date of a trip (years 1900-2200)" in err


@pytest.mark.parametrize("start", ["1900-01-01T12:00:00", "2200-12-31T12:00:00", "2200-12-31"])
def test_dates_at_the_ends_of_the_range_are_valid_and_show(start: str, fuzz_dir: Path) -> None:
    data = edge_trip(start)
    assert check_in_process(fuzz_dir / "edge.toml", data) == 0
    assert_agenda_prints(fuzz_dir / "edge.toml", data)


def test_zone_name_of_many_segments_is_refused(fuzz_dir: Path) -> None:
    """Once a RecursionError from ZoneInfo's import machinery; now an unknown zone."""
    data = edge_trip("2023-01-17T09:00:00", zone="Europe/" * 300 + "London")
    code, err = check_stderr(fuzz_dir / "zone.toml", data)
    assert code == 1
    assert "places[0].tz: unknown time zone" in err
