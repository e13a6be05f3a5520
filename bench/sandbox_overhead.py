"""Milliseconds per evaluation of a trivial candidate: fork-server vs fresh spawn vs in-process.

All three are measured in the same run on the same spec (numpy imported, as
real specs do). The fork-server has every limit on: rlimits, uid drop, pid
and network namespaces, private filesystem view, wall clock, capped pipes.

    python bench/sandbox_overhead.py [--trials 200] [--spawn-trials 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evoforge.records import Limits
from evoforge.sandboxes import SandboxMode, open_sandbox
from evoforge.spec import load_problem

SPEC = '''
import numpy as np
import funsearch

@funsearch.evolve
def priority(n):
    return n * 1.0

@funsearch.run
def evaluate(n):
    return float(np.sum([priority(i) for i in range(n)]))
'''
CANDIDATE = "def priority(n):\n    return n * 2.0\n"
SPAWN_SCRIPT = SPEC.replace("import funsearch", "").replace("@funsearch.evolve", "").replace(
    "@funsearch.run", "") + "\nprint(evaluate(8))\n"


def timings(call: Callable[[], object], trials: int) -> list[float]:
    call()  # warm-up, not counted
    seconds = []
    for _ in range(trials):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def summary(name: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    median, p90 = statistics.median(ms), ms[int(0.9 * (len(ms) - 1))]
    print(f"{name:<34} median {median:8.3f} ms   p90 {p90:8.3f} ms   (n={len(ms)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--spawn-trials", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="evoforge-bench-"))
    (folder / "spec.py").write_text(SPEC)
    spec = load_problem(folder / "spec.py", inputs_json="[8]")
    limits = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=512)
    with open_sandbox(spec, limits=limits) as sandbox:
        assert sandbox.run(CANDIDATE, "8").score == 56.0
        fork = summary("fork-server, all limits on", timings(lambda: sandbox.run(CANDIDATE, "8"), args.trials))
    with open_sandbox(spec, mode=SandboxMode.IN_PROCESS) as sandbox:
        summary("in-process (no isolation)", timings(lambda: sandbox.run(CANDIDATE, "8"), args.trials))
    command = [sys.executable, "-c", SPAWN_SCRIPT]
    spawn = summary("fresh `python -c` importing numpy",
                    timings(lambda: subprocess.run(command, check=True, capture_output=True), args.spawn_trials))
    with open_sandbox(spec, mode=SandboxMode.SPAWN, limits=limits) as sandbox:
        summary("spawn mode, all limits on", timings(lambda: sandbox.run(CANDIDATE, "8"), args.spawn_trials))
    print(f"spawn / fork-server: {spawn / fork:.1f}x   (goal: fork-server <= 2 ms median, >= 20x below spawn)")


if __name__ == "__main__":
    main()
