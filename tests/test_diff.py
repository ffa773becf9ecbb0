"""What changed between two versions of a trip: one test per kind of change, with the
exact sentence staff read (every time below was worked out by hand: Washington and
Toronto are on EST, UTC-5, in January; London is on GMT, UTC+0), and ``tripdash diff``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tripdash.domain.diff import Change, diff_trips
from tripdash.domain.loader import parse_trip_text
from tripdash.domain.model import Trip

ROOT = Path(__file__).resolve().parent.parent
FS_PATH = ROOT / "trips" / "fs-north-america-2023-01.toml"
FS_TEXT = FS_PATH.read_text(encoding="utf-8")

PRESS = "Joint press conference with Secretary Blinken"
SPEECH = "Speech on UK foreign policy priorities"
BILATERAL = "Bilateral meeting with Secretary Blinken"
WREATH = "Wreath-laying at Arlington National Cemetery"
JOLY_TALKS = "Bilateral talks with Foreign Minister Joly"
DIASPORA = "Meeting with members of the Ukrainian diaspora, with Foreign Minister Joly"
PENSIONS = "Meeting with representatives of major Canadian pension funds"

NEW_EVENT = """
[[events]]
id = "kuleba-call"
title = "Call with Foreign Minister Kuleba"
place = "washington"
start = 2023-01-17T18:00:00
kind = "meeting"
"""

NEW_COUNTERPART = """
[[counterparts]]
id = "kuleba"
name = "Dmytro Kuleba"
role = "Minister for Foreign Affairs"
country = "Ukraine"
talking_points = [{ id = "grain", text = "Grain corridor" }]
"""


# -- building versions -----------------------------------------------------------------------------


def _block(text: str, marker: str) -> tuple[int, int]:
    """The span of the [[...]] table holding ``marker`` (e.g. ``id = "csis-speech"``)."""
    at = text.index(marker + "\n")
    start = text.rindex("[[", 0, at)
    end = text.find("\n[[", at)
    comment = text.find("\n# ---", at)
    ends = [e for e in (end, comment) if e != -1]
    return start, (min(ends) + 1 if ends else len(text))


def edit(text: str, old: str, new: str, *, within: str | None = None) -> str:
    """Replace ``old`` (which must occur once, in the table of ``within`` if given)."""
    if within is None:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        return text.replace(old, new)
    start, end = _block(text, f'id = "{within}"')
    block = text[start:end]
    assert block.count(old) == 1, f"{old!r} occurs {block.count(old)} times in {within}"
    return text[:start] + block.replace(old, new) + text[end:]


def remove_event(text: str, event_id: str) -> str:
    start, end = _block(text, f'id = "{event_id}"')
    return text[:start] + text[end:]


def trip(text: str) -> Trip:
    return parse_trip_text(text, source="fs.toml", default_id="fs").trip


ORIGINAL = trip(FS_TEXT)


def changes(new_text: str, old_text: str = FS_TEXT) -> list[str]:
    return [str(c) for c in diff_trips(trip(old_text), trip(new_text))]


def kinds(new_text: str, old_text: str = FS_TEXT) -> list[tuple[str, str]]:
    return [(c.kind, c.item_id) for c in diff_trips(trip(old_text), trip(new_text))]


# -- nothing ---------------------------------------------------------------------------------------


def test_same_trip_has_no_changes() -> None:
    assert diff_trips(ORIGINAL, trip(FS_TEXT)) == []


def test_comments_and_notes_only_are_no_change() -> None:
    text = edit(FS_TEXT, "# UK Foreign Secretary", "# The UK Foreign Secretary")
    text = edit(
        text,
        'press = "Live-streamed"\nnotes = "Release: he',
        'press = "Live-streamed"\nnotes = "He',
    )
    assert changes(text) == []


def test_another_trip_id_is_said_first() -> None:
    """Two versions of "the same" file that are two trips: marks do not carry over."""
    text = edit(FS_TEXT, 'id = "fs-north-america-2023-01"', 'id = "fs-canada-2023-02"')
    said = changes(text)
    assert said[0] == (
        "Another trip: id fs-north-america-2023-01 → fs-canada-2023-02 (marks, notes and "
        "shifts are kept per trip: the old trip's do not carry over)"
    )
    assert changes(FS_TEXT) == []


# -- moved -----------------------------------------------------------------------------------------


def test_moved_by_half_an_hour_gives_old_and_new_local_and_home_times() -> None:
    text = edit(FS_TEXT, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change(
            "moved",
            "blinken-press-conference",
            f"Moved: {PRESS}: Tue 17 Jan 15:30 EST (20:30 GMT) → Tue 17 Jan 16:00 EST (21:00 GMT)",
        )
    ]


def test_moved_past_midnight_at_home_marks_the_next_day() -> None:
    text = edit(FS_TEXT, "start = 2023-01-17T15:30:00", "start = 2023-01-17T19:30:00")
    assert changes(text) == [
        f"Moved: {PRESS}: Tue 17 Jan 15:30 EST (20:30 GMT) → Tue 17 Jan 19:30 EST (00:30 GMT +1d)"
    ]


def test_moved_to_the_next_day() -> None:
    text = edit(FS_TEXT, "start = 2023-01-17T09:15:00", "start = 2023-01-18T08:00:00")
    assert changes(text) == [
        f"Moved: {SPEECH}: Tue 17 Jan 09:15 EST (14:15 GMT) → Wed 18 Jan 08:00 EST (13:00 GMT)"
    ]


def test_time_confirmed_for_a_tbc_event_is_a_move() -> None:
    text = edit(FS_TEXT, "start = 2023-01-17\n", "start = 2023-01-17T14:00:00\n")
    assert changes(text) == [
        f"Moved: {BILATERAL}: Tue 17 Jan, time TBC → Tue 17 Jan 14:00 EST (19:00 GMT)"
    ]
    # ... and back to TBC
    assert changes(FS_TEXT, old_text=text) == [
        f"Moved: {BILATERAL}: Tue 17 Jan 14:00 EST (19:00 GMT) → Tue 17 Jan, time TBC"
    ]


def test_tbc_event_moved_to_another_date() -> None:
    text = edit(FS_TEXT, "start = 2023-01-18\n", "start = 2023-01-19\n", within="arlington-wreath")
    assert changes(text) == [f"Moved: {WREATH}: Wed 18 Jan, time TBC → Thu 19 Jan, time TBC"]


def test_tbc_event_at_a_place_in_another_zone_same_date_is_not_moved() -> None:
    """The date and the TBC stay the same: a new place, not a new time."""
    text = edit(
        FS_TEXT,
        '[[places]]\nid = "toronto"',
        '[[places]]\nid = "london"\nname = "London"\ntz = "Europe/London"\n\n'
        '[[places]]\nid = "toronto"',
    )
    text = edit(text, 'place = "toronto"', 'place = "london"', within="joly-bilateral")
    assert changes(text) == [f"New place: {JOLY_TALKS}: Toronto → London"]


def test_confirmed_event_at_a_place_in_another_zone_is_moved_and_placed() -> None:
    text = edit(
        FS_TEXT,
        '[[places]]\nid = "toronto"',
        '[[places]]\nid = "chicago"\nname = "Chicago"\ntz = "America/Chicago"\n\n'
        '[[places]]\nid = "toronto"',
    )
    text = edit(text, 'place = "washington"', 'place = "chicago"', within="csis-speech")
    assert changes(text) == [
        f"Moved: {SPEECH}: Tue 17 Jan 09:15 EST (14:15 GMT) → Tue 17 Jan 09:15 CST (15:15 GMT)",
        f"New place: {SPEECH}: Washington DC → Chicago",
    ]


# -- added, removed, cancelled, reinstated, status -------------------------------------------------


def test_added_event() -> None:
    assert diff_trips(ORIGINAL, trip(FS_TEXT + NEW_EVENT)) == [
        Change(
            "added",
            "kuleba-call",
            "Added: Call with Foreign Minister Kuleba, Tue 17 Jan 18:00 EST (23:00 GMT)",
        )
    ]


def test_added_tbc_event() -> None:
    new = NEW_EVENT.replace("start = 2023-01-17T18:00:00", "start = 2023-01-18")
    assert changes(FS_TEXT + new) == [
        "Added: Call with Foreign Minister Kuleba, Wed 18 Jan, time TBC"
    ]


def test_removed_event_says_when_it_was() -> None:
    assert diff_trips(ORIGINAL, trip(remove_event(FS_TEXT, "arlington-wreath"))) == [
        Change("removed", "arlington-wreath", f"Removed: {WREATH} (was Wed 18 Jan, time TBC)")
    ]
    assert changes(remove_event(FS_TEXT, "csis-speech")) == [
        f"Removed: {SPEECH} (was Tue 17 Jan 09:15 EST (14:15 GMT))"
    ]


def test_cancelled_and_reinstated() -> None:
    cancelled = edit(
        FS_TEXT,
        'kind = "speech"\n',
        'kind = "speech"\nstatus = "cancelled"\n',
        within="csis-speech",
    )
    assert diff_trips(ORIGINAL, trip(cancelled)) == [
        Change("cancelled", "csis-speech", f"Cancelled: {SPEECH}, Tue 17 Jan 09:15 EST (14:15 GMT)")
    ]
    assert diff_trips(trip(cancelled), ORIGINAL) == [
        Change(
            "reinstated", "csis-speech", f"Reinstated: {SPEECH}, Tue 17 Jan 09:15 EST (14:15 GMT)"
        )
    ]


def test_tentative_and_confirmed_again() -> None:
    tentative = edit(
        FS_TEXT,
        'kind = "speech"\n',
        'kind = "speech"\nstatus = "tentative"\n',
        within="csis-speech",
    )
    assert diff_trips(ORIGINAL, trip(tentative)) == [
        Change(
            "status", "csis-speech", f"Now tentative: {SPEECH}, Tue 17 Jan 09:15 EST (14:15 GMT)"
        )
    ]
    assert changes(FS_TEXT, old_text=tentative) == [
        f"Now confirmed: {SPEECH}, Tue 17 Jan 09:15 EST (14:15 GMT)"
    ]


def test_cancelled_and_moved_at_once() -> None:
    text = edit(
        FS_TEXT,
        'start = 2023-01-17T09:15:00\nkind = "speech"\n',
        'start = 2023-01-17T10:00:00\nkind = "speech"\nstatus = "cancelled"\n',
    )
    assert changes(text) == [
        f"Cancelled: {SPEECH}, Tue 17 Jan 10:00 EST (15:00 GMT)",
        f"Moved: {SPEECH}: Tue 17 Jan 09:15 EST (14:15 GMT) → Tue 17 Jan 10:00 EST (15:00 GMT)",
    ]


# -- end, renamed, place, venue --------------------------------------------------------------------


def test_new_end_time() -> None:
    with_end = edit(
        FS_TEXT,
        "start = 2023-01-17T15:30:00\n",
        "start = 2023-01-17T15:30:00\nend = 2023-01-17T16:15:00\n",
    )
    assert diff_trips(ORIGINAL, trip(with_end)) == [
        Change(
            "end",
            "blinken-press-conference",
            f"New end: {PRESS}: no end time → Tue 17 Jan 16:15 EST (21:15 GMT)",
        )
    ]
    later = edit(with_end, "end = 2023-01-17T16:15:00", "end = 2023-01-17T19:15:00")
    assert changes(later, old_text=with_end) == [
        f"New end: {PRESS}: Tue 17 Jan 16:15 EST (21:15 GMT) → Tue 17 Jan 19:15 EST (00:15 GMT)"
    ]
    assert changes(FS_TEXT, old_text=with_end) == [
        f"New end: {PRESS}: Tue 17 Jan 16:15 EST (21:15 GMT) → no end time"
    ]


def test_renamed_event() -> None:
    text = edit(FS_TEXT, f'title = "{SPEECH}"', 'title = "Keynote on UK foreign policy"')
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change("renamed", "csis-speech", f"Renamed: {SPEECH} → Keynote on UK foreign policy")
    ]


def test_new_place() -> None:
    text = edit(FS_TEXT, 'place = "toronto"', 'place = "washington"', within="joly-bilateral")
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change("place", "joly-bilateral", f"New place: {JOLY_TALKS}: Toronto → Washington DC")
    ]


def test_new_destination_of_a_journey() -> None:
    text = edit(FS_TEXT, 'to = "toronto"', 'to = "arlington"')
    assert changes(text) == [
        "New place: Travel Washington DC to Toronto: Washington DC → Toronto → "
        "Washington DC → Arlington, Virginia"
    ]


def test_venue_changed_set_and_removed() -> None:
    text = edit(
        FS_TEXT,
        'venue = "Centre for Strategic & International Studies"',
        'venue = "CSIS, 1616 Rhode Island Avenue NW"',
    )
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change(
            "venue",
            "csis-speech",
            f"New venue: {SPEECH}: Centre for Strategic & International Studies → "
            "CSIS, 1616 Rhode Island Avenue NW",
        )
    ]
    text = edit(
        FS_TEXT,
        'start = 2023-01-17\nkind = "meeting"\n',
        'start = 2023-01-17\nkind = "meeting"\nvenue = "State Department"\n',
    )
    assert changes(text) == [f"New venue: {BILATERAL}: none → State Department"]
    text = edit(FS_TEXT, 'venue = "US Army Arlington National Cemetery"\n', "")
    assert changes(text) == [f"New venue: {WREATH}: US Army Arlington National Cemetery → none"]


# -- people ----------------------------------------------------------------------------------------


def test_attendee_added_and_removed() -> None:
    text = edit(
        FS_TEXT,
        'counterparts = ["blinken"]\npress',
        'counterparts = ["blinken", "joly"]\npress',
    )
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change("attendee", "blinken-press-conference", f"Mélanie Joly now attends {PRESS}")
    ]
    text = edit(
        FS_TEXT,
        'counterparts = ["joly", "ukrainian-diaspora"]',
        'counterparts = ["ukrainian-diaspora"]',
    )
    assert changes(text) == [f"Mélanie Joly no longer attends {DIASPORA}"]


def test_several_attendees_are_listed_in_the_files_order() -> None:
    """The same two versions always give the same list, whatever the hash seed."""
    text = edit(
        FS_TEXT,
        'counterparts = ["blinken"]\npress',
        'counterparts = ["ukrainian-diaspora", "joly", "blinken", "pension-funds"]\npress',
    )
    assert changes(text) == [
        f"Ukrainian diaspora representatives now attends {PRESS}",
        f"Mélanie Joly now attends {PRESS}",
        f"Canadian pension fund representatives now attends {PRESS}",
    ]
    assert changes(FS_TEXT, old_text=text) == [
        f"Ukrainian diaspora representatives no longer attends {PRESS}",
        f"Mélanie Joly no longer attends {PRESS}",
        f"Canadian pension fund representatives no longer attends {PRESS}",
    ]


def test_counterpart_added() -> None:
    assert diff_trips(ORIGINAL, trip(FS_TEXT + NEW_COUNTERPART)) == [
        Change("counterpart", "kuleba", "New counterpart: Dmytro Kuleba")
    ]


def test_counterpart_removed_with_its_meeting_attendance() -> None:
    start, end = _block(FS_TEXT, 'id = "pension-funds"')
    text = FS_TEXT[:start] + FS_TEXT[end:]
    text = edit(text, 'counterparts = ["pension-funds"]\n', "")
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change(
            "attendee",
            "pension-funds-meeting",
            f"Canadian pension fund representatives no longer attends {PENSIONS}",
        ),
        Change(
            "counterpart",
            "pension-funds",
            "Counterpart removed: Canadian pension fund representatives",
        ),
    ]


def test_talking_point_added_reworded_and_dropped() -> None:
    added = edit(
        FS_TEXT,
        '  { id = "indo-pacific", text = "Deepening cooperation in the Indo-Pacific" },\n'
        '  { id = "intel-security-humanitarian", text = "Deepening cooperation on intelligence, '
        'security and humanitarian issues" },\n]\n\n[[counterparts]]\nid = "joly"',
        '  { id = "indo-pacific", text = "Deepening cooperation in the Indo-Pacific" },\n'
        '  { id = "intel-security-humanitarian", text = "Deepening cooperation on intelligence, '
        'security and humanitarian issues" },\n'
        '  { id = "aukus", text = "AUKUS submarine programme" },\n'
        ']\n\n[[counterparts]]\nid = "joly"',
    )
    assert diff_trips(ORIGINAL, trip(added)) == [
        Change(
            "point",
            "blinken/aukus",
            "New talking point for Antony Blinken: AUKUS submarine programme",
        )
    ]
    reworded = edit(
        FS_TEXT,
        'text = "Deepening cooperation in the Indo-Pacific" }',
        'text = "Deeper cooperation in the Indo-Pacific, including AUKUS" }',
        within="blinken",
    )
    assert diff_trips(ORIGINAL, trip(reworded)) == [
        Change(
            "point",
            "blinken/indo-pacific",
            "Reworded talking point for Antony Blinken: "
            "Deeper cooperation in the Indo-Pacific, including AUKUS",
        )
    ]
    dropped = edit(
        FS_TEXT,
        '  { id = "indo-pacific", text = "Deepening cooperation in the Indo-Pacific" },\n',
        "",
        within="joly",
    )
    assert diff_trips(ORIGINAL, trip(dropped)) == [
        Change(
            "point",
            "joly/indo-pacific",
            "Talking point dropped for Mélanie Joly: Deepening cooperation in the Indo-Pacific",
        )
    ]


# -- the trip itself, order, odd text --------------------------------------------------------------


def test_trip_renamed_and_home_zone_changed() -> None:
    text = edit(
        FS_TEXT,
        'title = "Foreign Secretary: Washington DC and Toronto"',
        'title = "Foreign Secretary: Washington, Arlington and Toronto"',
    )
    text = edit(text, 'home_tz = "Europe/London"', 'home_tz = "Europe/Dublin"')
    assert diff_trips(ORIGINAL, trip(text)) == [
        Change(
            "trip",
            "",
            "Trip renamed: Foreign Secretary: Washington DC and Toronto → "
            "Foreign Secretary: Washington, Arlington and Toronto",
        ),
        Change("trip", "", "Home time zone: Europe/London → Europe/Dublin"),
    ]


def test_many_changes_in_programme_order_then_removals_then_people() -> None:
    text = edit(FS_TEXT, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
    text = remove_event(text, "arlington-wreath")
    text = text + NEW_EVENT
    text = edit(text, 'kind = "speech"\n', 'kind = "speech"\nstatus = "cancelled"\n')
    text = edit(
        text,
        'text = "Closer coordination on sanctions" }',
        'text = "Closer coordination on sanctions against Russia" }',
    )
    assert kinds(text) == [
        ("cancelled", "csis-speech"),
        ("moved", "blinken-press-conference"),
        ("added", "kuleba-call"),
        ("removed", "arlington-wreath"),
        ("point", "joly/sanctions-coordination"),
    ]
    assert changes(text)[4] == (
        "Reworded talking point for Mélanie Joly: Closer coordination on sanctions against Russia"
    )


def test_control_characters_in_titles_are_made_harmless() -> None:
    text = edit(FS_TEXT, f'title = "{SPEECH}"', 'title = "Speech\\u001b[31m red\\nline"')
    assert changes(text) == [f"Renamed: {SPEECH} → Speech\\x1b[31m red line"]


# -- tripdash diff ---------------------------------------------------------------------------------


def run_diff(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPDASH_")}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        TRIPDASH_CACHE_DIR=str(tmp_path / "cache"),
        TRIPDASH_STATE_DIR=str(tmp_path / "state"),
        PYTHONIOENCODING="utf-8",
        TZ="Pacific/Chatham",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tripdash", "diff", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def test_cli_diff_two_files(tmp_path: Path) -> None:
    new = edit(FS_TEXT, "start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00")
    new = remove_event(new, "arlington-wreath") + NEW_EVENT
    path = tmp_path / "new.toml"
    path.write_text(new, encoding="utf-8")
    proc = run_diff(tmp_path, str(FS_PATH), str(path))
    assert proc.returncode == 1, proc.stderr  # as diff(1): 1 when there are changes
    assert proc.stderr == ""
    assert proc.stdout == (
        f"- Moved: {PRESS}: Tue 17 Jan 15:30 EST (20:30 GMT) → Tue 17 Jan 16:00 EST (21:00 GMT)\n"
        "- Added: Call with Foreign Minister Kuleba, Tue 17 Jan 18:00 EST (23:00 GMT)\n"
        f"- Removed: {WREATH} (was Wed 18 Jan, time TBC)\n"
    )


def test_cli_diff_same_file_says_no_changes(tmp_path: Path) -> None:
    proc = run_diff(tmp_path, str(FS_PATH), str(FS_PATH))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "No changes.\n", "")


def test_cli_diff_with_an_invalid_version_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        FS_TEXT.replace('home_tz = "Europe/London"', 'home_tz = "Europe/Lndon"'), encoding="utf-8"
    )
    proc = run_diff(tmp_path, str(FS_PATH), str(bad))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert re.match(rf"{re.escape(str(bad))}:\d+: trip\.home_tz: unknown time zone", proc.stderr)


def test_cli_diff_with_a_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run_diff(tmp_path, str(FS_PATH), str(tmp_path / "nope.toml"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"tripdash: {tmp_path / 'nope.toml'}: ")


@pytest.mark.parametrize("args", [[], ["one.toml"]])
def test_cli_diff_needs_two_versions(tmp_path: Path, args: list[str]) -> None:
    proc = run_diff(tmp_path, *args)
    assert proc.returncode == 2
    assert "usage: tripdash diff" in proc.stderr
