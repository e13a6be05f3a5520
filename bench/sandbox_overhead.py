"""Milliseconds per trial of a trivial candidate: fork server vs a fresh interpreter vs in-process.

Measured in the same run on the same spec (numpy imported, as real specs
do), in interleaved rounds so that load from other processes on a shared
machine hits every method alike. The fork server and spawn mode (a fresh
interpreter per trial) have every limit on: rlimits, uid drop, pid and
network namespaces, private filesystem view, wall clock, capped pipes.
"bare fork" is the floor of one fork per trial: os.fork + exit + wait, no
limits at all, in a process built like the server (a fresh interpreter with
its environment and imports: numpy and the warm modules, no `threading`).
Not from this process: it is larger and imports `threading` (through
importlib.resources), whose after-fork hook runs in every child; a fork of
it measured 2-3x the server-like floor.

    python bench/sandbox_overhead.py [--rounds 10] [--trials 30] [--spawn-trials 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evoforge.records import Limits
from evoforge.sandboxes import Sandbox, SandboxMode, open_sandbox
from evoforge.sandboxes.confine import scrubbed_environment
from evoforge.spec import ProblemSpec, load_problem

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
FORK = "fork server, all limits on"
SPAWN = "spawn: fresh interpreter, all limits on"
IN_PROCESS = "in-process call (no isolation)"
BARE_FORK = "bare fork + exit + wait, server-like process"
BARE_FORKS = """
import json, os, sys, time
from evoforge.sandboxes import forkserver
from evoforge.sandboxes.harness import import_warm_modules
import_warm_modules()
assert "threading" not in sys.modules
def fork_once():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
fork_once()
seconds = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    fork_once()
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds))
"""


def timed(call: Callable[[], object], trials: int) -> list[float]:
    seconds = []
    for _ in range(trials):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def bare_forks(trials: int) -> list[float]:
    """Seconds per bare fork in a fresh process that imports what the fork server imports."""
    done = subprocess.run([sys.executable, "-P", "-c", BARE_FORKS, str(trials)], capture_output=True,
                          env=scrubbed_environment(), cwd="/", timeout=300, check=True)
    return json.loads(done.stdout)


def cpu_and_faults(pid: int) -> tuple[float, int]:
    """utime + stime, and page faults, of a process and its reaped children, from /proc.

    Page faults count the pages a fork makes the server and its child copy (or re-map): the part
    of the overhead that load from other processes does not change.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return cpu, int(fields[7]) + int(fields[8])  # minflt, cminflt


def report(name: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    median, p90 = statistics.median(ms), ms[int(0.9 * (len(ms) - 1))]
    print(f"{name:<38} median {median:9.3f} ms   p90 {p90:9.3f} ms   (n={len(ms)})")
    return median


def measure(sandboxes: dict[str, Sandbox], args: argparse.Namespace) -> dict[str, list[float]]:
    methods: dict[str, tuple[Callable[[], object], int]] = {
        FORK: (lambda: sandboxes[FORK].run(CANDIDATE, "8"), args.trials),
        IN_PROCESS: (lambda: sandboxes[IN_PROCESS].run(CANDIDATE, "8"), args.trials),
        SPAWN: (lambda: sandboxes[SPAWN].run(CANDIDATE, "8"), args.spawn_trials),
    }
    results: dict[str, list[float]] = {name: [] for name in (*methods, BARE_FORK)}
    for call, _ in methods.values():
        call()  # warm-up, not counted
    for _ in range(args.rounds):
        for name, (call, trials) in methods.items():
            results[name] += timed(call, trials)
        results[BARE_FORK] += bare_forks(args.trials)
    return results


def measure_all(spec: ProblemSpec, args: argparse.Namespace) -> tuple[dict[str, list[float]], float, float]:
    """Every method's seconds per trial, and the fork server's CPU seconds and page faults per trial."""
    limits = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=512)
    with (open_sandbox(spec, limits=limits) as fork,
          open_sandbox(spec, mode=SandboxMode.SPAWN, limits=limits) as spawn,
          open_sandbox(spec, mode=SandboxMode.IN_PROCESS) as local):
        assert fork.run(CANDIDATE, "8").score == spawn.run(CANDIDATE, "8").score == 56.0
        assert local.run(CANDIDATE, "8").score == 56.0
        server = fork.server_pid  # type: ignore[attr-defined]
        cpu_before, faults_before = cpu_and_faults(server)  # the server and every trial child it reaped
        results = measure({FORK: fork, SPAWN: spawn, IN_PROCESS: local}, args)
        cpu, faults = cpu_and_faults(server)
        trials = args.rounds * args.trials
        return results, (cpu - cpu_before) / trials, (faults - faults_before) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=30, help="per round, for the fast methods")
    parser.add_argument("--spawn-trials", type=int, default=3, help="per round, for the fresh spawn")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="evoforge-bench-") as folder:
        (Path(folder) / "spec.py").write_text(SPEC)
        spec = load_problem(Path(folder) / "spec.py", inputs_json="[8]")
        results, cpu_per_trial, faults_per_trial = measure_all(spec, args)
    medians = {name: report(name, seconds) for name, seconds in results.items()}
    fork_ms, spawn_ms = medians[FORK], medians[SPAWN]
    print(f"fork server CPU per trial (server + child): {cpu_per_trial * 1000:.2f} ms, "
          f"{faults_per_trial:.0f} page faults")
    print(f"spawn / fork server: {spawn_ms / fork_ms:.1f}x   (goal: >= 20x; fork server median goal <= 5 ms)")
    print(f"fork server / bare fork: {fork_ms / medians[BARE_FORK]:.1f}x   (the limits and harness on top of "
          "one fork; steadier than milliseconds on a loaded machine)")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
