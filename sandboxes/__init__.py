"""Sandboxes: every candidate is untrusted code, contained for a few milliseconds per trial.

Modes (`SandboxMode`):

- FORK (default): a warm server process per sandbox (`forkserver.py`),
  started fresh with a scrubbed environment (no API keys, one BLAS thread),
  imports numpy and the modules candidates use most, loads the spec and its
  inputs once, then enters a network namespace (loopback down) and a private
  read-only filesystem view (`fsview.py`: interpreter and libraries only; no
  /work, /home, /tmp, /proc, problem folder or run database). Per trial it
  forks one child, the init of a new pid namespace, in its own session and a
  fresh empty directory (its HOME and TMPDIR); the child drops to uid 65534
  when root (so RLIMIT_NPROC=1 binds: no processes, no threads) and runs
  under RLIMIT_CPU (SIGKILL at the limit), RLIMIT_AS (`memory_mb` is what the
  candidate may add to the warm interpreter's mappings), RLIMIT_FSIZE and
  RLIMIT_NOFILE. The server enforces the wall clock, kills the child's whole
  namespace and group, caps stdout/stderr and the result channel, maps the
  exit to one clear error and removes the directory. If the server itself
  dies, the trial is recorded as an error and a new server started.
- SPAWN: a fresh interpreter per trial (posix_spawn, safe from threaded
  actors) with the same layers, for specs that are not fork-safe; it pays
  for an interpreter and numpy every trial (see bench/sandbox_overhead.py).
- IN_PROCESS: the harness in the caller's process, no limits; debugging only.

Every mode runs the same harness (`harness.py`): a static check rejects
code naming frame/introspection attributes before anything runs; the
candidate runs in a copy of the spec's globals; the tamper guard
(`guard.py`) checks what the spec's scoring code reads after each call; the
result is accepted only as an exact number, or as an exact dict with a
score and bounded, finite data (`scores.py`), checked in the child and again
by the parent, and it crosses on a channel that carries a per-trial token.
Where a layer is unavailable (not root, namespaces disabled) the evaluator
logs one warning naming it, and every limit that still applies stays on.

What in-process isolation cannot do, honestly: inside its child the
candidate shares an interpreter with the spec's `@run` function, so a
deliberately adversarial candidate (ctypes memory writes, names built at run
time to dodge the static check) can still fake its own score and data. The
guard stops the monkey-patching LLMs actually write; the process,
namespace and uid boundaries are what keep the host, the run's files, its
keys and other candidates safe. A forked child also holds a copy of the
server's memory, from which the split's other inputs are dropped (not
scrubbed) before the candidate runs. IN_PROCESS mode has none of the
boundaries: a candidate there can hang, corrupt or read the caller.
"""

from __future__ import annotations

from pathlib import Path

from evoforge.records import Limits
from evoforge.sandboxes.base import Sandbox, SandboxMode
from evoforge.spec import ProblemSpec

__all__ = ["Sandbox", "SandboxMode", "open_sandbox"]


def open_sandbox(spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 probe: bool = False) -> Sandbox:
    """A ready sandbox for one spec and split; use it as a context manager.

    With `probe`, a FORK sandbox also offers fingerprint trials (`probes.py`); other modes ignore it.
    """
    limits = limits or spec.limits
    _check_limits(limits)
    mode = SandboxMode(mode)
    if mode is SandboxMode.FORK:
        from evoforge.sandboxes.fork_client import ForkSandbox

        return ForkSandbox(spec, split, dataset, limits, probe=probe)
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
