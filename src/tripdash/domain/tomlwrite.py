"""Writing trip files: TOML values spelled out by hand, and files that never half-exist.

tripdash reads TOML with tomli and has no TOML writer; the few value types a trip
holds (strings, dates, date-times, integers, arrays of strings) are written here.
:func:`write_new` is how ``new``, ``import`` and ``config --init`` create a file: a
temporary file in the same folder, then a hard link to the name (which fails if the
name exists), so a reader never sees a partial file and nothing is ever overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from tripdash.domain.text import has_unsafe

# TOML's basic strings must escape '"', '\\' and the control characters but tab.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, with everything TOML forbids escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")  # a lone surrogate cannot be written in UTF-8 at all
        elif ch != "\t" and has_unsafe(ch):
            # TOML allows C1 controls, bidi overrides and line separators raw in a string,
            # but the file is printed to a terminal (`tripdash import` without -o): as
            # \uXXXX escapes the string read back is the same.
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        return key
    return toml_string(key)


def toml_value(value: object) -> str:
    """One TOML value: string, bool, int, date, date-time (local or with offset), or array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="seconds")
        text = value.isoformat(timespec="seconds")
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML spelling for {type(value).__name__}")


def toml_lines(pairs: Iterable[tuple[str, object]]) -> list[str]:
    """``key = value`` lines, leaving out pairs whose value is None."""
    return [f"{toml_key(k)} = {toml_value(v)}" for k, v in pairs if v is not None]


def write_new(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Create ``path`` holding ``text``, all or nothing; ``FileExistsError`` if it exists.

    Other ``OSError``s (a missing folder, no permission) propagate; in every case of
    failure nothing is left behind.
    """
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        try:
            # A link fails when the name exists: no window in which another writer's
            # file could be replaced, unlike a check followed by os.replace.
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno in (errno.EEXIST,) or isinstance(exc, FileExistsError):
                raise FileExistsError(errno.EEXIST, "already exists", str(path)) from None
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A filesystem without hard links: the next best thing.
            if path.exists():
                raise FileExistsError(errno.EEXIST, "already exists", str(path)) from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
