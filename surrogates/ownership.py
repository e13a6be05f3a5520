"""One owner of a run's surrogate: only it fine-tunes; every other evaluator follows its checkpoint.

A run may have several evaluator processes sharing `RUN_DIR/surrogate/`. The
one holding an exclusive `flock` on `owner.lock` fine-tunes and writes the
checkpoint; the others only screen, each reloading the checkpoint when the
file changes. The kernel drops the lock when its process dies (kill -9
included), so a resumed run, or a survivor, takes over without a stale lock
file to clean up. Without a run directory (a bench) the one evaluator owns it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_FILE = "owner.lock"


class Ownership:
    """Whether this process fine-tunes the run's surrogate; `claim` again to take over a dead owner."""

    def __init__(self, state_dir: Path | None) -> None:
        self._path = state_dir / LOCK_FILE if state_dir is not None else None
        self._held: IO[str] | None = None
        self.owner = self._path is None
        self.claim()

    def claim(self) -> bool:
        """Take the lock if nobody holds it; True when this process owns the surrogate."""
        if self.owner or self._path is None:
            return self.owner
        handle = open(self._path, "a+")  # noqa: SIM115 - held open for the process's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # for a person looking: which process fine-tunes
        handle.flush()
        self._held, self.owner = handle, True
        return True

    def release(self) -> None:
        if self._held is not None:
            self._held.close()  # closing drops the flock
            self._held = None
            self.owner = self._path is None


class CheckpointWatch:
    """Tells a follower when the owner has written a new checkpoint (each save renames a new file in)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def changed(self) -> bool:
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return False
        self._seen = stamp
        return True
