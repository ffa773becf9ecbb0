"""Text folded for matching: case and accents set aside ("Mélanie" matches "melanie").

Apart from :mod:`tripdash.domain.search` so that what needs only the folding (the time
phrases of ``--at``, the search line's excerpts) does not import the search index and its
classes at start-up.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """``text`` without case or accents, for comparing: ``"Mélanie"`` -> ``"melanie"``."""
    if text.isascii():
        return text.lower()  # the common case, and ten times faster
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index in ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in fold(ch):
            out.append(c)
            where.append(i)
    return "".join(out), where


def query_words(query: str) -> tuple[str, ...]:
    """The folded words of a query (empty for a blank one)."""
    return tuple(fold(query).split())


def find_span(line: str, query: str) -> tuple[int, int] | None:
    """Where in ``line`` (original characters) the first query word that occurs is found."""
    folded, where = _fold_with_offsets(line)
    for word in query_words(query):
        at = folded.find(word)
        if at >= 0:
            end = at + len(word) - 1
            return where[at], where[end] + 1
    return None
