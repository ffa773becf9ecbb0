"""The printable day sheet: a PDF typeset by Typst (the ``typst`` Python binding).

One page per local day where it fits, more where it does not (the table's heading
repeats, and no row is ever split across pages): trip title, date and day number,
the day's places with their zones and UTC offsets, the home zone; the events with
local time, home time (with day marker), title, venue or place, counterparts and
press line; the talking points of each meeting; ticks for done marks when asked; a
footer with when it was printed (home and local time), the trip file's fingerprint
and the page number; the trip's marking at the top and bottom of every page.

Outside text never becomes Typst markup: the template below is fixed, and every
value from the trip travels to it as JSON (``sys.inputs``) and is placed as a
string, which Typst always prints literally. Trip text goes through
:mod:`tripdash.domain.text` first. No textual or rich here.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from tripdash.domain.handouts import (
    ExpectedTimes,
    HandoutError,
    numbered_days,
    require_timed,
    timing,
)
from tripdash.domain.model import Event, Place, Trip
from tripdash.domain.redact import redact
from tripdash.domain.schedule import Day
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import day_marker, format_offset, local_midnight, zone_abbrev

#: Paper sizes by their command-line name, and Typst's name for them.
PAPERS = {"a4": "a4", "letter": "us-letter"}

_TEMPLATE = r"""
#let data = json(bytes(sys.inputs.data))
#let marking = data.marking
#set document(title: data.doc_title, author: data.author, keywords: data.keywords)
#set text(font: ("Libertinus Serif", "DejaVu Sans Mono"), size: 8.5pt, lang: "en",
  number-type: "lining", number-width: "tabular")
#set par(justify: false, leading: 0.45em)
#set table.cell(breakable: false)

#let mark-line = if marking != none {
  align(center, text(9pt, weight: "bold", marking))
}
#let day-info() = {
  let page-no = here().page()
  let starts = query(<day-start>).filter(m => m.location().page() <= page-no)
  if starts.len() > 0 { starts.last().value } else { none }
}

#set page(
  paper: data.paper,
  margin: (x: 12mm, top: 25mm, bottom: 26mm),
  header-ascent: 22%,
  footer-descent: 22%,
  header: context {
    let info = day-info()
    mark-line
    v(1pt)
    grid(columns: (1fr, auto), column-gutter: 8pt,
      text(9.5pt, weight: "bold", data.title),
      if info != none { text(9.5pt, info.label) })
    v(-3pt)
    line(length: 100%, stroke: 0.5pt)
  },
  footer: context {
    let info = day-info()
    line(length: 100%, stroke: 0.5pt)
    v(-3pt)
    grid(columns: (1fr, auto), column-gutter: 8pt,
      text(7.5pt, {
        if info != none { info.printed }
        linebreak()
        data.fingerprint_label
      }),
      align(right + bottom, text(8pt, {
        "Page "
        counter(page).display()
        " of "
        str(counter(page).final().first())
      })))
    v(1pt)
    mark-line
  },
)

#let row-cells(r) = {
  let title = text(weight: if r.kind_bold { "bold" } else { "regular" }, r.title)
  if r.cancelled { title = strike(title) }
  if r.tentative { title = emph(title) }
  let cells = ()
  if data.ticks { cells.push(align(center, text(10pt, if r.done { "✓" } else { "" }))) }
  cells.push({
    text(r.local)
    if r.until != "" { linebreak(); text(7.5pt, r.until) }
  })
  cells.push({
    text(r.home)
    if r.home_day != "" { h(3pt); text(weight: "bold", r.home_day) }
  })
  cells.push({
    title
    if r.flags != "" { linebreak(); text(7pt, fill: luma(35%), r.flags) }
  })
  cells.push(text(r.where))
  cells.push(text(r.with))
  cells.push(text(r.press))
  cells
}

#let headings = ("Local", "Home", "Event", "Where", "With", "Press")
#let widths = (19mm, 23mm, 1.2fr, 1fr, 0.9fr, 0.9fr)

#for (i, day) in data.days.enumerate() {
  if i > 0 { pagebreak() }
  [#metadata(day.info) <day-start>]
  block(below: 5pt, text(13pt, weight: "bold", day.heading))
  block(below: 8pt, {
    set text(8pt)
    for place in day.places { place; linebreak() }
    day.home
  })
  let cols = if data.ticks { (5mm,) + widths } else { widths }
  let heads = if data.ticks { ("",) + headings } else { headings }
  table(
    columns: cols,
    inset: (x: 3pt, y: 3.5pt),
    stroke: (x, y) => if y == 0 { (bottom: 0.8pt) } else { (bottom: 0.3pt + luma(60%)) },
    fill: (x, y) => if y > 0 and calc.even(y) { luma(95%) },
    table.header(..heads.map(h => text(weight: "bold", h))),
    ..day.rows.map(row-cells).flatten(),
  )
  if day.meetings.len() > 0 {
    block(above: 12pt, below: 6pt, sticky: true, text(11pt, weight: "bold", "Talking points"))
    for m in day.meetings {
      block(above: 7pt, below: 3pt, sticky: true, text(weight: "bold", m.label))
      for person in m.people {
        block(above: 4pt, below: 2pt, sticky: true, text(style: "italic", person.name))
        for p in person.points {
          block(above: 2pt, below: 2pt, breakable: false, grid(
            columns: (8mm, 1fr),
            align(right, if data.ticks { if p.done { "✓" } else { "☐" } } else { "–" }),
            pad(left: 3pt, p.text),
          ))
        }
      }
    }
  }
}
"""


def _offset_text(place: Place, day: date) -> str:
    """``EST UTC-05:00``, or both offsets when the clocks change that day."""
    zone = place.tz
    start = local_midnight(day, zone)
    end = local_midnight(day + timedelta(days=1), zone) - timedelta(seconds=1)
    first = f"{zone_abbrev(start)} {format_offset(start)}"
    last = f"{zone_abbrev(end)} {format_offset(end)}"
    if first == last:
        return first
    return f"{first}, then {last} (the clocks change today)"


def _day_places(trip: Trip, day: Day) -> list[Place]:
    found: list[Place] = []
    for event in trip.events[day.first : day.last + 1]:
        for place in (event.place, event.to):
            if place is not None and place not in found:
                found.append(place)
    return found


def _clock(dt: datetime) -> str:
    return f"{dt:%H:%M} {zone_abbrev(dt)}"


def _where(event: Event, arrives: datetime | None) -> str:
    where = one_line(event.place.name)
    if event.to is not None:
        where += f" → {one_line(event.to.name)}"
        if arrives is not None:
            where += f", arrives {_clock(arrives)}"
    if event.venue:
        where = f"{one_line(event.venue)}, {where}"
    return where


def _row(
    event: Event, trip: Trip, done: Collection[str] | None, expected: ExpectedTimes | None
) -> dict[str, Any]:
    times = timing(event, expected)
    flags = []  # TBC needs no flag: the time columns say it
    if event.tentative:
        flags.append("tentative")
    if event.cancelled:
        flags.append("cancelled")
    if times.planned_start is not None:
        flags.append(f"planned {_clock(times.planned_start)}")
    local = home = home_day = until = ""
    if event.time_confirmed:
        local = _clock(times.start)
        if times.end is not None and event.to is None:
            until = f"until {times.end:%H:%M}"
        at_home = times.start.astimezone(trip.home_tz)
        home = _clock(at_home)
        home_day = day_marker(at_home, times.start.date())
    else:
        local = home = "TBC"
    with_text = "; ".join(
        one_line(c.name) + (f" ({one_line(c.role)})" if c.role else "") for c in event.counterparts
    )
    return {
        "done": done is not None and event.id in done,
        "local": local,
        "until": until,
        "home": home,
        "home_day": home_day,
        "title": one_line(event.title),
        "kind_bold": event.kind in ("speech", "press", "ceremony"),
        "flags": ", ".join(flags),
        "cancelled": event.cancelled,
        "tentative": event.tentative,
        "where": _where(event, times.end if event.time_confirmed else None),
        "with": with_text,
        "press": safe_text(event.press) if event.press else "",
    }


def _meetings(
    events: list[Event], done: Collection[str] | None, expected: ExpectedTimes | None
) -> list[dict[str, Any]]:
    meetings = []
    for event in events:
        people = [
            {
                "name": one_line(c.name),
                "points": [
                    {"text": safe_text(p.text), "done": done is not None and p.item_id in done}
                    for p in c.talking_points
                ],
            }
            for c in event.counterparts
            if c.talking_points
        ]
        if people:
            at = _clock(timing(event, expected).start) if event.time_confirmed else "Time TBC"
            meetings.append({"label": f"{at}: {one_line(event.title)}", "people": people})
    return meetings


def sheet_data(
    trip: Trip,
    *,
    now: datetime,
    fingerprint: str,
    day: date | None = None,
    paper: str = "a4",
    profile: str = "full",
    done: Collection[str] | None = None,
    expected: ExpectedTimes | None = None,
) -> dict[str, Any]:
    """Everything the template prints, as JSON-ready data (from the profile's copy only).

    ``done``: the ids of done events and talking points, shown as ticks; None for no
    tick column. Raises :class:`HandoutError` for a bad paper, a day outside the trip,
    or nothing timed to print.
    """
    if paper not in PAPERS:
        raise HandoutError(f"unknown paper {paper!r}: choose one of {', '.join(PAPERS)}", 2)
    shown = redact(trip, profile)
    if profile == "public" and not shown.events:
        raise HandoutError(f"{trip.id}: no event has a press line: the public profile is empty")
    days = numbered_days(shown, day)
    # A day whose times are all TBC is worth a page; a trip without one time is not.
    require_timed(shown.events, trip.id)
    total = len(numbered_days(shown, None))
    home = trip.home_tz
    marking = one_line(shown.marking) if shown.marking else None
    title = one_line(shown.title)
    at_home = now.astimezone(home)
    pages = []
    for number, d in days:
        events = list(shown.events[d.first : d.last + 1])
        places = _day_places(shown, d)
        local_zone = places[0].tz
        at_local = now.astimezone(local_zone)
        label = f"Day {number} of {total} · {d.date:%A} {d.date.day} {d.date:%B %Y}"
        printed = (
            f"Printed {at_home:%a %d %b %Y %H:%M} {zone_abbrev(at_home)} at home · "
            f"{at_local:%a %d %b %H:%M} {zone_abbrev(at_local)} in {one_line(places[0].name)}"
        )
        pages.append(
            {
                "info": {"label": label, "printed": printed},
                "heading": f"{d.date:%A} {d.date.day} {d.date:%B %Y} · Day {number}",
                "places": [
                    f"{one_line(p.name)}: {p.tz.key}, {_offset_text(p, d.date)}" for p in places
                ],
                "home": f"Home: {home.key}, {_offset_text(Place('home', 'home', home), d.date)}",
                "rows": [_row(e, shown, done, expected) for e in events],
                "meetings": _meetings(events, done, expected),
            }
        )
    return {
        "paper": PAPERS[paper],
        "title": title,
        "doc_title": f"{marking}: {title}" if marking else title,
        "author": [],
        "keywords": [marking] if marking else [],
        "marking": marking,
        "fingerprint_label": f"Trip file {fingerprint} · profile {profile}",
        "ticks": done is not None,
        "days": pages,
    }


def render_sheet(
    trip: Trip,
    *,
    now: datetime,
    fingerprint: str,
    day: date | None = None,
    paper: str = "a4",
    profile: str = "full",
    done: Collection[str] | None = None,
    expected: ExpectedTimes | None = None,
) -> bytes:
    """The day sheet (one local ``day``, or every day) as PDF bytes (see :func:`sheet_data`).

    The same trip, clock and arguments always give the same bytes: the PDF's creation
    date is ``now`` (the injected clock), and nothing else varies.
    """
    data = sheet_data(
        trip,
        now=now,
        fingerprint=fingerprint,
        day=day,
        paper=paper,
        profile=profile,
        done=done,
        expected=expected,
    )
    import typst  # a native module of some megabytes: only when a sheet is made

    try:
        pdf = typst.compile(
            _TEMPLATE.encode(),
            format="pdf",
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
            timestamp=int(now.timestamp()),
        )
    except typst.TypstError as exc:  # a bug here, not bad input: say what Typst said
        raise HandoutError(f"the sheet could not be typeset: {one_line(str(exc))}") from None
    return bytes(pdf)
