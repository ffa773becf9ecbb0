"""The matcher behind `/`, the filter and the palette: accents, fields, lines, notes, order."""

from __future__ import annotations

from pathlib import Path

from tripdash.domain.folding import find_span, fold
from tripdash.domain.loader import load_trip
from tripdash.domain.schedule import Schedule
from tripdash.domain.search import FilteredSchedule, SearchIndex, search
from tripdash.domain.times import parse_instant

ROOT = Path(__file__).resolve().parents[1]
FS = load_trip(ROOT / "trips" / "fs-north-america-2023-01.toml").trip
SEOUL = load_trip(ROOT / "trips" / "secstate-seoul-anchorage-2021-03.toml").trip


def ids(query: str, **kwargs: object) -> list[str]:
    return [m.event.id for m in search(FS, query, **kwargs).matches]  # type: ignore[arg-type]


def test_fold_drops_case_and_accents() -> None:
    assert fold("Mélanie JOLY") == "melanie joly"
    assert fold("Straße") == "strasse"
    assert fold("Crème brûlée") == "creme brulee"


def test_accents_and_case_do_not_matter() -> None:
    assert ids("melanie") == ids("MÉLANIE") == ["joly-bilateral", "ukrainian-diaspora-meeting"]


def test_every_word_must_match_somewhere_in_the_event() -> None:
    # "pension" is in the title, "toronto" the place: both words, two fields.
    assert ids("pension toronto") == ["pension-funds-meeting"]
    assert ids("pension washington") == []


def test_reports_the_field_and_line_that_matched() -> None:
    found = {m.event.id: m for m in search(FS, "cptpp").matches}
    assert set(found) == {"joly-bilateral", "ukrainian-diaspora-meeting"}
    match = found["joly-bilateral"]
    assert match.field == "talking point"
    assert "Trans-Pacific Partnership (CPTPP)" in match.line
    assert match.in_details_only
    title = search(FS, "wreath").matches[0]
    assert (title.field, title.line) == ("title", "Wreath-laying at Arlington National Cemetery")
    assert not title.in_details_only


def test_matches_venues_kinds_roles_countries_and_press() -> None:
    assert ids("strategic") == ["csis-speech"]  # the venue
    assert "blinken-press-conference" in ids("live-streamed")  # the press line
    assert search(FS, "secretary of state").matches[0].field in ("role", "title")
    assert ids("united states") == ["blinken-bilateral", "blinken-press-conference"]
    assert set(ids("travel")) >= {"travel-washington-toronto"}


def test_the_trip_summary_is_searched_apart() -> None:
    result = search(FS, "akbari")
    assert any("Akbari" in f.line for f in result.trip_lines)


def test_the_users_notes_are_matched_through_the_hook() -> None:
    assert ids("samovar") == []
    notes = {"arlington-wreath": ["Bring the samovar"], "blinken/indo-pacific": ["ask re AUKUS"]}
    result = search(FS, "samovar", notes=notes)
    assert [(m.event.id, m.field, m.line) for m in result.matches] == [
        ("arlington-wreath", "my note", "Bring the samovar")
    ]
    # A note on a talking point belongs to each event of its counterpart.
    assert ids("aukus", notes=notes) == ["blinken-bilateral", "blinken-press-conference"]


def test_a_longer_query_searches_only_the_last_matches_and_agrees_with_a_fresh_one() -> None:
    index = SearchIndex(FS)
    for query in ("j", "jo", "jol", "joly", "joly toronto"):
        stepped = [m.event.id for m in index.search(query).matches]
        assert stepped == [m.event.id for m in SearchIndex(FS).search(query).matches]
    # Shorter again: every event is a candidate again.
    assert [m.event.id for m in index.search("t").matches] == [
        m.event.id for m in SearchIndex(FS).search("t").matches
    ]


def test_typed_a_key_at_a_time_every_query_agrees_with_a_fresh_search() -> None:
    # Words kept whole from the last query are not looked for again: each step must still
    # find exactly what a fresh search finds (a new word, a grown one, a space, a letter
    # taken back, the same word twice).
    index = SearchIndex(FS)
    typed = ["t", "to", "tor", "tor ", "tor j", "tor jo", "tor joly", "tor jol", "tor",
             "pension", "pension fund", "pension funds pension", "press", "press bl"]  # fmt: skip
    for query in typed:
        stepped = [m.event.id for m in index.search(query).matches]
        assert stepped == [m.event.id for m in SearchIndex(FS).search(query).matches], query
    assert index.search("press bl").matches  # (not a test of empty results)


def test_blank_query_matches_nothing() -> None:
    assert len(search(FS, "   ")) == 0


def test_next_and_previous_wrap_round_the_trip() -> None:
    result = search(FS, "blinken")
    keys = [m.index for m in result.matches]
    assert result.first_from(0) == 0
    assert result.first_from(keys[-1] + 1) == 0  # past the last: back to the first
    assert result.first_from(0, -1) == len(keys) - 1  # before the first: the last
    assert result.position_of(keys[1]) == 1
    assert result.position_of(keys[0] + 100) is None


def test_find_span_counts_in_the_original_characters() -> None:
    line = "Talks with Mélanie Joly"
    a, b = find_span(line, "melanie")  # type: ignore[misc]
    assert line[a:b] == "Mélanie"
    a, b = find_span("Die Straße", "strasse")  # type: ignore[misc]
    assert "Die Straße"[a:b] == "Straße"


def test_counterparts_a_name_first() -> None:
    found = SearchIndex(FS).counterparts("canada")
    # The diaspora's notes say the meeting is in Canada.
    assert [m.counterpart.id for m in found] == ["joly", "ukrainian-diaspora", "pension-funds"]
    assert [m.field for m in found] == ["country", "counterpart notes", "country"]
    # A match on the name comes before the others.
    assert next(m.counterpart.id for m in SearchIndex(FS).counterparts("ukrainian")) == (
        "ukrainian-diaspora"
    )
    assert [m.counterpart.id for m in SearchIndex(FS).counterparts("melanie")] == ["joly"]


def test_filtered_schedule_keeps_the_whole_trips_day_numbers_and_states() -> None:
    whole = Schedule(SEOUL)
    kept = {e.id for e in SEOUL.events[-2:]}
    filtered = FilteredSchedule(whole, kept)
    assert [e.id for e in filtered.trip.events] == [e.id for e in SEOUL.events[-2:]]
    number, day_events = filtered.whole_day(len(filtered.days) - 1)
    assert number == len(whole.days)
    assert [e.id for e in day_events] == [
        e.id for e in SEOUL.events[whole.days[-1].first : whole.days[-1].last + 1]
    ]
    # Where the delegation is comes from the whole trip (an event not kept moves it).
    now = parse_instant("2021-03-18T21:30Z")
    assert filtered.current_place(now) == whole.current_place(now)
    for e in filtered.trip.events:
        assert filtered.until(e) == whole.until(e)
