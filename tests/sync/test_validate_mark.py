"""A pulled document checked as a mark, without a server: the pull's fast paths (the
usual keys seen without set comparison, item ids and authors checked once each) refuse
exactly what the full checks refuse."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tripdash.domain.store import Mark, mark_fields, stored_time
from tripdash.domain.sync import _STORED_AT, _item_ok, _who_ok, validate_mark, validate_mark_fields

from .hostile import mark_doc

TRIP = "t-1"
NEWEST = 1673964000000 + 10**9


def usual(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A mark as CouchDB returns it: the mark's fields and ``_rev``."""
    return {**mark_doc(TRIP, n, _rev="1-abc"), **changes}


def test_the_usual_document_is_a_mark_and_both_forms_agree() -> None:
    doc = usual(hlc=1673964000001)
    mark = validate_mark(doc, TRIP, newest_ms=NEWEST)
    assert isinstance(mark, Mark)
    assert validate_mark_fields(doc, TRIP, NEWEST) == mark_fields(mark)
    assert (mark.id, mark.item_id, mark.who, mark.hlc) == (
        doc["_id"],
        doc["item_id"],
        "hostile",
        doc["hlc"],
    )
    assert mark.at.utcoffset() is not None and mark.at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "doc",
    [
        # Nine keys with ``_rev``, but one of the mark's fields missing and another key
        # in its place: the count alone would take it for the usual document.
        {**{k: v for k, v in usual().items() if k != "who"}, "evil": 1},
        # All the fields and ``_rev``, and one more.
        usual(evil=1),
        # All the fields, no ``_rev``, one key that is not CouchDB's.
        {**mark_doc(TRIP, 1), "evil": 1},
        # A field missing.
        {k: v for k, v in usual().items() if k != "hlc"},
    ],
    ids=["nine-keys-one-swapped", "usual-plus-one", "fields-plus-one", "field-missing"],
)
def test_any_other_set_of_keys_is_refused(doc: dict[str, Any]) -> None:
    assert validate_mark(doc, TRIP, newest_ms=NEWEST) == "not the fields of a mark"
    assert validate_mark_fields(doc, TRIP, NEWEST) == "not the fields of a mark"


def test_couchdbs_own_fields_are_allowed_besides_rev() -> None:
    doc = usual(_revisions={"start": 1, "ids": ["abc"]}, _conflicts=[])
    assert isinstance(validate_mark(doc, TRIP, newest_ms=NEWEST), Mark)


def test_a_checked_item_or_author_does_not_let_a_bad_one_through() -> None:
    good = usual(1, item_id="event-7", who="alice")
    assert isinstance(validate_mark(good, TRIP, newest_ms=NEWEST), Mark)
    for bad_item in ("event 7", "event-7/", "a/b/c", "x\udfff", "e\x1b[2J"):
        doc = usual(2, item_id=bad_item)
        assert validate_mark(doc, TRIP, newest_ms=NEWEST) == "an id that is not well formed"
    for bad_who in ("ali\x07ce", "\ud800", "", "w" * 201):
        doc = usual(3, who=bad_who)
        assert validate_mark(doc, TRIP, newest_ms=NEWEST) == "an author that is not well formed"
    # And the other way round: refused first, then the good ones still pass.
    assert isinstance(validate_mark(good, TRIP, newest_ms=NEWEST), Mark)
    assert isinstance(validate_mark(usual(4, item_id="a/b"), TRIP, newest_ms=NEWEST), Mark)


def test_the_longest_item_id_passes_and_one_more_character_does_not() -> None:
    longest = "a" * 200 + "/" + "b" * 200
    assert isinstance(validate_mark(usual(item_id=longest), TRIP, newest_ms=NEWEST), Mark)
    assert validate_mark(usual(item_id=longest + "b"), TRIP, newest_ms=NEWEST) == (
        "an id that is not well formed"
    )


def test_huge_strings_never_reach_the_caches() -> None:
    """The caches keep what they are given: only strings short enough to be valid."""
    _item_ok.cache_clear()
    _who_ok.cache_clear()
    huge = "x" * 600_000
    assert validate_mark(usual(item_id=huge), TRIP, newest_ms=NEWEST) == (
        "an id that is not well formed"
    )
    assert _item_ok.cache_info().currsize == 0
    assert validate_mark(usual(who=huge), TRIP, newest_ms=NEWEST) == (
        "an author that is not well formed"
    )
    assert _item_ok.cache_info().currsize == 1  # the document's short item id
    assert _who_ok.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("at", "stored"),
    [
        ("2023-01-17T14:00:00.150000+00:00", "2023-01-17T14:00:00.150000+00:00"),
        ("2023-01-17T09:00:00.150000-05:00", "2023-01-17T14:00:00.150000+00:00"),
        pytest.param(
            "2023-01-17T14:00:00Z",
            "2023-01-17T14:00:00.000000+00:00",
            marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="Z parsed from 3.11"),
        ),
        ("2023-01-17T14:00:00.150+00:00", "2023-01-17T14:00:00.150000+00:00"),
        ("2023-01-17 14:00:00.150000+00:00", "2023-01-17T14:00:00.150000+00:00"),
    ],
)
def test_a_time_in_any_form_is_kept_in_the_stored_form(at: str, stored: str | None) -> None:
    found = validate_mark_fields(usual(at=at, hlc=1673964000150), TRIP, NEWEST)
    if stored is None:
        assert found == "a time that is not well formed"
        return
    assert isinstance(found, tuple)
    assert found[4].utcoffset() is not None and found[4].utcoffset().total_seconds() == 0
    assert found[7] == stored == stored_time(found[4])
    mark = validate_mark(usual(at=at, hlc=1673964000150), TRIP, newest_ms=NEWEST)
    assert isinstance(mark, Mark) and mark_fields(mark) == found


@pytest.mark.parametrize(
    "at",
    [
        "2023-01-17T14:00:00.150000+00:00",
        "1900-01-01T00:00:00.000000+00:00",
        "2199-12-31T23:59:59.999999+00:00",
    ],
)
def test_the_stored_form_is_recognised(at: str) -> None:
    assert _STORED_AT.fullmatch(at)


@pytest.mark.parametrize(
    "at",
    [
        "2023-01-17T24:00:00.000000+00:00",  # Python 3.14 parses it as the next midnight
        "2023-01-17T14:60:00.000000+00:00",
        "2023-01-17T14:00:00.15000\u0660+00:00",  # a digit, but not ASCII's
        "2023-01-17 14:00:00.150000+00:00",
        "2023-01-17T14:00:00.150000Z",
        "2023-01-17T14:00:00.150000+00:00\n",
    ],
)
def test_other_forms_are_not_taken_for_the_stored_one(at: str) -> None:
    """Whatever the parser accepts, only the exact stored form is stored as it came."""
    assert _STORED_AT.fullmatch(at) is None


def test_a_mark_without_rev_or_with_couchdbs_other_fields_instead_is_a_mark() -> None:
    """The slow path of the keys' check accepts what it should, not only refuses."""
    assert isinstance(validate_mark(mark_doc(TRIP, 1), TRIP, newest_ms=NEWEST), Mark)
    doc = {**mark_doc(TRIP, 1), "_revisions": {"start": 1, "ids": ["abc"]}}
    assert len(doc) == 9 and "_rev" not in doc
    assert isinstance(validate_mark(doc, TRIP, newest_ms=NEWEST), Mark)
