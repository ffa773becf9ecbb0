"""The ``config``, ``schema`` and ``new`` verbs: settings, the trip schema, a starting trip.

Registered in :data:`tripdash.cli.VERBS`. Exit codes as everywhere: 0 success, 1 an
invalid config or a refused action, 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tripdash.domain.loader import Problem
from tripdash.domain.text import one_line

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def print_problems(problems: Sequence[Problem]) -> None:
    """Each problem on its own line on stderr (they are escaped by ``Problem.__str__``)."""
    for p in problems:
        print(p, file=sys.stderr)


def _shown(value: object) -> str:
    from tripdash.domain.tomlwrite import toml_value

    if value is None:
        return "(not set)"
    return one_line(toml_value(value))


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective settings and their origins, or (``--init``) write a config file."""
    from tripdash.config import config_location, effective_settings, init_text, load_config

    if args.init:
        from tripdash.domain.tomlwrite import write_new

        path, _ = config_location(args.config)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_new(path, init_text(), mode=0o600)
        except FileExistsError:
            print(
                f"tripdash: {one_line(str(path))} already exists: not overwritten "
                "(move it aside to write a fresh one)",
                file=sys.stderr,
            )
            return EXIT_INVALID
        except OSError as exc:
            print(f"tripdash: {one_line(str(path))}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
        print(f"wrote {one_line(str(path))}: every setting at its default")
        return EXIT_OK
    config, problems = load_config(args.config)
    state = "" if config.path_exists else "  (not found: defaults)"
    print(f"config file: {one_line(str(config.path))}{state}")
    rows = effective_settings(config)
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        print(f"{one_line(name):<{width}}  {_shown(value)}  [{one_line(origin)}]")
    print_problems(problems)
    return EXIT_INVALID if problems else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of trip format 1."""
    from tripdash.domain.json_schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """Write a commented starting trip that passes ``check``; never overwrite."""
    from tripdash.domain import times
    from tripdash.domain.loader import TripInvalid, parse_trip_text
    from tripdash.domain.model import slugify
    from tripdash.domain.template import new_trip_text
    from tripdash.domain.tomlwrite import write_new

    path = Path(args.file)
    if path.suffix != ".toml":
        print("tripdash: a trip file's name ends in .toml", file=sys.stderr)
        return EXIT_USAGE
    try:
        times.get_zone(args.home_tz)
    except times.ZoneError as exc:
        print(f"tripdash: --home-tz: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    day = args.date
    if day is None:
        # The shell is the one place that may read the real clock; the day is at home.
        day = times.system_clock().astimezone(times.get_zone(args.home_tz)).date()
    trip_id = slugify(path.stem, limit=80)
    title = args.title or path.stem.replace("-", " ").replace("_", " ").strip() or "New trip"
    text = new_trip_text(
        trip_id=trip_id, title=title, home_tz=args.home_tz, day=day, schema=args.schema
    )
    try:
        parse_trip_text(text, source=str(path), default_id=trip_id)
    except TripInvalid as exc:  # a --title or --schema that breaks the file: say so
        print_problems(exc.problems)
        return EXIT_INVALID
    try:
        write_new(path, text)
    except FileExistsError:
        print(f"tripdash: {one_line(str(path))} already exists: not overwritten", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"tripdash: {one_line(str(path))}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {one_line(str(path))}: check it with `tripdash check {one_line(str(path))}`")
    return EXIT_OK


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2023-01-17") from None


def config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE``: the settings file (default: $TRIPDASH_CONFIG, else the user's)."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the settings file (default: $TRIPDASH_CONFIG, else "
        "$XDG_CONFIG_HOME/tripdash/config.toml)",
    )


def time_format_option(parser: argparse.ArgumentParser, *, with_config: bool = True) -> None:
    """``--time-format 12|24`` for a verb that shows times of day (and ``--config FILE``,
    where the default comes from, unless the verb has it already)."""
    from tripdash.domain.times import TIME_FORMATS

    parser.add_argument(
        "--time-format",
        type=int,
        choices=TIME_FORMATS,
        metavar="12|24",
        help="show times of day as 9:15 am (12) or 09:15 (24); default: "
        "$TRIPDASH_TIME_FORMAT, else the config's time_format, else 24. JSON stays ISO 8601.",
    )
    if with_config:
        config_option(parser)


def config_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="tripdash config",
        description="Print the settings in force and where each came from (flag, "
        "environment, file, default); --init writes a commented file of the defaults.",
        epilog="Exit status: 0 no problems, 1 a problem in the config, 2 usage error.",
    )
    parser.add_argument(
        "--init",
        action="store_true",
        help="write the config file with every setting at its default (never overwrites)",
    )
    config_option(parser)
    return parser


def schema_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return parser_class(
        prog="tripdash schema",
        description="Print the JSON Schema of trip files (format 1), for editors.",
    )


def new_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="tripdash new",
        description="Write a commented starting trip file that passes `tripdash check`.",
        epilog="Never overwrites a file. Exit status: 0 written, 1 refused, 2 usage error.",
    )
    parser.add_argument("file", metavar="FILE", help="the trip file to create (NAME.toml)")
    parser.add_argument("--title", help="the trip's title (default: from the file name)")
    parser.add_argument(
        "--home-tz",
        default="Europe/London",
        metavar="ZONE",
        help="home's IANA time zone (default: Europe/London)",
    )
    parser.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day of the first event (default: today at home)",
    )
    parser.add_argument(
        "--schema",
        metavar="PATH|URL",
        help="write a #:schema line pointing editors at this JSON Schema (see `tripdash schema`)",
    )
    return parser
