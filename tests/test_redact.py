"""Redaction profiles never leak: what a profile removes is in no byte of any hand-out.

The trip below puts a distinct word in every field. For each profile, every removed
word is looked for in the calendar file (unfolded), in the PDF's raw bytes, in every
decompressed PDF stream (as UTF-8 and UTF-16, the encodings of PDF text strings and
metadata) and in pdftotext's output; and every kept word is found by the same search,
so the search is shown to see what it looks for.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent

import pytest

from tripdash.domain.ics import export_ics
from tripdash.domain.loader import load_trip
from tripdash.domain.model import Trip
from tripdash.domain.redact import PROFILES, UnknownProfile, redact
from tripdash.handouts.sheet import render_sheet

NOW = datetime(2023, 1, 16, 12, 0, tzinfo=timezone.utc)

TRIP = dedent(
    """\
    [trip]
    id = "leak-test"
    title = "Leak test TRIPTITLEWORD"
    principal = "PRINCIPALWORD"
    home_tz = "Europe/London"
    source = "SOURCEWORD"
    summary = "SUMMARYWORD"
    marking = "OFFICIAL-SENSITIVE"

    [[places]]
    id = "paris"
    name = "Paris PUBLICPLACEWORD"
    tz = "Europe/Paris"

    [[places]]
    id = "hidden"
    name = "HIDDENPLACEWORD"
    tz = "Europe/Berlin"

    [[counterparts]]
    id = "kim"
    name = "Kim NAMEWORD"
    role = "ROLEWORD"
    country = "COUNTRYWORD"
    notes = "COUNTERPARTNOTESWORD"
    talking_points = ["POINTONEWORD", { id = "two", text = "POINTTWOWORD" }]

    [[events]]
    id = "private-meeting"
    title = "PRIVATETITLEWORD"
    place = "hidden"
    start = 2023-01-17T09:00:00
    end = 2023-01-17T10:00:00
    venue = "PRIVATEVENUEWORD"
    counterparts = ["kim"]
    notes = "PRIVATENOTESWORD"

    [[events]]
    id = "press-event"
    title = "PUBLICTITLEWORD"
    place = "paris"
    start = 2023-01-17T15:00:00
    venue = "PRESSVENUEWORD"
    counterparts = ["kim"]
    press = "PRESSLINEWORD"
    notes = "PRESSNOTESWORD"
    """
)

EVERY = {
    "TRIPTITLEWORD",
    "PRINCIPALWORD",
    "SOURCEWORD",
    "SUMMARYWORD",
    "PUBLICPLACEWORD",
    "HIDDENPLACEWORD",
    "NAMEWORD",
    "ROLEWORD",
    "COUNTRYWORD",
    "COUNTERPARTNOTESWORD",
    "POINTONEWORD",
    "POINTTWOWORD",
    "PRIVATETITLEWORD",
    "PRIVATEVENUEWORD",
    "PRIVATENOTESWORD",
    "PUBLICTITLEWORD",
    "PRESSVENUEWORD",
    "PRESSLINEWORD",
    "PRESSNOTESWORD",
}
REMOVED = {
    "full": set(),
    "logistics": {
        "SOURCEWORD",
        "SUMMARYWORD",
        "COUNTRYWORD",
        "COUNTERPARTNOTESWORD",
        "POINTONEWORD",
        "POINTTWOWORD",
        "PRIVATENOTESWORD",
        "PRESSLINEWORD",
        "PRESSNOTESWORD",
    },
    "public": EVERY - {"TRIPTITLEWORD", "PUBLICPLACEWORD", "PUBLICTITLEWORD", "PRESSLINEWORD"},
}
#: What each output shows at all, whatever the profile (the rest is never printed there).
SHOWN_BY_ICS = EVERY - {"PRINCIPALWORD", "SOURCEWORD", "SUMMARYWORD", "COUNTERPARTNOTESWORD"}
SHOWN_BY_SHEET = SHOWN_BY_ICS - {"COUNTRYWORD", "PRIVATENOTESWORD", "PRESSNOTESWORD"}


@pytest.fixture
def trip(tmp_path: Path) -> Trip:
    path = tmp_path / "leak.toml"
    path.write_text(TRIP, encoding="utf-8")
    return load_trip(path).trip


def _variants(word: str) -> list[bytes]:
    return [word.encode(), word.encode("utf-16-be"), word.encode("utf-16-le")]


def pdf_haystacks(pdf: bytes) -> list[bytes]:
    """The raw file and every stream, inflated when it is compressed."""
    found = [pdf]
    for m in re.finditer(rb"stream\r?\n", pdf):
        start = m.end()
        end = pdf.find(b"endstream", start)
        body = pdf[start:end]
        try:
            found.append(zlib.decompressobj().decompress(body))
        except zlib.error:
            found.append(body)
    return found


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def in_bytes(word: str, haystacks: list[bytes]) -> bool:
    return any(v in h for h in haystacks for v in _variants(word))


@pytest.mark.parametrize("profile", PROFILES)
def test_the_calendar_holds_nothing_removed(trip: Trip, profile: str) -> None:
    data = export_ics(trip, now=NOW, profile=profile)
    unfolded = data.replace(b"\r\n ", b"")  # long lines are folded: a word may span two
    for word in REMOVED[profile]:
        assert word.encode() not in unfolded, (profile, word)
    for word in SHOWN_BY_ICS - REMOVED[profile]:
        assert word.encode() in unfolded, (profile, word)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
@pytest.mark.parametrize("profile", PROFILES)
def test_the_sheet_holds_nothing_removed(trip: Trip, profile: str, tmp_path: Path) -> None:
    pdf = render_sheet(trip, now=NOW, fingerprint="sha256:0000000000000000", profile=profile)
    text = pdftotext(pdf, tmp_path)
    haystacks = pdf_haystacks(pdf)
    for word in REMOVED[profile]:
        assert word not in text, (profile, word)
        assert not in_bytes(word, haystacks), (profile, word)
    for word in SHOWN_BY_SHEET - REMOVED[profile]:
        assert word in text, (profile, word)
    # The byte search finds text where the PDF keeps it as text: the metadata.
    assert in_bytes("TRIPTITLEWORD", haystacks)
    assert in_bytes("OFFICIAL-SENSITIVE", haystacks)


def test_the_byte_search_would_see_a_leak(trip: Trip) -> None:
    # The leak checks above are not vacuous: a word in the PDF's metadata is found.
    from dataclasses import replace

    leaky = replace(trip, title="Leak test POINTONEWORD")
    pdf = render_sheet(leaky, now=NOW, fingerprint="sha256:0000000000000000", profile="public")
    assert in_bytes("POINTONEWORD", pdf_haystacks(pdf))


def test_profiles_as_objects(trip: Trip) -> None:
    assert redact(trip, "full") is trip
    logistics = redact(trip, "logistics")
    kim = logistics.counterparts[0]
    assert (kim.name, kim.role, kim.country, kim.notes, kim.talking_points) == (
        "Kim NAMEWORD",
        "ROLEWORD",
        None,
        None,
        (),
    )
    assert all(e.press is None and e.notes is None for e in logistics.events)
    assert [e.venue for e in logistics.events] == ["PRIVATEVENUEWORD", "PRESSVENUEWORD"]
    assert (logistics.source, logistics.summary) == (None, None)
    public = redact(trip, "public")
    assert [e.id for e in public.events] == ["press-event"]
    event = public.events[0]
    assert (event.venue, event.counterparts, event.notes, event.press) == (
        None,
        (),
        None,
        "PRESSLINEWORD",
    )
    assert [p.id for p in public.places] == ["paris"]
    assert public.counterparts == () and public.principal is None
    assert public.marking == logistics.marking == "OFFICIAL-SENSITIVE"
    with pytest.raises(UnknownProfile, match="unknown profile 'secret'"):
        redact(trip, "secret")
