"""Files too big and TOML bombs: refused quickly, with a clear message, in bounded memory.

Each case runs the real ``tripdash check`` in a child process and reads that child's own
resource usage (``os.wait4``): peak memory (``ru_maxrss``), exit status, and stderr, which
must be problems in the form ``FILE:LINE: field: message`` and never a traceback, a
RecursionError or a MemoryError.

Nothing here is timed (a loaded machine made a 30 s wall-clock budget fail at 32 s): the
failure each test is about is caught by a count that does not depend on the CPU. A 50 MiB
file read into memory shows in the peak memory; a file parsed that should have been
refused before parsing shows in the number of calls to the parser; a line finder or a
validator that is quadratic shows in the number of lines of tripdash's code executed
(``sys.settrace``), which doubles when the input doubles if the work is linear and
quadruples if it is quadratic. The CPU these cases cost is measured in ``bench/run.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import tomli

import tripdash
from tripdash import cli
from tripdash.domain.loader import MAX_FILE_BYTES, MAX_STRUCTURE

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
SMALL_TRIP = REPO / "tests" / "data" / "kathmandu.toml"


#: Seconds after which a child is taken to hang: a guard against a test that never ends,
#: far beyond any budget (the CPU these cases cost is measured in bench/run.py).
HANG = 600.0


@dataclass
class Child:
    code: int
    out: str
    err: str
    cpu: float  # seconds, user + system
    wall: float
    maxrss: int  # bytes


def check(path: Path, env: dict[str, str], *, timeout: float = HANG) -> Child:
    """``tripdash check PATH`` in a child process, with that child's own resource usage."""
    out_path = path.with_suffix(".out")
    err_path = path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tripdash", "check", str(path)],
            stdout=out,
            stderr=err,
            env=env,
            cwd=REPO,
        )
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - started > timeout:
                    proc.kill()
                    pid, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = -9
                    pytest.fail(f"tripdash check {path.name} still running after {timeout} s")
                time.sleep(0.01)
        finally:
            if proc.returncode is None:
                proc.returncode = os.waitstatus_to_exitcode(status) if pid else -1
        wall = time.monotonic() - started
    return Child(
        code=os.waitstatus_to_exitcode(status),
        out=out_path.read_text(encoding="utf-8", errors="backslashreplace"),
        err=err_path.read_text(encoding="utf-8", errors="backslashreplace"),
        cpu=usage.ru_utime + usage.ru_stime,
        wall=wall,
        maxrss=usage.ru_maxrss * 1024,  # kilobytes on Linux
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out.update(
        HOME=str(tmp_path / "home"),
        TRIPDASH_CACHE_DIR=str(tmp_path / "cache"),
        TRIPDASH_STATE_DIR=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        PYTHONIOENCODING="utf-8",
    )
    return out


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Child:
    """``tripdash check`` on a small valid trip: the memory any check costs."""
    tmp = tmp_path_factory.mktemp("baseline")
    path = tmp / "small.toml"
    path.write_bytes(SMALL_TRIP.read_bytes())
    env = dict(os.environ, HOME=str(tmp), TRIPDASH_CACHE_DIR=str(tmp / "cache"))
    child = check(path, env)
    assert child.code == 0, child.err
    return child


def assert_refused(child: Child, path: Path, *, message: str) -> None:
    """Exit 1, problems only, each ``FILE:LINE: field: message``, and ``message`` among them."""
    shown = f"\nstdout: {child.out[:500]!r}\nstderr: {child.err[:2000]!r}"
    assert child.code == 1, f"exit status {child.code}" + shown
    for bad in ("Traceback", "RecursionError", "MemoryError"):
        assert bad not in child.err, bad + shown
    lines = child.err.splitlines()
    assert lines, "no message" + shown
    pattern = re.compile(rf"^{re.escape(str(path))}:\d+: .+: .+$")
    for line in lines:
        assert pattern.match(line), f"not FILE:LINE: field: message: {line[:300]!r}"
    assert any(re.search(message, line) for line in lines), f"no {message!r}" + shown
    assert child.out.startswith(f"FAIL  {path}")


TRIPDASH_CODE = str(Path(tripdash.__file__).parent)


def lines_run(action: Callable[[], Any]) -> int:
    """How many lines of tripdash's own code ``action`` executes: work, not time."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(TRIPDASH_CODE) else None

    sys.settrace(calls)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


def assert_linear(make: Callable[[Path, int], Path], tmp_path: Path, capsys: Any, n: int) -> None:
    """``tripdash check`` of ``make(n)`` and ``make(2n)``: twice the input, about twice the work.

    Linear work gives a ratio near 2 (a little less: fixed costs); quadratic work, near 4.
    """
    assert cli.main(["check", str(make(tmp_path / "warm-up.toml", 10))]) == 1  # imports
    counts = []
    for size in (n, 2 * n):
        path = make(tmp_path / f"n{size}.toml", size)
        counts.append(lines_run(lambda: cli.main(["check", str(path)])))  # noqa: B023
        capsys.readouterr()
    ratio = counts[1] / counts[0]
    assert 1.5 < ratio < 2.5, f"{counts}: twice the input cost {ratio:.2f} times the work"


def parser_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls to the TOML parser from now on (one entry per call)."""
    calls: list[int] = []
    real = tomli.loads

    def counting(text: str, **kwargs: Any) -> Any:
        calls.append(len(text))
        return real(text, **kwargs)

    monkeypatch.setattr(tomli, "loads", counting)
    return calls


def assert_memory(child: Child, baseline: Child, *, extra: int) -> None:
    used = child.maxrss - baseline.maxrss
    assert used < extra, (
        f"peak memory {child.maxrss / MiB:.0f} MiB, {used / MiB:.0f} MiB over a small trip's "
        f"{baseline.maxrss / MiB:.0f} MiB (budget {extra / MiB:.0f} MiB over)"
    )


def write_chunks(path: Path, head: str, chunk: str, count: int, tail: str) -> Path:
    """``head + chunk * count + tail``, written without building the whole text."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head)
        block = chunk * max(1, 65536 // len(chunk))
        per_block = 65536 // len(chunk) or 1
        full, rest = divmod(count, per_block)
        for _ in range(full):
            fh.write(block)
        fh.write(chunk * rest)
        fh.write(tail)
    return path


# -- a file too big --------------------------------------------------------------------


@pytest.fixture
def file_50_mib(tmp_path: Path) -> Iterator[Path]:
    """50 MiB that start as a trip and go on as one huge string."""
    head = '[trip]\ntitle = "x"\nhome_tz = "Europe/London"\nsummary = "'
    size = 50 * MiB
    path = write_chunks(tmp_path / "big.toml", head, "y", size - len(head) - 2, '"\n')
    yield path
    path.unlink()  # pytest keeps the last few temporary folders: not 50 MiB each


def test_a_50_mib_file_is_refused_quickly_without_reading_it(
    file_50_mib: Path, env: dict[str, str], baseline: Child
) -> None:
    assert file_50_mib.stat().st_size == 50 * MiB
    child = check(file_50_mib, env)
    assert_refused(child, file_50_mib, message=r":1: \(file\): file is 50\.0 MiB; .*at most 20 MiB")
    # Reading it would cost 50 MiB at least (100 MiB as bytes and text).
    assert_memory(child, baseline, extra=20 * MiB)


def test_a_50_mib_file_in_process_allocates_next_to_nothing(
    file_50_mib: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for name in ("HOME", "TRIPDASH_CACHE_DIR", "TRIPDASH_STATE_DIR"):
        monkeypatch.setenv(name, env[name])
    assert cli.main(["check", str(SMALL_TRIP)]) == 0  # imports done before measuring
    capsys.readouterr()
    parsed = parser_calls(monkeypatch)
    tracemalloc.start()
    try:
        code = cli.main(["check", str(file_50_mib)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{file_50_mib}:1: (file): file is 50.0 MiB")
    assert peak < 4 * MiB, f"allocated {peak / MiB:.1f} MiB for a file it should only stat"
    assert parsed == []


def test_just_over_the_limit_is_refused_and_at_the_limit_is_read(
    tmp_path: Path, env: dict[str, str]
) -> None:
    over = write_chunks(tmp_path / "over.toml", "# ", "z", MAX_FILE_BYTES - 2, "\n")
    assert over.stat().st_size == MAX_FILE_BYTES + 1
    assert_refused(check(over, env), over, message=r"\(file\): file is 20\.0 MiB")
    at = write_chunks(tmp_path / "at.toml", "# ", "z", MAX_FILE_BYTES - 3, "\n")
    assert at.stat().st_size == MAX_FILE_BYTES
    child = check(at, env)
    # Read and parsed (a comment and nothing else: no [trip]), not refused for its size.
    assert_refused(child, at, message=r"trip: the \[trip\] table is missing")
    assert "MiB" not in child.err
    over.unlink()
    at.unlink()


# -- deep bombs ------------------------------------------------------------------------

DEPTH = 100_000

DEEP_BOMBS = {
    "arrays": "x = " + "[" * DEPTH + "]" * DEPTH + "\n",
    "arrays in a trip field": '[trip]\nhome_tz = "UTC"\ntitle = ' + "[" * DEPTH + "]" * DEPTH,
    "unclosed arrays": "x = " + "[" * DEPTH + "\n",
    "inline tables": "x = " + "{ a = " * DEPTH + "1" + " }" * DEPTH + "\n",
    "arrays of tables": "x = " + "[{ a = " * DEPTH + "1" + " }]" * DEPTH + "\n",
    "dotted key": "a" + ".a" * DEPTH + " = 1\n",
    "table header": "[" + "a." * DEPTH + "a]\n",
    "array of tables header": "[[" + "a." * DEPTH + "a]]\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_BOMBS))
def test_a_deep_bomb_is_refused_quickly(
    name: str, tmp_path: Path, env: dict[str, str], baseline: Child
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP_BOMBS[name], encoding="utf-8")
    child = check(path, env)
    message = r"nested too deeply|more than [\d,]+ arrays, tables and array elements"
    assert_refused(child, path, message=message)
    assert_memory(child, baseline, extra=64 * MiB)


def test_nesting_a_trip_could_have_is_not_a_bomb(tmp_path: Path, env: dict[str, str]) -> None:
    # 200 levels: below the parser's limit, so validated and reported field by field.
    path = tmp_path / "nested.toml"
    path.write_text('[trip]\nhome_tz = "UTC"\ntitle = ' + "[" * 200 + "]" * 200 + "\n")
    child = check(path, env)
    assert_refused(child, path, message=r":3: trip\.title: expected a string; got an array")


# -- wide bombs ------------------------------------------------------------------------


def wide_bombs(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield (
        "two million empty arrays on one line",
        write_chunks(tmp_path / "wide1.toml", "x = [", "[],", 2_000_000, "]\n"),
    )
    yield (
        "three million elements, one a line",
        write_chunks(tmp_path / "wide2.toml", "x = [\n", "1,\n", 3_000_000, "]\n"),
    )
    yield (
        "wide and deep",
        write_chunks(
            tmp_path / "wide3.toml", "x = [", "[" * 50 + "1" + "]" * 50 + ",", 100_000, "]\n"
        ),
    )
    yield (
        "inline tables",
        write_chunks(tmp_path / "wide4.toml", "[trip]\ntitle = [", "{a=[1,2]},", 1_000_000, "]\n"),
    )
    yield (
        "19 MiB of arrays, near the size limit",
        write_chunks(tmp_path / "wide5.toml", "x = [", "[],", 19 * MiB // 3, "]\n"),
    )


def test_wide_bombs_are_refused_before_parsing(
    tmp_path: Path, env: dict[str, str], baseline: Child
) -> None:
    for name, path in wide_bombs(tmp_path):
        size = path.stat().st_size
        child = check(path, env)
        assert_refused(
            child, path, message=rf"\(file\): more than {MAX_STRUCTURE:,} arrays, tables and"
        )
        # The text is read (bytes and str) but never parsed into millions of objects.
        assert_memory(child, baseline, extra=3 * size + 32 * MiB), name
        path.unlink()


def under_the_cap(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    n = MAX_STRUCTURE // 3 - 10  # "[]," is three marks
    yield (
        "a third of a million empty arrays",
        write_chunks(
            tmp_path / "under1.toml", '[trip]\nhome_tz = "UTC"\ntitle = [', "[],", n, "]\n"
        ),
    )
    yield (
        "a million elements, one a line",
        write_chunks(tmp_path / "under2.toml", "x = [\n", "1,\n", MAX_STRUCTURE - 10, "]\n"),
    )
    yield (
        "a hundred thousand arrays of tables",
        write_chunks(tmp_path / "under3.toml", "", "[[a]]\n[[a.b]]\n", 100_000, ""),
    )


def test_wide_files_under_the_cap_are_answered_in_bounded_time_and_memory(
    tmp_path: Path, env: dict[str, str], baseline: Child
) -> None:
    """Big but not refused outright: parsed, then refused field by field, linearly."""
    for name, path in under_the_cap(tmp_path):
        child = check(path, env)
        assert_refused(child, path, message=r": (trip\.title|x|a): ")
        assert_memory(child, baseline, extra=400 * MiB), name
        path.unlink()


def headers(path: Path, n: int) -> Path:
    path.write_text("".join(f"[[a{i}]]\n" for i in range(n)))
    return path


def broken_events(path: Path, n: int) -> Path:
    path.write_text("".join(f"[[events]]\nx{i} = 1\n" for i in range(n)))
    return path


def test_many_distinct_arrays_of_tables_are_refused_line_by_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # 50,000 different [[aN]] headers: each reported (the first 500) with its own line.
    path = headers(tmp_path / "aot.toml", 50_000)
    child = check(path, env)
    assert_refused(child, path, message=r": a\d+: unknown key 'a\d+'")
    lines = child.err.splitlines()
    assert len(lines) == 501
    assert lines[:2] == [f"{path}:1: a0: unknown key 'a0'", f"{path}:2: a1: unknown key 'a1'"]
    # 50,000 unknown keys and the missing [trip] table: 50,001 problems, 500 worded.
    assert lines[-1].endswith("and 49501 more problem(s) not shown; fix these first")


def test_many_distinct_arrays_of_tables_are_not_quadratic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The line finder used to compare each new header with every earlier one (half a
    # minute for 50,000 of them): twice the headers cost four times the work.
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    assert_linear(headers, tmp_path, capsys, 2_000)


def test_a_file_of_a_hundred_thousand_broken_events_is_refused_with_500_problems(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """At most 500 problems are worded; the rest are counted in a last line."""
    path = broken_events(tmp_path / "events.toml", 100_000)
    child = check(path, env)
    assert child.code == 1
    lines = child.err.splitlines()
    assert len(lines) == 501, lines[-3:]
    assert lines[-1].endswith("more problem(s) not shown; fix these first")


def test_broken_events_cost_work_in_proportion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Beyond the 500 problems kept, each broken event is counted, never worded or located.
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    assert_linear(broken_events, tmp_path, capsys, 2_000)


def test_a_wide_bomb_never_reaches_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIPDASH_CACHE_DIR", str(tmp_path / "cache"))
    path = write_chunks(tmp_path / "wide.toml", "x = [", "[],", 2_000_000, "]\n")
    parsed = parser_calls(monkeypatch)
    assert cli.main(["check", str(path)]) == 1
    assert f"more than {MAX_STRUCTURE:,} arrays, tables" in capsys.readouterr().err
    assert parsed == []
    # The control: a file under the cap is parsed, once.
    assert cli.main(["check", str(SMALL_TRIP)]) == 0
    assert len(parsed) == 1


def test_suggestions_are_worded_only_for_the_problems_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "did you mean" is a fuzzy match over every choice: 12,000 broken references
    once cost 15 s of suggestions that were then thrown away. Only those kept are worded."""
    import difflib

    from tripdash.domain import validate
    from tripdash.domain.loader import TripInvalid, load_trip

    calls = 0
    real = difflib.get_close_matches

    def counting(*args: Any, **kwargs: Any) -> list[str]:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    events = "".join(
        f'[[events]]\nid = "e{i}"\ntitle = "E"\nplace = "nowhere{i}"\n'
        f'start = 2024-01-01T{i % 24:02d}:00:00\ncounterparts = ["cp-{i}"]\n'
        for i in range(3_000)
    )
    path = tmp_path / "refs.toml"
    path.write_text(
        'format = 1\n[trip]\nid = "t"\ntitle = "T"\nhome_tz = "Europe/London"\n'
        '[[places]]\nid = "here"\nname = "Here"\ntz = "Europe/London"\n'
        '[[counterparts]]\nid = "cp-1"\nname = "One"\n' + events
    )
    with pytest.raises(TripInvalid) as caught:
        load_trip(path, cache_dir=tmp_path / "cache")
    problems = caught.value.problems
    assert len(problems) == validate.MAX_PROBLEMS + 1
    assert [p.message for p in problems[:2]] == [
        "unknown place 'nowhere0' (did you mean 'here'?)",
        "unknown counterpart 'cp-0' (did you mean 'cp-1'?)",
    ]
    assert problems[-1].message == "and 5499 more problem(s) not shown; fix these first"
    # The count said is every error found (3,000 places, 2,999 counterparts), not 501.
    assert caught.value.error_count == 5_999
    # 6,000 unknown references (a place and a counterpart each, one counterpart known),
    # 500 kept: one suggestion for each kept reference, none for the rest.
    assert calls <= validate.MAX_PROBLEMS
