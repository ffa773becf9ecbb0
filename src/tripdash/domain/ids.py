"""Ids that look the same are the same id, or refused: normalisation, invisible characters,
mixed scripts.

An id is typed by a person (``tripdash mark TRIP ITEM``) and compared by code. Two
spellings that a screen shows identically must not be two ids:

* every id is normalised to NFC, so ``café`` written with a combining accent (NFD) is
  the id ``café`` (and a second such id is a duplicate);
* an id holding an invisible or bidi character (zero-width space and joiners, the word
  joiner, bidi marks, embeddings, overrides and isolates, variation selectors, tag
  characters, fillers) is refused: nobody can type or see it;
* an id mixing letters of several scripts (a Cyrillic ``а`` in a Latin id) is accepted
  with a warning naming the odd characters: it is almost always a mistake or a trick,
  but a genuine mixed id is possible.
"""

from __future__ import annotations

import unicodedata

#: Characters that draw nothing (or only reorder others) but are not of category Cf.
_INVISIBLE_EXTRA = frozenset(
    [
        "\u034f",  # COMBINING GRAPHEME JOINER
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
        "\u3164",  # HANGUL FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u2800",  # BRAILLE PATTERN BLANK
        *(chr(c) for c in range(0x180B, 0x1810)),  # Mongolian variation selectors, vowel sep.
        *(chr(c) for c in range(0xFE00, 0xFE10)),  # variation selectors
        *(chr(c) for c in range(0xE0100, 0xE01F0)),  # variation selectors supplement
    ]
)

#: Scripts whose letters are routinely written together in one word.
_TOGETHER = (frozenset({"Han", "Hiragana", "Katakana"}), frozenset({"Han", "Hangul"}))

#: The first word of a character's Unicode name, for the letters where it is not the
#: script's name.
_SCRIPT_WORDS = {
    "CJK": "Han",
    "KANGXI": "Han",
    "IDEOGRAPHIC": "Han",
    "KATAKANA-HIRAGANA": "Katakana",  # the prolonged sound mark, used in both
}
#: Width variants name their script second (``FULLWIDTH LATIN CAPITAL LETTER A``).
_WIDTH_WORDS = frozenset({"FULLWIDTH", "HALFWIDTH"})


def normalise(value: str) -> str:
    """``value`` in NFC, the form every id is kept and compared in."""
    return unicodedata.normalize("NFC", value)


def invisible(value: str) -> list[str]:
    """The invisible and bidi characters of ``value`` (format characters and the like)."""
    return [
        ch
        for ch in value
        if unicodedata.category(ch) in ("Cf", "Cn", "Co") or ch in _INVISIBLE_EXTRA
    ]


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named, never shown raw."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def script(ch: str) -> str | None:
    """The script of a letter (``Latin``, ``Cyrillic``, ``Greek``, ``Han``...), else None.

    Taken from the first word of its Unicode name: the standard library has no script
    property, and for letters that word is the script (``CYRILLIC SMALL LETTER A``).
    """
    if not unicodedata.category(ch).startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    if not name:
        return None
    words = name.split(" ")
    word = words[1] if words[0] in _WIDTH_WORDS and len(words) > 1 else words[0]
    return _SCRIPT_WORDS.get(word, word.capitalize())


def mixed_scripts(value: str) -> str | None:
    """A warning when ``value``'s letters come from several scripts, naming the odd ones.

    The script with most letters is taken as the id's own; every letter of another one
    is listed (``'а' U+0430 CYRILLIC SMALL LETTER A``).
    """
    counts: dict[str, int] = {}
    for ch in value:
        found = script(ch)
        if found is not None:
            counts[found] = counts.get(found, 0) + 1
    if len(counts) < 2 or any(set(counts) <= group for group in _TOGETHER):
        return None
    main = max(counts, key=lambda s: (counts[s], s == "Latin"))
    odd: list[str] = []
    for ch in value:
        found = script(ch)
        if found is not None and found != main and describe(ch) not in odd:
            odd.append(describe(ch))
    others = sorted(s for s in counts if s != main)
    return (
        f"mixes {main} letters with {' and '.join(others)} ones ({', '.join(odd)}): "
        "it looks like another id but is not the same; write it in one script"
    )
