"""Pilot and snapshot tests of live schedule changes, the changes screen and the offline header."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from tripdash.domain.sources import SourceStatus, TripSource
from tripdash.live import OpenTrip
from tripdash.screens.changes import ChangesScreen
from tripdash.widgets.header import TripHeader
from tripdash.widgets.timeline import Timeline

from .conftest import FS_TRIP, at, trip

WIDE = (120, 34)


def _copy_trip(tmp_path: Path) -> Path:
    target = tmp_path / "fs.toml"
    shutil.copy(FS_TRIP, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _source_entry(path: Path) -> OpenTrip:
    source = TripSource(str(path))
    loaded = source.load()
    assert loaded.result is not None
    return OpenTrip(loaded.result.trip, source)


async def _reload(app, pilot) -> None:
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_file_change_is_applied_in_place_with_a_notice(build_app, tmp_path) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.press("g", "j")  # select the bilateral, not the next event
        selected = timeline.selected.id
        _edit(path, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
        await _reload(app, pilot)
        texts = [str(c) for c in (s.change for s in app.session.changes)]
        assert texts == [
            "Moved: Joint press conference with Secretary Blinken: "
            "Tue 17 Jan 15:30 EST (20:30 GMT) → Tue 17 Jan 16:00 EST (21:00 GMT)"
        ]
        assert timeline.selected.id == selected  # the selection stayed where it was
        lines = [timeline.render_line(y).text for y in range(timeline.size.height)]
        assert any("16:00 EST" in line and "21:00 GMT" in line for line in lines)
        assert not any("15:30 EST" in line for line in lines)
        notices = [n.message for n in app._notifications]
        assert any("Moved: Joint press conference" in m for m in notices)


async def test_invalid_new_version_keeps_the_good_one(build_app, tmp_path) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        _edit(path, "start = 2023-01-17T15:30:00", "start = 2023-01-17T15:30:00\nstrat = 1")
        await _reload(app, pilot)
        assert app.session.changes == []
        timeline = app.screen.query_one(Timeline)
        lines = [timeline.render_line(y).text for y in range(timeline.size.height)]
        assert any("15:30 EST" in line for line in lines)
        notices = [(n.title, n.message) for n in app._notifications]
        assert any(
            "not valid" in title and "unknown key 'strat'" in message for title, message in notices
        )


async def test_file_changes_are_noticed_without_a_key(build_app, tmp_path) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        _edit(path, 'status = "confirmed"', 'status = "cancelled"') if 'status = "confirmed"' in (
            path.read_text()
        ) else _edit(
            path,
            'id = "blinken-press-conference"',
            'id = "blinken-press-conference"\nstatus = "cancelled"',
        )
        for _ in range(40):  # the file is checked every 1.5 s
            await pilot.pause(0.1)
            if app.session.changes:
                break
        await app.workers.wait_for_complete()
        assert any(s.change.kind == "cancelled" for s in app.session.changes)


def test_changes_screen_lists_every_change_with_when_seen(build_app, tmp_path, snap) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")

    async def run_before(pilot) -> None:
        _edit(path, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
        await _reload(app, pilot)
        _edit(path, 'venue = "Centre for Strategic & International Studies"', 'venue = "CSIS"')
        await _reload(app, pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ChangesScreen)

    # Both changes were seen at the frozen clock's 17:00 GMT (12:00 EST).
    snap(app, terminal_size=WIDE, run_before=run_before)


def test_change_notice_snapshot(build_app, tmp_path, snap) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")

    async def run_before(pilot) -> None:
        _edit(path, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
        await _reload(app, pilot)

    # The notice: press conference moved 15:30 EST (20:30 GMT) -> 16:00 EST (21:00 GMT).
    snap(app, terminal_size=WIDE, run_before=run_before)


def test_offline_header_snapshot(build_app, snap) -> None:
    now = at("2023-01-17T12:00 America/New_York")
    status = SourceStatus(
        offline=True,
        reason="https://trips.example/fs.toml: cannot connect",
        schedule_as_of=at("2023-01-17T06:12 Europe/London"),
        fetched_at=now - timedelta(hours=3),
    )
    entry = OpenTrip(trip(), None, status)
    # Header: "offline: schedule as of 06:12 London (GMT), fetched 3 h ago".
    snap(build_app([entry], "2023-01-17T12:00 America/New_York"), terminal_size=WIDE)


async def test_offline_header_text(build_app) -> None:
    now = at("2023-01-17T12:00 America/New_York")
    status = SourceStatus(
        offline=True,
        reason="cannot connect",
        schedule_as_of=at("2023-01-17T06:12 Europe/London"),
        fetched_at=now - timedelta(hours=3),
    )
    app = build_app([OpenTrip(trip(), None, status)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause(1.2)
        header = str(app.screen.query_one(TripHeader).text())
        assert "offline: schedule as of 06:12 London (GMT), fetched 3 h ago" in header


async def test_another_trip_in_the_file_is_opened_on_a_yes_and_followed_by_key(
    build_app, tmp_path
) -> None:
    # With the event box open, the file comes to hold another trip (its [trip] id changed):
    # a notice asks; `A` opens it; then every screen follows the trip by the source's key,
    # so a tick in the event box goes under the new id.
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("enter")  # the press conference, with Blinken's points
        await pilot.pause()
        _edit(path, 'id = "fs-north-america-2023-01"', 'id = "fs-renamed"')
        app.action_refresh()  # as the file watcher does (`r` is not a key of the box)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("now holds another trip" in n.message for n in app._notifications)
        assert app.session.trip(app.session.keys[0]).id == "fs-north-america-2023-01"
        await pilot.press("escape", "A")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session.trip(app.session.keys[0]).id == "fs-renamed"
        await pilot.press("enter", "space")
        await pilot.pause()
        marks = app.session.marks
        assert marks.done_ids("fs-renamed") == {"blinken/ukraine-tools-to-win"}
        assert marks.done_ids("fs-north-america-2023-01") == set()
        await pilot.press("escape", "c")  # the counterparts screen follows the same key
        await pilot.pause()
        assert "1/7 covered" in str(app.screen.query_one("#cp-info").render())


def _header(app) -> str:
    header = app.screen.query_one(TripHeader)
    return "\n".join(header.render_line(y).text for y in range(header.size.height))


async def test_the_header_keeps_saying_the_file_is_invalid_until_it_is_fixed(
    build_app, tmp_path
) -> None:
    path = _copy_trip(tmp_path)
    app = build_app([_source_entry(path)], "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=(160, 34)) as pilot:
        good = path.read_text(encoding="utf-8")
        _edit(path, 'tz = "America/New_York"', 'tz = "Mars/Olympus"')
        await _reload(app, pilot)
        assert "fs.toml is not valid (2 errors) since 17:00 GMT" in _header(app)
        # Long after the notice is gone, and after `r`, it still says so.
        app.session.options.clock.at += timedelta(minutes=5)  # type: ignore[attr-defined]
        await _reload(app, pilot)
        assert "is not valid (2 errors) since 17:00 GMT" in _header(app)
        assert any("fs.toml is not valid" in n.message for n in app._notifications)
        path.write_text(good, encoding="utf-8")
        await _reload(app, pilot)
        assert "not valid" not in _header(app)
        path.unlink()
        await _reload(app, pilot)
        assert "No such file or directory since 17:05 GMT" in _header(app)
        # The schedule in use stays on screen.
        assert app.screen.query_one(Timeline).selected is not None


async def test_the_header_says_when_marks_cannot_be_saved(build_app) -> None:
    app = build_app(trip(), "2023-01-17T12:00 America/New_York")
    async with app.run_test(size=(160, 34)) as pilot:
        app.session.marks.store.cannot_save = "marks cannot be saved: the disk is read-only"
        app.screen.tick()
        await pilot.pause()
        assert "⚠ marks cannot be saved: the disk is read-only" in _header(app)
