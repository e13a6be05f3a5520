"""The limits a sandboxed process puts on itself before the candidate runs.

Order matters: namespaces and rlimits need root, so they come first; the
uid drop comes last but one, because it is what makes RLIMIT_NPROC bind and
what makes root-only files unreadable; the parent-death signal comes after
it because changing credentials clears that signal.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import shutil
import signal
import sys
from pathlib import Path

from evoforge.records import Limits

NOBODY = 65534
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
RESULT_FD = 3
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "PYTHONHASHSEED")

_libc = ctypes.CDLL(None, use_errno=True)


def libc_call(name: str, *args: int | bytes | None) -> None:
    """Call a libc function that returns -1 on failure, raising OSError like os.* does."""
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    """os.unshare arrived in Python 3.12; this is 3.11."""
    libc_call("unshare", flags)


def scrubbed_environment() -> dict[str, str]:
    """What a sandboxed process may see: no API keys, no tokens, one thread per library."""
    env = {key: os.environ[key] for key in KEPT_VARIABLES if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update({key: "1" for key in THREAD_VARIABLES})
    return env


def address_space_cap(limits: Limits) -> int:
    """Bytes of address space: what the warm interpreter already maps, plus the budget.

    The budget is what the candidate may add; counting the interpreter's own
    mappings (numpy maps hundreds of MB it never touches) would make a
    512 MB limit fail every allocation.
    """
    mapped = 0
    with open("/proc/self/maps") as maps:
        for line in maps:
            start, end = line.split(" ", 1)[0].split("-")
            mapped += int(end, 16) - int(start, 16)
    return mapped + limits.memory_mb * (1 << 20)


Rlimit = tuple[int, int, int]  # (resource, soft, hard)


def trial_rlimits(limits: Limits, address_space: int) -> list[Rlimit]:
    """The resource limits of one trial, computed once per sandbox rather than in every child."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    # soft == hard: SIGKILL at the limit. A trial is the init of its pid namespace, which ignores
    # the SIGXCPU a lower soft limit would send, so a gap would only add a second of burning.
    return [(resource.RLIMIT_CPU, cpu, cpu), (resource.RLIMIT_AS, address_space, address_space),
            (resource.RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes),
            (resource.RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files),
            (resource.RLIMIT_CORE, 0, 0),
            (resource.RLIMIT_NPROC, 1, 1)]  # counts the trial itself: no fork, no thread (root: once nobody)


def redirect_streams(output_fd: int, result_fd: int) -> None:
    """stdout+stderr into the capped pipe, result on fd 3, nothing else open but stdin (/dev/null)."""
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 16)


def hand_to_nobody(workdir: Path | str) -> None:
    """Give a trial's directory to the user the trial runs as (done by whoever makes it, as root)."""
    if os.getuid() == 0:
        os.chown(workdir, NOBODY, NOBODY)


def remove_trial_directory(path: str) -> None:
    """Delete a finished trial's directory, however deep the candidate nested it."""
    try:
        os.rmdir(path)  # most candidates write no files: one call instead of rmtree's walk
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    try:
        _remove_tree(path)
    except OSError as error:
        print(f"evoforge sandbox: could not remove {path}: {error}", file=sys.stderr)


def _remove_tree(path: str) -> None:
    try:
        shutil.rmtree(path)
    except RecursionError:  # thousands of nested directories: rm walks them without recursion
        import subprocess  # here, not at the top: see WARM_IMPORTS in harness.py

        subprocess.run(["rm", "-rf", "--one-file-system", path], check=False, env={"PATH": "/usr/bin:/bin"})


def drop_privileges() -> bool:
    """Become nobody when root (so RLIMIT_NPROC binds); True if the drop happened."""
    if os.getuid() != 0:
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return True


def confine_process() -> None:
    """The part of the confinement that fork passes on, done once in a fork server.

    No-new-privileges can never be unset and signal dispositions survive
    fork, so every child has them.
    """
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGXCPU):  # SIGXFSZ stays ignored: EFBIG
        signal.signal(number, signal.SIG_DFL)


def confine_child(rlimits: list[Rlimit]) -> None:
    """The limits of one trial, in its own process, after `confine_process`.

    The uid drop comes after the limits (it needs root to set them) and before
    the death signal (a credential change clears that). The trial's directory,
    made by root and given away with `hand_to_nobody`, is the caller's to enter.
    """
    for kind, soft, hard in rlimits:
        resource.setrlimit(kind, (soft, hard))
    drop_privileges()
    libc_call("prctl", PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
