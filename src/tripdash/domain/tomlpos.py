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
from array import array
from collections.abc import Sequence

Path = tuple[str | int, ...]

#: Paths are followed this deep, no deeper: a trip's deepest is about 5
#: (``counterparts[0].talking_points[2].text``), and deeper ones only cost time.
MAX_DEPTH = 32

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC_STRING_STOP = re.compile(r'["\\]')


_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _unescape(text: str, pos: int) -> tuple[str, int]:
    """The character of the escape sequence at ``text[pos]`` (a backslash), and its end.

    TOML's escapes (``\\n``, ``\\e``, ``\\xHH``, ``\\uXXXX``, ``\\UXXXXXXXX``...), not
    Python's: the text has already been parsed, so anything odd only costs a line number.
    """
    kind = text[pos + 1]
    digits = _HEX_DIGITS.get(kind)
    if digits is None:
        return _ESCAPES.get(kind, kind), pos + 2
    hex_text = text[pos + 2 : pos + 2 + digits]
    try:
        return chr(int(hex_text, 16)), pos + 2 + len(hex_text)
    except (ValueError, OverflowError):
        return "", pos + 2 + len(hex_text)


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
                    char, end = _unescape(text, end)
                    buf.append(char)
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
        # The lines of the elements of inline arrays, by array path, 4 bytes each: an
        # array may have millions of elements, too many for a dict of paths.
        self._elements: dict[Path, array[int]] = {}
        self._scan(text)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest recorded ancestor (1 if none)."""
        key = tuple(path)
        while key:
            line = self._line(key)
            if line is not None:
                return line
            key = key[:-1]
        return 1

    def has(self, path: Sequence[str | int]) -> bool:
        """Whether ``path`` itself (not an ancestor) was seen."""
        return self._line(tuple(path)) is not None

    def _line(self, key: Path) -> int | None:
        line = self._lines.get(key)
        if line is None and key and isinstance(key[-1], int):
            lines = self._elements.get(key[:-1])
            if lines is not None and 0 <= key[-1] < len(lines):
                return lines[key[-1]]
        return line

    # -- scanning -----------------------------------------------------------------

    def _record(self, path: Path, line: int) -> None:
        self._lines.setdefault(path, line)

    def _record_element(self, base: Path, index: int, line: int) -> None:
        lines = self._elements.get(base)
        if lines is None:
            lines = self._elements[base] = array("I")
        if index == len(lines):
            lines.append(line)
        elif index > len(lines):  # not in order (never for valid TOML): keep it anyway
            self._record(base + (index,), line)

    def _scan(self, text: str) -> None:
        array_counts: dict[tuple[str, ...], tuple[Path, int]] = {}
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
            for depth in range(1, min(len(names), MAX_DEPTH - len(prefix)) + 1):
                self._record(prefix + tuple(names[:depth]), lineno)
            i = self._scan_value(lines, i, len(raw) - len(stripped) + pos + 1, path)
        return

    def _resolve_header(
        self, names: list[str], is_array: bool, counts: dict[tuple[str, ...], tuple[Path, int]]
    ) -> Path:
        """The path of a table header; ``counts`` holds, per array of tables, the path of
        the element it belongs to and the index of its last element.

        A counter is only current while its array's parent element is the one in the
        path: a new element of an enclosing array starts the nested arrays afresh.
        """
        if len(names) > MAX_DEPTH:  # never a trip's path: no need to count its arrays
            names, is_array = names[:MAX_DEPTH], False
        path: list[str | int] = []
        for depth, name in enumerate(names):
            parent = tuple(path)
            path.append(name)
            key = tuple(names[: depth + 1])
            last = depth == len(names) - 1
            entry = counts.get(key)
            current = entry is not None and entry[0] == parent
            if last and is_array:
                index = entry[1] + 1 if entry is not None and current else 0
                counts[key] = (parent, index)
                path.append(index)
            elif entry is not None and current:
                path.append(entry[1])
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
                if in_string is not None:
                    # Jump to the next quote (or backslash), not one character at a time:
                    # a string may be megabytes long.
                    if in_string in ('"', '"""'):
                        found = _BASIC_STRING_STOP.search(text, pos)
                        pos = found.start() if found else n
                        if pos < n and text[pos] == "\\":
                            pos += 2
                            continue
                    else:
                        found_at = text.find(in_string[0], pos)
                        pos = found_at if found_at >= 0 else n
                    if pos >= n:
                        break
                    if text.startswith(in_string, pos):
                        pos += len(in_string)
                        in_string = None
                    else:
                        pos += 1
                    continue
                ch = text[pos]
                if ch in " \t\r":
                    pos += 1
                    continue
                if ch == "#":
                    break
                if expecting_element and stack and stack[-1][0] == "[" and ch != "]":
                    bracket, base, index = stack[-1]
                    self._record_element(base, index, line_idx + 1)
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
        if len(base) >= MAX_DEPTH:  # deeper than any trip: stop growing paths (a bomb)
            return base
        return base + (index,) if bracket == "[" else base
