"""``tripdash sheet``: the PDF day sheet, read back with poppler's pdftotext and pdftoppm."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from textwrap import dedent

import pytest
from fakes import run_tripdash

from tripdash.domain.handouts import HandoutError
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.store import MarkStore
from tripdash.handouts.sheet import render_sheet, sheet_data

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)

REPO = Path(__file__).resolve().parent.parent
FS = "trips/fs-north-america-2023-01.toml"
NOW = datetime(2023, 1, 16, 12, 0, tzinfo=timezone.utc)
PRINT = "sha256:0123456789abcdef"


def load(rel: str | Path) -> Trip:
    return load_trip(REPO / rel).trip


def pages_text(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> list[str]:
    """The text of each page, as pdftotext extracts it."""
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    out = subprocess.run(args, capture_output=True, check=True, timeout=60).stdout.decode()
    return out.split("\f")[:-1]


def forty_event_day(path: Path) -> Path:
    """A trip whose one busy day has 40 events, long titles and venues, some counterparts."""
    lines = [
        "[trip]",
        'id = "busy-day"',
        'title = "Summit day: forty events in Brussels"',
        'home_tz = "Europe/London"',
        'marking = "OFFICIAL-SENSITIVE"',
        "[[places]]",
        'id = "bru"',
        'name = "Brussels"',
        'tz = "Europe/Brussels"',
    ]
    for c in range(6):
        lines += [
            "[[counterparts]]",
            f'id = "c{c}"',
            f'name = "Counterpart Number{c} Surname"',
            f'role = "Minister for Portfolio {c}"',
            f'talking_points = ["Point one for counterpart {c}", "Point two for counterpart {c}"]',
        ]
    start = datetime(2024, 3, 21, 6, 0)
    for i in range(40):
        at = start + timedelta(minutes=20 * i)
        lines += [
            "[[events]]",
            f'id = "e{i:02d}"',
            f'title = "Event {i:02d} with a long descriptive title that wraps marker{i:02d}"',
            'place = "bru"',
            f"start = {at:%Y-%m-%dT%H:%M:%S}",
            f"end = {at + timedelta(minutes=15):%Y-%m-%dT%H:%M:%S}",
            f'venue = "Justus Lipsius building, room {i:02d}, floor {i % 7}"',
        ]
        if i % 5 == 0:
            lines.append(f'counterparts = ["c{i % 6}"]')
        if i % 4 == 0:
            # Tall rows: a row split across pages would show in the tests.
            lines.append(
                f'press = "Pool spray at the top, then closed; pool: Reuters, AFP, BBC, Sky, '
                f'Le Soir; photographers for the first five minutes only press{i:02d}"'
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fs_day_one_times_titles_and_marking(tmp_path: Path) -> None:
    trip = replace(load(FS), marking="OFFICIAL-SENSITIVE")
    pdf = render_sheet(trip, now=NOW, fingerprint=PRINT, day=date(2023, 1, 17))
    pages = pages_text(pdf, tmp_path, layout=True)
    assert len(pages) == 1
    page = pages[0]
    for text in (
        "Foreign Secretary: Washington DC and Toronto",
        "Day 1 of 2 · Tuesday 17 January 2023",
        "Washington DC: America/New_York, EST UTC-05:00",
        "Home: Europe/London, GMT UTC+00:00",
        "09:15 EST",
        "14:15 GMT",
        "15:30 EST",
        "20:30 GMT",
        "Speech on UK foreign policy",
        "Joint press conference with",
        "Live-streamed",
        "Antony Blinken (US",
        "Talking points",
        "Deepening cooperation in the Indo-Pacific",
        "Printed Mon 16 Jan 2023 12:00 GMT at home · Mon 16 Jan 07:00 EST in Washington DC",
        "Trip file sha256:0123456789abcdef · profile full",
        "Page 1 of 1",
    ):
        assert text in page, text
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    assert lines.count("OFFICIAL-SENSITIVE") == 2
    assert lines[0] == lines[-1] == "OFFICIAL-SENSITIVE"  # top and bottom of the page


def test_marking_top_and_bottom_of_every_page(tmp_path: Path) -> None:
    trip = load_trip(forty_event_day(tmp_path / "busy.toml")).trip
    pages = pages_text(render_sheet(trip, now=NOW, fingerprint=PRINT), tmp_path, layout=True)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        lines = [x.strip() for x in page.splitlines() if x.strip()]
        assert lines[0] == "OFFICIAL-SENSITIVE" and lines[-1] == "OFFICIAL-SENSITIVE"
        assert f"Page {n} of {len(pages)}" in page
        assert "Summit day: forty events in Brussels" in page
        assert "Day 1 of 1 · Thursday 21 March 2024" in page


def test_no_marking_no_marking_line(tmp_path: Path) -> None:
    pages = pages_text(render_sheet(load(FS), now=NOW, fingerprint=PRINT), tmp_path)
    assert len(pages) == 2
    assert not any("OFFICIAL" in p for p in pages)


def test_no_row_is_split_across_pages_and_the_heading_repeats(tmp_path: Path) -> None:
    trip = load_trip(forty_event_day(tmp_path / "busy.toml")).trip
    for paper in ("a4", "letter"):
        pdf = render_sheet(trip, now=NOW, fingerprint=PRINT, paper=paper)
        pages = pages_text(pdf, tmp_path, layout=True)
        assert len(pages) >= 2, "a 40-event day should need more than one page"
        # The table only: the talking points below it (and on the pages after) name
        # meetings by title again.
        tables, below = [], False
        for page in pages:
            tables.append("" if below else page.split("Talking points")[0])
            below = below or "Talking points" in page
        for i in range(40):
            # Each row's first and last words, and its venue, are on one page, once.
            holders = [
                n
                for n, table in enumerate(tables)
                if f"Event {i:02d} with" in table
                or f"marker{i:02d}" in table
                or f"room {i:02d}," in table
                or f"press{i:02d}" in table  # the last line of the tallest cell
            ]
            assert len(holders) == 1, (paper, i, holders)
            table = tables[holders[0]]
            assert f"Event {i:02d} with" in table and f"marker{i:02d}" in table
        with_rows = [table for table in tables if "Justus Lipsius" in table]
        assert len(with_rows) >= 2
        for table in with_rows:  # the table's heading repeats on each page it runs on
            assert re.search(r"Local\s+Home\s+Event\s+Where\s+With\s+Press", table)


def test_kathmandu_offsets_and_home_day_markers(tmp_path: Path) -> None:
    trip = load("tests/data/kathmandu.toml")
    pdf = render_sheet(trip, now=NOW, fingerprint=PRINT, day=date(2023, 2, 6))
    page = pages_text(pdf, tmp_path, layout=True)[0]
    assert "Kathmandu: Asia/Kathmandu, +0545 UTC+05:45" in page
    assert "New Delhi: Asia/Kolkata, IST UTC+05:30" in page
    assert "05:30 +0545" in page and "23:45 GMT" in page and "-1d" in page
    assert re.search(r"10:00 \+0545\s+04:15 GMT", page)
    assert "until 11:00" in page
    assert "arrives 16:20 IST" in page
    assert "Foreign Minister of Nepal" in page and "Hydropower investment" in page


def test_dst_change_day_names_both_offsets(tmp_path: Path) -> None:
    trip = load("tests/data/dst-mid-trip.toml")
    data = sheet_data(trip, now=NOW, fingerprint=PRINT)
    places = [p for day in data["days"] for p in day["places"]]
    # 12 March 2023 has no events; 26 March (UK change) neither: the sheet says it where
    # a day does hold the change, and each offset is the one of that day.
    assert "New York: America/New_York, EDT UTC-04:00" in places
    assert "New York: America/New_York, EST UTC-05:00" in places
    homes = {day["home"] for day in data["days"]}
    assert "Home: Europe/London, GMT UTC+00:00" in homes
    assert "Home: Europe/London, BST UTC+01:00" in homes


def test_a_clock_change_day_shows_both(tmp_path: Path) -> None:
    path = tmp_path / "change.toml"
    path.write_text(
        dedent(
            """\
            [trip]
            title = "Change"
            home_tz = "Europe/London"
            [[places]]
            id = "nyc"
            name = "New York"
            tz = "America/New_York"
            [[events]]
            id = "a"
            title = "Brunch"
            place = "nyc"
            start = 2023-03-12T11:00:00
            """
        ),
        encoding="utf-8",
    )
    data = sheet_data(load_trip(path).trip, now=NOW, fingerprint=PRINT)
    assert data["days"][0]["places"] == [
        "New York: America/New_York, EST UTC-05:00, then EDT UTC-04:00 (the clocks change today)"
    ]


def test_date_line_days(tmp_path: Path) -> None:
    trip = load("trips/secstate-seoul-anchorage-2021-03.toml")
    pages = pages_text(
        render_sheet(trip, now=NOW, fingerprint=PRINT, day=date(2021, 3, 18)), tmp_path
    )
    # 18 March twice: in Seoul, then again in Anchorage after crossing the date line.
    assert len(pages) >= 2
    assert "Day 1 of" in pages[0] and "Asia/Seoul" in pages[0]
    anchorage = next(p for p in pages if "America/Anchorage, AKDT UTC-08:00" in p)
    assert "Thursday 18 March 2021" in anchorage


def test_typst_markup_in_trip_text_is_printed_literally(tmp_path: Path) -> None:
    hostile = '#set page(fill: red) #panic("boom") *bold* _em_ $x^2$ <lbl> @ref \\ ] } " `raw`'
    path = tmp_path / "hostile.toml"
    path.write_text(
        dedent(
            f"""\
            [trip]
            title = '{hostile}'
            home_tz = "Europe/London"
            marking = "#pagebreak() SECRET"
            [[places]]
            id = "p"
            name = "#place"
            tz = "Europe/London"
            [[events]]
            id = "e"
            title = "= Heading #emph[x]"
            place = "p"
            start = 2023-01-17T09:15:00
            venue = "Room \\u001b[31m red"
            """
        ),
        encoding="utf-8",
    )
    trip = load_trip(path).trip
    pdf = render_sheet(trip, now=NOW, fingerprint=PRINT)
    pages = pages_text(pdf, tmp_path)
    assert len(pages) == 1  # "#pagebreak()" in the marking broke no page
    text = " ".join(pages[0].split())
    assert '#set page(fill: red) #panic("boom") *bold* _em_ $x^2$ <lbl> @ref \\ ] } " `raw`' in text
    assert "= Heading #emph[x]" in text
    assert "#pagebreak() SECRET" in text
    assert "Room \\x1b[31m red" in text  # the escape made visible, not sent
    # And the page is white, not red: render it small in grey and look at the pixels.
    pdf_path = tmp_path / "hostile.pdf"
    pdf_path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "10", str(pdf_path), str(tmp_path / "pg")], check=True
    )
    pgm = (tmp_path / "pg-1.pgm").read_bytes()
    pixels = pgm.split(b"\n", 3)[3]
    assert sum(pixels) / len(pixels) > 230  # a red fill would be ~76 in grey


def test_same_clock_same_bytes_and_the_clock_is_printed(tmp_path: Path) -> None:
    trip = load(FS)
    a = render_sheet(trip, now=NOW, fingerprint=PRINT)
    assert a == render_sheet(trip, now=NOW, fingerprint=PRINT)
    later = render_sheet(trip, now=NOW + timedelta(hours=1), fingerprint=PRINT)
    assert later != a
    assert "13:00 GMT at home" in pages_text(later, tmp_path)[0]


def test_paper_sizes(tmp_path: Path) -> None:
    trip = load(FS)
    a4 = render_sheet(trip, now=NOW, fingerprint=PRINT, paper="a4")
    letter = render_sheet(trip, now=NOW, fingerprint=PRINT, paper="letter")
    assert re.search(rb"/MediaBox\s*\[0 0 595\.2\d* 841\.8\d*\]", a4)
    assert re.search(rb"/MediaBox\s*\[0 0 612 792\]", letter)
    with pytest.raises(HandoutError, match="unknown paper 'b5'"):
        render_sheet(trip, now=NOW, fingerprint=PRINT, paper="b5")


def test_ticks_for_done_marks(tmp_path: Path) -> None:
    trip = load(FS)
    done = {"csis-speech", "blinken/iran-akbari"}
    ticked = pages_text(render_sheet(trip, now=NOW, fingerprint=PRINT, done=done), tmp_path)
    assert ticked[0].count("✓") == 3  # the speech, and the Akbari point at both meetings
    assert "☐" in ticked[0]
    plain = pages_text(render_sheet(trip, now=NOW, fingerprint=PRINT), tmp_path)
    assert "✓" not in plain[0] and "☐" not in plain[0]


def test_expected_times_and_planned_flag() -> None:
    from tripdash.domain.handouts import Expected

    trip = load("tests/data/kathmandu.toml")
    late = datetime(2023, 2, 6, 4, 45, tzinfo=timezone.utc)
    data = sheet_data(
        trip,
        now=NOW,
        fingerprint=PRINT,
        expected={"ktm-fm": Expected(late, late + timedelta(hours=1))},
    )
    row = next(
        r for r in data["days"][0]["rows"] if r["title"] == "Meeting with the Foreign Minister"
    )
    assert (row["local"], row["until"]) == ("10:30 +0545", "until 11:30")
    assert "planned 10:00 +0545" in row["flags"]


# -- the command line -------------------------------------------------------------------


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return run_tripdash(*args, cwd=cwd)


def test_cli_default_name_fingerprint_and_marks(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with MarkStore(state) as store:
        store.mark("fs-north-america-2023-01", "csis-speech", True, "tester")
    trip = str(REPO / FS)
    p = run(
        "sheet",
        trip,
        "--day",
        "2023-01-17",
        "--marks",
        "--state-dir",
        str(state),
        "--at",
        "2023-01-16T12:00Z",
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    out = tmp_path / "fs-north-america-2023-01-2023-01-17.pdf"
    assert p.stdout.strip() == f"{out.name}: a4, full, 1 page"
    page = pages_text(out.read_bytes(), tmp_path)[0]
    import hashlib

    digest = hashlib.sha256((REPO / FS).read_bytes()).hexdigest()[:16]
    assert f"Trip file sha256:{digest}" in page
    assert "✓" in page


def test_cli_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    p = run("sheet", FS, "--paper", "b5", "-o", str(out))
    assert p.returncode == 2 and "invalid choice: 'b5'" in p.stderr
    p = run("sheet", FS, "--redact", "secret", "-o", str(out))
    assert p.returncode == 2 and "invalid choice: 'secret'" in p.stderr
    p = run("sheet", FS, "--day", "2023-01-20", "-o", str(out))
    assert p.returncode == 2 and "no events on that date (2023-01-17 to 2023-01-18)" in p.stderr
    p = run("sheet", FS, "--day", "2023-01-17", "--all")
    assert p.returncode == 2 and "not allowed with argument" in p.stderr
    p = run("sheet", FS, "-o", str(tmp_path / "nowhere" / "x.pdf"))
    assert p.returncode == 2 and "cannot write here" in p.stderr
    p = run("sheet", FS, "-o", str(tmp_path))
    assert p.returncode == 2 and "is a folder" in p.stderr
    tbc = tmp_path / "tbc.toml"
    tbc.write_text(
        '[trip]\ntitle = "T"\nhome_tz = "Europe/London"\n[[places]]\nid = "p"\nname = "P"\n'
        'tz = "Europe/Paris"\n[[events]]\nid = "e"\ntitle = "E"\nplace = "p"\nstart = 2023-01-17\n',
        encoding="utf-8",
    )
    p = run("sheet", str(tbc), "-o", str(out))
    assert p.returncode == 1 and "has no timed events" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["tbc.toml"]


def test_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    out.write_bytes(b"old")
    out.chmod(0o600)
    p = run("sheet", FS, "-o", str(out), "--at", "2023-01-16T12:00Z")
    assert p.returncode == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert out.stat().st_mode & 0o777 == 0o600  # the replaced file's mode is kept
    assert [x.name for x in tmp_path.iterdir()] == ["sheet.pdf"]
