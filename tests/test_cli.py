"""The command line, through the real entry points (``python -m tripdash`` and ``tripdash``).

Every run gets its own $HOME and an odd machine zone (TZ), so that nothing can
read or write the user's files, and nothing can lean on the machine's zone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from textwrap import dedent

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
FS = "trips/fs-north-america-2023-01.toml"
SEOUL = "trips/secstate-seoul-anchorage-2021-03.toml"
TOKYO = "trips/canada-pm-tokyo-2016-05.toml"
DST = "tests/data/dst-mid-trip.toml"
KTM = "tests/data/kathmandu.toml"

JSON_KEYS = {
    "id",
    "title",
    "kind",
    "status",
    "place",
    "tz",
    "date",
    "time_confirmed",
    "start_local",
    "start_utc",
    "start_home",
    "end_local",
    "end_utc",
    "end_home",
    "counterparts",
    "done",
}


@dataclass
class Run:
    code: int
    out: str
    err: str


Runner = Callable[..., Run]


@pytest.fixture
def tripdash(tmp_path: Path) -> Runner:
    """Run ``python -m tripdash ARGS`` from the repository root; never a traceback."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TZ": "Pacific/Chatham",  # +12:45/+13:45: any use of the machine zone shows
        "PYTHONIOENCODING": "utf-8",
        "NO_COLOR": "1",
    }

    def run(*args: str, cwd: Path = REPO, program: list[str] | None = None) -> Run:
        command = program or [sys.executable, "-m", "tripdash"]
        proc = subprocess.run(
            [*command, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def write(path: Path, text: str) -> Path:
    path.write_text(dedent(text), encoding="utf-8")
    return path


VALID = """\
[trip]
title = "Small"
home_tz = "Europe/London"

[[places]]
id = "nyc"
name = "New York"
tz = "America/New_York"

[[events]]
id = "a"
title = "A"
place = "nyc"
start = 2023-01-17T09:15:00
"""


# -- check ----------------------------------------------------------------------------


def test_check_ok_line_format(tripdash: Runner) -> None:
    r = tripdash("check", SEOUL)
    assert r.code == 0
    assert r.out == f"ok  {SEOUL}  9 events, 5 counterparts, 2 places\n"
    assert r.err == ""


def test_check_singular_counts(tripdash: Runner) -> None:
    r = tripdash("check", TOKYO)
    assert r.code == 0
    assert r.out == f"ok  {TOKYO}  11 events, 5 counterparts, 1 place\n"


def test_check_folder(tripdash: Runner) -> None:
    r = tripdash("check", "trips")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        f"ok  {TOKYO}  11 events, 5 counterparts, 1 place",
        f"ok  {FS}  8 events, 4 counterparts, 3 places",
        f"ok  {SEOUL}  9 events, 5 counterparts, 2 places",
    ]


def test_check_test_fixtures_are_valid(tripdash: Runner) -> None:
    r = tripdash("check", "tests/data")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        f"ok  {DST}  10 events, 2 counterparts, 2 places",
        "ok  tests/data/fall-back.toml  3 events, 0 counterparts, 1 place",
        f"ok  {KTM}  6 events, 1 counterpart, 2 places",
        "ok  tests/data/late-day.toml  7 events, 1 counterpart, 2 places",
    ]
    assert r.err == ""


def test_check_invalid_file_exits_1_with_errors_on_stderr(tripdash: Runner, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.toml",
        VALID.replace("start = 2023-01-17T09:15:00", "strat = 2023-01-17T09:15:00")
        + 'end = 2023-01-17T09:00:00\n[[events]]\nid = "a"\ntitle = "B"\nplace = "nyc"\n'
        + 'start = 2023-03-12T02:30:00\ncounterparts = ["ghost"]\n',
    )
    r = tripdash("check", str(bad))
    assert r.code == 1
    assert r.out == f"FAIL  {bad}  5 errors\n"
    # Lines: 10 [[events]], 14 strat, 15 end, 16 [[events]], 17 id, 20 start, 21 counterparts.
    assert r.err.splitlines() == [
        f"{bad}:10: events[0].start: required field is missing",
        f"{bad}:14: events[0].strat: unknown key 'strat' (did you mean 'start'?)",
        f"{bad}:17: events[1].id: duplicate event id 'a' (first at line 11)",
        f"{bad}:20: events[1].start: 2023-03-12 02:30 does not exist in America/New_York: "
        "the clocks skip it for a DST change",
        f"{bad}:21: events[1].counterparts[0]: unknown counterpart 'ghost'",
    ]


def test_check_syntax_error(tripdash: Runner, tmp_path: Path) -> None:
    bad = write(tmp_path / "syntax.toml", VALID.replace('title = "A"', 'title = "A'))
    r = tripdash("check", str(bad))
    assert r.code == 1
    (line,) = r.err.splitlines()
    # `title = "A` is line 12; its newline is column 11.
    assert re.fullmatch(rf"{re.escape(str(bad))}:12: TOML syntax: .+ \(line 12, column 11\)", line)


def test_check_mix_of_valid_and_invalid_exits_1(tripdash: Runner, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.toml",
        VALID.replace('home_tz = "Europe/London"', 'home_tz = "Europe/Lndon"'),
    )
    r = tripdash("check", SEOUL, str(bad))
    assert r.code == 1
    assert r.out.splitlines() == [
        f"ok  {SEOUL}  9 events, 5 counterparts, 2 places",
        f"FAIL  {bad}  1 error",
    ]
    assert r.err == (
        f"{bad}:3: trip.home_tz: unknown time zone 'Europe/Lndon' (did you mean 'Europe/London'?)\n"
    )


def test_check_warnings_keep_exit_0(tripdash: Runner, tmp_path: Path) -> None:
    trip = write(
        tmp_path / "warn.toml",
        VALID
        + dedent(
            """\
            end = 2023-01-17T12:00:00

            [[places]]
            id = "london"
            name = "London"
            tz = "Europe/London"

            [[events]]
            id = "b"
            title = "B"
            place = "london"
            start = 2023-01-17T16:00:00

            [[events]]
            id = "flight"
            title = "Flight"
            place = "london"
            to = "nyc"
            kind = "travel"
            start = 2023-01-18T10:00:00
            end = 2023-01-18T04:00:00
            """
        ),
    )
    r = tripdash("check", str(trip))
    assert r.code == 0
    assert r.out == f"ok  {trip}  3 events, 0 counterparts, 2 places\n"
    # 09:15-12:00 EST is 14:15-17:00 UTC; London 16:00 GMT is inside it (line 10 is event a).
    # The flight departs 10:00 UTC and "arrives" 04:00 EST = 09:00 UTC.
    assert r.err.splitlines() == [
        f"{trip}:26: events[1].start: warning: overlaps 'a' (line 10) at another place "
        "(New York / London)",
        f"{trip}:35: events[2].end: warning: arrives (2023-01-18 04:00 America/New_York) "
        "before it departs (2023-01-18 10:00 Europe/London) in absolute time: check the zones",
    ]


def test_check_duplicate_trip_ids_across_files(tripdash: Runner, tmp_path: Path) -> None:
    folder = tmp_path / "trips"
    folder.mkdir()
    write(folder / "one.toml", VALID.replace("[trip]\n", '[trip]\nid = "same"\n'))
    write(folder / "two.toml", VALID.replace("[trip]\n", '[trip]\nid = "same"\n'))
    r = tripdash("check", str(folder))
    assert r.code == 1
    assert r.out.splitlines()[0] == f"ok  {folder / 'one.toml'}  1 event, 0 counterparts, 1 place"
    assert r.out.splitlines()[1].startswith(f"FAIL  {folder / 'two.toml'}")
    assert "trip id 'same'" in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "no/such/file.toml"],
        ["check", "trips", "no-such-folder"],
        ["check", "--no-such-option", "trips"],
        ["agenda"],
        ["agenda", "no/such/file.toml"],
        ["agenda", FS, "--day", "2023-13-01"],
        ["agenda", FS, "--day", "tuesday"],
        ["agenda", FS, "extra-argument"],
        ["agenda", "trips"],  # a folder with three trips: name one
    ],
)
def test_usage_errors_exit_2(tripdash: Runner, args: list[str]) -> None:
    r = tripdash(*args)
    assert r.code == 2
    assert r.out == ""
    assert r.err.strip()


def test_missing_path_message(tripdash: Runner) -> None:
    r = tripdash("check", "no/such/file.toml")
    assert r.err == "tripdash: no/such/file.toml: no such file or folder\n"


def test_empty_folder_and_broken_link_exit_2(tripdash: Runner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = tripdash("check", str(empty))
    assert r.code == 2
    assert "no .toml trip files" in r.err
    link = tmp_path / "dangling.toml"
    link.symlink_to(tmp_path / "gone.toml")
    assert tripdash("check", str(link)).code == 2


def test_not_utf8_is_invalid_not_a_crash(tripdash: Runner, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(VALID.replace('title = "A"', 'title = "Caf\xe9"').encode("latin-1"))
    r = tripdash("check", str(bad))
    assert r.code == 1
    assert r.err.startswith(f"{bad}:12: (file): not UTF-8 text")


# -- --help ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["--help"], "usage: tripdash"),
        (["-h"], "usage: tripdash"),
        (["check", "--help"], "usage: tripdash check"),
        (["check", "-h"], "usage: tripdash check"),
        (["agenda", "--help"], "usage: tripdash agenda"),
        (["agenda", "-h"], "usage: tripdash agenda"),
    ],
)
def test_help_on_every_verb(tripdash: Runner, args: list[str], usage: str) -> None:
    r = tripdash(*args)
    assert r.code == 0
    assert r.out.startswith(usage)
    assert r.err == ""


def test_help_mentions_the_options(tripdash: Runner) -> None:
    assert "--day" in tripdash("agenda", "--help").out
    assert "--json" in tripdash("agenda", "--help").out
    top = tripdash("--help").out
    assert "check" in top and "agenda" in top


# -- agenda (text) --------------------------------------------------------------------


def test_agenda_fs_trip(tripdash: Runner) -> None:
    r = tripdash("agenda", FS)
    assert r.code == 0
    assert r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "Foreign Secretary: Washington DC and Toronto"
    assert "home (Europe/London)" in r.out
    headings = [line for line in lines if re.match(r"^\S", line) and "2023" in line]
    assert headings == [
        "Tuesday 17 January 2023 - Washington DC",
        "Wednesday 18 January 2023 - Arlington, Virginia, Washington DC, Toronto",
    ]
    speech = next(line for line in lines if "Speech on UK foreign policy priorities" in line)
    assert re.match(r"^\s+09:15 EST\s+14:15 GMT\s+Speech on UK", speech)
    press = next(line for line in lines if "Joint press conference" in line)
    assert re.match(r"^\s+15:30 EST\s+20:30 GMT\s+Joint press conference", press)
    bilateral = next(line for line in lines if "Bilateral meeting with Secretary Blinken" in line)
    assert bilateral.split()[:2] == ["TBC", "TBC"]
    assert "[TBC]" in bilateral
    # Events in time order, TBC kept in the author's place: speech, bilateral, press.
    order = [lines.index(speech), lines.index(bilateral), lines.index(press)]
    assert order == sorted(order)
    assert "with Antony Blinken" in r.out


def test_agenda_groups_by_local_day_with_home_day_markers(tripdash: Runner) -> None:
    r = tripdash("agenda", DST)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    headings = [line for line in lines if re.match(r"^\S", line) and " 2023 - " in line]
    assert headings == [
        "Friday 10 March 2023 - London",
        "Saturday 11 March 2023 - London, New York",
        "Monday 13 March 2023 - New York",
        "Tuesday 14 March 2023 - New York",
        "Thursday 16 March 2023 - London",
        "Friday 24 March 2023 - London",
        "Monday 27 March 2023 - London",
        "Tuesday 28 March 2023 - London",
    ]

    def row(title: str) -> str:
        return next(line for line in lines if title in line)

    assert re.match(
        r"^\s+22:30 EST\s+03:30 GMT \+1d\s+Working dinner\s+\[TENTATIVE\]$", row("Working dinner")
    )
    assert re.match(
        r"^\s+10:00 EDT\s+14:00 GMT\s+Briefing", row("Briefing with the Secretary-General")
    )
    assert re.match(
        r"^\s+10:00 GMT\s+10:00 GMT\s+Committee hearing\s+\[CANCELLED\]$", row("Committee hearing")
    )
    assert re.match(r"^\s+10:00 BST\s+10:00 BST\s+Select committee", row("Select committee"))
    assert re.match(r"^\s+TBC\s+TBC\s+Press stakeout\s+\[TBC\]$", row("Press stakeout"))
    assert "New York -> London (arrive 07:05 GMT)" in r.out
    # Under its own day heading: the dinner (11 March local) is not under 12 March.
    assert lines.index(row("Working dinner")) < lines.index("Monday 13 March 2023 - New York")


def test_agenda_date_line_minus_one_day(tripdash: Runner) -> None:
    r = tripdash("agenda", SEOUL)
    assert r.code == 0
    lines = r.out.splitlines()
    first = next(line for line in lines if "2+2 meeting" in line)
    assert re.match(r"^\s+09:30 KST\s+20:30 EDT -1d\s+2\+2 meeting", first)
    anchorage = next(line for line in lines if "Meeting with Yang Jiechi" in line)
    assert re.match(r"^\s+13:20 AKDT\s+17:20 EDT\s+Meeting with Yang Jiechi", anchorage)
    assert lines.index(first) < lines.index(anchorage)


def test_agenda_half_hour_zones(tripdash: Runner) -> None:
    r = tripdash("agenda", KTM)
    assert r.code == 0
    lines = r.out.splitlines()
    breakfast = next(line for line in lines if "Breakfast" in line)
    assert re.match(r"^\s+05:30 \+0545\s+23:45 GMT -1d\s+Breakfast", breakfast)
    dinner = next(line for line in lines if "Dinner with the High Commissioner" in line)
    assert re.match(r"^\s+20:00 IST\s+14:30 GMT\s+Dinner", dinner)
    # Titles line up although "05:30 +0545" and "23:45 GMT -1d" are the longest labels.
    titles = ["Breakfast", "Meeting with the Foreign", "Dinner with", "Early visit", "Business"]
    columns = {next(line for line in lines if t in line).index(t) for t in titles}
    assert len(columns) == 1, columns


def test_agenda_day_filter(tripdash: Runner) -> None:
    r = tripdash("agenda", FS, "--day", "2023-01-18")
    assert r.code == 0
    assert "Wednesday 18 January 2023" in r.out
    assert "Tuesday 17 January 2023" not in r.out
    assert "Speech on UK foreign policy priorities" not in r.out
    assert "Wreath-laying at Arlington National Cemetery" in r.out


def test_agenda_day_without_events(tripdash: Runner) -> None:
    r = tripdash("agenda", FS, "--day", "2023-01-19")
    assert r.code == 0
    assert "No events on 2023-01-19." in r.out


def test_agenda_invalid_trip_exits_1(tripdash: Runner, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", VALID.replace("2023-01-17T09:15:00", "2023-11-05T01:30:00"))
    r = tripdash("agenda", str(bad))
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith(f"{bad}:14: events[0].start: 2023-11-05 01:30 happens twice")


def test_agenda_prints_markup_literally(tripdash: Runner, tmp_path: Path) -> None:
    trip = write(
        tmp_path / "markup.toml",
        VALID.replace('title = "A"', 'title = "[bold red]Alert[/] [i]x[/i]"'),
    )
    r = tripdash("agenda", str(trip))
    assert r.code == 0
    assert "[bold red]Alert[/] [i]x[/i]" in r.out
    assert "\x1b[" not in r.out


def test_agenda_shows_control_characters_harmlessly(tripdash: Runner, tmp_path: Path) -> None:
    trip = write(tmp_path / "esc.toml", VALID.replace('title = "A"', 'title = "A\\u001b[31mred"'))
    r = tripdash("agenda", str(trip))
    assert r.code == 0
    assert "\x1b" not in r.out
    assert "\\x1b[31mred" in r.out
    data = json.loads(tripdash("agenda", str(trip), "--json").out)
    assert data[0]["title"] == "A\x1b[31mred"


# -- agenda --json --------------------------------------------------------------------


def parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def test_agenda_json_keys_and_values(tripdash: Runner) -> None:
    r = tripdash("agenda", FS, "--json")
    assert r.code == 0
    items = json.loads(r.out)
    assert [i["id"] for i in items] == [
        "csis-speech",
        "blinken-bilateral",
        "blinken-press-conference",
        "arlington-wreath",
        "travel-washington-toronto",
        "joly-bilateral",
        "ukrainian-diaspora-meeting",
        "pension-funds-meeting",
    ]
    for item in items:
        assert set(item) >= JSON_KEYS, JSON_KEYS - set(item)
        assert item["done"] is False
        assert isinstance(item["counterparts"], list)
    speech = items[0]
    assert speech["title"] == "Speech on UK foreign policy priorities"
    assert speech["kind"] == "speech"
    assert speech["status"] == "confirmed"
    assert speech["place"] == "washington"
    assert speech["tz"] == "America/New_York"
    assert speech["date"] == "2023-01-17"
    assert speech["time_confirmed"] is True
    assert speech["start_local"] == "2023-01-17T09:15:00-05:00"
    assert speech["start_utc"] == "2023-01-17T14:15:00+00:00"
    assert speech["start_home"] == "2023-01-17T14:15:00+00:00"
    assert speech["end_local"] is None and speech["end_utc"] is None and speech["end_home"] is None
    press = items[2]
    assert press["start_local"] == "2023-01-17T15:30:00-05:00"
    assert press["start_home"] == "2023-01-17T20:30:00+00:00"
    assert press["counterparts"] == ["blinken"]
    tbc = items[1]
    assert tbc["time_confirmed"] is False
    assert tbc["date"] == "2023-01-17"
    assert tbc["start_local"] is None and tbc["start_utc"] is None and tbc["start_home"] is None
    assert items[6]["counterparts"] == ["joly", "ukrainian-diaspora"]
    assert items[5]["tz"] == "America/Toronto"


def test_agenda_json_times_agree(tripdash: Runner) -> None:
    for path in (FS, SEOUL, TOKYO, DST, KTM):
        items = json.loads(tripdash("agenda", path, "--json").out)
        for item in items:
            for edge in ("start", "end"):
                local, at_utc, home = (parse(item[f"{edge}_{k}"]) for k in ("local", "utc", "home"))
                assert (local is None) == (at_utc is None) == (home is None)
                if local is None:
                    continue
                assert local.tzinfo and at_utc.tzinfo and home.tzinfo  # type: ignore[union-attr]
                assert local == at_utc == home
                assert at_utc.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
            if item["start_local"]:
                assert item["start_local"][:10] == item["date"]


def test_agenda_json_dst_trip_end_and_status(tripdash: Runner) -> None:
    items = {i["id"]: i for i in json.loads(tripdash("agenda", DST, "--json").out)}
    dinner = items["un-dinner"]
    assert dinner["status"] == "tentative"
    assert dinner["kind"] == "meal"
    assert dinner["date"] == "2023-03-11"
    assert dinner["start_home"] == "2023-03-12T03:30:00+00:00"
    assert dinner["end_local"] == "2023-03-11T23:45:00-05:00"
    assert dinner["end_utc"] == "2023-03-12T04:45:00+00:00"
    assert items["committee"]["status"] == "cancelled"
    flight = items["travel-london-new-york"]
    assert flight["end_local"] == "2023-03-11T14:10:00-05:00"
    assert flight["end_home"] == "2023-03-11T19:10:00+00:00"


def test_agenda_json_repeated_hour_with_offsets(tripdash: Runner, tmp_path: Path) -> None:
    trip = write(
        tmp_path / "fold.toml",
        VALID.replace("2023-01-17T09:15:00", "2023-11-05T01:30:00-05:00")
        + '\n[[events]]\nid = "b"\ntitle = "B"\nplace = "nyc"\nstart = 2023-11-05T01:30:00-04:00\n',
    )
    items = json.loads(tripdash("agenda", str(trip), "--json").out)
    assert [i["id"] for i in items] == ["b", "a"]
    assert [i["start_local"] for i in items] == [
        "2023-11-05T01:30:00-04:00",
        "2023-11-05T01:30:00-05:00",
    ]
    assert [i["start_utc"] for i in items] == [
        "2023-11-05T05:30:00+00:00",
        "2023-11-05T06:30:00+00:00",
    ]


def test_agenda_json_day_filter(tripdash: Runner) -> None:
    items = json.loads(tripdash("agenda", FS, "--json", "--day", "2023-01-17").out)
    assert [i["id"] for i in items] == [
        "csis-speech",
        "blinken-bilateral",
        "blinken-press-conference",
    ]
    assert json.loads(tripdash("agenda", FS, "--json", "--day", "2030-01-01").out) == []


def test_agenda_same_output_in_any_machine_zone(tripdash: Runner, tmp_path: Path) -> None:
    # The fixture runs with TZ=Pacific/Chatham; UTC must give byte-identical output.
    chatham = tripdash("agenda", DST, "--json").out
    plain = subprocess.run(
        [sys.executable, "-m", "tripdash", "agenda", DST, "--json"],
        cwd=REPO,
        env={**os.environ, "TZ": "UTC", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert plain.returncode == 0
    assert plain.stdout == chatham


# -- the console script ---------------------------------------------------------------


def test_console_script(tripdash: Runner) -> None:
    script = Path(sys.executable).with_name("tripdash")
    if not script.exists():
        pytest.skip("the tripdash console script is not installed next to this Python")
    r = tripdash("check", SEOUL, program=[str(script)])
    assert r.code == 0
    assert r.out == f"ok  {SEOUL}  9 events, 5 counterparts, 2 places\n"
    r = tripdash("agenda", FS, "--day", "2023-01-17", program=[str(script)])
    assert r.code == 0
    assert "09:15 EST" in r.out


def test_runs_from_another_directory(tripdash: Runner, tmp_path: Path) -> None:
    write(tmp_path / "x.toml", VALID)
    r = tripdash("check", "x.toml", cwd=tmp_path)
    assert r.code == 0
    assert r.out == "ok  x.toml  1 event, 0 counterparts, 1 place\n"


def test_textual_frame_ceiling_is_raised_unless_the_user_chose_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tripdash.cli import FRAMES_PER_SECOND, prepare_textual

    monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    prepare_textual()
    assert os.environ["TEXTUAL_FPS"] == str(FRAMES_PER_SECOND) == "120"
    monkeypatch.setenv("TEXTUAL_FPS", "30")
    prepare_textual()
    assert os.environ["TEXTUAL_FPS"] == "30"


def test_the_dashboard_sets_the_frame_ceiling_before_textual_is_imported(tmp_path: Path) -> None:
    # In a fresh interpreter, as the console script runs: when the dashboard first imports
    # Textual (which reads TEXTUAL_FPS once, then), the raised ceiling must be set.
    code = (
        "import importlib.abc, os, sys\n"
        "import tripdash.cli as cli\n"
        "class Spy(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'textual':\n"
        "            print(os.environ.get('TEXTUAL_FPS'), flush=True)\n"
        "            os._exit(0)\n"
        "sys.meta_path.insert(0, Spy())\n"
        "cli._full_screen_terminal = lambda: True  # as in a terminal, not this pipe\n"
        "cli.main([sys.argv[1], '--state-dir', sys.argv[2]])\n"
        "print('textual never imported')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    out = subprocess.run(
        [sys.executable, "-c", code, FS, str(tmp_path / "state")],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "120", out.stdout + out.stderr
