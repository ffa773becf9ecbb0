"""The search line: `/` opens it over the timeline (or the counterparts list).

One line: a prompt, the text typed and the count ("3 of 7"). It only reports
what the user does (:class:`SearchBar.Changed` on every keystroke, :class:`Step`
for the next or previous match, :class:`Closed` with enter, escape or the filter
key); the screen holding it does the searching. The count and the query are
drawn as plain text: what was typed is never read as markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from tripdash.domain.text import one_line


class SearchInput(Input):
    """The text field: ↓ and ↑ go to the next and previous match (an input scrolls with them)."""

    HELP_GROUP = "Search"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "step(1)", "Next match", key_display="↓", id="search.next"),
        Binding("up", "step(-1)", "Previous match", key_display="↑", id="search.previous"),
    ]

    def action_step(self, step: int) -> None:
        self.post_message(SearchBar.Step(step))

    def _watch_value(self, value: str) -> None:
        # The line is one row of a fixed width: a longer query scrolls inside it and lays
        # nothing out. Input grows its virtual size through a reactive that lays the whole
        # screen out again (every row redrawn) at each keystroke; set it quietly first, so
        # Input's own assignment finds it unchanged.
        self.set_reactive(Widget.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)
        if isinstance(self.parent, SearchBar):
            self.parent._report(value)


class MatchCount(Widget):
    """ "3 of 7" at the end of the line: a fixed width, so a new count repaints these cells
    and lays nothing out again (a Static's update lays out the screen, felt at each key)."""

    DEFAULT_CSS = """
    MatchCount {
        width: 26;
        height: 1;
        padding: 0 1;
        background: $panel;
        content-align: right middle;
    }
    MatchCount.-none {
        color: $text-warning;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""

    def set(self, text: str, *, none: bool) -> None:
        if text != self.text or none != self.has_class("-none"):
            self.text = text
            self.set_class(none, "-none")
            self.refresh()

    def render(self) -> Text:
        return Text(self.text, justify="right", end="")


class SearchBar(Horizontal):
    """``/ joly            1 of 2``: hidden until :meth:`open` is called."""

    HELP_GROUP = "Search"

    DEFAULT_CSS = """
    SearchBar {
        height: 1;
        display: none;
        background: $panel;
    }
    SearchBar.-open {
        display: block;
    }
    SearchBar > #search-prompt {
        width: auto;
        padding: 0 0 0 1;
        text-style: bold;
    }
    SearchBar > SearchInput {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
        background: $panel;
    }
    SearchBar > SearchInput:focus {
        border: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "filter", "Only matches", id="search.filter"),
        Binding("escape", "cancel", "Back", key_display="esc", id="search.cancel"),
    ]

    class Changed(Message):
        """The query is now ``query`` (every keystroke)."""

        def __init__(self, query: str) -> None:
            self.query = query
            super().__init__()

    class Step(Message):
        """Go to the next (1) or previous (-1) match."""

        def __init__(self, step: int) -> None:
            self.step = step
            super().__init__()

    class Closed(Message):
        """The line closed: ``keep`` (enter, or the filter key) or not (escape)."""

        def __init__(self, query: str, *, keep: bool, filter: bool) -> None:
            self.query = query
            self.keep = keep
            self.filter = filter
            super().__init__()

    def __init__(self, *, placeholder: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self._placeholder = placeholder
        #: True when enter should keep only the matches (opened by the filter key).
        self.filter_on_enter = False

    def compose(self) -> ComposeResult:
        yield Static("/", id="search-prompt")
        yield SearchInput(placeholder=self._placeholder, id="search-input", select_on_focus=False)
        yield MatchCount(id="search-count")

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def count_text(self) -> str:
        """What the count shows now (for tests)."""
        return self.query_one(MatchCount).text

    def open(self, query: str = "", *, filter_on_enter: bool = False) -> None:
        """Show the line, holding ``query`` (all of it selected would lose it at a key)."""
        self.filter_on_enter = filter_on_enter
        self.add_class("-open")
        field = self.input
        same = field.value == query  # a new value reports itself (see on_input_changed)
        field.value = query
        field.cursor_position = len(query)
        field.focus()
        if query and same:
            self._report(query)

    def close(self) -> None:
        self.remove_class("-open")

    def show_count(self, text: str, *, none: bool = False) -> None:
        """``3 of 7``, or ``no match`` (``none``: drawn as a warning)."""
        self.query_one(MatchCount).set(one_line(text), none=none)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()  # reported already, as the value changed (see SearchInput._watch_value)

    def _report(self, query: str) -> None:
        """Tell the screen the query is now ``query``.

        In this turn, not by a message: a message reaches the screen after the line has
        been drawn with the new letter, so the count and the timeline's highlight would
        come a frame (or three) later than the letter. A screen without a handler gets
        the message.
        """
        message = self.Changed(query)
        handler = getattr(self.screen, "on_search_bar_changed", None)
        if handler is None:
            self.post_message(message)
        else:
            handler(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close(keep=True, filter=self.filter_on_enter)

    def action_filter(self) -> None:
        self._close(keep=True, filter=True)

    def action_cancel(self) -> None:
        self._close(keep=False, filter=False)

    def _close(self, *, keep: bool, filter: bool) -> None:
        query = self.input.value
        self.close()
        self.post_message(self.Closed(query, keep=keep, filter=filter))
