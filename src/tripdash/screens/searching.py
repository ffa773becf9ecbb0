"""Search and filter on the dashboard: `/`, next and previous match, keep only the matches.

:class:`SearchKeys` is mixed into the dashboard (first, as the reminder keys are). As
each character is typed the matching events are underlined on the timeline, the
selection moves to the first match from where the search began, and the line shows
"2 of 5"; ↓/↑ (and `.`/`,` once the line is closed) go to the next and previous
match; enter keeps the selection and the query, escape goes back to where the
cursor was. The filter (ctrl+f in the line, or `F`) keeps only the matching events
on the timeline, with their day headings and the now line; `backspace` clears it.
A match in a talking point or a note shows its line at the top of the details pane.

The user's own notes are searched through :meth:`SearchKeys.search_notes` (item id ->
texts), which the dashboard fills from the session's notes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.binding import Binding

from tripdash.domain.folding import find_span
from tripdash.domain.text import one_line
from tripdash.widgets.search import SearchBar, SearchInput

if TYPE_CHECKING:
    from tripdash.domain.late import Lateness
    from tripdash.domain.model import Trip
    from tripdash.domain.schedule import Schedule
    from tripdash.domain.search import Match, Result, SearchIndex
    from tripdash.screens.base import TripScreen
    from tripdash.widgets.timeline import Timeline

    class _Base(TripScreen):
        """What the mixin needs of the dashboard besides a trip screen's parts."""

        @property
        def timeline(self) -> Timeline: ...

        def _show_details(self) -> None: ...

        def _show_details_soon(self) -> None: ...

        def tick(self, *, details: bool = True) -> None: ...

else:
    _Base = object

#: How much of a long matching line the details pane shows around the match.
EXCERPT = 70

#: How long the details pane waits, while a query is typed, before following the match:
#: about a fast typist's gap between two keys, so that re-wrapping it (a layout of the
#: screen) comes in a pause rather than on the next keystroke's frame. The highlight and
#: the count follow each key at once.
TYPING_DETAILS_DELAY = 0.15


def _index(trip: Trip) -> SearchIndex:
    # The search index and its classes are imported at the first search, not at start-up.
    from tripdash.domain.search import SearchIndex

    return SearchIndex.for_trip(trip)


def _filtered(schedule: Schedule, ids: Collection[str]) -> Schedule:
    from tripdash.domain.search import FilteredSchedule

    return FilteredSchedule(schedule, ids)


def search_bindings(screen: str) -> list[Binding]:
    """The dashboard's search keys, with ids ``<screen>.search`` and so on."""
    return [
        # Out of the key bar until a search is kept (help and the palette list it).
        Binding("slash", "search", "Search", key_display="/", show=False, id=f"{screen}.search"),
        Binding(
            "full_stop", "search_step(1)", "Next match", key_display=".", id=f"{screen}.next-match"
        ),
        Binding(
            "comma",
            "search_step(-1)",
            "Previous match",
            key_display=",",
            id=f"{screen}.previous-match",
        ),
        Binding("F", "filter", "Only matches", show=False, id=f"{screen}.filter"),
        Binding("backspace", "clear_search", "Clear search", id=f"{screen}.clear-search"),
    ]


def excerpt(line: str, query: str, width: int = EXCERPT) -> Text:
    """``line`` on one line, cut to about ``width`` around the match, the match reversed."""
    flat = one_line(line)
    span = find_span(flat, query)
    start = 0
    if span is not None and len(flat) > width:
        start = max(0, min(span[0] - width // 3, len(flat) - width))
    shown = flat[start : start + width]
    text = Text(("…" if start else "") + shown + ("…" if start + width < len(flat) else ""))
    if span is not None:
        offset = 1 if start else 0
        a, b = span[0] - start + offset, min(span[1], start + width) - start + offset
        if 0 <= a < b:
            text.stylize("reverse", a, b)
    return text


class SearchKeys(_Base):
    """The dashboard's search: the line, the highlight, next/previous and the filter."""

    _search_query = ""
    _search_result: Result | None = None
    _search_origin: str | None = None
    _filter_query: str | None = None

    #: What the search line says while empty (the screen's own words).
    SEARCH_PLACEHOLDER = "title, person, place, talking point…  (enter keeps, esc goes back)"
    #: What the search line is mounted above (the dashboard's timeline and details).
    SEARCH_BAR_BEFORE = "#panes"
    #: The search line, once mounted: only at the first `/`, as a text field's mounting and
    #: styles cost a fifth of what the dashboard adds to Textual's own start-up (issue 14).
    _bar: SearchBar | None = None

    @property
    def search_bar(self) -> SearchBar:
        """The search line (mounted by the first search)."""
        assert self._bar is not None, "the search line is mounted by the first search"
        return self._bar

    @property
    def search_open(self) -> bool:
        """Whether the search line is open."""
        return self._bar is not None and self._bar.is_open

    async def _mount_search_bar(self) -> SearchBar:
        if self._bar is None:
            bar = SearchBar(placeholder=self.SEARCH_PLACEHOLDER)
            await self.mount(bar, before=self.SEARCH_BAR_BEFORE)
            self._bar = bar
        return self._bar

    _help_field: SearchInput | None = None

    def help_unmounted_nodes(self) -> list[SearchInput]:
        """The search field's keys (↓ ↑) for help and the palette before the line's first
        opening: an unmounted field, standing in for the one mounted then."""
        if self._bar is not None:
            return []
        if self._help_field is None:
            self._help_field = SearchInput()
        return [self._help_field]

    def details_delay(self, usual: float) -> float:
        """How long the details pane waits before following the selection: longer while
        the search line is open (the user is typing), ``usual`` otherwise."""
        return TYPING_DETAILS_DELAY if self.search_open else usual

    def search_notes(self) -> Mapping[str, Sequence[str]]:
        """The user's own notes and readouts (item id -> texts) that search matches too.

        None here; the dashboard gives the session's notes.
        """
        return {}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search_step":
            return self._search_result is not None and bool(self._search_result.matches)
        if action == "clear_search":
            return self._search_result is not None or self._filter_query is not None
        return super().check_action(action, parameters)  # type: ignore[misc, no-any-return]

    # -- the line ---------------------------------------------------------------------------

    async def action_search(self) -> None:
        """Open the search line, holding the last query."""
        await self._open_search(filter_on_enter=False)

    async def _open_search(self, *, filter_on_enter: bool) -> None:
        selected = self.timeline.selected
        self._search_origin = selected.id if selected is not None else None
        _index(self.trip)  # built now (once a trip), not at the first letter
        # Keys typed while the line is mounted wait in the app's queue (this action is
        # awaited there), then reach the line, or the typeahead below.
        bar = await self._mount_search_bar()
        bar.open(self._search_query, filter_on_enter=filter_on_enter)
        # The rows on screen drawn underlined ahead, once the line is shown: the first letter
        # then only swaps lines already drawn.
        self.call_after_refresh(self.timeline.prepare_matched)
        self._take_typeahead()
        if not bar.input.value:  # what was typed ahead has its count already
            bar.show_count("")

    #: Letters typed after `/` before the line has the focus; None when not in that window.
    _typeahead: list[str] | None = None

    def on_key(self, event: events.Key) -> None:
        """Letters typed right after `/` in one go (a fast typist, a paste, tmux) reach the
        screen before the line is open and focused: they are kept for the query instead of
        acting as the timeline's keys (`j` would move the cursor).

        The window stays open until the line closes: letters already handed to the
        timeline when the line took the focus still come here (a letter typed into the
        line never does: the field stops it), and go into the line.
        """
        bar = self._bar
        if event.key in self._search_keys() and not (bar is not None and bar.input.has_focus):
            self._typeahead = []
            # Should the key open nothing (a modal in front), stop keeping letters soon.
            self.set_timer(0.5, self._typeahead_expire)
            return
        if self._typeahead is None or not (event.is_printable and event.character):
            return
        if bar is not None and bar.is_open:
            bar.input.insert_text_at_cursor(event.character)
        else:
            self._typeahead.append(event.character)
        event.stop()
        event.prevent_default()

    def _search_keys(self) -> set[str]:
        """The keys that open the search here (the user's keymap applied)."""
        return {
            key
            for key, bindings in self._bindings.key_to_bindings.items()
            if any(b.action in ("search", "filter") for b in bindings)
        }

    def _typeahead_expire(self) -> None:
        if not self.search_open:
            self._typeahead = None

    def _take_typeahead(self) -> None:
        """The line just opened: what was typed since `/` is the query."""
        typed = self._typeahead
        if typed:
            field = self.search_bar.input
            field.value = "".join(typed)
            field.cursor_position = len(field.value)
            typed.clear()
        # Until the line has the focus, later letters are inserted into it (see on_key).

    def on_search_bar_changed(self, message: SearchBar.Changed) -> None:
        message.stop()
        result = self._search(message.query)
        if result is None:
            self.search_bar.show_count("")
            self._show_details_soon()
            return
        origin = self._origin_index()
        at = result.first_from(origin) if origin is not None else 0
        if at is not None:
            self._select(result.matches[at])
        elif self._search_origin is not None:
            self._select_id(self._search_origin)  # nothing matches: back where it began
        self._show_count()
        # Later and once, as for cursor keys: typing should not wait for the pane to wrap.
        self._show_details_soon()

    def on_search_bar_step(self, message: SearchBar.Step) -> None:
        message.stop()
        self.action_search_step(message.step)

    def on_search_bar_closed(self, message: SearchBar.Closed) -> None:
        message.stop()
        self._typeahead = None  # letters are the timeline's keys again
        if message.keep:
            self._search_query = message.query
            if message.filter and message.query.strip():
                self._set_filter(message.query)
        else:
            self._forget_search()
            if self._search_origin is not None:
                self._select_id(self._search_origin)
        self.timeline.focus()
        self.refresh_bindings()
        self._show_details()

    # -- moving -----------------------------------------------------------------------------

    def action_search_step(self, step: int) -> None:
        """The next (1) or previous (-1) match, round the trip."""
        result = self._search_result
        if result is None or not result.matches:
            return
        selected = self.timeline.selected
        here = self._whole_index(selected.id) if selected is not None else 0
        at = result.position_of(here) if here is not None else None
        # Off a match (the cursor moved): the nearest one that way.
        at = result.first_from(here or 0, step) if at is None else (at + step) % len(result.matches)
        if at is not None:
            self._select(result.matches[at])
        self._show_count()
        self._show_details_soon()

    # -- the filter ---------------------------------------------------------------------------

    async def action_filter(self) -> None:
        """Keep only the events matching the search (opening the line when there is none)."""
        if self._filter_query is not None:
            return
        if not self._search_query.strip():
            await self._open_search(filter_on_enter=True)
            return
        self._set_filter(self._search_query)
        self.refresh_bindings()

    def action_clear_search(self) -> None:
        """Show every event again and forget the search."""
        self._forget_search()
        self.refresh_bindings()
        self._show_details()

    def _set_filter(self, query: str) -> None:
        result = self._search(query)
        if result is None:
            return
        if not result.matches:
            self.notify(f"Nothing matches {one_line(query)!r}: every event is still shown")
            return
        self._filter_query = query
        selected = self.timeline.selected
        self.timeline.set_schedule(
            _filtered(self.schedule, result.ids), keep=True, late=self._late()
        )
        self.timeline.set_matches(frozenset())
        if selected is None or self.timeline.index_of(selected.id) is None:
            self._select(result.matches[0])
        self.tick(details=False)

    def _forget_search(self) -> None:
        self._search_query = ""
        self._search_result = None
        if self._filter_query is not None:
            self._filter_query = None
            self.timeline.set_schedule(self.schedule, keep=True, late=self._late())
            if self.timeline.selected is not None:
                self.timeline.scroll_to_event(self.timeline.cursor, center=True)
            self.tick(details=False)
        self.timeline.set_matches(frozenset())

    def search_reloaded(self) -> None:
        """A new version of the trip: search it again, keeping the filter if one is on."""
        if self._search_result is None:
            return
        query = self._search_result.query
        result = self._search(query)
        if self._filter_query is not None and result is not None and result.matches:
            self.timeline.set_schedule(
                _filtered(self.schedule, result.ids), keep=True, late=self._late()
            )
            self.timeline.set_matches(frozenset())
        elif self._filter_query is not None:
            self._filter_query = None
            self.timeline.set_schedule(self.schedule, keep=True, late=self._late())

    def _late(self) -> Lateness:
        # Filtered or not, the timeline relates its rows to the plan: the struck planned
        # time and the +20 stay on the events a filter keeps, and come back with the rest.
        return self.session.lateness(self.key)

    def filter_status(self) -> str:
        """The header's marker while a filter is on ("" otherwise)."""
        if self._filter_query is None or self._search_result is None:
            return ""
        shown = len(self._search_result.matches)
        total = len(self.trip.events)
        return f"FILTER {one_line(self._filter_query)!r}: {shown} of {total} events (⌫ clears)"

    # -- helpers ----------------------------------------------------------------------------

    def _search(self, query: str) -> Result | None:
        if not query.strip():
            self._search_result = None
            self.timeline.set_matches(frozenset())
            return None
        result = _index(self.trip).search(query, self.search_notes())
        self._search_result = result
        # Indexes of the whole trip: underlining is only for the unfiltered timeline.
        self.timeline.set_matches(frozenset() if self._filter_query else result.index_set)
        return result

    def _show_count(self) -> None:
        result = self._search_result
        if result is None:
            return
        if not result.matches:
            also = " (only in the trip's summary)" if result.trip_lines else ""
            self.search_bar.show_count(f"no match{also}", none=True)
            return
        selected = self.timeline.selected
        here = self._whole_index(selected.id) if selected is not None else None
        at = result.position_of(here) if here is not None else None
        shown = str(at + 1) if at is not None else "–"
        self.search_bar.show_count(f"{shown} of {len(result.matches)}")

    def found_line(self) -> Text | None:
        """What the details pane shows above the selected event: the matching line, when it
        is not on the event's timeline row (a talking point, a note, a counterpart's role)."""
        result = self._search_result
        selected = self.timeline.selected
        if result is None or selected is None:
            return None
        here = self._whole_index(selected.id)
        at = result.position_of(here) if here is not None else None
        if at is None:
            return None
        match = result.matches[at]
        if not match.in_details_only:
            return None
        text = Text(end="")
        text.append(f"Found in {match.field}:\n", "bold")
        text.append("  ")
        text.append_text(excerpt(match.line, result.query))
        text.append("\n")
        return text

    def _origin_index(self) -> int | None:
        if self._search_origin is None:
            return 0
        return self._whole_index(self._search_origin)

    def _whole_index(self, event_id: str) -> int | None:
        return _index(self.trip).index_of.get(event_id)

    def _select(self, match: Match) -> None:
        self._select_id(match.event.id)

    def _select_id(self, event_id: str) -> None:
        index = self.timeline.index_of(event_id)
        if index is not None:
            self.timeline.select(index)
            self.timeline.scroll_to_event(index)
