"""Sandboxes: every candidate is untrusted code, contained at about a millisecond per trial.

Modes (`SandboxMode`):

- FORK (default): a warm server process per sandbox, started fresh with a
  scrubbed environment, loads the spec, its inputs and numpy once, enters a
  network namespace and a private read-only filesystem view, and forks one
  child per trial. The child is the init of a new pid namespace and its own
  session, drops to uid 65534 when root (so RLIMIT_NPROC=1 binds: no new
  processes or threads), and runs under RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE
  and RLIMIT_NOFILE in an empty private directory. The server enforces the
  wall clock, kills the child's whole namespace and group, caps stdout/stderr
  and the result channel, and maps the exit to one clear error.
- SPAWN: a fresh interpreter per trial with the same limits, for specs that
  are not fork-safe (about 80 ms per trial instead of about 1).
- IN_PROCESS: the harness in the caller's process, no limits; debugging only.

What in-process isolation cannot do, honestly: the candidate shares an
interpreter with the spec's `@run` function inside its child, so a
deliberately adversarial candidate (ctypes memory writes, string-built
introspection names) can still fake its own score. The guard (static
rejection of frame/introspection names, identity checks of everything the
spec's scoring code reads) stops the monkey-patching LLMs actually write;
the process, namespace and uid boundaries are what keep the host, the run's
files, its keys and other candidates safe. The child also holds a copy of
the server's memory, from which the other inputs of the split are cleared
but not scrubbed.
"""

from __future__ import annotations

from pathlib import Path

from evoforge.records import Limits
from evoforge.sandboxes.base import Sandbox, SandboxMode
from evoforge.spec import ProblemSpec

__all__ = ["Sandbox", "SandboxMode", "open_sandbox"]


def open_sandbox(spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None) -> Sandbox:
    """A ready sandbox for one spec and split; use it as a context manager."""
    limits = limits or spec.limits
    _check_limits(limits)
    mode = SandboxMode(mode)
    if mode is SandboxMode.FORK:
        from evoforge.sandboxes.fork_client import ForkSandbox

        return ForkSandbox(spec, split, dataset, limits)
    if mode is SandboxMode.SPAWN:
        from evoforge.sandboxes.spawn import SpawnSandbox

        return SpawnSandbox(spec, split, dataset, limits)
    from evoforge.sandboxes.inprocess import InProcessSandbox

    return InProcessSandbox(spec, split, dataset)


MIN_OPEN_FILES = 8  # stdin/out/err, the result pipe and what the interpreter itself opens


def _check_limits(limits: Limits) -> None:
    """Limits that would fail every trial are the user's mistake: say so once, up front."""
    if min(limits.wall_seconds, limits.cpu_seconds, limits.memory_mb) <= 0:
        raise ValueError(f"sandbox limits must be positive: {limits}; fix [limits] in problem.toml.")
    if limits.max_open_files < MIN_OPEN_FILES or limits.max_output_bytes < 1 or limits.max_file_bytes < 0:
        raise ValueError(
            f"sandbox limits too small to run anything: {limits}; allow at least "
            f"{MIN_OPEN_FILES} open files and some output in [limits] of problem.toml."
        )
