"""TripSource on a local file: polling notices edits, and a bad edit never replaces the trip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tripdash.domain.loader import TripInvalid
from tripdash.domain.sources import TripSource, default_cache_dir, expand, is_url

ROOT = Path(__file__).resolve().parent.parent
FS_TEXT = (ROOT / "trips" / "fs-north-america-2023-01.toml").read_text(encoding="utf-8")
PRESS_AT = "start = 2023-01-17T15:30:00"
MOVED_AT = "start = 2023-01-17T16:00:00"  # the same length: only the mtime tells


def write(path: Path, text: str) -> None:
    """Write ``text``; make sure the mtime moves even on a coarse-grained file system."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(text, encoding="utf-8")
    after = path.stat().st_mtime_ns
    if before is not None and after == before:
        os.utime(path, ns=(after + 10_000_000, after + 10_000_000))


def press_time(source_result: object) -> str:
    trip = source_result.trip  # type: ignore[attr-defined]
    event = next(e for e in trip.events if e.id == "blinken-press-conference")
    return f"{event.start:%H:%M}"


@pytest.fixture
def trip_file(tmp_path: Path) -> Path:
    path = tmp_path / "fs.toml"
    path.write_text(FS_TEXT, encoding="utf-8")
    return path


@pytest.fixture(params=[False, True], ids=["plain", "parsed-cache"])
def source(request: pytest.FixtureRequest, trip_file: Path, tmp_path: Path) -> TripSource:
    """A source on the file, with and without the cache of parsed trips."""
    cache = tmp_path / "parsed" if request.param else None
    src = TripSource(str(trip_file), parsed_cache=cache)
    loaded = src.load()
    assert loaded.result is not None and press_time(loaded.result) == "15:30"
    return src


def test_load_gives_the_trip(source: TripSource, trip_file: Path) -> None:
    loaded = source.load()
    assert loaded.result is not None
    assert loaded.result.trip.id == "fs-north-america-2023-01"
    assert loaded.problems == ()
    assert not loaded.status.offline and loaded.status.reason is None
    assert source.display == str(trip_file)
    assert not source.is_url


def test_poll_without_a_change_gives_nothing(source: TripSource) -> None:
    for _ in range(3):
        polled = source.poll()
        assert polled.result is None
        assert polled.problems == ()
        assert polled.status.reason is None


def test_poll_after_an_edit_gives_the_new_trip_once(source: TripSource, trip_file: Path) -> None:
    write(trip_file, FS_TEXT.replace(PRESS_AT, MOVED_AT))
    polled = source.poll()
    assert polled.result is not None
    assert press_time(polled.result) == "16:00"
    assert polled.problems == ()
    assert source.poll().result is None  # reported once


def test_poll_notices_an_atomic_replace(source: TripSource, trip_file: Path) -> None:
    """Editors that save by writing a new file and renaming it over the old one."""
    tmp = trip_file.with_name("fs.toml.new")
    tmp.write_text(FS_TEXT.replace(PRESS_AT, MOVED_AT) + "\n# saved\n", encoding="utf-8")
    os.replace(tmp, trip_file)
    polled = source.poll()
    assert polled.result is not None and press_time(polled.result) == "16:00"


def test_invalid_edit_gives_problems_and_no_trip(source: TripSource, trip_file: Path) -> None:
    write(trip_file, FS_TEXT.replace('home_tz = "Europe/London"', 'home_tz = "Europe/Lndon"'))
    polled = source.poll()
    assert polled.result is None  # the old trip stays in use
    assert len(polled.problems) == 1
    (problem,) = polled.problems
    assert problem.startswith(f"{trip_file}:")
    assert "trip.home_tz: unknown time zone 'Europe/Lndon'" in problem
    # The same bad file is not reported again...
    assert source.poll() == type(polled)(None)
    # ... and a fixed one is taken up.
    write(trip_file, FS_TEXT.replace(PRESS_AT, MOVED_AT))
    fixed = source.poll()
    assert fixed.result is not None and press_time(fixed.result) == "16:00"


def test_toml_syntax_error_edit(source: TripSource, trip_file: Path) -> None:
    write(trip_file, FS_TEXT.replace('[trip]\nid = "fs', '[trip\nid = "fs'))
    polled = source.poll()
    assert polled.result is None
    assert polled.problems and "TOML syntax" in polled.problems[0]


def test_half_written_file_then_complete(source: TripSource, trip_file: Path) -> None:
    """A poll that catches a save half done reports problems; the finished save loads."""
    write(trip_file, FS_TEXT[: len(FS_TEXT) // 2])
    assert source.poll().result is None
    write(trip_file, FS_TEXT.replace(PRESS_AT, MOVED_AT))
    polled = source.poll()
    assert polled.result is not None and press_time(polled.result) == "16:00"


def test_deleted_file_says_so_and_keeps_the_trip(source: TripSource, trip_file: Path) -> None:
    trip_file.unlink()
    polled = source.poll()
    assert polled.result is None and polled.problems == ()
    assert polled.status.reason == f"{trip_file}: No such file or directory"
    write(trip_file, FS_TEXT.replace(PRESS_AT, MOVED_AT))
    back = source.poll()
    assert back.result is not None and press_time(back.result) == "16:00"


def test_load_of_an_invalid_or_missing_file_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[trip\n", encoding="utf-8")
    with pytest.raises(TripInvalid):
        TripSource(str(bad)).load()
    with pytest.raises(OSError):
        TripSource(str(tmp_path / "missing.toml")).load()


def test_address_source_needs_a_cache() -> None:
    from tripdash.domain.fetch import FetchError

    source = TripSource("https://trips.example/fs.toml")
    assert source.is_url
    with pytest.raises(FetchError, match="no cache directory"):
        source.load()


def test_display_of_an_address_hides_credentials() -> None:
    source = TripSource("https://alice:pw@trips.example/fs.toml")
    assert source.display == "https://trips.example/fs.toml"


def test_expand_keeps_addresses_and_lists_folders(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text(FS_TEXT, encoding="utf-8")
    (tmp_path / "a.toml").write_text(FS_TEXT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    found = expand([str(tmp_path), "https://trips.example/fs.toml"])
    assert found == [
        str(tmp_path / "a.toml"),
        str(tmp_path / "b.toml"),
        "https://trips.example/fs.toml",
    ]
    assert is_url("https://x/y") and not is_url(str(tmp_path))


def test_default_cache_dir_from_the_environment(tmp_path: Path) -> None:
    assert default_cache_dir({"TRIPDASH_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert default_cache_dir({"TRIPDASH_CACHE_DIR": "~/c", "HOME": "/h"}).name == "c"
    assert "tripdash" in str(default_cache_dir({}))


def test_an_edit_with_more_problems_than_are_worded_counts_them_all(
    source: TripSource, trip_file: Path
) -> None:
    """The header's "is not valid (N errors)" counts every error, not the 500 worded."""
    extra = "".join(
        f'\n[[events]]\nid = "extra-{i}"\ntitle = "Extra"\nplace = "nowhere-{i}"\n'
        f"start = 2023-01-18T10:00:00\n"
        for i in range(600)
    )
    write(trip_file, FS_TEXT + extra)
    polled = source.poll()
    assert polled.result is None
    assert len(polled.problems) == 501  # 500 worded and a line counting the rest
    assert polled.problems[-1].endswith("and 100 more problem(s) not shown; fix these first")
    assert polled.error_count == 600
