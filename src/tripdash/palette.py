"""The command palette knows the trip: every event and every counterpart, besides the actions.

ctrl+p on the dashboard offers "Event: 15:30 EST Joint press conference with Secretary
Blinken" and "Counterpart: Mélanie Joly, Minister of Foreign Affairs, Canada", fuzzy-matched
by Textual's matcher on the text without case or accents ("melanie" finds Mélanie);
choosing one jumps there (the event on the timeline, the counterpart on their screen).

Trip text is never read as markup: the prompts are built as Rich ``Text`` from plain
strings (Textual's ``Matcher.highlight`` would parse its candidate as markup), with the
matched letters styled by their positions; the help lines hold only tripdash's own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import Hit, Hits, Provider

from tripdash.domain.folding import _fold_with_offsets, fold
from tripdash.domain.model import Counterpart, Event, Trip
from tripdash.domain.schedule import home_time_label, local_time_label
from tripdash.domain.text import one_line

if TYPE_CHECKING:
    from tripdash.screens.dashboard import DashboardScreen

#: Candidates looked at between two yields to the event loop (the screen stays live).
BATCH = 500


def event_prompt(event: Event, time_format: int = 24) -> str:
    """``Event: 15:30 EST Joint press conference with Secretary Blinken``."""
    return f"Event: {local_time_label(event, time_format)} {one_line(event.title)}"


def event_help(event: Event, trip: Trip, time_format: int = 24) -> str:
    """``Tue 17 Jan · home 20:30 GMT``: tripdash's words only (help text is markup)."""
    when = f"{event.local_date:%a %d %b}"
    if event.time_confirmed:
        return f"{when} · home {home_time_label(event, trip.home_tz, time_format)}"
    return f"{when} · time TBC"


def counterpart_prompt(cp: Counterpart) -> str:
    """``Counterpart: Mélanie Joly, Minister of Foreign Affairs, Canada``."""
    about = ", ".join(one_line(x) for x in (cp.name, cp.role, cp.country) if x)
    return f"Counterpart: {about}"


def _in_order(query: str, folded: str) -> bool:
    """True when every character of ``query`` occurs in ``folded`` in order: the fuzzy
    matcher's own condition, checked in a microsecond before paying for it."""
    at = 0
    for ch in query:
        at = folded.find(ch, at)
        if at < 0:
            return False
        at += 1
    return True


def highlighted(prompt: str, offsets: list[int], style: str = "reverse") -> Text:
    """``prompt`` as plain Text with the characters at ``offsets`` styled."""
    text = Text(prompt, end="")
    for offset in offsets:
        if 0 <= offset < len(prompt) and not prompt[offset].isspace():
            text.stylize(style, offset, offset + 1)
    return text


def _folded(prompt: str) -> tuple[str, list[int] | None]:
    """The prompt folded, and where each folded character came from (None: the same place)."""
    if prompt.isascii():
        return prompt.lower(), None
    return _fold_with_offsets(prompt)


class TripCommands(Provider):
    """Events and counterparts of the dashboard's trip, for the command palette."""

    async def startup(self) -> None:
        # Folded once per opening of the palette, not once per keystroke.
        self._folded = [(_folded(c[0]), c) for c in self._candidates()]

    def _candidates(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen: DashboardScreen = self.screen  # type: ignore[assignment]
        trip = screen.trip
        fmt = screen.time_format
        for event in trip.events:
            yield (
                event_prompt(event, fmt),
                event_help(event, trip, fmt),
                partial(screen.select_event, event.id),
            )
        for cp in trip.counterparts:
            yield (
                counterpart_prompt(cp),
                "Counterparts screen",
                partial(screen.open_counterparts, cp.id),
            )

    async def search(self, query: str) -> Hits:
        """Every event and counterpart whose text fuzzy-matches ``query``."""
        folded_query = "".join(fold(query).split())
        if not folded_query:
            return
        matcher = self.matcher(fold(query))
        for n, ((folded, where), (prompt, help_text, command)) in enumerate(self._folded):
            if n and n % BATCH == 0:
                await asyncio.sleep(0)
            if not _in_order(folded_query, folded):
                continue
            score, offsets = matcher.fuzzy_search.match(matcher.query, folded)
            if not score:
                continue
            if where is not None:
                offsets = [where[o] for o in offsets if o < len(where)]
            shown = highlighted(prompt, list(offsets))
            yield Hit(score, shown, command, text=prompt, help=help_text)
