"""Shared by the sandbox tests: a small spec and the checks every sandbox test makes (no tests here)."""

from __future__ import annotations

import time
from pathlib import Path

from evoforge.records import Limits
from evoforge.sandboxes import Sandbox
from evoforge.spec import ProblemSpec, load_problem

SPEC_TEXT = '''
import numpy as np
import funsearch


@funsearch.evolve
def solve(n):
    return n * 1.0


@funsearch.run
def evaluate(n):
    answer = solve(n)
    if isinstance(answer, np.ndarray):
        return np.sum(answer)
    return answer
'''
GOOD = "def solve(n):\n    return n * 2.0\n"
LIMITS = Limits(wall_seconds=3.0, cpu_seconds=1.0, memory_mb=256, max_output_bytes=64 * 1024,
                max_open_files=32, max_file_bytes=1 << 20)


def write_spec(folder: Path) -> ProblemSpec:
    path = folder / "hostile_spec.py"
    path.write_text(SPEC_TEXT)
    return load_problem(path, inputs_json='{"small": 3, "big": 10}')


def candidate(body: str) -> str:
    """A `solve(n)` whose body is `body` (indented four spaces per line)."""
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"def solve(n):\n{lines}\n"


def assert_still_scores(sandbox: Sandbox) -> None:
    """The run goes on: a normal candidate scores exactly right in the same sandbox."""
    assert sandbox.run(GOOD, "big").score == 20.0
    assert sandbox.run(GOOD, "small").score == 6.0


def nobody_processes() -> dict[int, int]:
    """{pid: parent pid} of processes running as uid 65534 (sandboxed candidates)."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # exited while we looked
        if fields.get("Uid", "").split()[:1] == ["65534"]:
            found[int(status.parent.name)] = int(fields["PPid"])
    return found


SANDBOX_PARENTS = (b"evoforge.sandboxes.forkserver", b"evoforge.sandboxes.spawned",
                   b"evoforge.forkserver_launch")  # the last: other checkouts' servers on this machine


def _is_sandbox_parent(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return any(name in command for name in SANDBOX_PARENTS)


def assert_no_stray_processes(sandbox: Sandbox) -> None:
    """Every process running as nobody must be a trial, a direct child of a sandbox process (other
    sandboxes may run on this machine too), and this sandbox's trials must all be over. A
    candidate's escaped descendant would have a nobody parent, or init after reparenting. A trial
    killed with its parent (spawn mode) may take a moment to vanish: allowed two seconds."""
    server = getattr(sandbox, "server_pid", None)
    for _ in range(40):
        found = nobody_processes()
        strays = {pid: parent for pid, parent in found.items()
                  if not _is_sandbox_parent(parent) or parent == server}
        if not strays:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes left running as nobody: {strays} (pid: parent pid)")
