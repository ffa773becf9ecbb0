"""Drawing a line of Rich text for Textual's line API, shared by the line-drawn widgets."""

from __future__ import annotations

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
