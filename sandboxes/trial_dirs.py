"""Where a fork server's trials run: one fixed path, with a fresh empty directory behind it each time.

A fixed path lets HOME and TMPDIR be set once, in the server, rather than
in every cloned child, where rewriting os.environ copies some fifty pages
the child shares with the zygote. A trial enters the directory when its
request arrives; once its process is dead the directory is renamed aside
(and removed when the child is reaped), and a new empty one is made at the
same path for the next trial. Nobody but root can create entries in the
base directory, so the path cannot be taken over in between.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from dataclasses import dataclass

from evoforge.sandboxes.confine import hand_to_nobody

CURRENT = "trial"


@dataclass
class TrialDirs:
    """`base` is root's private scratch area, or a directory this server made in /tmp (`owned`)."""

    base: str
    owned: bool = False
    moved: int = 0
    made: bool = False  # `current` exists and no trial has run in it yet

    @classmethod
    def under(cls, scratch: str | None) -> TrialDirs:
        if scratch is not None:
            return cls(scratch)
        import tempfile  # rarely needed: see forkserver's note on imports

        base = tempfile.mkdtemp(prefix="evoforge-trials-")
        os.chmod(base, 0o711)  # a trial that runs as nobody must reach its own directory inside
        return cls(base, owned=True)

    @property
    def current(self) -> str:
        return f"{self.base}/{CURRENT}"

    def make(self) -> None:
        """A fresh, empty directory at `current`, the next trial's, unless one is there already."""
        if self.made:
            return
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.current, 0o700)
            hand_to_nobody(self.current)
        self.made = True

    def move_aside(self) -> str:
        """Rename the finished trial's directory out of the way; where it went, for `remove`."""
        self.made = False
        while True:
            self.moved += 1
            aside = f"{self.base}/done-{self.moved}"
            try:
                os.rename(self.current, aside)
            except FileNotFoundError:  # the trial never got its directory (the scratch space was full)
                return aside
            except OSError as error:  # left behind by a removal that failed (rename replaces an empty
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # directory: that one is gone)
                    raise
                continue
            return aside

    def remove_all(self) -> None:
        if self.owned:
            remove(self.base)


def remove(path: str) -> None:
    """Delete a finished trial's directory, however deep the candidate nested it."""
    try:
        os.rmdir(path)  # most candidates write no files: one syscall instead of rmtree's walk
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    import shutil  # rarely needed: see forkserver's note on imports

    try:
        shutil.rmtree(path)
    except RecursionError:  # thousands of nested directories: rm walks them without recursion
        import subprocess

        subprocess.run(["rm", "-rf", "--one-file-system", path], check=False, env={"PATH": "/usr/bin:/bin"})
    except OSError as error:
        print(f"evoforge sandbox: could not remove {path}: {error}", file=sys.stderr)
