"""The hand-out verbs: ``tripdash export`` (iCalendar) and ``tripdash sheet`` (PDF day sheet).

Both load one trip, keep what ``--redact PROFILE`` allows, and write the result whole
or not at all (a temporary file renamed over the target). The clock is read here and
only here (``--at TIME`` replaces it), then passed in.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path

from tripdash.cli import (
    EXIT_OK,
    Handler,
    UsageError,
    _http_option,
    _Parser,
    _path_argument,
    _print_problems,
    _state_option,
    day_named,
    load_single,
    locations,
    open_store,
    parse_day_words,
    say,
)
from tripdash.domain.handouts import ExpectedTimes, HandoutError, fingerprint, write_atomic
from tripdash.domain.model import Trip
from tripdash.domain.redact import DEFAULT_PROFILE, PROFILES
from tripdash.domain.text import one_line

#: ``--day`` of export and sheet.
DAY_HELP = "only this local date; or today, tomorrow, yesterday where the delegation is (at --at)"


def _now(args: argparse.Namespace) -> datetime:
    from tripdash.domain.times import system_clock

    if args.at is None:
        return system_clock()
    from tripdash.cli import parse_at

    return parse_at(args.at)


def _trip_bytes(path: str, args: argparse.Namespace) -> bytes:
    """The exact bytes the trip was loaded from (a file, or an address's cached copy)."""
    location = locations([path])[0]
    from tripdash.domain.sources import default_cache_dir, is_url

    if is_url(location):
        from tripdash.domain.fetch import TripCache

        copy = TripCache(default_cache_dir() / "trips").load(location)
        if copy is None:
            raise UsageError(f"{location}: no saved copy to print the version of")
        return copy.body
    try:
        return Path(location).read_bytes()
    except OSError as exc:
        raise UsageError(f"{location}: {exc.strerror or exc}") from None


def _not_a_folder(out: Path | None) -> None:
    if out is not None and out.is_dir():
        raise UsageError(
            f"{one_line(str(out))}: is a folder, cannot write over it: give a file name"
        )


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redact",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        metavar="PROFILE",
        help="what to keep: full (default, everything), logistics (no talking points, "
        "notes or press lines), public (only events with a press line: times, places, "
        "press line)",
    )
    parser.add_argument(
        "--planned",
        action="store_true",
        help="the times as planned, even when the day runs late (default: the expected "
        "times of the running-late shifts recorded, with the planned ones beside them)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="the time to say it was made (ISO 8601 with an offset, or "
        "'2023-01-17T09:30 America/New_York'; default: now)",
    )
    _http_option(parser)


def _expected(args: argparse.Namespace, trip: Trip) -> ExpectedTimes | None:
    """The expected times of the shifts recorded for ``trip`` (None with ``--planned``).

    Read from the marks database only when there is one: a hand-out made on a machine
    that never ran tripdash creates no state directory. A store that cannot be read is
    said on stderr, and the plan is printed.
    """
    from tripdash.domain.handouts import expected_times
    from tripdash.domain.late import lateness
    from tripdash.domain.records import RecordStore
    from tripdash.domain.store import DB_NAME, MarkStore, StoreError, default_state_dir
    from tripdash.domain.times import system_clock

    if args.planned:
        return None
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    if not (state_dir / DB_NAME).exists():
        return None
    try:
        marks = MarkStore(state_dir)
        try:
            records = RecordStore(marks, clock=system_clock)  # nothing is written
            try:
                shifts = records.shifts(trip.id)
            finally:
                records.close()
        finally:
            marks.close()
    except StoreError as exc:
        say(
            f"tripdash: running-late shifts not read ({one_line(str(exc))}): the plan is printed",
            file=sys.stderr,
        )
        return None
    found = expected_times(lateness(trip, shifts))
    if found:
        say(
            f"tripdash: {len(found)} event{'s' * (len(found) != 1)} at expected times "
            "(running late; --planned prints the plan)",
            file=sys.stderr,
        )
    return found


def cmd_export(args: argparse.Namespace) -> int:
    """``tripdash export``: the trip as an iCalendar file."""
    from tripdash.domain.ics import export_ics, read_previous

    now = _now(args)
    result = load_single(args.path, args)
    _print_problems(result.warnings, sys.stderr)
    trip = result.trip
    args.day = day_named(args.day, trip, lambda: now)
    out = None if args.output in (None, "-") else Path(args.output)
    _not_a_folder(out)
    previous_path = Path(args.previous) if args.previous else out
    previous = None
    if previous_path is not None and (args.previous or previous_path.exists()):
        try:
            data = previous_path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{previous_path}: {exc.strerror or exc}") from None
        try:
            previous = read_previous(
                data, name=str(previous_path), trip_id=trip.id, profile=args.redact, day=args.day
            )
        except HandoutError as exc:
            print(f"tripdash: {exc}", file=sys.stderr)
            return exc.exit_code
    try:
        ics = export_ics(
            trip,
            now=now,
            profile=args.redact,
            day=args.day,
            previous=previous,
            expected=_expected(args, trip),
        )
        if out is None:
            sys.stdout.buffer.write(ics)
            sys.stdout.flush()
        else:
            write_atomic(out, ics)
    except HandoutError as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return exc.exit_code
    if out is not None:
        count = ics.count(b"\r\nBEGIN:VEVENT\r\n")
        print(f"{one_line(str(out))}: {count} event{'s' if count != 1 else ''} ({args.redact})")
    return EXIT_OK


def cmd_sheet(args: argparse.Namespace) -> int:
    """``tripdash sheet``: the printable day sheet as a PDF."""
    from tripdash.handouts.sheet import render_sheet

    now = _now(args)
    result = load_single(args.path, args)
    _print_problems(result.warnings, sys.stderr)
    trip = result.trip
    args.day = day_named(args.day, trip, lambda: now)
    version = fingerprint(_trip_bytes(args.path, args))
    done = None
    if args.marks:
        with open_store(args) as store:
            done = store.done_ids(trip.id)
    if args.output is None:
        out: Path | None = Path(f"{trip.id}-{args.day or 'all'}.pdf")
    else:
        out = None if args.output == "-" else Path(args.output)
    _not_a_folder(out)
    if out is None and sys.stdout.isatty():
        raise UsageError("-o -: refusing to write a PDF to a terminal; redirect it or name a file")
    try:
        pdf = render_sheet(
            trip,
            now=now,
            fingerprint=version,
            day=args.day,
            paper=args.paper,
            profile=args.redact,
            done=done,
            expected=_expected(args, trip),
        )
        if out is None:
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        else:
            write_atomic(out, pdf)
    except HandoutError as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return exc.exit_code
    if out is not None:
        pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
        print(
            f"{one_line(str(out))}: {args.paper}, {args.redact}"
            + (f", {pages} page{'s' if pages != 1 else ''}" if pages else "")
        )
    return EXIT_OK


def export_verb() -> tuple[argparse.ArgumentParser, Handler]:
    """The parser of ``tripdash export`` and its handler."""
    export = _Parser(
        prog="tripdash export",
        description="Write the programme as an iCalendar file (RFC 5545) for phones and "
        "calendar programs. Importing a newer export updates events in place.",
        epilog="SEQUENCE numbers come from the previous export: the -o file when it exists, "
        "or --previous FILE. Exit status: 0 written, 1 an invalid trip or nothing to export, "
        "2 a usage error or a path that cannot be read or written.",
    )
    _path_argument(export)
    export.add_argument("--format", choices=("ics",), default="ics", help="ics (the default)")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write here (default: standard output)"
    )
    export.add_argument(
        "--previous",
        metavar="FILE",
        help="the previous export of the same trip, profile and day (default: the -o file "
        "if it exists)",
    )
    export.add_argument("--day", type=parse_day_words, metavar="YYYY-MM-DD", help=DAY_HELP)
    _common_options(export)
    _state_option(export)
    return export, cmd_export


def sheet_verb() -> tuple[argparse.ArgumentParser, Handler]:
    """The parser of ``tripdash sheet`` and its handler."""
    sheet = _Parser(
        prog="tripdash sheet",
        description="Write a printable day sheet (PDF): one page per local day where it fits.",
        epilog="Exit status: 0 written, 1 an invalid trip or nothing to print, 2 a usage "
        "error or a path that cannot be read or written.",
    )
    _path_argument(sheet)
    which = sheet.add_mutually_exclusive_group()
    which.add_argument("--day", type=parse_day_words, metavar="YYYY-MM-DD", help=DAY_HELP)
    which.add_argument("--all", action="store_true", help="every day of the trip (the default)")
    sheet.add_argument(
        "-o",
        "--output",
        metavar="FILE.pdf",
        help="write here ('-' for standard output; default: TRIP-ID-DAY.pdf or "
        "TRIP-ID-all.pdf in this folder)",
    )
    sheet.add_argument(
        "--paper", choices=("a4", "letter"), default="a4", help="a4 (default) or letter"
    )
    sheet.add_argument(
        "--marks", action="store_true", help="tick what is marked done (events, talking points)"
    )
    _common_options(sheet)
    _state_option(sheet)
    return sheet, cmd_sheet
