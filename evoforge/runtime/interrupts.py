"""SIGTERM handled like Ctrl-C: the run stops where it is, saved and resumable.

Ray's driver turns SIGTERM into `sys.exit`, which unwinds through the loop as
an unexplained exit and leaves Ray's shutdown noise; raising a
`KeyboardInterrupt` instead sends it down the same path as Ctrl-C (cleanup,
one resume hint), with its own exit code.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The process was asked to stop with SIGTERM."""

    exit_code = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Terminated` in the main thread (elsewhere: untouched)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_terminated = threading.Event()


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _terminated.set()
    raise Terminated()


def interrupt_exit_code(interrupt: KeyboardInterrupt) -> int:
    """143 after SIGTERM, 130 after Ctrl-C. The flag covers a library (Ray's wait) that catches the
    `Terminated` it was interrupted by and raises a plain KeyboardInterrupt in its place."""
    terminated = isinstance(interrupt, Terminated) or _terminated.is_set()
    return Terminated.exit_code if terminated else 128 + signal.SIGINT
