"""SPAWN mode: a fresh interpreter per trial, for specs that cannot be forked safely.

The evaluator starts each child with posix_spawn (safe from a multi-threaded
Ray actor: no Python runs between fork and exec), a scrubbed environment and
its own session, then supervises it exactly as the fork-server does.
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from evoforge.records import Limits, TrialResult
from evoforge.sandboxes.base import Sandbox, warn_once
from evoforge.sandboxes.confine import RESULT_FD, scrubbed_environment
from evoforge.sandboxes.harness import SpecProgram
from evoforge.sandboxes.supervise import close_all, watch_child
from evoforge.spec import ProblemSpec
from evoforge.spec_inputs import resolve_inputs


class SpawnSandbox(Sandbox):
    """One interpreter per trial: about 80 ms each, with the fork-server's limits."""

    def __init__(self, spec: ProblemSpec, split: str, dataset: Path | None, limits: Limits,
                 private_root: bool = True) -> None:
        if os.getuid() != 0:
            warn_once("not running as root: spawned candidates get no namespaces and no uid drop")
        self._inputs = resolve_inputs(spec, split, dataset)
        self._program = SpecProgram(spec.source, str(spec.path), spec.evolve_name, spec.run_name)
        self._limits = limits
        self._private_root = private_root
        self.input_keys = tuple(self._inputs)

    def run(self, code: str, input_key: str) -> TrialResult:
        self._check_key(input_key)
        started = time.perf_counter()
        workdir = tempfile.mkdtemp(prefix="evoforge-trial-")
        token = secrets.token_hex(16)
        job = {"program": self._program, "value": self._inputs[input_key], "limits": self._limits,
               "code": code, "token": token, "workdir": workdir, "private_root": self._private_root}
        try:
            outcome = self._spawn_and_watch(job, token)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)  # the child may have made it unreadable; best effort
        return TrialResult(input_key, outcome["score"], outcome["error"],  # type: ignore[arg-type]
                           seconds=time.perf_counter() - started, output_tail=str(outcome["output_tail"]),
                           data=outcome["data"])  # type: ignore[arg-type]

    def _spawn_and_watch(self, job: dict[str, object], token: str) -> dict[str, object]:
        with tempfile.TemporaryFile() as job_file:
            pickle.dump(job, job_file, protocol=pickle.HIGHEST_PROTOCOL)
            job_file.seek(0)
            result_r, result_w = os.pipe()
            output_r, output_w = os.pipe()
            try:
                pid = os.posix_spawn(
                    sys.executable, [sys.executable, "-P", "-m", "evoforge.sandboxes.spawned"],
                    scrubbed_environment(),
                    file_actions=[(os.POSIX_SPAWN_DUP2, job_file.fileno(), 0),
                                  (os.POSIX_SPAWN_DUP2, output_w, 1), (os.POSIX_SPAWN_DUP2, output_w, 2),
                                  (os.POSIX_SPAWN_DUP2, result_w, RESULT_FD)],
                    setsid=True,
                )
                os.close(result_w)
                os.close(output_w)
                return watch_child(pid, result_r, output_r, self._limits, token)[0]
            finally:
                close_all(result_r, output_r, result_w, output_w)

    def close(self) -> None:
        self._inputs = {}
