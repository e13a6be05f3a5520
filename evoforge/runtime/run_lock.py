"""One driver per run directory: an exclusive lock held for as long as a session runs.

Two drivers on one run would both sample against the same budget and
evaluate the same pending code. `flock` on a file in the run directory is
released by the kernel when its holder exits, however it exits (SIGKILL
included), so a stale lock never needs cleaning up; the file itself stays and
names the last holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from evoforge.spec_errors import RunError

LOCK_FILENAME = "evoforge.lock"


@contextlib.contextmanager
def hold_run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock while the block runs, or refuse at once naming who holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RunError(
                f"{run_dir} is in use by {holder}; wait for that run to end (or stop it) and try again."
            ) from None
        _write_holder(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _write_holder(fd: int) -> None:
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    text = f"evoforge pid {os.getpid()} on {socket.gethostname()} (since {started})\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)
