"""A cache of validated trips, so that opening the same trip again skips parsing.

Entries are keyed by a hash of the file's exact bytes, its displayed name and
this code (the tripdash version, Python's, and the size and time of the
modules that shape the result), so an edited file or an upgraded tripdash
never reads a stale entry. Anything unreadable is ignored and rebuilt: the
cache can only make loading faster, never different.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from functools import lru_cache
from pathlib import Path

from tripdash.domain.problems import LoadResult

#: Entries kept; the oldest are removed beyond this.
KEEP = 32
_SHAPERS = (
    "model.py",
    "validate.py",
    "schema.py",
    "loader.py",
    "times.py",
    "schedule.py",
    "parsed_cache.py",
)


@lru_cache(maxsize=1)
def _code_tag() -> bytes:
    import tripdash

    here = Path(__file__).parent
    parts = [tripdash.__version__, sys.version]
    for name in _SHAPERS:
        try:
            st = (here / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:?")
    return "|".join(parts).encode()


def key(data: bytes, source: str, default_id: str) -> str:
    digest = hashlib.sha256(_code_tag())
    digest.update(b"\0" + source.encode() + b"\0" + default_id.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def read(directory: Path, entry: str) -> LoadResult | None:
    """The cached result, with its schedule's indexes (so the dashboard need not rebuild)."""
    from tripdash.domain.schedule import Schedule

    try:
        with open(directory / f"{entry}.pickle", "rb") as fh:
            result, schedule = pickle.load(fh)
    except Exception:  # missing, truncated, from another version: parse instead
        return None
    if not isinstance(result, LoadResult) or not isinstance(schedule, Schedule):
        return None
    if schedule.trip is result.trip:
        Schedule.remember(schedule)
    return result


def write(directory: Path, entry: str, result: LoadResult) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = directory / f"{entry}.pickle"
        tmp = directory / f"{entry}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        from tripdash.domain.schedule import Schedule

        with os.fdopen(fd, "wb") as fh:
            pickle.dump(
                (result, Schedule.for_trip(result.trip)), fh, protocol=pickle.HIGHEST_PROTOCOL
            )
        os.replace(tmp, target)
        _prune(directory)
    except OSError:
        pass  # a cache that cannot be written only costs speed


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
