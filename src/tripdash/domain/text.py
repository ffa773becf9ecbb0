"""The one terminal-safe function: outside text made harmless before it is shown.

Every piece of text that did not come from tripdash itself (trip files, file
names, servers' answers and documents, notes, the config) passes through
:func:`safe_text` (or :func:`one_line`) before it reaches a screen, a notice,
a title, the palette or the shell. Nothing here interprets Rich markup: callers
build ``rich.text.Text`` objects or plain strings, never markup strings.

What is made visible as an escape (``\\x1b``, ``\\u202e``): C0 controls (ESC
and BEL among them) and DEL, C1 controls (U+0080-U+009F, including the
single-byte CSI U+009B), the Unicode line and paragraph separators
(U+2028/U+2029), bidi embeddings, overrides and isolates (U+202A-U+202E,
U+2066-U+2069), the invisible operators and deprecated format characters
(U+2060-U+2064, U+206A-U+206F), the BOM and the interlinear annotation
characters. So a title can neither send an escape sequence to the terminal
nor reorder what the terminal shows. The bidi marks (U+200E/U+200F) and the
zero-width (non-)joiners stay: Arabic, Hebrew, Persian and emoji need them, and
they reorder nothing outside their own run. Ids are stricter (see the loader).
"""

from __future__ import annotations

import re

#: Everything :func:`safe_text` escapes, newline and tab excepted (they are handled
#: by the callers' line rules).
_UNSAFE_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
#: The same, newline and tab included: for single-line messages.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
#: Lone surrogates cannot be encoded for any terminal; they are escaped too.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape.

    Newlines stay (multi-line notes and trip notes keep their paragraphs); a tab
    becomes four spaces. Use :func:`one_line` for table cells, titles and notices.
    """
    text = text.replace("\t", "    ")
    text = _UNSAFE_KEEP_LINES.sub(_escape, text)
    return _SURROGATE.sub(_escape, text)


def one_line(text: str) -> str:
    """:func:`safe_text` on one line: runs of whitespace (newlines too) become one space."""
    return " ".join(safe_text(text).split())


def escaped(text: str) -> str:
    """Every unsafe character escaped, newline and tab included (``\\x0a``): messages that
    quote outside text exactly, such as ``FILE:LINE: field: message``."""
    return _SURROGATE.sub(_escape, _UNSAFE.sub(_escape, text))


def has_unsafe(text: str) -> bool:
    """True when :func:`escaped` would change ``text``."""
    return bool(_UNSAFE.search(text) or _SURROGATE.search(text))
