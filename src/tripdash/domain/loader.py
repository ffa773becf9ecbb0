"""Loading and validating trip files, with every problem named by file, line and field.

:func:`load_trip` returns a :class:`LoadResult` (the trip and its warnings) or
raises :class:`TripInvalid` carrying *all* of a file's problems at once, each
rendered as ``FILE:LINE: field path: message``. Nothing in here raises a bare
exception for bad input.
"""

from __future__ import annotations

import gc
import os
import re
from datetime import timedelta
from pathlib import Path

from tripdash.domain.model import Event

# Re-exported: callers import these from the loader, where they are raised.
from tripdash.domain.problems import (
    LoadResult as LoadResult,
)
from tripdash.domain.problems import (
    PathT as PathT,
)
from tripdash.domain.problems import (
    Problem as Problem,
)
from tripdash.domain.problems import (
    Severity as Severity,
)
from tripdash.domain.problems import (
    TripInvalid as TripInvalid,
)
from tripdash.domain.problems import (
    describe_toml_type as describe_toml_type,
)
from tripdash.domain.problems import (
    field_path as field_path,
)
from tripdash.domain.times import utc as _utc

#: Files larger than this are refused before parsing (a trip of 10,000 events is ~3 MiB).
MAX_FILE_BYTES = 20 * 1024 * 1024

#: At most this many '[', '{' and ',' (arrays, tables, array elements) in a file: a trip of
#: 10,000 events has about 40,000, one of 20 MiB about 500,000. More is a bomb (a million
#: tiny arrays on one line), refused before parsing: it would cost seconds and hundreds of
#: MiB to parse and locate, for a file that is no trip.
MAX_STRUCTURE = 1_000_000


# -- entry points -------------------------------------------------------------------


def load_trip(
    path: str | os.PathLike[str],
    *,
    display: str | None = None,
    cache_dir: Path | None = None,
) -> LoadResult:
    """Read, parse and validate one trip file (see :func:`_load_trip`)."""
    # Loading creates tens of thousands of objects and frees almost none: the cyclic
    # garbage collector would run over and over for nothing (a third of rebuilding a cached trip).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_trip(path, display=display, cache_dir=cache_dir)
    finally:
        if enabled:
            gc.enable()


def _load_trip(
    path: str | os.PathLike[str],
    *,
    display: str | None = None,
    cache_dir: Path | None = None,
) -> LoadResult:
    """Read, parse and validate one trip file. Raises :class:`TripInvalid`.

    With ``cache_dir``, a valid trip's result is kept there, keyed by a hash of
    the file's exact bytes and of this code; the next load of the same bytes
    skips parsing and validation (and never imports tomli or pydantic).
    """
    p = Path(path)
    source = display or str(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TripInvalid(
                source,
                [
                    Problem(
                        source,
                        1,
                        "(file)",
                        f"file is {size / 2**20:.1f} MiB; a trip file may be at most "
                        f"{MAX_FILE_BYTES // 2**20} MiB",
                    )
                ],
            )
        data = p.read_bytes()
    except OSError as exc:
        raise TripInvalid(
            source, [Problem(source, 1, "(file)", f"cannot read: {exc.strerror or exc}")]
        ) from None
    if cache_dir is None:
        return parse_trip_bytes(data, source=source, default_id=p.stem)
    from tripdash.domain import parsed_cache

    key = parsed_cache.key(data, source, p.stem)
    data_hash = parsed_cache.content_hash(data)
    cached = parsed_cache.read(cache_dir, key, data_hash)
    if cached is not None:
        return cached
    result = parse_trip_bytes(data, source=source, default_id=p.stem)
    parsed_cache.write(cache_dir, key, data_hash, result)
    return result


def parse_trip_bytes(data: bytes, *, source: str, default_id: str) -> LoadResult:
    """Validate a trip given as raw bytes (from a file or a download)."""
    if len(data) > MAX_FILE_BYTES:
        raise TripInvalid(
            source,
            [Problem(source, 1, "(file)", f"more than {MAX_FILE_BYTES // 2**20} MiB")],
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TripInvalid(
            source, [Problem(source, line, "(file)", "not UTF-8 text: " + exc.reason)]
        ) from None
    return parse_trip_text(text, source=source, default_id=default_id)


def parse_trip_text(text: str, *, source: str, default_id: str) -> LoadResult:
    """Validate a trip given as TOML text. Raises :class:`TripInvalid` with every problem."""
    # tomli on every Python version, not the standard tomllib: its compiled wheels parse a
    # 10,000-event trip about three times faster, and its errors carry lineno/colno.
    # Imported here, with the pydantic schema, so that a cached trip needs neither.
    import tomli

    from tripdash.domain.validate import Collector, build

    if text.startswith("\ufeff"):
        text = text[1:]
    too_many_at = _structure_overflow(text)
    if too_many_at is not None:
        raise TripInvalid(
            source,
            [
                Problem(
                    source,
                    too_many_at,
                    "(file)",
                    f"more than {MAX_STRUCTURE:,} arrays, tables and array elements: "
                    "too many for a trip file",
                )
            ],
        )
    try:
        doc = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        line, col, msg = _syntax_position(exc, text)
        where = f" (line {line}, column {col})" if col else ""
        raise TripInvalid(source, [Problem(source, line, "TOML syntax", f"{msg}{where}")]) from None
    except RecursionError:
        raise TripInvalid(
            source, [Problem(source, 1, "TOML syntax", "nested too deeply to be a trip file")]
        ) from None
    out = Collector(source, text)
    trip = build(doc, out, default_id, source)
    if out.has_errors or trip is None:
        raise TripInvalid(source, out.finish(), out.dropped)
    return LoadResult(trip, out.finish())


def _structure_overflow(text: str) -> int | None:
    """The line where ``text`` passes :data:`MAX_STRUCTURE` '[', '{' and ',', else None.

    Counted everywhere, strings and comments included: a cheap, generous upper bound,
    taken in C-speed slices so that a 20 MiB file costs a few milliseconds.
    """
    marks = "[{,"
    if sum(text.count(m) for m in marks) <= MAX_STRUCTURE:
        return None
    total = 0
    step = 1 << 16
    for start in range(0, len(text), step):
        end = start + step
        count = sum(text.count(m, start, end) for m in marks)
        if total + count > MAX_STRUCTURE:
            for pos in range(start, min(end, len(text))):
                if text[pos] in marks:
                    total += 1
                    if total > MAX_STRUCTURE:
                        return text.count("\n", 0, pos) + 1
        total += count
    return None  # not reached


_TOML_AT = re.compile(
    r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _syntax_position(exc: ValueError, text: str) -> tuple[int, int | None, str]:
    """Line, column and message of a TOML syntax error.

    ``tomli`` gives them as attributes; older versions only in the message
    ("... (at line 4, column 7)"), which is read as a fallback.
    """
    line: int | None = getattr(exc, "lineno", None)
    col: int | None = getattr(exc, "colno", None)
    msg: str | None = getattr(exc, "msg", None)
    m = _TOML_AT.match(str(exc))
    if m is not None:
        msg = msg or m["msg"]
        if line is None:
            if m["line"] is not None:
                line, col = int(m["line"]), int(m["col"])
            else:  # at the end of the document
                line = text.count("\n") + 1
                col = len(text) - (text.rfind("\n") + 1) + 1
    return line or 1, col, msg or str(exc)


def discover(path: str | os.PathLike[str]) -> list[Path]:
    """The trip files at ``path``: the file itself, or the ``.toml`` files of a folder.

    Raises ``OSError`` (FileNotFoundError, NotADirectoryError...) when the path is unusable.
    """
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.iterdir() if q.suffix == ".toml" and q.is_file())
    if p.is_file():
        return [p]
    if not p.exists():
        raise FileNotFoundError(2, "no such file or folder", str(p))
    raise OSError(f"{p}: not a file or folder")


# -- validation ---------------------------------------------------------------------


def duration(event: Event) -> timedelta | None:
    """How long the event lasts, or None when its end is not known."""
    if event.end is None or not event.time_confirmed:
        return None
    return _utc(event.end) - _utc(event.start)
