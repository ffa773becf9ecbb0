"""The note, running-late and readout verbs: ``tripdash note``, ``late`` and ``readout``.

Notes and shifts are records beside the marks (:mod:`tripdash.domain.records`),
committed before anything says they are saved. Bad input (an unknown item, a note
over 100,000 characters, a shift of more than a day, an until-event before the
from-event) is a clear message and exit 1, with nothing stored. Every piece of
outside text (trip text, notes, names) is printed through
:mod:`tripdash.domain.text`. The clock is read here and only here (``--at`` replaces
it for ``late``), then passed in.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

from tripdash.cli import (
    AT_YEARS,
    EXIT_INVALID,
    EXIT_OK,
    Handler,
    UsageError,
    _as_option,
    _http_option,
    _Parser,
    _path_argument,
    _print_problems,
    _state_option,
    _time_format_option,
    day_named,
    load_single,
    open_store,
    parse_day_words,
    read_marks,
    say,
    time_format,
)
from tripdash.domain.late import Lateness, ShiftInvalid, check_shift, lateness, under_way
from tripdash.domain.model import Trip
from tripdash.domain.records import NOTE, SHIFT, NoteVersion, Record, RecordError, RecordStore
from tripdash.domain.schedule import shifted_time_label
from tripdash.domain.store import Mark, MarkStore, StoreError, default_author
from tripdash.domain.text import one_line, safe_text
from tripdash.domain.times import UTC, clock_time, system_clock, zone_abbrev

#: Between the versions of a conflicting note in the editor's file.
SEPARATOR = "=" * 24


def _records(store: MarkStore) -> RecordStore:
    return RecordStore(store, clock=system_clock)


def _fail(message: str) -> int:
    say(f"tripdash: {message}", file=sys.stderr)
    return EXIT_INVALID


def note_items(trip: Trip) -> dict[str, str]:
    """What a note can be on: events and counterparts (id -> title or name)."""
    found = {e.id: e.title for e in trip.events}
    found.update({c.id: c.name for c in trip.counterparts})
    return found


def _resolve(trip: Trip, item: str) -> str | None:
    """The item as typed, in NFC as ids are kept; None (and said) when there is none."""
    item = unicodedata.normalize("NFC", item)
    items = note_items(trip)
    if item in items:
        return item
    import difflib

    close = difflib.get_close_matches(item, list(items), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(one_line(c) for c in close)}?)" if close else ""
    say(
        f"tripdash: {one_line(repr(item))} is not an event or counterpart id of "
        f"{one_line(trip.id)}{hint}",
        file=sys.stderr,
    )
    return None


def _when(at: datetime, trip: Trip, time_format: int = 24) -> str:
    home = at.astimezone(trip.home_tz)
    return f"{home:%a %d %b} {clock_time(home, time_format)} {zone_abbrev(home)}"


# -- note -------------------------------------------------------------------------------


def cmd_note(args: argparse.Namespace) -> int:
    """``tripdash note PATH ITEM [TEXT] [--show]``."""
    trip = load_single(args.path, args).trip
    item = _resolve(trip, args.item)
    if item is None:
        return EXIT_INVALID
    if args.show and args.text is not None:
        raise UsageError("give TEXT or --show, not both")
    who = args.as_name or default_author()
    title = one_line(note_items(trip)[item])
    with open_store(args) as store:
        records = _records(store)
        current = read_marks(store, lambda: records.note(trip.id, item))
        if args.show:
            return _show(trip, item, title, current, time_format(args))
        if args.text is not None:
            text, seen = args.text, None
            if len(current) == 1 and current[0].text == text:
                say(f"{one_line(item)}: the note already says this; nothing recorded")
                return EXIT_OK
        else:
            edited = _edit(trip, current)
            if edited is None:
                return EXIT_INVALID
            text, changed = edited
            if not changed:
                say(f"{one_line(item)}: note unchanged; nothing recorded")
                return EXIT_OK
            seen = [v.id for v in current]
        if not text and not current:
            say(f"{one_line(item)}: no note to delete; nothing recorded")
            return EXIT_OK
        try:
            records.save_note(trip.id, item, text, who, replaces=seen)
        except (RecordError, StoreError) as exc:
            return _fail(f"{one_line(item)}: {exc}; nothing saved")
        after = records.note(trip.id, item)
    if not text:
        say(f"{one_line(item)}: note deleted ({title}), by {one_line(who)}")
    else:
        say(f"{one_line(item)}: note saved ({title}, {len(text):,} characters), by {one_line(who)}")
    if len(after) > 1:
        say(
            f"{one_line(item)}: {len(after)} versions now (one was saved meanwhile elsewhere): "
            f"`tripdash note PATH {one_line(item)}` to merge them"
        )
    return EXIT_OK


def _show(
    trip: Trip, item: str, title: str, current: list[NoteVersion], time_format: int = 24
) -> int:
    if not current:
        say(f"{one_line(item)}: no note ({title})")
        return EXIT_OK
    if len(current) > 1:
        say(f"{one_line(item)}: {len(current)} versions (edited on two laptops): {title}")
    for n, version in enumerate(current, 1):
        which = f"version {n} of {len(current)}, " if len(current) > 1 else ""
        when = _when(version.at, trip, time_format)
        say(f"--- {one_line(item)}: {which}by {one_line(version.who)}, {when}")
        for line in safe_text(version.text).split("\n"):
            say(line)
    return EXIT_OK


def editor_text(versions: list[NoteVersion], trip: Trip) -> str:
    """What the editor opens on: the note, or every conflicting version between separators
    (saving the file as edited is what merges them)."""
    if len(versions) <= 1:
        return versions[0].text if versions else ""
    parts = []
    for n, v in enumerate(versions, 1):
        parts.append(
            f"{SEPARATOR} version {n} of {len(versions)}, by {v.who}, {_when(v.at, trip)} "
            f"{SEPARATOR}\n{v.text}"
        )
    parts.append(f"{SEPARATOR} end: keep what you want and delete these lines {SEPARATOR}\n")
    return "\n".join(parts)


def _editor() -> str | None:
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _edit(trip: Trip, current: list[NoteVersion]) -> tuple[str, bool] | None:
    """Run the editor on the note; (text, changed), or None when it failed (said)."""
    editor = _editor()
    if editor is None:
        _fail("set $VISUAL or $EDITOR to edit a note, or give the TEXT")
        return None
    original = editor_text(current, trip)
    fd, name = tempfile.mkstemp(prefix="tripdash-note-", suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(original)
        try:
            command = [*shlex.split(editor), str(path)]
            status = subprocess.run(command, check=False).returncode
        except (OSError, ValueError) as exc:
            _fail(f"cannot run the editor {one_line(editor)!r}: {exc}; nothing saved")
            return None
        if status != 0:
            _fail(f"the editor exited with status {status}; nothing saved")
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read the edited note back ({exc}); nothing saved")
            return None
    finally:
        path.unlink(missing_ok=True)
    # Editors add a final newline: it is not part of the note.
    text = text.rstrip("\n")
    return text, text != original.rstrip("\n")


# -- late -------------------------------------------------------------------------------


def _now(args: argparse.Namespace) -> datetime:
    from tripdash.domain.times import parse_instant

    if args.at is None:
        return system_clock()
    try:
        at = parse_instant(args.at)
        year = at.astimezone(UTC).year
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--at: {one_line(str(exc))}") from None
    if not AT_YEARS[0] <= year <= AT_YEARS[1]:
        raise UsageError(f"--at: the year {year} is outside {AT_YEARS[0]}-{AT_YEARS[1]}")
    return at


def default_from(trip: Trip, now: datetime, late: Lateness) -> str | None:
    """The event in progress at ``now`` (by expected times), else the next one that can move."""
    from tripdash.domain.late import stays_put
    from tripdash.domain.schedule import Schedule

    expected = late.expected_trip()
    schedule = Schedule(expected)
    for event in schedule.in_progress(now):
        if not stays_put(event):
            return event.id
    for event in expected.events[schedule.now_index(now) :]:
        if event.time_confirmed and not event.cancelled and not stays_put(event):
            return event.id
    return None


def cmd_late(args: argparse.Namespace) -> int:
    """``tripdash late PATH MINUTES [--from EVENT] [--until EVENT]``."""
    now = _now(args)
    trip = load_single(args.path, args).trip
    who = args.as_name or default_author()
    with open_store(args) as store:
        records = _records(store)
        shifts = read_marks(store, lambda: records.shifts(trip.id))
        start = args.from_event
        if start is None:
            start = default_from(trip, now, lateness(trip, shifts))
            if start is None:
                return _fail("no event in progress or to come that can move: give --from EVENT")
        start = unicodedata.normalize("NFC", start)
        until = unicodedata.normalize("NFC", args.until) if args.until else None
        try:
            check_shift(trip, start, until)
            # On already (by the times expected so far): it overruns, its start stays.
            begun = under_way(lateness(trip, shifts).expected_trip(), start, now)
            records.set_shift(trip.id, start, args.minutes, until, who, begun=begun)
        except (ShiftInvalid, RecordError, StoreError) as exc:
            return _fail(f"{one_line(str(exc))}; nothing recorded")
        late = lateness(trip, records.shifts(trip.id))
    titles = {e.id: e.title for e in trip.events}
    origin = trip.events[[e.id for e in trip.events].index(start)]
    end = f"until {one_line(until)}" if until else f"until the end of {origin.start:%a %d %b}"
    if args.minutes == 0:
        state = "back on time"
    elif args.minutes > 0:
        state = f"running {args.minutes} min late"
    else:
        state = f"running {-args.minutes} min early"
    say(f"{state} from {one_line(start)} ({one_line(titles[start])}) {end}, by {one_line(who)}")
    expected = {e.id: e for e in late.expected_trip().events}
    fmt = time_format(args)
    for event in trip.events:
        delay = late.delays.get(event.id)
        if delay is None or delay.shift.from_event != start:
            continue
        moved = expected[event.id]
        day = event.local_date
        was = shifted_time_label(event.start, day, fmt, beside=moved.start)
        will = shifted_time_label(moved.start, day, fmt)
        say(f"  {one_line(event.id)}: {was} -> {will} ({delay.minutes:+d})")
    for overlap in late.overlaps:
        say(f"warning: {overlap}")
    return EXIT_OK


# -- readout ----------------------------------------------------------------------------


def cmd_readout(args: argparse.Namespace) -> int:
    """``tripdash readout PATH [--day YYYY-MM-DD|today|...] [--at TIME] [-o FILE]``."""
    from tripdash.domain.handouts import HandoutError, write_atomic
    from tripdash.domain.readout import readout
    from tripdash.domain.schedule import Schedule

    result = load_single(args.path, args)
    _print_problems(result.warnings, sys.stderr)
    trip = result.trip
    out = None if args.output in (None, "-") else Path(args.output)
    if out is not None and out.is_dir():
        raise UsageError(f"{one_line(str(out))}: is a folder: give a file name")
    now = _now(args)  # --at: the readout as of then (a rehearsal, or a day gone by)
    day = day_named(args.day, trip, lambda: now)
    if day is None:
        place = Schedule.for_trip(trip).current_place(now)
        day = now.astimezone(place.tz if place is not None else trip.home_tz).date()
    with open_store(args) as store:
        records = _records(store)
        done, notes, shifts = read_marks(
            store,
            lambda: (store.done_ids(trip.id), records.notes(trip.id), records.shifts(trip.id)),
        )
    text = readout(trip, day, done, notes, lateness(trip, shifts), time_format(args))
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(out, text.encode("utf-8"))
    except HandoutError as exc:
        say(f"tripdash: {exc}", file=sys.stderr)
        return exc.exit_code
    say(f"{one_line(str(out))}: readout of {day:%a %d %b %Y}")
    return EXIT_OK


# -- log: notes and shifts beside the marks ----------------------------------------------


def log_entries(store: MarkStore, trip: Trip) -> list[tuple[tuple[int, str, str], Mark | Record]]:
    """The trip's records for ``tripdash log``, each with its place in the common order."""
    records = _records(store)
    return [(r.order, r) for r in records.records(trip.id)]


def describe(record: Record, trip: Trip) -> tuple[str, str]:
    """(what happened, about what) for one record in ``tripdash log``."""
    items = note_items(trip)
    data = record.data
    if record.kind == NOTE:
        text = data.get("text") or ""
        if not text:
            return "note", "(deleted)"
        first = one_line(text)
        return "note", first[:60] + ("..." if len(first) > 60 else "")
    if record.kind == SHIFT:
        minutes = data.get("minutes", 0)
        until = data.get("until")
        span = f"until {one_line(until)}" if until else "until the end of the day"
        if record.item_id not in items:
            span += " (orphaned: the event is no longer in the trip)"
        return "late", f"{minutes:+d} min {span}"
    return one_line(record.kind), "(a record of a newer tripdash, kept and passed on)"


# -- parsers ----------------------------------------------------------------------------


def note_verb() -> tuple[argparse.ArgumentParser, Handler]:
    parser = _Parser(
        prog="tripdash note",
        description="Write, edit or show the note on an event or a counterpart. With TEXT, "
        "save it; without, open $VISUAL (else $EDITOR) on the current note; an empty text "
        "deletes it (its versions stay in the log).",
    )
    _path_argument(parser)
    parser.add_argument("item", metavar="ITEM", help="an event id or a counterpart id")
    parser.add_argument("text", metavar="TEXT", nargs="?", help="the note's new text")
    parser.add_argument("--show", action="store_true", help="print the current note")
    _state_option(parser)
    _as_option(parser)
    _http_option(parser)
    _time_format_option(parser)
    return parser, cmd_note


def late_verb() -> tuple[argparse.ArgumentParser, Handler]:
    parser = _Parser(
        prog="tripdash late",
        description="Say how late the day runs from an event on (0: back on time; negative: "
        "early), until an event or the end of that local day. A later shift from the same "
        "event replaces this one; travel and fixed events do not move.",
    )
    _path_argument(parser)
    parser.add_argument("minutes", metavar="MINUTES", type=int, help="minutes late (or -early)")
    parser.add_argument(
        "--from",
        dest="from_event",
        metavar="EVENT",
        help="from this event (default: the event in progress, else the next)",
    )
    parser.add_argument("--until", metavar="EVENT", help="until this event, included")
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="the time to find the event in progress at (default: now)",
    )
    _state_option(parser)
    _as_option(parser)
    _http_option(parser)
    _time_format_option(parser)
    return parser, cmd_late


def readout_verb() -> tuple[argparse.ArgumentParser, Handler]:
    parser = _Parser(
        prog="tripdash readout",
        description="Write the readout of a day as Markdown: each event with its talking "
        "points covered and not and its notes, then what is still open per counterpart.",
    )
    _path_argument(parser)
    parser.add_argument(
        "--day",
        type=parse_day_words,
        metavar="YYYY-MM-DD",
        help="the local date; or today (the default), tomorrow, yesterday where the delegation is",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="the time to take as now, for today (default: now)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write it to FILE (whole or not at all)"
    )
    _state_option(parser)
    _http_option(parser)
    _time_format_option(parser)
    return parser, cmd_readout
