"""An idle dashboard wakes as rarely as its clocks need: no thread polls.

Textual's input thread waits for keys with a 0.1 s timeout, ten wake-ups a second all day
whatever else is going on (tripdash.driver replaces that loop). Counted here from outside,
as the kernel counts them: each thread's voluntary context switches (one per wait that
blocked) over a few idle seconds of the real console script in tmux. A count, not a
timing: a loaded machine makes a thread wait less often, not more.
"""

from __future__ import annotations

import time
from pathlib import Path

from .test_tmux import FS_TRIP, START_TIMEOUT, Terminal, terminal  # noqa: F401

IDLE_SECONDS = 5.0
#: Wake-ups a second any one thread may make while idle. The clock ticks once a second
#: (the event loop's timers, the writer thread's one write); a 0.1 s poll makes ten.
MAX_PER_SECOND = 4


def _tripdash_pid(term: Terminal) -> int:
    """The Python process under the pane's shell (``cd ... && tripdash ...; echo``)."""
    pane = term.tmux("display-message", "-p", "-t", term.session, "#{pane_pid}")
    shell = int(pane.stdout.strip())
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    assert children, "the pane's shell has no child: tripdash is not running"
    return int(children[0])


def _switches(pid: int) -> dict[int, int]:
    """Each thread's voluntary context switches so far."""
    counts = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                counts[int(task.name)] = int(line.split()[1])
    return counts


def test_no_thread_polls_while_idle(terminal: Terminal) -> None:  # noqa: F811
    terminal.start([FS_TRIP, "--at", "2023-01-17T09:10 America/New_York"])
    terminal.wait_for_text("Speech on UK foreign policy", "─── now", timeout=START_TIMEOUT)
    pid = _tripdash_pid(terminal)
    time.sleep(1.5)  # the details pane and the overview's blocks come after the first frame
    before = _switches(pid)
    time.sleep(IDLE_SECONDS)
    after = _switches(pid)
    woken = {tid: after[tid] - before[tid] for tid in before.keys() & after.keys()}
    assert len(woken) >= 2, f"expected the main and Textual's threads: {woken}"
    busy = {tid: n for tid, n in woken.items() if n > MAX_PER_SECOND * IDLE_SECONDS}
    assert not busy, f"threads woke more than {MAX_PER_SECOND}/s while idle: {busy} of {woken}"
    # Keys still arrive (the input thread sleeps until one comes), and q still ends it.
    terminal.send("/")
    terminal.wait_for_text("Next match")
    terminal.send("Escape")
    terminal.wait_for("the search line to close", lambda s: "Next match" not in s)
    terminal.send("q")
    assert terminal.wait_exit() == "EXIT:0"
