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
import signal
from pathlib import Path
from types import ModuleType

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


def scrubbed_environment(workdir: str | None = None) -> dict[str, str]:
    """What a sandboxed process may see: no API keys, no tokens, one thread per library."""
    env = {key: os.environ[key] for key in KEPT_VARIABLES if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update({key: "1" for key in THREAD_VARIABLES})
    if workdir:
        env.update(HOME=workdir, TMPDIR=workdir)
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


def redirect_streams(request_fd: int, output_fd: int, result_fd: int) -> None:
    """Request on stdin, stdout+stderr into the capped pipe, result on fd 3, nothing else open."""
    os.dup2(request_fd, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 16)


def hand_to_nobody(workdir: Path | str) -> None:
    """Give a trial's directory to the user the trial runs as (done by whoever makes it, as root)."""
    if os.getuid() == 0:
        os.chown(workdir, NOBODY, NOBODY)


def drop_privileges() -> bool:
    """Become nobody when root (so RLIMIT_NPROC binds); True if the drop happened."""
    if os.getuid() != 0:
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return True


def confine_process() -> None:
    """The part of the confinement that fork passes on: done once in a fork server, not per trial.

    No-new-privileges can never be unset and signal dispositions survive
    fork, so every child has them without paying for the calls (about 0.2 ms
    of CPU per trial, mostly copy-on-write faults of the code they touch).
    """
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGXCPU):  # SIGXFSZ stays ignored: EFBIG
        signal.signal(number, signal.SIG_DFL)


def confine_child(rlimits: list[Rlimit]) -> None:
    """Everything between fork and the candidate, in the child, after `confine_process`.

    The uid drop comes after the limits (it needs root to set them) and before
    the death signal (a credential change clears that). The trial's directory,
    made by root and given away with `hand_to_nobody`, is the caller's to enter.
    """
    for kind, soft, hard in rlimits:
        resource.setrlimit(kind, (soft, hard))
    drop_privileges()
    libc_call("prctl", PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def confine_clone(fds: list[int], rlimits: list[Rlimit], native: ModuleType | None) -> None:
    """A fork server's child: its own session, its streams on 0-3, then `confine_child`.

    With the C module (`_zygote.c`) the same steps take one call that writes
    a handful of pages instead of about a hundred.
    """
    request_fd, output_fd, result_fd = fds
    if native is None:
        os.setsid()
        redirect_streams(request_fd, output_fd, result_fd)
        confine_child(rlimits)
    else:
        native.confine(request_fd, output_fd, result_fd, rlimits, NOBODY if os.getuid() == 0 else -1)
