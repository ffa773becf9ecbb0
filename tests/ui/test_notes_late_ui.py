"""Notes and running late in the dashboard: typed, committed before shown, never lost.

A day that runs 20 minutes late from the CSIS speech, with a flight that does not
move: the timeline shows planned and expected times, the overlap with the flight
is flagged on both rows and in the header, and undo puts the day back on time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakes import FakeClock
from textual.widgets import TextArea

from tripdash.domain.records import MAX_NOTE_CHARS, RecordStore
from tripdash.domain.store import MarkStore
from tripdash.screens.dashboard import DashboardScreen
from tripdash.screens.event import EventScreen
from tripdash.screens.late import LateScreen
from tripdash.screens.note import NoteScreen
from tripdash.widgets.details import EventDetails
from tripdash.widgets.header import TripHeader

from .conftest import DATA, FS_TRIP, at, trip

LATE_DAY = DATA / "late-day.toml"
DURING_SPEECH = "2023-01-17T09:20 America/New_York"


def rows(app: Any, count: int = 11) -> list[str]:
    timeline = app.screen.timeline
    return [timeline.render_line(y).text.rstrip() for y in range(count)]


def row_of(app: Any, title: str) -> str:
    found = [r for r in rows(app, 14) if title in r]
    assert found, f"no row with {title!r} in {rows(app, 14)}"
    return found[0]


def stored(state: Path) -> RecordStore:
    """The records as another process would read them from the state directory."""
    return RecordStore(
        MarkStore(state, clock=FakeClock(at(DURING_SPEECH))), clock=FakeClock(at(DURING_SPEECH))
    )


async def test_running_late_moves_the_day_until_the_flight(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(LATE_DAY), DURING_SPEECH)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("L")
        assert isinstance(app.screen, LateScreen)
        # The default is the event in progress: the speech.
        assert app.screen.query_one("#late-from").value == "csis-speech"
        await pilot.press("2", "0", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)

        # Committed before shown: another reader of the store sees the shift.
        shifts = stored(tmp_path / "state").shifts("late-day")
        assert shifts["csis-speech"].minutes == 20 and shifts["csis-speech"].until_event is None

        # The speech is on: it began on time and runs over (+20, 20 more minutes left).
        speech = row_of(app, "Speech at CSIS")
        assert "09:15 EST" in speech and "09:35" not in speech and "+20" in speech
        assert "1h00 left" in speech
        # What comes after it: planned (struck) then expected, in local and home time.
        table = row_of(app, "Round table")
        assert "11:00 11:20 EST" in table and "16:00 16:20 GMT" in table and "+20" in table
        # The flight does not move; the bilateral now runs into it: both rows flagged.
        flight = row_of(app, "Flight to Toronto")
        assert "15:00 EST" in flight and "+20" not in flight and "⚠" in flight
        assert "⚠" in row_of(app, "Blinken bilateral")
        # After the flight, Toronto is on time.
        assert "+20" not in row_of(app, "Reception")

        header = app.screen.query_one(TripHeader)
        assert header.late_text.startswith("running 20 min late since Speech at CSIS")
        assert "⚠ Blinken bilateral now overlaps Flight to Toronto" in header.status

        # A later shift from the same event replaces the first (35, not 55).
        await pilot.press("L")
        minutes = app.screen.query_one("#late-minutes")
        assert minutes.value == "20"  # what is in force now
        minutes.value = "35"
        await pilot.press("enter")
        await pilot.pause()
        assert "11:00 11:35 EST" in row_of(app, "Round table")

        # Undo goes back one step (20), then to on time.
        await pilot.press("u")
        await pilot.pause()
        assert "11:00 11:20 EST" in row_of(app, "Round table")
        await pilot.press("u")
        await pilot.pause()
        table = row_of(app, "Round table")
        assert "+20" not in table and "11:20" not in table and "11:00 EST" in table
        assert "+20" not in row_of(app, "Speech at CSIS")
        assert header.late_text == ""
        await pilot.press("U")
        await pilot.pause()
        assert "11:00 11:20 EST" in row_of(app, "Round table")
        assert app._exception is None


async def test_a_shift_that_is_refused_keeps_the_box_open(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(LATE_DAY), DURING_SPEECH)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("L", "9", "9", "9", "9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LateScreen)
        error = str(app.screen.query_one("#late-error").render())
        assert "At most 24 hours" in error
        app.screen.query_one("#late-minutes").value = "twenty"
        await pilot.press("enter")
        assert "whole number" in str(app.screen.query_one("#late-error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert stored(tmp_path / "state").shifts("late-day") == {}


async def test_the_details_say_planned_and_expected(build_app: Callable[..., Any]) -> None:
    app = build_app(trip(LATE_DAY), DURING_SPEECH)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("L", "2", "0", "enter")
        await pilot.pause(0.2)
        # The speech, on now, overruns: its end moved.
        text = " ".join(app.screen.query_one(EventDetails).text().split())
        assert "runs 20 min over: planned to end 10:00 EST · 15:00 GMT, expected:" in text
        assert "10:20 EST" in text and "15:20 GMT" in text
        await pilot.press("j")  # the round table
        await pilot.pause(0.2)
        text = " ".join(app.screen.query_one(EventDetails).text().split())
        assert "20 min late since Speech at CSIS: planned 11:00 EST · 16:00 GMT, expected:" in text
        assert "11:20 EST" in text and "16:20 GMT" in text
        await pilot.press("j")  # the bilateral, which now runs into the flight
        await pilot.pause(0.2)
        text = " ".join(app.screen.query_one(EventDetails).text().split())
        assert "⚠ Blinken bilateral now overlaps Flight to Toronto" in text


async def test_writing_a_note_on_an_event(build_app: Callable[..., Any], tmp_path: Path) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York", who="alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("N")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"Blinken agreed", "enter", "enter", *"Second paragraph")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, DashboardScreen)
        notes = stored(tmp_path / "state").notes("fs-north-america-2023-01")
        (version,) = notes["csis-speech"]
        assert version.text == "Blinken agreed\n\nSecond paragraph" and version.who == "alice"
        text = app.screen.query_one(EventDetails).text()
        assert "Your note (Tue 17 Jan 14:20 GMT)" in " ".join(text.split())
        assert "  Blinken agreed" in text and "  Second paragraph" in text

        # Opening it again starts from the text; saving unchanged adds no version.
        await pilot.press("N")
        assert app.screen.query_one(TextArea).text == "Blinken agreed\n\nSecond paragraph"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(stored(tmp_path / "state").records("fs-north-america-2023-01")) == 1


async def test_escape_never_throws_a_typed_note_away_at_once(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("N", *"half a readout", "escape")
        assert isinstance(app.screen, NoteScreen)  # warned, still open
        assert app.screen.query_one(TextArea).text == "half a readout"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert stored(tmp_path / "state").records("fs-north-america-2023-01") == []


async def test_a_note_too_long_is_refused_and_kept_in_the_box(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("N")
        area = app.screen.query_one(TextArea)
        area.insert("x" * (MAX_NOTE_CHARS + 1))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        assert len(app.screen.query_one(TextArea).text) == MAX_NOTE_CHARS + 1
        assert any("at most 100,000" in n.message for n in app._notifications)
        assert stored(tmp_path / "state").records("fs-north-america-2023-01") == []


async def test_two_versions_from_two_laptops_are_both_shown_then_merged(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    # Two laptops wrote a version each without seeing the other (as after a sync).
    for who, text in (("alice", "Blinken: yes on Ukraine"), ("bob", "Blinken: wants more")):
        other = tmp_path / who
        store = RecordStore(
            MarkStore(other, clock=FakeClock(at(DURING_SPEECH))), clock=FakeClock(at(DURING_SPEECH))
        )
        record = store.save_note("fs-north-america-2023-01", "csis-speech", text, who)
        store.close()
        mine = RecordStore(
            MarkStore(state, clock=FakeClock(at(DURING_SPEECH))), clock=FakeClock(at(DURING_SPEECH))
        )
        mine.add_records([record])
        mine.close()
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York", who="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        text = app.screen.query_one(EventDetails).text()
        assert "⚠ 2 versions of this note" in text
        assert "Blinken: yes on Ukraine" in text and "Blinken: wants more" in text
        assert "Note by bob" in text and "Your note" in text
        await pilot.press("N")
        box = app.screen.query_one(TextArea).text
        assert "version 1 of 2" in box and "version 2 of 2" in box
        area = app.screen.query_one(TextArea)
        area.text = "Blinken: yes on Ukraine, wants more"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        (merged,) = stored(state).notes("fs-north-america-2023-01")["csis-speech"]
        assert merged.text == "Blinken: yes on Ukraine, wants more"
        assert "2 versions" not in app.screen.query_one(EventDetails).text()


async def test_notes_on_the_event_box_and_a_counterpart(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T15:00 America/New_York")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, EventScreen)
        await pilot.press("N", *"Questions from the FT", "ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EventScreen)
        body = str(app.screen.query_one("#event-text").render())
        assert "Questions from the FT" in body
        await pilot.press("escape", "c")  # the counterparts screen, on Blinken
        await pilot.pause()
        await pilot.press("N", *"Readout: warm", "ctrl+s")
        await pilot.pause(0.2)
        info = str(app.screen.query_one("#cp-info").render())
        assert "Readout: warm" in info and "Your note" in info
        notes = stored(tmp_path / "state").notes("fs-north-america-2023-01")
        assert notes["blinken"][0].text == "Readout: warm"
        assert notes["blinken-press-conference"][0].text == "Questions from the FT"


async def test_a_note_with_escape_sequences_is_stored_as_typed_and_shown_escaped(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York")
    hostile = "ok\x1b]52;c;UFdORUQ=\x07 \u202eevil"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("N")
        app.screen.query_one(TextArea).text = hostile
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        (version,) = stored(tmp_path / "state").notes("fs-north-america-2023-01")["csis-speech"]
        assert version.text == hostile
        text = app.screen.query_one(EventDetails).text()
        assert "\x1b" not in text and "\u202e" not in text and "\\x1b" in text


async def test_another_laptops_shift_arrives_while_open(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(LATE_DAY), DURING_SPEECH)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        other = stored(tmp_path / "state")  # another process on the same laptop
        other.set_shift("late-day", "think-tank", 10, None, "bob")
        other.close()
        await pilot.pause(2.5)  # the once-a-second poll
        assert "11:00 11:10 EST" in row_of(app, "Round table")
        assert "+10" in row_of(app, "Round table")
        assert "+10" not in row_of(app, "Speech at CSIS")


def test_a_day_running_late_snapshot(build_app: Callable[..., Any], snap: Any) -> None:
    """20 min late from the speech; the flight stays; the bilateral now runs into it."""

    async def run_before(pilot: Any) -> None:
        await pilot.press("L", "2", "0", "enter")
        await pilot.pause()
        pilot.app.screen.query_one(TripHeader).flash_text = ""  # the confirmation's 3 s
        await pilot.press("j", "j")
        await pilot.pause(0.3)

    snap(build_app(trip(LATE_DAY), DURING_SPEECH), terminal_size=(130, 34), run_before=run_before)


async def test_a_shift_from_a_removed_event_is_kept_and_said(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    """A new version of the file without the event a shift runs from: orphaned, said."""
    path = tmp_path / "late-day.toml"
    path.write_text(LATE_DAY.read_text(encoding="utf-8"), encoding="utf-8")
    from tripdash.domain.sources import TripSource
    from tripdash.live import OpenTrip

    source = TripSource(str(path))
    loaded = source.load()
    assert loaded.result is not None
    app = build_app([OpenTrip(loaded.result.trip, source)], DURING_SPEECH)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("L", "2", "0", "enter")
        await pilot.pause()
        text = path.read_text(encoding="utf-8")
        start = text.index('[[events]]\nid = "csis-speech"')
        end = text.index("[[events]]", start + 5)
        path.write_text(text[:start] + text[end:], encoding="utf-8")
        await pilot.press("r")
        await pilot.pause(0.5)
        header = app.screen.query_one(TripHeader)
        assert "csis-speech, no longer in the programme: not applied" in header.status
        assert "+20" not in row_of(app, "Round table")
        # Kept in the store all the same.
        assert stored(tmp_path / "state").shifts("late-day")["csis-speech"].minutes == 20


async def test_a_version_saved_elsewhere_while_typing_is_kept_beside_ours(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = build_app(trip(FS_TRIP), "2023-01-17T09:20 America/New_York", who="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("N", *"mine")
        other = stored(tmp_path / "state")  # `tripdash note` in another terminal
        other.save_note("fs-north-america-2023-01", "csis-speech", "theirs", "bob")
        await pilot.pause(2.5)  # the poll sees it; the box says so
        assert any("kept beside yours" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        versions = stored(tmp_path / "state").notes("fs-north-america-2023-01")["csis-speech"]
        assert sorted(v.text for v in versions) == ["mine", "theirs"]
        text = app.screen.query_one(EventDetails).text()
        assert "⚠ 2 versions of this note" in text


FALL_BACK = DATA / "fall-back.toml"


async def test_planned_times_name_their_zone_across_the_change_and_their_day_past_midnight(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    """Struck through beside the expected time, a planned 01:30 EDT said as "01:30" before
    "01:15 EST" read as early; a dinner moved past midnight sits under the next day."""
    path = FALL_BACK
    when = "2023-11-05T00:00 America/New_York"
    clock = FakeClock(at(when))
    store = RecordStore(MarkStore(tmp_path / "state", clock=clock), clock=clock)
    store.set_shift("fall-back", "first", 45, "second", "ps")
    store.set_shift("fall-back", "dinner", 180, None, "ps")
    store.close()
    app = build_app(trip(path), when)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        first = row_of(app, "First 01:30")
        assert "01:30 EDT 01:15 EST" in first and "05:30 06:15 GMT" in first, first
        second = row_of(app, "Second 01:30")
        assert "01:30     02:15 EST" in second and "06:30 07:15 GMT" in second, second
        # Under Monday's heading: the plan was Sunday's 21:00 (02:00 at home, Monday).
        headings = [r for r in rows(app, 14) if r.startswith(" Monday")]
        dinner = row_of(app, "Dinner")
        assert headings and rows(app, 14).index(headings[0]) < rows(app, 14).index(dinner)
        assert "21:00 -1d 00:00 EST" in dinner and "02:00 05:00 GMT" in dinner, dinner
        assert app._exception is None


async def test_a_filter_keeps_the_late_times_and_clearing_it_brings_them_back(
    build_app: Callable[..., Any], tmp_path: Path
) -> None:
    """Filtered, then cleared: the rows kept their planned times and +10 (a user saw them
    gone until a restart)."""
    store = stored(tmp_path / "state")
    store.set_shift("late-day", "think-tank", 10, None, "bob")
    store.close()
    app = build_app(trip(LATE_DAY), DURING_SPEECH)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "11:00 11:10 EST" in row_of(app, "Round table")
        await pilot.press("slash", *"round", "enter", "F")
        await pilot.pause()
        table = row_of(app, "Round table")
        assert "11:00 11:10 EST" in table and "+10" in table, table
        assert all("Speech at CSIS" not in r for r in rows(app, 14))  # filtered
        await pilot.press("backspace")
        await pilot.pause()
        assert any("Speech at CSIS" in r for r in rows(app, 14))
        table = row_of(app, "Round table")
        assert "11:00 11:10 EST" in table and "+10" in table, table
        assert app._exception is None


def test_a_long_late_line_gives_way_before_the_next_title_vanishes() -> None:
    """At 80 columns "Running 10 min late since <a long title>  Next:  in 20 min" lost the
    next event's title altogether; the title keeps a few words, the late text is cut."""
    from tripdash.widgets.header import CUT, KEEP, LAST, TITLE_FLOOR, Part, fit

    late = "Running 10 min late since Speech on UK foreign policy priorities at CSIS"
    parts = [
        Part(late, None, LAST),
        Part("  Next: ", None, KEEP),
        Part("Bilateral meeting with Secretary Blinken", None, CUT),
        Part(" in 20 min", None, KEEP),
    ]
    line = fit(parts, 78).plain
    assert len(line) <= 78 and line.endswith(" in 20 min")
    title = line.split("  Next: ")[1].removesuffix(" in 20 min")
    assert len(title) == TITLE_FLOOR and title.startswith("Bilatera"), line
    assert line.startswith("Running 10 min late since Speech") and "…" in line
    # Room for everything: nothing cut.
    assert fit(parts, 200).plain == "".join(p.text for p in parts)
    # Too narrow even for that: the title goes before the countdown.
    assert fit(parts, 30).plain.endswith(" in 20 min")
