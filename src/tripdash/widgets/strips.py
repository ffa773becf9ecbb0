"""Drawing a line of Rich text for Textual's line API, and cutting text to a width, shared
by the line-drawn widgets."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text, console: Console, base: Style, width: int) -> Strip:
    """``text`` as one strip of exactly ``width`` cells, over the widget's ``base`` style.

    Every segment is drawn over ``base`` (so unstyled runs get the widget's colours),
    and the strip is cut or padded to ``width``. The text is trip data added as plain
    strings, never parsed as markup.
    """
    segments = [
        Segment(seg.text, base + seg.style if seg.style else base)
        for seg in text.render(console)
        if seg.text != "\n"
    ]
    return Strip(segments).crop_extend(0, width, base)


def cut_end(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, with an ellipsis when cut."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    return set_cell_size(text, width - 1).rstrip() + "…"


def cut_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells by taking words out of its middle, so that both its
    start and its end survive: "Meeting with the…CEO of Toyota". The titles of one trip
    tend to share their start and differ at their end."""
    if cell_len(text) <= width:
        return text
    if width < 12:
        return cut_end(text, width)
    tail_room = (width - 1) // 2
    tail = text[-tail_room:]
    while cell_len(tail) > tail_room:
        tail = tail[1:]
    # Start the tail at a word when that loses less than half its room (the head
    # takes the room back).
    space = tail.find(" ")
    if 0 <= space < tail_room // 2:
        tail = tail[space + 1 :]
    head = set_cell_size(text, width - 1 - cell_len(tail)).rstrip()
    return head + "…" + tail
