"""Where things are in a TOML file: a map from key paths to line numbers.

TOML parsers return plain values with no positions, but every validation
message must name the line. This module scans the source text once (only when
a message needs a line) and records the line of every table header, every key
and every element of a multi-line array, keyed by the same paths that
validation uses, e.g. ``("events", 3, "end")`` or ``("counterparts", 0,
"talking_points", 2)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _parse_key(text: str, pos: int) -> tuple[list[str], int] | None:
    """Parse a (possibly dotted, possibly quoted) key at ``pos``; return parts and end."""
    parts: list[str] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            return None
        ch = text[pos]
        if ch == '"':
            end = pos + 1
            buf = []
            while end < n and text[end] != '"':
                if text[end] == "\\" and end + 1 < n:
                    buf.append(text[end : end + 2].encode().decode("unicode_escape"))
                    end += 2
                    continue
                buf.append(text[end])
                end += 1
            parts.append("".join(buf))
            pos = end + 1
        elif ch == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                return None
            parts.append(text[pos + 1 : end])
            pos = end + 1
        else:
            m = _BARE_KEY.match(text, pos)
            if not m:
                return None
            parts.append(m.group(0))
            pos = m.end()
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


class LineMap:
    """Line numbers (1-based) of the keys, tables and array elements of one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._scan(text)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest recorded ancestor (1 if none)."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1

    def has(self, path: Sequence[str | int]) -> bool:
        """Whether ``path`` itself (not an ancestor) was seen."""
        return tuple(path) in self._lines

    # -- scanning -----------------------------------------------------------------

    def _record(self, path: Path, line: int) -> None:
        self._lines.setdefault(path, line)

    def _scan(self, text: str) -> None:
        array_counts: dict[tuple[str, ...], int] = {}
        prefix: Path = ()
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            raw = lines[i]
            stripped = raw.lstrip()
            lineno = i + 1
            if not stripped or stripped.startswith("#"):
                i += 1
                continue
            if stripped.startswith("["):
                is_array = stripped.startswith("[[")
                start = 2 if is_array else 1
                parsed = _parse_key(stripped, start)
                if parsed is not None:
                    names, _ = parsed
                    prefix = self._resolve_header(names, is_array, array_counts)
                    self._record(prefix, lineno)
                    if is_array:
                        self._record(prefix[:-1], lineno)
                i += 1
                continue
            parsed = _parse_key(stripped, 0)
            if parsed is None:
                i += 1
                continue
            names, pos = parsed
            if pos >= len(stripped) or stripped[pos] != "=":
                i += 1
                continue
            path = prefix + tuple(names)
            # A dotted key (venue.name = ...) also defines its parents on this line.
            for depth in range(1, len(names) + 1):
                self._record(prefix + tuple(names[:depth]), lineno)
            i = self._scan_value(lines, i, len(raw) - len(stripped) + pos + 1, path)
        return

    def _resolve_header(
        self, names: list[str], is_array: bool, counts: dict[tuple[str, ...], int]
    ) -> Path:
        path: list[str | int] = []
        for depth, name in enumerate(names):
            path.append(name)
            key = tuple(names[: depth + 1])
            last = depth == len(names) - 1
            if last and is_array:
                counts[key] = counts.get(key, -1) + 1
                # A new element resets the counters of arrays nested inside it.
                for other in [k for k in counts if len(k) > len(key) and k[: len(key)] == key]:
                    del counts[other]
                path.append(counts[key])
            elif key in counts:
                path.append(counts[key])
        return tuple(path)

    def _scan_value(self, lines: list[str], i: int, col: int, path: Path) -> int:
        """Skip a value starting at ``lines[i][col:]``; record array elements. Return next line."""
        stack: list[tuple[str, Path, int]] = []  # (bracket, path, element index)
        expecting_element = False
        in_string: str | None = None
        line_idx = i
        pos = col
        while line_idx < len(lines):
            text = lines[line_idx]
            n = len(text)
            while pos < n:
                ch = text[pos]
                if in_string is not None:
                    if in_string in ('"', '"""') and ch == "\\":
                        pos += 2
                        continue
                    if text.startswith(in_string, pos):
                        pos += len(in_string)
                        in_string = None
                    else:
                        pos += 1
                    continue
                if ch in " \t\r":
                    pos += 1
                    continue
                if ch == "#":
                    break
                if expecting_element and stack and stack[-1][0] == "[" and ch != "]":
                    bracket, base, index = stack[-1]
                    self._record(base + (index,), line_idx + 1)
                    expecting_element = False
                if ch in "\"'":
                    triple = text[pos : pos + 3]
                    in_string = triple if triple in ('"""', "'''") else ch
                    pos += len(in_string)
                    continue
                if ch == "[":
                    parent = self._element_path(stack, path)
                    stack.append(("[", parent, 0))
                    expecting_element = True
                elif ch == "{":
                    parent = self._element_path(stack, path)
                    stack.append(("{", parent, 0))
                    # Keys inside an inline table: record the first one's line.
                    parsed = _parse_key(text, pos + 1)
                    if parsed is not None:
                        names, end = parsed
                        if end < n and text[end] == "=":
                            self._record(parent + tuple(names), line_idx + 1)
                elif ch in "]}":
                    if stack:
                        stack.pop()
                    if not stack:
                        return line_idx + 1
                elif ch == ",":
                    if stack and stack[-1][0] == "[":
                        bracket, base, index = stack[-1]
                        stack[-1] = (bracket, base, index + 1)
                        expecting_element = True
                    elif stack and stack[-1][0] == "{":
                        parsed = _parse_key(text, pos + 1)
                        if parsed is not None:
                            names, end = parsed
                            if end < n and text[end] == "=":
                                self._record(stack[-1][1] + tuple(names), line_idx + 1)
                pos += 1
            if not stack and in_string is None:
                return line_idx + 1
            line_idx += 1
            pos = 0
        return line_idx

    @staticmethod
    def _element_path(stack: list[tuple[str, Path, int]], path: Path) -> Path:
        if not stack:
            return path
        bracket, base, index = stack[-1]
        return base + (index,) if bracket == "[" else base
