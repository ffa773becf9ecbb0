"""Drawing a line of Rich text for Textual's line API, and cutting text to a width, shared
by the line-drawn widgets."""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.scrollbar import ScrollBar


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


def same_scrollbar(bar: ScrollBar, position: float) -> bool:
    """Whether ``bar`` moved to ``position`` would look exactly as it does now.

    Textual repaints a scroll bar whenever its position changes; drawing it (every cell of
    its height through Rich) was a third of a frame that scrolls the timeline by a line.
    On a long trip the thumb is one cell that moves once every few hundred lines, so most
    of those repaints drew the same picture. The picture is Textual's own
    (``ScrollBarRender.render_bar`` with the arguments ``ScrollBar`` passes it), compared
    cell for cell, mouse actions included, so a different one is never skipped.
    """
    window = bar.window_size if bar.window_size < bar.window_virtual_size else 0

    def picture(at: float) -> list[Segment]:
        return bar.renderer.render_bar(
            size=bar.size.height if bar.vertical else bar.size.width,
            virtual_size=ceil(bar.window_virtual_size),
            window_size=ceil(window),
            position=at,
            thickness=bar.thickness,
            vertical=bar.vertical,
        ).segments

    return picture(bar.position) == picture(bar.validate_position(position))
