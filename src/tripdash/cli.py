"""The ``tripdash`` command: the dashboard, and the ``check`` and ``agenda`` verbs.

Exit codes: 0 success, 1 an invalid trip (or a failed action), 2 usage errors
or an unreadable path. Errors go to stderr; no traceback reaches the user for
bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeVar

from tripdash.domain.loader import LoadResult, Problem, TripInvalid
from tripdash.domain.model import Trip
from tripdash.domain.text import escaped, one_line

if TYPE_CHECKING:
    from tripdash.config import Config
    from tripdash.domain.records import RecordStore, Shift
    from tripdash.domain.sources import TripSource
    from tripdash.domain.store import MarkStore
    from tripdash.domain.sync import SyncConfig

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: `tripdash diff` found changes (as diff(1) exits 1).
EXIT_CHANGES = 1


class UsageError(Exception):
    """A mistake on the command line or a path that cannot be used (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {escaped(message)}\n")


def say(text: object, file: TextIO | None = None) -> None:
    """Print one line of output: every line the verbs print goes through here, so that a
    file name, a server's message or an id can never send an escape sequence, a control
    or a bidi override to the terminal (already escaped text is unchanged)."""
    print(escaped(str(text)), file=sys.stdout if file is None else file)


def _print_problems(problems: Sequence[Problem], out: TextIO) -> None:
    for p in problems:
        say(p, file=out)


def locations(paths: Sequence[str]) -> list[str]:
    """Expand folders into their trip files; keep files and addresses. UsageError if unusable."""
    from tripdash.domain.sources import check_url, expand, is_url

    found: list[str] = []
    for raw in paths:
        if is_url(raw):
            try:
                check_url(raw)
            except ValueError as exc:
                raise UsageError(f"{_short_url(raw)}: {exc}") from None
        try:
            files = expand([raw])
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(f"{raw}: {reason}") from None
        if not files:
            raise UsageError(f"{raw}: no .toml trip files in this folder")
        found.extend(files)
    return found


def _short_url(url: str) -> str:
    """An address fit for a message: credentials out, escaped, at most 100 characters."""
    from tripdash.domain.fetch import redact

    try:
        shown = redact(url)
    except ValueError:  # the parser refuses it: show it without any user:password part
        scheme, _, rest = url.partition("://")
        shown = f"{scheme}://{rest.rsplit('@', 1)[-1]}" if "@" in rest.split("/", 1)[0] else url
    shown = one_line(shown)
    return shown if len(shown) <= 100 else shown[:99] + "…"


def make_source(location: str, args: argparse.Namespace) -> TripSource:
    """A file or an address, with the fetch settings of the command line and environment."""
    import os

    from tripdash.domain.sources import TripSource, default_cache_dir, is_url

    cache_dir = default_cache_dir()
    _check_cache_dir(cache_dir)
    if not is_url(location):
        # Files: validated trips are cached by content, so opening one again is fast.
        return TripSource(location, parsed_cache=cache_dir / "parsed")
    from tripdash.domain.fetch import FetchSettings, TripCache

    settings = FetchSettings(
        allow_http=getattr(args, "allow_http", False),
        token=os.environ.get("TRIPDASH_TOKEN") or None,
        accept_new_trip=getattr(args, "accept_new_trip", False),
    )
    return TripSource(
        location,
        cache=TripCache(cache_dir / "trips"),
        settings=settings,
        parsed_cache=cache_dir / "parsed",
    )


def _check_cache_dir(cache_dir: Path) -> None:
    """The cache directory must be the user's own and private: else refuse, saying why."""
    from tripdash.domain import safedir

    try:
        safedir.private_dir(cache_dir)
    except safedir.UnsafeLocation as exc:
        raise UsageError(f"cache directory: {exc} (or set TRIPDASH_CACHE_DIR)") from None
    except OSError:
        pass  # cannot be made (a read-only disk): trips load without a cache


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
        say(
            f"tripdash: {_about(source.display, status.reason)}; using the copy fetched "
            f"{status.fetched_at:%Y-%m-%d %H:%M} UTC",
            file=sys.stderr,
        )
        for problem in loaded.problems:
            say(f"  {problem}", file=sys.stderr)
    if loaded.another_trip is not None:
        say(
            f"tripdash: {loaded.another_trip.describe(source.display)}. Still using the copy "
            f"of {one_line(loaded.another_trip.old_id)}; run again with --accept-new-trip "
            "to replace it",
            file=sys.stderr,
        )
    if loaded.replaced is not None:
        old_id, old_title = loaded.replaced
        say(
            f"tripdash: {source.display}: the cached trip {one_line(repr(old_title))} (id "
            f"{one_line(old_id)}) was replaced by another trip; its marks stay under its id",
            file=sys.stderr,
        )
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
            say(f"FAIL  {one_line(f)}  cannot be fetched")
            say(f"tripdash: {exc}", file=sys.stderr)
            continue
        except TripInvalid as exc:
            status = EXIT_INVALID
            errors = exc.error_count
            say(f"FAIL  {one_line(f)}  {errors} error{'s' if errors != 1 else ''}")
            _print_problems(exc.problems, sys.stderr)
            continue
        trip = result.trip
        if trip.id in seen_ids:
            status = EXIT_INVALID
            say(f"FAIL  {one_line(f)}  1 error")
            say(
                f"{f}:1: trip.id: trip id {trip.id!r} is also the id of {seen_ids[trip.id]}: "
                "marks would be shared; give one of them another id",
                file=sys.stderr,
            )
            continue
        seen_ids[trip.id] = f
        say(f"ok  {one_line(f)}  {_counts(trip)}")
        _print_problems(_with_overlaps(result, f), sys.stderr)
    return status


def _with_overlaps(result: LoadResult, location: str) -> list[Problem]:
    """The load's warnings and the overlap warnings, which only ``check`` computes.

    Overlaps are located by line in the text of the copy just loaded (the file, or the
    saved copy of an address); a line is looked up only for a warning that is printed.
    """
    from tripdash.domain.overlaps import overlap_problems

    text = _text_of(location)
    if text is None:
        return result.warnings
    found, summary = overlap_problems(result.trip, text, result.trip.path or location)
    worded = sorted([*result.warnings, *found], key=lambda p: (p.line, p.field))
    return worded if summary is None else [*worded, summary]


def _text_of(location: str) -> str | None:
    """The text of the trip just loaded from ``location``; None if it cannot be had."""
    from tripdash.domain.sources import default_cache_dir, is_url

    try:
        if is_url(location):
            from tripdash.domain.fetch import TripCache

            copy = TripCache(default_cache_dir() / "trips").load(location)
            data = copy.body if copy is not None else None
        else:
            data = Path(location).read_bytes()
    except OSError:
        return None
    return data.decode("utf-8", errors="replace") if data is not None else None


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


def parse_day_words(text: str) -> date | str:
    """``--day`` of agenda, readout, sheet and export: a date, or today/tomorrow/yesterday
    (read against the trip, see :func:`day_named`)."""
    if text.strip().lower() in ("today", "tomorrow", "yesterday"):
        return text.strip().lower()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date such as 2023-01-17, nor today, tomorrow or yesterday"
        ) from None


def _agenda_day(day: date | str | None, trip: Trip) -> date | None:
    """The date ``--day`` names: today, tomorrow or yesterday where the delegation is now."""
    from tripdash.domain.times import system_clock

    return day_named(day, trip, system_clock)


def day_named(day: date | str | None, trip: Trip, now: Callable[[], datetime]) -> date | None:
    """The date a ``--day`` of :func:`parse_day_words` names: today, tomorrow or yesterday
    where the delegation is at ``now()`` (read only for a word)."""
    if not isinstance(day, str):
        return day
    from tripdash.domain.phrases import resolve_day

    return resolve_day(day, trip, now())


def open_store(args: argparse.Namespace) -> MarkStore:
    """The marks store of ``--state-dir`` (else $TRIPDASH_STATE_DIR, else the user's)."""
    from tripdash.domain.store import MarkStore, StoreError, default_state_dir

    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    try:
        store = MarkStore(state_dir)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if store.notice:
        say(f"tripdash: {one_line(store.notice)}", file=sys.stderr)
    return store


T = TypeVar("T")


def read_marks(store: MarkStore, read: Callable[[], T]) -> T:
    """Read from the store; a read error names the file (exit 1), never a traceback.

    Marks that cannot be read (damaged rows) are said on stderr, one line each.
    """
    from tripdash.domain.store import StoreError

    try:
        found = read()
    except StoreError as exc:
        raise StoreFailed(str(exc)) from None
    for problem in store.unreadable_rows:
        print(f"tripdash: {one_line(problem)}", file=sys.stderr)
    return found


class StoreFailed(Exception):
    """The marks could not be read or saved (exit 1); the message names the file."""


def cmd_agenda(args: argparse.Namespace) -> int:
    from tripdash.domain.agenda import agenda_json, agenda_text

    result = load_single(args.path, args)
    _print_problems(result.warnings, sys.stderr)
    trip = result.trip
    from tripdash.domain.late import lateness
    from tripdash.domain.records import RecordStore
    from tripdash.domain.times import system_clock

    with open_store(args) as store:
        records = RecordStore(store, clock=system_clock)  # reads only
        done, notes, shifts = read_marks(
            store,
            lambda: (store.done_ids(trip.id), records.notes(trip.id), records.shifts(trip.id)),
        )
        late = lateness(trip, shifts)
    day = _agenda_day(args.day, trip)
    if args.json:
        sys.stdout.write(agenda_json(trip, done, day, late=late, notes=notes) + "\n")
    else:
        sys.stdout.write(agenda_text(trip, done, day, time_format(args), late=late))
    return EXIT_OK


def cmd_mark(args: argparse.Namespace) -> int:
    import unicodedata

    result = load_single(args.path, args)
    trip = result.trip
    items = trip.items()
    # Ids are kept in NFC (see domain/ids.py): what is typed may come decomposed.
    args.item = unicodedata.normalize("NFC", args.item)
    if args.item not in items:
        import difflib

        close = difflib.get_close_matches(args.item, list(items), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(one_line(c) for c in close)}?)" if close else ""
        say(
            f"tripdash: {one_line(repr(args.item))} is not an event id or "
            f"counterpart-id/point-id of {one_line(trip.id)}{hint}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    from tripdash.domain.store import default_author

    who = args.as_name or default_author()
    from tripdash.domain.store import StoreError
    from tripdash.domain.times import clock_time

    state = "not done" if args.undo else "done"
    with open_store(args) as store:
        latest = read_marks(store, lambda: store.state(trip.id)).get(args.item)
        if latest is not None and latest.done == (not args.undo):
            # Already so: a second identical mark would only repeat a line of the log.
            at_home = latest.at.astimezone(trip.home_tz)
            clock = clock_time(at_home, time_format(args))
            say(
                f"{one_line(args.item)}: already {state} ({one_line(items[args.item])}), by "
                f"{one_line(latest.who)} at {at_home:%a %d %b} {clock} {at_home.tzname()}; "
                "nothing recorded"
            )
            return EXIT_OK
        try:
            store.mark(trip.id, args.item, not args.undo, who)
        except StoreError as exc:
            say(f"tripdash: {exc}", file=sys.stderr)
            return EXIT_INVALID
    say(f"{one_line(args.item)}: {state} ({one_line(items[args.item])}), by {one_line(who)}")
    return EXIT_OK


def _day_mark(at_home: datetime, at_local: datetime) -> str:
    days = (at_home.date() - at_local.date()).days
    return f" {days:+d}d" if days else ""


def cmd_log(args: argparse.Namespace) -> int:
    from tripdash.domain.records import Record
    from tripdash.domain.schedule import Schedule
    from tripdash.domain.store import Mark
    from tripdash.domain.times import clock_time, zone_abbrev
    from tripdash.verbs_notes import describe, log_entries

    trip = load_single(args.path, args).trip
    fmt = time_format(args)
    items = trip.items()
    with open_store(args) as store:
        # Notes and shifts beside the marks, in the one order every laptop agrees on (one
        # read_marks: each unreadable row is said once).
        history, records = read_marks(
            store, lambda: (store.history(trip.id), log_entries(store, trip))
        )
        entries: list[tuple[tuple[int, str, str], Mark | Record]] = [(m.order, m) for m in history]
        entries += records
        incomplete = bool(store.unreadable_rows)
    if not entries:
        say(f"No marks yet for {trip.id}.")
        return EXIT_INVALID if incomplete else EXIT_OK
    entries.sort(key=lambda entry: entry[0])
    home = trip.home_tz
    schedule = Schedule.for_trip(trip)
    rows = []
    for _order, entry in entries:
        at = entry.at
        at_home = at.astimezone(home)
        # Local: where the delegation was when the mark was made.
        place = schedule.current_place(at)
        at_local = at.astimezone(place.tz) if place is not None else at_home
        if isinstance(entry, Mark):
            action = "done" if entry.done else "undone"
            found = items.get(entry.item_id)
            what = one_line(found) if found is not None else "(orphaned: no longer in the trip)"
        else:
            action, what = describe(entry, trip)
        rows.append(
            (
                f"{at_local:%a %d %b %Y} {clock_time(at_local, fmt, pad=True)} "
                f"{zone_abbrev(at_local)}",
                f"{clock_time(at_home, fmt, pad=True)} {zone_abbrev(at_home)}"
                f"{_day_mark(at_home, at_local)}",
                one_line(entry.who),
                action,
                one_line(entry.item_id),
                what,
            )
        )
    # Columns: local time (where the delegation was), home time, who, mark, item, what.
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    widths[3] = max(widths[3], len("undone"))
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        say(f"{line}  {row[5]}".rstrip())
    # The history printed is not all of it: say so in the exit status too.
    return EXIT_INVALID if incomplete else EXIT_OK


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


#: The years an --at time may be in (trip times must fall in them too).
AT_YEARS = (1900, 2200)


def parse_at(text: str) -> datetime:
    """The instant of an ``--at`` option (every verb that takes one); UsageError if unusable.

    Only the years trip times may have: an instant near year 1 or 9999 would overflow
    the time arithmetic of any verb (a home time, a day's start) far from here.
    """
    from tripdash.domain.times import UTC, parse_instant

    try:
        at = parse_instant(text)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--at: {one_line(str(exc))}") from None
    try:
        year = at.astimezone(UTC).year
    except OverflowError:  # before 0001-01-01 UTC (year 1, ahead of UTC)
        year = at.year
    if not AT_YEARS[0] <= year <= AT_YEARS[1]:
        raise UsageError(
            f"--at: {one_line(text)!r} is in the year {year}; give a time between "
            f"{AT_YEARS[0]} and {AT_YEARS[1]}, as trip times are"
        )
    return at


def cmd_dashboard(args: argparse.Namespace) -> int:
    from tripdash.domain.times import UTC, system_clock

    at: datetime | None = None
    at_phrase: str | None = None
    if args.at is not None:  # the phrases module is imported only for an --at
        from tripdash.domain.phrases import PhraseError, needs_trip, resolve

        # A wall time, a place or an event ("09:00", "tomorrow 08:00 Toronto") is read
        # once the trip is loaded (see run_dashboard); an instant or "+2h" now.
        at_phrase = args.at if needs_trip(args.at) else None
    if args.at is not None and at_phrase is None:
        try:
            at = resolve(args.at, None, system_clock()).instant
        except OverflowError as exc:
            parse_at(args.at)  # an instant out of the calendar: says which year it is in
            raise UsageError(f"--at: {one_line(str(exc))}") from None
        except PhraseError as exc:
            raise UsageError(f"--at: {one_line(str(exc))}") from None
        try:
            year = at.astimezone(UTC).year if at is not None else AT_YEARS[0]
        except OverflowError:  # before 0001-01-01 UTC (year 1, ahead of UTC), as parse_at
            year = at.year if at is not None else AT_YEARS[0]
        if not AT_YEARS[0] <= year <= AT_YEARS[1]:
            raise UsageError(
                f"--at: {one_line(args.at)!r} is in the year {year}; a rehearsal starts "
                f"between {AT_YEARS[0]} and {AT_YEARS[1]}, as trip times do"
            )
    config = settings(args, exit_on_problem=False)
    path = args.path if args.path is not None else str(config.trips_path())
    if args.path is None and not Path(path).exists():
        raise UsageError(
            f"no PATH given and there is no {one_line(path)} here: run `tripdash PATH` with a "
            "trip file or a folder of them (or set trips in the config)"
        )
    if config.refresh < 0:
        raise UsageError("--refresh: give a number of seconds, or 0 for never")
    from tripdash.verbs_remind import reminder_settings

    reminders = reminder_settings(args, config)
    sources = tuple(make_source(location, args) for location in locations([path]))
    if not _full_screen_terminal():
        return _plain_today(sources, args, at_phrase or at)
    prepare_textual()
    # A new version of a trip is parsed in a child while Textual is imported here.
    from tripdash.startup import join, prefetch

    child = prefetch(sources)
    from tripdash.app import run_dashboard
    from tripdash.domain.store import default_author, default_state_dir
    from tripdash.session import DashboardOptions

    join(child)
    options = DashboardOptions(
        state_dir=Path(args.state_dir) if args.state_dir else default_state_dir(),
        who=args.as_name or default_author(),
        at=at,
        at_phrase=at_phrase,
        refresh=config.refresh,
        sync=sync_config(args),
        sources=sources,
        reminders=reminders,
        theme=config.theme if config.origin("theme") != "default" else None,
        keymap=dict(config.keymap),
        config_problems=getattr(args, "_settings_problems", ()),
        sync_warnings=(PASSWORD_IN_URL_WARNING,) if _password_in_sync_option(args) else (),
        time_format=config.time_format,
        clock_seconds=config.clock_seconds,
    )
    return run_dashboard(options)


def _password_in_sync_option(args: argparse.Namespace) -> bool:
    if not getattr(args, "sync", None):
        return False  # and httpx (with the sync module) is not imported: 60-100 ms a start
    from tripdash.domain.sync import url_has_password

    return url_has_password(args.sync)


def _full_screen_terminal() -> bool:
    """A terminal the dashboard can draw on: standard output is one, and not a dumb one."""
    import os

    return sys.stdout.isatty() and os.environ.get("TERM", "") != "dumb"


def _done_and_shifts(
    store: MarkStore, records: RecordStore, trip_id: str
) -> tuple[set[str], dict[str, Shift]]:
    """A trip's done items and the running-late shifts in force (read_marks retries it)."""
    return store.done_ids(trip_id), records.shifts(trip_id)


def _plain_today(
    sources: Sequence[TripSource], args: argparse.Namespace, at: datetime | str | None
) -> int:
    """``tripdash PATH`` into a pipe, a screen reader or ``TERM=dumb``: today's agenda of
    each trip as plain text (with done marks, local and home time), then exit 0."""
    from tripdash.domain.agenda import agenda_text
    from tripdash.domain.clock import TripClock
    from tripdash.domain.late import lateness
    from tripdash.domain.phrases import PhraseError, resolve
    from tripdash.domain.records import RecordStore
    from tripdash.domain.schedule import Schedule, group_days
    from tripdash.domain.sources import FetchError
    from tripdash.domain.times import system_clock

    now = TripClock(system_clock, at if not isinstance(at, str) else None).now()
    status = EXIT_OK
    printed = 0
    with open_store(args) as store:
        for source in sources:
            try:
                loaded = source.load()
            except TripInvalid as exc:
                _print_problems(exc.problems, sys.stderr)
                status = EXIT_INVALID
                continue
            except (FetchError, OSError) as exc:
                say(f"tripdash: {source.display}: {exc}", file=sys.stderr)
                status = EXIT_INVALID
                continue
            assert loaded.result is not None
            trip = loaded.result.trip
            if isinstance(at, str):  # --at "09:00": read against this trip
                try:
                    instant = resolve(at, trip, system_clock()).instant
                except PhraseError as exc:
                    raise UsageError(f"--at: {one_line(str(exc))}") from None
                now = TripClock(system_clock, instant).now()
            # The marks and the running-late shifts, as `tripdash agenda` shows them.
            records = RecordStore(store, clock=system_clock)  # reads only
            done, shifts = read_marks(store, partial(_done_and_shifts, store, records, trip.id))
            late = lateness(trip, shifts)
            # Today where the delegation is (else at home).
            place = Schedule.for_trip(trip).current_place(now)
            today = now.astimezone(place.tz if place is not None else trip.home_tz).date()
            if printed:
                sys.stdout.write("\n")
            fmt = time_format(args)
            if any(day.date == today for day in group_days(trip)):
                sys.stdout.write(agenda_text(trip, done, today, fmt, late=late))
            else:
                say(f"No events today ({today:%a %d %b %Y}); the whole programme:")
                sys.stdout.write(agenda_text(trip, done, time_format=fmt, late=late))
            printed += 1
    return status if printed == 0 else EXIT_OK


def settings(args: argparse.Namespace, *, exit_on_problem: bool = True) -> Config:
    """The settings of ``--config`` (see :mod:`tripdash.config`), this command's flags first.

    Problems are printed; with ``exit_on_problem`` they end the command (exit 1), else
    the good settings and the defaults are used.
    """
    cached = getattr(args, "_settings", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from tripdash.config import load_config

    flags = {
        "refresh": getattr(args, "refresh", None),
        "sync_url": getattr(args, "sync", None),
        "time_format": getattr(args, "time_format", None),
    }
    config, problems = load_config(getattr(args, "config", None), flags=flags)
    _print_problems(problems, sys.stderr)
    if problems and exit_on_problem:
        raise ConfigInvalid()
    if problems:
        print("tripdash: the settings above were ignored", file=sys.stderr)
    args._settings = config
    # The dashboard repeats them in a notice: its screen hides what went to stderr.
    args._settings_problems = tuple(str(p) for p in problems)
    return config


def time_format(args: argparse.Namespace) -> int:
    """12 or 24: ``--time-format``, else ``$TRIPDASH_TIME_FORMAT``, else the config file's
    ``time_format``, else 24. A bad config is reported and its defaults used."""
    return settings(args, exit_on_problem=False).time_format


class ConfigInvalid(Exception):
    """The config file (or a TRIPDASH_* variable) has problems, already printed (exit 1)."""


PASSWORD_IN_URL_WARNING = (
    "a password given in --sync URL can be read by other users of this machine (ps shows "
    "it); set TRIPDASH_SYNC_USER and TRIPDASH_SYNC_PASSWORD in the environment instead"
)


def sync_config(args: argparse.Namespace) -> SyncConfig | None:
    """``--sync URL``, ``$TRIPDASH_SYNC_URL`` or the config's ``sync_url``; None when none."""
    import dataclasses
    import os

    settings_now = settings(args)
    url = settings_now.sync_url
    if not url:
        return None
    from tripdash.config import sync_password
    from tripdash.domain.fetch import FetchError, check_allowed
    from tripdash.domain.sources import check_url
    from tripdash.domain.sync import SyncConfig, url_has_password

    if getattr(args, "sync", None) and url_has_password(args.sync):
        say(f"tripdash: warning: {PASSWORD_IN_URL_WARNING}", file=sys.stderr)

    try:
        check_url(url)
    except ValueError as exc:
        raise UsageError(f"--sync: {_short_url(url)}: {exc}") from None
    config = SyncConfig.from_url(url, allow_http=args.allow_http)
    if config.user is None and settings_now.sync_user:
        config = dataclasses.replace(config, user=settings_now.sync_user)
    if config.password is None:
        try:
            password = sync_password(settings_now, os.environ)
        except OSError as exc:
            raise UsageError(f"sync_password_file: {one_line(str(exc))}") from None
        if password is not None:
            config = dataclasses.replace(config, password=password)
    try:
        check_allowed(config.url, allow_http=args.allow_http)
    except FetchError as exc:
        raise UsageError(f"--sync: {exc}") from None
    return config


def cmd_sync(args: argparse.Namespace) -> int:
    from tripdash.domain.sync import SyncError, database_name, sync_once

    config = sync_config(args)
    if config is None:
        raise UsageError(
            "give the team's server with --sync URL, TRIPDASH_SYNC_URL or sync_url in the config"
        )
    trip = load_single(args.path, args).trip
    with open_store(args) as store:
        try:
            result = sync_once(store, trip.id, config)
        except SyncError as exc:
            waiting = store.count_unsynced(trip.id, config.server)
            say(f"tripdash: sync failed: {exc}", file=sys.stderr)
            if waiting:
                say(f"tripdash: {waiting} mark(s) waiting to be sent", file=sys.stderr)
            return EXIT_INVALID
    say(f"{trip.id} <-> {config.url}/{database_name(trip.id)}: {result}")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from tripdash.domain.diff import diff_trips

    old = load_single(args.old, args).trip
    new = load_single(args.new, args).trip
    changes = diff_trips(old, new, time_format(args))
    if not changes:
        say("No changes.")
    for change in changes:
        say(f"- {change}")
    # As diff(1) does: 0 the same, 1 changes (2 trouble, raised as a usage error).
    return EXIT_CHANGES if changes else EXIT_OK


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
    agenda.add_argument(
        "--day",
        type=parse_day_words,
        metavar="YYYY-MM-DD",
        help="only this local date; or today, tomorrow, yesterday where the delegation is",
    )
    agenda.add_argument("--json", action="store_true", help="print JSON for scripts")
    _state_option(agenda)
    _http_option(agenda)
    _time_format_option(agenda)
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
    _time_format_option(mark)
    return mark, cmd_mark


def _log_verb() -> tuple[argparse.ArgumentParser, Handler]:
    log = _Parser(
        prog="tripdash log",
        description="Print the history of marks of a trip (when, by whom, what), for a handover.",
    )
    _path_argument(log)
    _state_option(log)
    _http_option(log)
    _time_format_option(log)
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
    _config_option(sync)
    return sync, cmd_sync


def _config_option(parser: argparse.ArgumentParser) -> None:
    from tripdash.verbs_config import config_option

    config_option(parser)


def _time_format_option(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    from tripdash.verbs_config import time_format_option

    time_format_option(parser, with_config=config)


def _config_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_config import cmd_config, config_parser

    return config_parser(_Parser), cmd_config


def _schema_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_config import cmd_schema, schema_parser

    return schema_parser(_Parser), cmd_schema


def _new_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_config import cmd_new, new_parser

    return new_parser(_Parser), cmd_new


def _import_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_import import cmd_import, import_parser

    return import_parser(_Parser), cmd_import


def _diff_verb() -> tuple[argparse.ArgumentParser, Handler]:
    diff = _Parser(
        prog="tripdash diff",
        description="Print what changed between two versions of a trip (files or URLs).",
    )
    diff.add_argument("old", metavar="OLD", help="the earlier version")
    diff.add_argument("new", metavar="NEW", help="the later version")
    _http_option(diff)
    _time_format_option(diff)
    return diff, cmd_diff


def _remind_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_remind import remind_verb

    return remind_verb()


def _export_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_handouts import export_verb

    return export_verb()


def _sheet_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_handouts import sheet_verb

    return sheet_verb()


def _note_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_notes import note_verb

    return note_verb()


def _late_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_notes import late_verb

    return late_verb()


def _readout_verb() -> tuple[argparse.ArgumentParser, Handler]:
    from tripdash.verbs_notes import readout_verb

    return readout_verb()


#: The verbs, each with a function building its parser: only the verb used is built
#: (building all seven parsers cost a millisecond and a half at every start).
VERBS: dict[str, Callable[[], tuple[argparse.ArgumentParser, Handler]]] = {
    "check": _check_verb,
    "agenda": _agenda_verb,
    "mark": _mark_verb,
    "log": _log_verb,
    "sync": _sync_verb,
    "diff": _diff_verb,
    "remind": _remind_verb,
    "config": _config_verb,
    "schema": _schema_verb,
    "new": _new_verb,
    "import": _import_verb,
    "export": _export_verb,
    "sheet": _sheet_verb,
    "note": _note_verb,
    "late": _late_verb,
    "readout": _readout_verb,
}


def _sync_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sync",
        metavar="URL",
        help="the team's CouchDB server (default: $TRIPDASH_SYNC_URL); credentials from "
        "$TRIPDASH_SYNC_USER / $TRIPDASH_SYNC_PASSWORD (a password in the URL is visible "
        "to other users in ps)",
    )


def _http_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http:// addresses (refused by default, except on loopback)",
    )
    _accept_option(parser)


def _accept_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-new-trip",
        action="store_true",
        help="when an address now serves another trip (another trip id), use it and replace "
        "the cached copy (the old trip's marks stay under its id)",
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
        help="rehearse: start the clock at TIME (ISO 8601 with an offset, "
        "'2023-01-17T09:30 America/New_York', or as the jump key takes it: '09:00', "
        "'tomorrow 08:00', '2023-01-18 10:00 Toronto', '+2h', an event id or title) and "
        "let it run on",
    )
    parser.add_argument(
        "--refresh",
        type=int,
        metavar="SECONDS",
        help="fetch a trip address again every SECONDS (default: the config's refresh, "
        "else 60; 0: never). Local files are reloaded whenever they change.",
    )
    _state_option(parser)
    _as_option(parser)
    _sync_option(parser)
    _http_option(parser)
    _config_option(parser)
    _time_format_option(parser, config=False)
    from tripdash.verbs_remind import add_reminder_options

    add_reminder_options(parser)
    return parser


def _forgiving_streams() -> None:
    """Print what the output's encoding can hold, and escape the rest, never raising.

    ``PYTHONIOENCODING=iso-8859-1`` or ``LC_ALL=C`` give streams that cannot encode
    "Mélanie" or "→": a character they lack is written as ``\\u2192`` instead of ending
    the command with a traceback.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tripdash`` console script."""
    _forgiving_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in VERBS:
            parser, handler = VERBS[args[0]]()
            return handler(parser.parse_args(args[1:]))
        return cmd_dashboard(_dashboard_parser(list(VERBS)).parse_args(args))
    except UsageError as exc:
        say(f"tripdash: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TripInvalid as exc:
        _print_problems(exc.problems, sys.stderr)
        return EXIT_INVALID
    except (FetchFailed, StoreFailed) as exc:
        say(f"tripdash: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ConfigInvalid:
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `tripdash agenda trips/ | head`: the reader left; that is not an error.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
