"""Files too big and TOML bombs: refused quickly, with a clear message, in bounded memory.

Each case runs the real ``tripdash check`` in a child process and reads that child's own
resource usage (``os.wait4``): CPU time, peak memory (``ru_maxrss``), exit status, and
stderr, which must be problems in the form ``FILE:LINE: field: message`` and never a
traceback, a RecursionError or a MemoryError.

Budgets are loose enough for a busy machine and tight enough to catch the failure each
test is about: a 50 MiB file read into memory, a parser that recurses, a line finder that
is quadratic in the number of tables.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tripdash import cli
from tripdash.domain.loader import MAX_FILE_BYTES, MAX_STRUCTURE

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
SMALL_TRIP = REPO / "tests" / "data" / "kathmandu.toml"


@dataclass
class Child:
    code: int
    out: str
    err: str
    cpu: float  # seconds, user + system
    wall: float
    maxrss: int  # bytes


def check(path: Path, env: dict[str, str], *, timeout: float = 60.0) -> Child:
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


def assert_quick(child: Child, *, cpu: float = 2.0, wall: float = 10.0) -> None:
    assert child.cpu < cpu, f"took {child.cpu:.2f} s of CPU (budget {cpu} s)"
    assert child.wall < wall, f"took {child.wall:.2f} s (budget {wall} s)"


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
    assert_quick(child)
    # Reading it would cost 50 MiB at least (100 MiB as bytes and text).
    assert_memory(child, baseline, extra=20 * MiB)


def test_a_50_mib_file_in_process_allocates_next_to_nothing(
    file_50_mib: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for name in ("HOME", "TRIPDASH_CACHE_DIR", "TRIPDASH_STATE_DIR"):
        monkeypatch.setenv(name, env[name])
    assert cli.main(["check", str(SMALL_TRIP)]) == 0  # imports done before measuring
    capsys.readouterr()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        code = cli.main(["check", str(file_50_mib)])
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{file_50_mib}:1: (file): file is 50.0 MiB")
    assert peak < 4 * MiB, f"allocated {peak / MiB:.1f} MiB for a file it should only stat"
    assert elapsed < 1.0


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
    assert_quick(child)
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
        assert_quick(child)
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
        child = check(path, env, timeout=60)
        assert_refused(child, path, message=r": (trip\.title|x|a): ")
        assert_quick(child, cpu=15.0, wall=30.0)
        assert_memory(child, baseline, extra=400 * MiB), name
        path.unlink()


def test_many_distinct_arrays_of_tables_are_not_quadratic(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # 50,000 different [[aN]] headers: the line finder used to compare each new one with
    # every earlier one (half a minute for this 0.5 MiB file, minutes for 1 MiB).
    path = tmp_path / "aot.toml"
    path.write_text("".join(f"[[a{i}]]\n" for i in range(50_000)))
    child = check(path, env, timeout=60)
    assert_refused(child, path, message=r": a\d+: unknown key 'a\d+'")
    assert_quick(child, cpu=5.0, wall=20.0)


def test_a_file_of_a_hundred_thousand_broken_events_is_refused_quickly(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """At most 500 problems are worded; the rest are counted in a last line."""
    path = tmp_path / "events.toml"
    path.write_text("".join(f"[[events]]\nx{i} = 1\n" for i in range(100_000)))
    child = check(path, env, timeout=30)
    assert child.code == 1
    assert_quick(child, cpu=10.0, wall=30.0)
