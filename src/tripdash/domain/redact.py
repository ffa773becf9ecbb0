"""Redaction profiles: the copy of a trip that one audience may be handed.

A profile turns a :class:`~tripdash.domain.model.Trip` into a smaller trip that
simply does not hold what the audience may not see; every hand-out (calendar
export, day sheet) is made from that copy only, so nothing removed can reach a
byte of the output, whatever the output's code does with the fields it gets.

* ``full``: everything.
* ``logistics`` (drivers, protection officers, hosts): times, places, venues,
  travel, counterparts' names and roles; no talking points, no notes, no press
  lines, no counterpart countries, no trip source or summary.
* ``public`` (a press office): only the events that have a press line, each with
  its title, kind, status, times, place (and destination) and press line; no
  venue, counterparts, notes or talking points; no principal, source or summary;
  only the places those events use.

The trip's id, title, home zone and marking are kept by every profile.
"""

from __future__ import annotations

from dataclasses import replace

from tripdash.domain.model import Counterpart, Event, Trip

PROFILES = ("full", "logistics", "public")
DEFAULT_PROFILE = "full"


class UnknownProfile(ValueError):
    """A profile name that is not one of :data:`PROFILES`."""


def redact(trip: Trip, profile: str) -> Trip:
    """The copy of ``trip`` that ``profile`` allows (``trip`` itself for ``full``)."""
    if profile == "full":
        return trip
    if profile == "logistics":
        return _logistics(trip)
    if profile == "public":
        return _public(trip)
    raise UnknownProfile(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")


def _logistics(trip: Trip) -> Trip:
    people = {c.id: Counterpart(id=c.id, name=c.name, role=c.role) for c in trip.counterparts}
    events = tuple(
        replace(
            e,
            press=None,
            notes=None,
            counterparts=tuple(people[c.id] for c in e.counterparts),
        )
        for e in trip.events
    )
    return replace(
        trip,
        source=None,
        summary=None,
        counterparts=tuple(people.values()),
        events=events,
    )


def _public_event(event: Event) -> Event:
    return replace(event, venue=None, counterparts=(), notes=None)


def _public(trip: Trip) -> Trip:
    events = tuple(_public_event(e) for e in trip.events if e.press)
    used = {e.place.id for e in events} | {e.to.id for e in events if e.to is not None}
    return replace(
        trip,
        principal=None,
        source=None,
        summary=None,
        places=tuple(p for p in trip.places if p.id in used),
        counterparts=(),
        events=events,
    )
