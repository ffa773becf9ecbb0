"""Search on the dashboard (`/`): accents, next/previous, enter and escape, the filter,
no match, the matching line in the details pane, and find on the counterparts screen."""

from __future__ import annotations

from tripdash.screens.counterparts import CounterpartsScreen
from tripdash.widgets.details import EventDetails
from tripdash.widgets.header import TripHeader
from tripdash.widgets.keybar import KeyBar
from tripdash.widgets.search import SearchBar
from tripdash.widgets.timeline import Timeline

from .conftest import trip

WIDE = (120, 34)
MORNING = "2023-01-17T09:00 America/New_York"


def lines(timeline: Timeline) -> list[str]:
    return [timeline.render_line(y).text.rstrip() for y in range(timeline.size.height)]


async def test_accents_do_not_matter_and_the_count_follows_the_selection(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        assert timeline.selected.id == "csis-speech"
        await pilot.press("slash", *"melanie")
        bar = app.screen.query_one(SearchBar)
        assert bar.is_open
        # The first match from where the search began, and "1 of 2".
        assert timeline.selected.id == "joly-bilateral"
        assert bar.count_text == "1 of 2"
        events = timeline.schedule.trip.events
        assert {events[i].id for i in timeline._matches} == {
            "joly-bilateral",
            "ukrainian-diaspora-meeting",
        }
        # The search keys are in the key bar while the line is open.
        shown = [item.description for item in app.screen.query_one(KeyBar).items]
        assert {"Next match", "Previous match", "Only matches", "Back"} <= set(shown)
        await pilot.press("down")
        assert timeline.selected.id == "ukrainian-diaspora-meeting"
        assert bar.count_text == "2 of 2"
        await pilot.press("down")  # round the trip
        assert timeline.selected.id == "joly-bilateral"
        await pilot.press("up")
        assert timeline.selected.id == "ukrainian-diaspora-meeting"
        assert app._exception is None


async def test_enter_keeps_the_match_and_escape_goes_back(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.press("slash", *"wreath", "enter")
        assert not app.screen.query_one(SearchBar).is_open
        assert timeline.selected.id == "arlington-wreath"
        assert timeline.has_focus
        # The query is kept: `.` and `,` go on through the matches of "blinken".
        await pilot.press("slash", *["backspace"] * 6, *"blinken", "enter")
        assert timeline.selected.id == "blinken-bilateral"
        await pilot.press("full_stop")
        assert timeline.selected.id == "blinken-press-conference"
        await pilot.press("comma")
        assert timeline.selected.id == "blinken-bilateral"
        # Escape: back where the cursor was when the line opened, nothing underlined.
        await pilot.press("G", "slash", *"speech", "escape")
        assert timeline.selected.id == timeline.schedule.trip.events[-1].id
        assert timeline._matches == frozenset()
        assert app._exception is None


async def test_a_talking_point_match_shows_its_line_in_the_details(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("slash", *"cptpp")
        await pilot.pause(0.2)
        text = app.screen.query_one(EventDetails).text()
        assert text.startswith("Found in talking point:\n  ")
        assert "CPTPP" in text.replace("\n", " ")
        await pilot.press("enter", "backspace")
        await pilot.pause(0.2)
        assert "Found in" not in app.screen.query_one(EventDetails).text()


async def test_no_match_says_so_and_moves_nothing(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.press("slash", *"zzyzx")
        bar = app.screen.query_one(SearchBar)
        assert bar.count_text == "no match"
        assert timeline.selected.id == "csis-speech"
        await pilot.press("ctrl+f")  # a filter of nothing is refused
        assert len(timeline.schedule.trip.events) == len(trip().events)


async def test_filter_keeps_only_the_matches_and_one_key_clears_it(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.press("slash", *"blinken", "ctrl+f")
        await pilot.pause()
        shown = lines(timeline)
        assert [e.id for e in timeline.schedule.trip.events] == [
            "blinken-bilateral",
            "blinken-press-conference",
        ]
        # The day heading (the whole day's count) and the now line stay.
        assert shown[0].startswith(" Tuesday 17 January 2023") and "Day 1: 0/3 done" in shown[0]
        assert shown[1].startswith("─── now 09:00 EST")
        assert "FILTER 'blinken': 2 of 8 events" in app.screen.query_one(TripHeader).text().plain
        # Marking works on the filtered rows.
        await pilot.press("space")
        await pilot.pause()
        assert "Day 1: 1/3 done" in lines(timeline)[0]
        await pilot.press("backspace")
        await pilot.pause()
        assert len(timeline.schedule.trip.events) == 8
        assert "FILTER" not in app.screen.query_one(TripHeader).text().plain
        assert timeline.selected.id == "blinken-bilateral"
        # F with no search opens the line; enter then filters.
        await pilot.press("F", *"toronto", "enter")
        await pilot.pause()
        assert {e.place.id for e in timeline.schedule.trip.events} == {"toronto", "washington"}
        assert all(
            "toronto" in (e.place.id, getattr(e.to, "id", ""))
            for e in timeline.schedule.trip.events
        )
        assert app._exception is None


async def test_counterparts_find_jumps_to_a_name(build_app) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CounterpartsScreen)
        await pilot.press("slash", *"melanie")
        assert screen.selected.id == "joly"
        await pilot.press("enter")
        assert screen.selected.id == "joly"
        await pilot.press("slash", *"pension", "escape")
        assert screen.selected.id == "joly"  # escape: back to where it was
        await pilot.press("slash", *"canada", "down", "enter")
        assert screen.selected.id == "ukrainian-diaspora"
        assert app._exception is None


def test_snapshot_search_with_accents(build_app, snap) -> None:
    # 09:00 EST = 14:00 GMT; "melanie" underlines both Joly events (Wed 18, TBC) and
    # selects the first, "1 of 2".
    snap(build_app(trip(), MORNING), press=["slash", *"melanie"], terminal_size=WIDE)


def test_snapshot_talking_point_match(build_app, snap) -> None:
    # The CPTPP point is Joly's: the details pane starts with the matching line.
    snap(build_app(trip(), MORNING), press=["slash", *"cptpp", "enter"], terminal_size=WIDE)


def test_snapshot_filter_on(build_app, snap) -> None:
    # Only the two Blinken events under Tuesday's heading (Day 1: 0/3), the now line at
    # 09:00 EST / 14:00 GMT above them, and the FILTER marker in the header.
    snap(build_app(trip(), MORNING), press=["slash", *"blinken", "ctrl+f"], terminal_size=WIDE)


def test_snapshot_no_match(build_app, snap) -> None:
    snap(build_app(trip(), MORNING), press=["slash", *"zzyzx"], terminal_size=WIDE)


async def test_trip_text_is_matched_and_shown_literally(build_app) -> None:
    from dataclasses import replace

    fs = trip()
    notes = "Bring [bold red]the flag[/] \x1b[31m and [link=x]the gift"
    events = (replace(fs.events[0], notes=notes), *fs.events[1:])
    app = build_app(replace(fs, events=events), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("slash", *"[bold red]", "enter")
        await pilot.pause(0.2)
        text = app.screen.query_one(EventDetails).text()
        # The query is matched as typed (brackets and all), and the line shown as written,
        # the escape character made visible.
        flat = " ".join(text.split())  # the pane wraps it
        assert flat.startswith("Found in notes: Bring [bold red]the flag[/] \\x1b[31m and [link")
        assert "\x1b" not in text
        assert "FILTER" not in app.screen.query_one(TripHeader).text().plain
        await pilot.press("F")
        await pilot.pause()
        assert "FILTER '[bold red]': 1 of 8 events" in app.screen.query_one(TripHeader).text().plain
        assert app._exception is None


async def test_the_users_own_notes_are_searched(build_app) -> None:
    """A readout written with N is found by a word in it, and its line is shown."""
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("G")  # another event than the one the note goes on
        await pilot.pause()
        app.screen.session.save_note(
            app.screen.key, "blinken-press-conference", "Ask about Zanzibar"
        )
        await pilot.press("slash", *"zanzibar")
        await pilot.pause(0.2)
        timeline = app.screen.query_one(Timeline)
        assert app.screen.query_one(SearchBar).count_text == "1 of 1"
        assert timeline.selected.id == "blinken-press-conference"
        assert "Zanzibar" in app.screen.query_one(EventDetails).text()


async def test_letters_typed_at_once_after_the_slash_are_all_in_the_query(build_app) -> None:
    """'/melanie' typed in one go (as tmux or a fast typist sends it): no letter is lost to
    the timeline's keys while the line takes the focus."""
    from textual import events

    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        before = timeline.selected.id
        for key, char in [("slash", "/"), *((c, c) for c in "jmelanie")]:
            app.post_message(events.Key(key, char))  # no pause between them
        await pilot.pause(0.3)
        assert app.screen.query_one(SearchBar).input.value == "jmelanie"
        assert app.screen.query_one(SearchBar).count_text == "no match"  # counted, not blank
        await pilot.press("backspace" if False else "escape")
        assert timeline.selected.id == before  # 'j' moved nothing


async def test_letters_on_their_way_to_the_timeline_when_the_line_took_the_focus_are_kept(
    build_app,
) -> None:
    """The line is mounted at the first `/`: letters typed meanwhile were handed to the
    timeline (it had the focus) and reach it after the line has taken the focus. They
    belong to the query, not to the timeline's keys, and none is lost (seen in tmux)."""
    from textual import events

    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        before = timeline.selected.id
        await pilot.press("slash", "m")
        await pilot.pause(0.1)
        bar = app.screen.query_one(SearchBar)
        assert bar.input.has_focus
        for char in "jelanie":
            key = events.Key(char, char)
            key._set_forwarded()  # as the app hands a key to the focused widget
            timeline.post_message(key)  # handed over before the focus moved
        await pilot.pause(0.2)
        assert bar.input.value == "mjelanie"
        await pilot.press("escape")
        assert timeline.selected.id == before  # 'j' moved nothing
        await pilot.press("j")  # the line closed: keys are the timeline's again
        assert timeline.selected.id != before


async def test_the_rows_on_screen_are_drawn_underlined_ahead_of_the_first_letter(
    build_app, monkeypatch
) -> None:
    app = build_app(trip(), MORNING)
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        before = lines(timeline)
        await pilot.press("slash")
        await pilot.pause()
        assert lines(timeline)[: len(before) - 1] == before[: len(before) - 1]  # unchanged
        drawn: list[tuple[int, int]] = []
        original = Timeline._render_row

        def counting(self, row, width):  # type: ignore[no-untyped-def]
            drawn.append(row)
            return original(self, row, width)

        monkeypatch.setattr(Timeline, "_render_row", counting)
        await pilot.press("e")  # nearly every title has an e
        await pilot.pause()
        top = round(timeline.scroll_y)
        on_screen = [timeline._row_at(line) for line in range(top, top + timeline.size.height)]
        underlined = [
            row for row in on_screen if row and row[0] == 1 and row[1] in timeline._matches
        ]
        assert len(underlined) > 5
        lines(timeline)  # draws whatever is not drawn yet
        # Only the rows whose selection changed are drawn again (at most two).
        assert len([row for row in drawn if row[0] == 1]) <= 2
