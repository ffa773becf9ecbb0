"""The ``tripdash`` command: the dashboard, and the ``check`` and ``agenda`` verbs.

Exit codes: 0 success, 1 an invalid trip (or a failed action), 2 usage errors
or an unreadable path. Errors go to stderr; no traceback reaches the user for
bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from tripdash.domain.loader import LoadResult, Problem, TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.text import one_line

if TYPE_CHECKING:
    from tripdash.domain.sources import TripSource
    from tripdash.domain.store import MarkStore
    from tripdash.domain.sync import SyncConfig

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake on the command line or a path that cannot be used (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for p in problems:
        print(p, file=out)


def locations(paths: Sequence[str]) -> list[str]:
    """Expand folders into their trip files; keep files and addresses. UsageError if unusable."""
    from tripdash.domain.sources import expand

    found: list[str] = []
    for raw in paths:
        try:
            files = expand([raw])
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(f"{raw}: {reason}") from None
        if not files:
            raise UsageError(f"{raw}: no .toml trip files in this folder")
        found.extend(files)
    return found


def make_source(location: str, args: argparse.Namespace) -> TripSource:
    """A file or an address, with the fetch settings of the command line and environment."""
    import os

    from tripdash.domain.sources import TripSource, default_cache_dir, is_url

    cache_dir = default_cache_dir()
    if not is_url(location):
        # Files: validated trips are cached by content, so opening one again is fast.
        return TripSource(location, parsed_cache=cache_dir / "parsed")
    from tripdash.domain.fetch import FetchSettings, TripCache

    settings = FetchSettings(
        allow_http=getattr(args, "allow_http", False),
        token=os.environ.get("TRIPDASH_TOKEN") or None,
    )
    return TripSource(
        location,
        cache=TripCache(cache_dir / "trips"),
        settings=settings,
        parsed_cache=cache_dir / "parsed",
    )


def load_location(location: str, args: argparse.Namespace) -> LoadResult:
    """Load one file or address; say on stderr when an address fell back to its cached copy.

    Raises :class:`TripInvalid`, or :class:`FetchFailed` when nothing could be had.
    """
    from tripdash.domain.sources import FetchError

    source = make_source(location, args)
    try:
        loaded = source.load()
    except FetchError as exc:
        raise FetchFailed(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{location}: {exc.strerror or exc}") from None
    status = loaded.status
    if status.offline:
        print(
            f"tripdash: {_about(source.display, status.reason)}; using the copy fetched "
            f"{status.fetched_at:%Y-%m-%d %H:%M} UTC",
            file=sys.stderr,
        )
        for problem in loaded.problems:
            print(f"  {problem}", file=sys.stderr)
    assert loaded.result is not None
    return loaded.result


def _about(location: str, reason: str | None) -> str:
    """``URL: reason``, without saying the address twice when the reason already does."""
    reason = reason or "unknown error"
    return reason if reason.startswith(location) else f"{location}: {reason}"


class FetchFailed(Exception):
    """An address could not be fetched and no copy of it was saved (exit 1)."""


def load_single(path: str, args: argparse.Namespace) -> LoadResult:
    """Load the one trip at ``path`` (a file, an address, or a folder holding one trip).

    Raises :class:`UsageError`, :class:`TripInvalid` or :class:`FetchFailed`.
    """
    found = locations([path])
    if len(found) > 1:
        names = ", ".join(Path(f).name for f in found)
        raise UsageError(f"{path} holds {len(found)} trips ({names}): name one file")
    return load_location(found[0], args)


# -- verbs ----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    files = locations(args.paths)
    status = EXIT_OK
    seen_ids: dict[str, str] = {}
    for f in files:
        try:
            result = load_location(f, args)
        except FetchFailed as exc:
            status = EXIT_INVALID
            print(f"FAIL  {f}  cannot be fetched")
            print(f"tripdash: {exc}", file=sys.stderr)
            continue
        except TripInvalid as exc:
            status = EXIT_INVALID
            errors = len(exc.errors)
            print(f"FAIL  {f}  {errors} error{'s' if errors != 1 else ''}")
            _print_problems(exc.problems, sys.stderr)
            continue
        trip = result.trip
        if trip.id in seen_ids:
            status = EXIT_INVALID
            print(f"FAIL  {f}  1 error")
            print(
                f"{f}:1: trip.id: trip id {trip.id!r} is also the id of {seen_ids[trip.id]}: "
                "marks would be shared; give one of them another id",
                file=sys.stderr,
            )
            continue
        seen_ids[trip.id] = f
        print(f"ok  {f}  {_counts(trip)}")
        _print_problems(result.warnings, sys.stderr)
    return status


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(trip: Trip) -> str:
    return ", ".join(
        [
            _plural(len(trip.events), "event"),
            _plural(len(trip.counterparts), "counterpart"),
            _plural(len(trip.places), "place"),
        ]
    )


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2023-01-17") from None


def open_store(args: argparse.Namespace) -> MarkStore:
    """The marks store of ``--state-dir`` (else $TRIPDASH_STATE_DIR, else the user's)."""
    from tripdash.domain.store import MarkStore, StoreError, default_state_dir

    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    try:
        store = MarkStore(state_dir)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if store.notice:
        print(f"tripdash: {store.notice}", file=sys.stderr)
    return store


def cmd_agenda(args: argparse.Namespace) -> int:
    from tripdash.domain.agenda import agenda_json, agenda_text

    result = load_single(args.path, args)
    _print_problems(result.warnings, sys.stderr)
    trip = result.trip
    with open_store(args) as store:
        done = store.done_ids(trip.id)
    if args.json:
        sys.stdout.write(agenda_json(trip, done, args.day) + "\n")
    else:
        sys.stdout.write(agenda_text(trip, done, args.day))
    return EXIT_OK


def cmd_mark(args: argparse.Namespace) -> int:
    result = load_single(args.path, args)
    trip = result.trip
    items = trip.items()
    if args.item not in items:
        import difflib

        close = difflib.get_close_matches(args.item, list(items), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        print(
            f"tripdash: {one_line(repr(args.item))} is not an event id or "
            f"counterpart-id/point-id of {trip.id}{hint}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    from tripdash.domain.store import default_author

    who = args.as_name or default_author()
    from tripdash.domain.store import StoreError

    with open_store(args) as store:
        try:
            store.mark(trip.id, args.item, not args.undo, who)
        except StoreError as exc:
            print(f"tripdash: {exc}", file=sys.stderr)
            return EXIT_INVALID
    state = "not done" if args.undo else "done"
    print(f"{one_line(args.item)}: {state} ({one_line(items[args.item])}), by {one_line(who)}")
    return EXIT_OK


def cmd_log(args: argparse.Namespace) -> int:
    from tripdash.domain.times import zone_abbrev

    trip = load_single(args.path, args).trip
    items = trip.items()
    with open_store(args) as store:
        history = store.history(trip.id)
    if not history:
        print(f"No marks yet for {trip.id}.")
        return EXIT_OK
    home = trip.home_tz
    for mark in history:
        at_home = mark.at.astimezone(home)
        when = f"{at_home:%a %d %b %Y %H:%M} {zone_abbrev(at_home)}"
        state = "done    " if mark.done else "undone  "
        what = items.get(mark.item_id)
        label = one_line(what) if what is not None else "(orphaned: no longer in the trip)"
        print(f"{when}  {one_line(mark.who):<12} {state}{one_line(mark.item_id)}  {label}")
    return EXIT_OK


#: Textual's frame ceiling for the dashboard (see :func:`prepare_textual`).
FRAMES_PER_SECOND = 120


def prepare_textual() -> None:
    """Settings Textual reads once, when it is first imported: call before importing it.

    Textual draws at most 60 frames a second, so a key arriving just after a frame (the
    clock's tick, a scroll bar) waited up to 16.7 ms for the next one: that wait, not
    drawing, was most of the slowest key presses. Frames are drawn only when something
    changed, so a higher ceiling costs nothing while idle. A ``TEXTUAL_FPS`` of the
    user's own is kept.
    """
    import os

    os.environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))


def cmd_dashboard(args: argparse.Namespace) -> int:
    from tripdash.domain.times import parse_instant

    at = None
    if args.at is not None:
        try:
            at = parse_instant(args.at)
        except ValueError as exc:
            raise UsageError(f"--at: {exc}") from None
    path = args.path if args.path is not None else "trips"
    if args.path is None and not Path(path).exists():
        raise UsageError(
            "no PATH given and there is no trips/ folder here: run `tripdash PATH` with a "
            "trip file or a folder of them"
        )
    if args.refresh < 0:
        raise UsageError("--refresh: give a number of seconds, or 0 for never")
    sources = [make_source(location, args) for location in locations([path])]
    prepare_textual()
    from tripdash.app import run_dashboard
    from tripdash.domain.store import default_author, default_state_dir

    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    return run_dashboard(
        sources,
        at=at,
        state_dir=state_dir,
        who=args.as_name or default_author(),
        refresh=args.refresh,
        sync=sync_config(args),
    )


def sync_config(args: argparse.Namespace) -> SyncConfig | None:
    """``--sync URL`` or ``$TRIPDASH_SYNC_URL``; None when neither is given."""
    import os

    url = getattr(args, "sync", None) or os.environ.get("TRIPDASH_SYNC_URL")
    if not url:
        return None
    from tripdash.domain.fetch import FetchError, check_allowed
    from tripdash.domain.sync import SyncConfig

    config = SyncConfig.from_url(url, allow_http=args.allow_http)
    try:
        check_allowed(config.url, allow_http=args.allow_http)
    except FetchError as exc:
        raise UsageError(f"--sync: {exc}") from None
    return config


def cmd_sync(args: argparse.Namespace) -> int:
    from tripdash.domain.sync import SyncError, database_name, sync_once

    config = sync_config(args)
    if config is None:
        raise UsageError("give the team's server with --sync URL or TRIPDASH_SYNC_URL")
    trip = load_single(args.path, args).trip
    with open_store(args) as store:
        try:
            result = sync_once(store, trip.id, config)
        except SyncError as exc:
            waiting = store.count_unsynced(trip.id, config.server)
            print(f"tripdash: sync failed: {exc}", file=sys.stderr)
            if waiting:
                print(f"tripdash: {waiting} mark(s) waiting to be sent", file=sys.stderr)
            return EXIT_INVALID
    print(f"{trip.id} <-> {config.url}/{database_name(trip.id)}: {result}")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from tripdash.domain.diff import diff_trips

    old = load_single(args.old, args).trip
    new = load_single(args.new, args).trip
    changes = diff_trips(old, new)
    if not changes:
        print("No changes.")
    for change in changes:
        print(f"- {change}")
    return EXIT_OK


# -- parsing ---------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace], int]


def _check_verb() -> tuple[argparse.ArgumentParser, Handler]:
    check = _Parser(
        prog="tripdash check",
        description="Validate trip files and report every problem as FILE:LINE: field: message.",
        epilog="Exit status: 0 all valid, 1 any invalid, 2 usage error or unreadable path.",
    )
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="a trip file, a folder of them, or an https URL"
    )
    _http_option(check)
    return check, cmd_check


def _agenda_verb() -> tuple[argparse.ArgumentParser, Handler]:
    agenda = _Parser(
        prog="tripdash agenda",
        description="Print the programme by local day, with local and home times.",
    )
    _path_argument(agenda)
    agenda.add_argument("--day", type=_parse_day, metavar="YYYY-MM-DD", help="only this local date")
    agenda.add_argument("--json", action="store_true", help="print JSON for scripts")
    _state_option(agenda)
    _http_option(agenda)
    return agenda, cmd_agenda


def _mark_verb() -> tuple[argparse.ArgumentParser, Handler]:
    mark = _Parser(
        prog="tripdash mark",
        description="Mark an event or a talking point done (or, with --undo, not done).",
    )
    _path_argument(mark)
    mark.add_argument(
        "item", metavar="ITEM", help="an event id, or counterpart-id/point-id for a talking point"
    )
    mark.add_argument("--undo", action="store_true", help="mark it not done")
    _state_option(mark)
    _as_option(mark)
    _http_option(mark)
    return mark, cmd_mark


def _log_verb() -> tuple[argparse.ArgumentParser, Handler]:
    log = _Parser(
        prog="tripdash log",
        description="Print the history of marks of a trip (when, by whom, what), for a handover.",
    )
    _path_argument(log)
    _state_option(log)
    _http_option(log)
    return log, cmd_log


def _sync_verb() -> tuple[argparse.ArgumentParser, Handler]:
    sync = _Parser(
        prog="tripdash sync",
        description="Sync a trip's marks with the team's CouchDB server once, and say what moved.",
    )
    _path_argument(sync)
    _sync_option(sync)
    _state_option(sync)
    _http_option(sync)
    return sync, cmd_sync


def _diff_verb() -> tuple[argparse.ArgumentParser, Handler]:
    diff = _Parser(
        prog="tripdash diff",
        description="Print what changed between two versions of a trip (files or URLs).",
    )
    diff.add_argument("old", metavar="OLD", help="the earlier version")
    diff.add_argument("new", metavar="NEW", help="the later version")
    _http_option(diff)
    return diff, cmd_diff


def _export_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_handouts import export_verb

    return export_verb()


def _sheet_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_handouts import sheet_verb

    return sheet_verb()


#: The verbs, each with a function building its parser: only the verb used is built
#: (building all seven parsers cost a millisecond and a half at every start).
VERBS: dict[str, Callable[[], tuple[argparse.ArgumentParser, Handler]]] = {
    "check": _check_verb,
    "agenda": _agenda_verb,
    "mark": _mark_verb,
    "log": _log_verb,
    "sync": _sync_verb,
    "diff": _diff_verb,
    "export": _export_verb,
    "sheet": _sheet_verb,
}


def _sync_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sync",
        metavar="URL",
        help="the team's CouchDB server (default: $TRIPDASH_SYNC_URL); credentials from "
        "the URL or $TRIPDASH_SYNC_USER / $TRIPDASH_SYNC_PASSWORD",
    )


def _http_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http:// addresses (refused by default, except on loopback)",
    )


def _path_argument(parser: argparse.ArgumentParser) -> None:
    """The one trip a verb works on: every verb that takes it accepts the same forms."""
    parser.add_argument(
        "path", metavar="PATH", help="a trip file, an https address, or a folder with one trip"
    )


def _state_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where marks are kept (default: $TRIPDASH_STATE_DIR, else the user state directory)",
    )


def _as_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_name", metavar="NAME", help="who is marking (default: your login name)"
    )


def _dashboard_parser(verbs: Sequence[str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tripdash",
        description="A keyboard-driven dashboard of a delegation's trip programme.",
        epilog="Other commands: "
        + ", ".join(f"tripdash {v}" for v in verbs)
        + " (each has --help).",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="a trip file, a folder of them, or an https URL (default: ./trips)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="rehearse: start the clock at TIME (ISO 8601 with an offset, or "
        "'2023-01-17T09:30 America/New_York') and let it run on",
    )
    parser.add_argument(
        "--refresh",
        type=int,
        default=60,
        metavar="SECONDS",
        help="fetch a trip address again every SECONDS (default 60; 0: never). "
        "Local files are reloaded whenever they change.",
    )
    _state_option(parser)
    _as_option(parser)
    _sync_option(parser)
    _http_option(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tripdash`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in VERBS:
            parser, handler = VERBS[args[0]]()
            return handler(parser.parse_args(args[1:]))
        return cmd_dashboard(_dashboard_parser(list(VERBS)).parse_args(args))
    except UsageError as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TripInvalid as exc:
        _print_problems(exc.problems, sys.stderr)
        return EXIT_INVALID
    except FetchFailed as exc:
        print(f"tripdash: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `tripdash agenda trips/ | head`: the reader left; that is not an error.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
