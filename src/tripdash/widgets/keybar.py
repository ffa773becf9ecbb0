"""The key bar: one footer line of the keys that matter on this screen.

It shows the same active bindings Textual's ``Footer`` would (those with
``show=True``, one per action, disabled ones dimmed, the command palette's key
on the right), so the footer, the help screen and the palette still come from
the same bindings. Unlike ``Footer``, which composes a widget per key and fills
itself a frame after the screen appears (laying the screen out again), this is
one widget drawn with the line API: the keys are there in the first frame, and
a change of focus redraws one line.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class KeyItem(NamedTuple):
    """One key shown in the bar."""

    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """The keys of the current screen's active bindings, on one line."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .keybar--disabled {
        text-style: dim;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keybar--key",
        "keybar--description",
        "keybar--disabled",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._items: tuple[list[KeyItem], KeyItem | None] | None = None
        self._keybar_styles: tuple[Style, Style, Style] | None = None
        #: Where each key was drawn: (first column, end column, item), for clicks.
        self._spans: list[tuple[int, int, KeyItem]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        items = self._collect()
        if items != self._items:
            self._items = items
            self.refresh()

    def _collect(self) -> tuple[list[KeyItem], KeyItem | None]:
        """The shown bindings, one per action, and the command palette's key (if any)."""
        app = self.app
        active = self.screen.active_bindings
        items: list[KeyItem] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            items.append(
                KeyItem(binding.key, app.get_key_display(binding), binding.description, enabled)
            )
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = KeyItem(
                binding.key, app.get_key_display(binding), binding.description, enabled
            )
        return items, palette

    @property
    def items(self) -> list[KeyItem]:
        """The keys shown, left to right, then the palette's key (what tests look at)."""
        if self._items is None:
            self._items = self._collect()
        keys, palette = self._items
        return [*keys, palette] if palette is not None else list(keys)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y != 0 or not width:
            return Strip.blank(width, base)
        if self._items is None:
            self._items = self._collect()
        keys, palette = self._items
        key_style, text_style, dim = self._key_styles()

        def pieces(item: KeyItem) -> list[Segment]:
            # " ⏎ Details  ": the key, its word, and a gap that sets it apart from the next.
            extra = Style() if item.enabled else dim
            out = [Segment(f" {item.display}", key_style + extra)]
            if item.description:
                out.append(Segment(f" {item.description}", text_style + extra))
            out.append(Segment("  ", base))
            return out

        segments: list[Segment] = []
        spans: list[tuple[int, int, KeyItem]] = []
        x = 0
        right = pieces(palette) if palette is not None else []
        right_width = sum(s.cell_length for s in right)
        for item in keys:
            drawn = pieces(item)
            cells = sum(s.cell_length for s in drawn)
            if x + cells > width - right_width:
                break  # what does not fit is in help (?) and the palette
            segments += drawn
            spans.append((x, x + cells, item))
            x += cells
        if palette is not None and x + right_width <= width:
            segments.append(Segment(" " * (width - x - right_width), base))
            spans.append((width - right_width, width, palette))
            segments += right
        self._spans = spans
        return Strip(segments).extend_cell_length(width, base).apply_style(base)

    def _key_styles(self) -> tuple[Style, Style, Style]:
        """The key, description and disabled styles, looked up once per theme."""
        if self._keybar_styles is None:
            self._keybar_styles = (
                self.get_component_rich_style("keybar--key"),
                self.get_component_rich_style("keybar--description"),
                self.get_component_rich_style("keybar--disabled"),
            )
        return self._keybar_styles

    def notify_style_update(self) -> None:
        self._keybar_styles = None
        super().notify_style_update()

    def on_click(self, event: events.Click) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end:
                event.stop()
                if item.enabled:
                    self.app.simulate_key(item.key)
                else:
                    self.app.bell()
                return
