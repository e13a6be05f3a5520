"""The isolation layers a sandbox process can take on, and an honest account of the ones it cannot.

Each layer is tried once, when a warm server (or a spawned child) starts.
Where the machine refuses one (not root, namespaces disabled in a
container), the reason becomes a warning the evaluator logs once, and every
limit that still applies stays on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from evoforge.sandboxes.confine import CLONE_NEWNET, CLONE_NEWPID, libc_call, unshare


@dataclass
class Isolation:
    """What this process achieved; `scratch` is where per-trial directories go."""

    scratch: str | None = None
    pid_namespace_fd: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def clone_flags(self) -> int:
        """What a clone(2) needs to make its child the init of a fresh pid namespace, where one can."""
        return CLONE_NEWPID if self.pid_namespace_fd is not None else 0

    def before_fork(self) -> None:
        """Make the next fork the init of a fresh pid namespace: its death takes every descendant."""
        if self.pid_namespace_fd is None:
            return
        libc_call("setns", self.pid_namespace_fd, CLONE_NEWPID)
        unshare(CLONE_NEWPID)

    def after_fork(self) -> None:
        """Fork into this process's own pid namespace again (that trial's dies with it)."""
        if self.pid_namespace_fd is not None:
            libc_call("setns", self.pid_namespace_fd, CLONE_NEWPID)


def isolate(private_root: bool, pid_namespaces: bool) -> Isolation:
    """Enter a network namespace and a private filesystem view, and prepare pid namespaces."""
    result = Isolation()
    if os.getuid() != 0:
        result.warnings.append(
            "not running as root: no network, pid or mount namespace and no drop to an unprivileged "
            "user; candidates keep CPU, memory, file and process limits but can use the network "
            "and read whatever this user can read"
        )
        return result
    _try(result, "network namespace (candidates may reach the network)", lambda: unshare(CLONE_NEWNET))
    if pid_namespaces:
        _try(result, "pid namespace (a fork bomb's escaped children are killed by group only)",
             lambda: _open_pid_namespace(result))
    if private_root:
        _try(result, "private filesystem view (candidates can read world-readable host files)",
             lambda: _enter_root(result))
    return result


def _open_pid_namespace(result: Isolation) -> None:
    fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
    result.pid_namespace_fd = fd
    try:
        result.before_fork()
        result.after_fork()  # undo the probe: only the next fork should move
    except OSError:
        result.pid_namespace_fd = None
        os.close(fd)
        raise


def _enter_root(result: Isolation) -> None:
    from evoforge.sandboxes.fsview import enter_private_root

    result.scratch = enter_private_root(scratch_mb=256)


def _try(result: Isolation, layer: str, step: Callable[[], object]) -> None:
    try:
        step()
    except OSError as error:
        result.warnings.append(f"no {layer}: {error.strerror or error}")
