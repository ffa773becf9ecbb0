"""The help screen: every key of the screen beneath it, generated from its bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tripdash.commands import collect_keys


def keys_table(screen: Screen[object]) -> Table:
    """A table of keys, grouped as the bindings are (everywhere, this screen, each pane)."""
    table = Table(box=None, show_header=False, expand=False, padding=(0, 2, 0, 0))
    table.add_column("keys", style="bold", no_wrap=True, min_width=12)
    table.add_column("action")
    group = None
    # The screen's own keys first, then its panes', then the keys that work everywhere.
    order = {"Timeline": 1, "Everywhere": 9}
    for row in sorted(collect_keys(screen), key=lambda r: order.get(r.group, 0)):
        if row.group != group:
            group = row.group
            title = group
            table.add_row(Text(""), Text(""))
            table.add_row(Text(title, style="underline"), Text(""))
        table.add_row(Text(row.key_text), Text(row.description))
    return table


class HelpScreen(ModalScreen[None]):
    """Keys of the screen that was showing when ``?`` was pressed."""

    HELP_GROUP = "Help"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, beneath: Screen[object]) -> None:
        super().__init__()
        self._table = keys_table(beneath)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("tripdash keys  (escape closes)", style="bold"))
            yield Static(self._table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
