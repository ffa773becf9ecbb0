"""Textual's POSIX terminal driver, with an input thread that sleeps until there is input.

Textual's own input thread wakes ten times a second (``select`` with a 0.1 s timeout)
whether or not a key came, to notice that it should stop and to let a lone Escape
through after its short wait. On this project's 2-core machine those wake-ups were
about 2 ms of CPU a second, more than the dashboard's own clock tick, and each one keeps a
laptop's processor from its deep sleep all day. Here the thread waits with no timeout
unless the key parser is part-way through a sequence (then only until the parser's
deadline), and a pipe wakes it when Textual stops input.

Everything else (modes, parsing, the writer thread) is Textual's: the loop below is
``LinuxDriver.run_input_thread`` with its timeout worked out instead of fixed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class QuietLinuxDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread wakes only for input, a key's deadline or stop."""

    _wake_write: int | None = None

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, without the 0.1 s poll)."""
        wake_read, wake_write = os.pipe()
        self._wake_write = wake_write
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(wake_read, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float | None:
            # The parser holds a deadline only while a sequence is unfinished (a lone
            # Escape, say): wake for it then, and otherwise only for input. A Textual
            # whose parser keeps it elsewhere gets Textual's own 0.1 s poll back.
            if not hasattr(parser, "_timeout_time"):
                return 0.1
            deadline: float | None = parser._timeout_time
            if deadline is None:
                return None
            return max(0.0, min(0.1, deadline - get_time()))

        def dispatch(events: list[tuple[selectors.SelectorKey, int]], final: bool) -> None:
            for key, mask in events:
                if key.fd != fileno or not mask & selectors.EVENT_READ:
                    continue
                data = decode(os.read(fileno, 1024 * 4), final=final)
                if not data:  # stdin was a pipe that ended
                    break
                for message in parser.feed(data):
                    self.process_message(message)
            for message in parser.tick():
                self.process_message(message)

        try:
            while not self.exit_event.is_set():
                dispatch(selector.select(timeout()), final=False)
            selector.unregister(fileno)
            dispatch(selector.select(0), final=True)
        finally:
            selector.close()
            os.close(wake_read)  # the write end is disable_input's to close
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):  # as Textual's loop: the end of input
                pass

    def disable_input(self) -> None:
        """Stop the input thread: set Textual's exit flag, then wake the thread to see it."""
        wake, self._wake_write = self._wake_write, None
        if wake is None:
            super().disable_input()
            return
        # Left unread, so the thread's select returns at once until Textual's exit flag
        # (set in a moment by the call below) ends its loop. OSError: the thread has
        # already ended and closed its read end.
        with contextlib.suppress(OSError):
            os.write(wake, b"x")
        try:
            super().disable_input()  # sets the flag and joins the thread
        finally:
            os.close(wake)
