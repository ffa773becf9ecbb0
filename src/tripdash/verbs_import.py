"""The ``import`` verb: calendar files (.ics) into a trip file (see ``domain.ics_import``).

Exit codes: 0 written (or printed), 1 bad input or a refused write (nothing is
written), 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from tripdash.domain.text import one_line

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def cmd_import(args: argparse.Namespace) -> int:
    """Import the calendars; write ``-o`` (never overwriting) or print the trip."""
    from tripdash.domain.ics_import import ImportInvalid, ics_files, import_calendars
    from tripdash.domain.tomlwrite import write_new

    output = args.output
    if output is not None and not output.endswith(".toml"):
        print("tripdash: -o: a trip file's name ends in .toml", file=sys.stderr)
        return EXIT_USAGE
    if output is not None and Path(output).exists():
        print(f"tripdash: {one_line(output)} already exists: not overwritten", file=sys.stderr)
        return EXIT_INVALID
    try:
        files = ics_files(args.paths)
    except OSError as exc:
        print(f"tripdash: {one_line(str(exc.filename))}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.first and args.last and args.last < args.first:
        print("tripdash: --to is before --from", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = import_calendars(
            files,
            output=output,
            title=args.title,
            home_tz=args.home_tz,
            first=args.first,
            last=args.last,
        )
    except ImportInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("tripdash: nothing written", file=sys.stderr)
        return EXIT_INVALID
    if result.dropped:
        print("tripdash: not carried over, or changed on the way:", file=sys.stderr)
        for line in result.dropped:
            print(f"  - {one_line(line)}", file=sys.stderr)
    for warning in result.loaded.warnings:
        print(warning, file=sys.stderr)
    trip = result.loaded.trip
    if output is None:
        sys.stdout.write(result.text)
        return EXIT_OK
    try:
        write_new(Path(output), result.text)
    except FileExistsError:
        print(f"tripdash: {one_line(output)} already exists: not overwritten", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"tripdash: {one_line(output)}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    print(
        f"wrote {one_line(output)}: {len(trip.events)} event(s), "
        f"{len(trip.counterparts)} counterpart(s), {len(trip.places)} place(s)"
    )
    return EXIT_OK


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2023-01-17") from None


def import_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="tripdash import",
        description="Turn calendar files (.ics, from Outlook, Google Calendar, Apple "
        "Calendar...) into a trip file that passes `tripdash check`.",
        epilog="What cannot be carried over is listed on stderr and at the top of the file. "
        "Exit status: 0 imported, 1 bad input (nothing written), 2 usage error.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="FILE.ics|DIR", help="calendar files, or folders of them"
    )
    parser.add_argument(
        "-o", "--output", metavar="TRIP.toml", help="write the trip here (default: print it)"
    )
    parser.add_argument("--title", help="the trip's title (default: the calendar's name)")
    parser.add_argument(
        "--home-tz",
        metavar="ZONE",
        help="home's IANA zone (default: the calendar's zone, else its events' most common)",
    )
    parser.add_argument(
        "--from",
        dest="first",
        type=_day,
        metavar="YYYY-MM-DD",
        help="first day of the trip, for recurring events (default: the first single event's)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        type=_day,
        metavar="YYYY-MM-DD",
        help="last day of the trip, for recurring events (default: the last single event's)",
    )
    return parser
