"""Start-up work done in parallel: a new version of a trip is parsed while Textual imports.

A trip file whose validated copy is not in the parsed-trip cache (every new version of
it) costs tomli, pydantic's schema (about 100 ms to build, whatever the trip's size) and
validation before its first frame; importing Textual costs about as much again. The two
do not depend on each other, so :func:`prefetch` forks a child that loads the trip
files into the parsed-trip cache while this process goes on importing Textual;
:func:`join` waits for it, and the dashboard's own load is then a cache hit. A child
that fails for any reason only leaves the cache as it was: the dashboard then parses
and validates itself, and reports what is wrong, as it always did.

Only files are prefetched (addresses are fetched by the dashboard, with its messages),
only files whose validated copy is not cached yet, only where ``fork`` exists, and only
before any thread is started.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tripdash.domain.sources import TripSource


def prefetch(sources: Sequence[TripSource]) -> int | None:
    """Fork a child that loads the file ``sources`` into their parsed-trip cache; its pid.

    None when there is nothing to do or no way to do it in parallel.
    """
    files = [s for s in sources if not s.is_url and s.parsed_cache is not None and _new(s)]
    if not files or not hasattr(os, "fork"):
        return None
    # The child must not write out what this process has buffered (it would appear twice).
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    try:  # the child: its outcome is the cache entry, or nothing
        for source in files:
            # A failure is the dashboard's to report: it loads the trip again itself.
            with contextlib.suppress(Exception):
                source.load()
    finally:
        os._exit(0)  # no atexit handlers, no buffers of the parent's flushed again


def _new(source: TripSource) -> bool:
    """Whether the file of ``source`` has no entry in its parsed-trip cache yet.

    A trip already cached needs no child: forking one would only decode the entry a
    second time, on the core that is importing Textual. The entry is named as
    :func:`tripdash.domain.loader.load_trip` names it (the file's bytes, path and stem);
    one that turns out damaged is rebuilt by the dashboard's own load, as ever.
    """
    from tripdash.domain import parsed_cache

    assert source.parsed_cache is not None
    path = Path(source.location)
    try:
        entry = parsed_cache.key(path.read_bytes(), str(path), path.stem)
        return not (source.parsed_cache / f"{entry}{parsed_cache.SUFFIX}").is_file()
    except OSError:
        return True  # the child's load meets the same error, and ignores it


def join(pid: int | None) -> None:
    """Wait for the child :func:`prefetch` started (if any)."""
    if pid is None:
        return
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return
