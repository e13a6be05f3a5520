"""Running candidates in the caller's own process: for debugging only (`--unsafe-in-process`).

No limit applies here: a candidate that loops forever hangs the caller, one
that patches numpy corrupts it for good, and one that reads the environment
sees every key. What is kept is the harness: a fresh spec namespace per
trial, the tamper guard, exact score checks, and every exception turned into
a recorded error.
"""

from __future__ import annotations

import time
from pathlib import Path

from evoforge.records import TrialResult
from evoforge.sandboxes.base import Sandbox, warn_once
from evoforge.sandboxes.harness import SpecProgram, run_trial
from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError
from evoforge.spec_inputs import resolve_inputs


class InProcessSandbox(Sandbox):
    """The harness without a process boundary."""

    def __init__(self, spec: ProblemSpec, split: str, dataset: Path | None) -> None:
        warn_once("running candidates IN PROCESS: no isolation and no limits (--unsafe-in-process)")
        self._inputs = resolve_inputs(spec, split, dataset)
        self._program = SpecProgram(spec.source, str(spec.path), spec.evolve_name, spec.run_name)
        try:
            self._program.instantiate()  # a broken spec fails here, once, not inside every trial
        except Exception as error:
            raise SpecError(f"{spec.path}: the spec failed to load ({type(error).__name__}: {error}); "
                            "fix it so it runs as a plain Python module.") from None
        self.input_keys = tuple(self._inputs)

    def run(self, code: str, input_key: str) -> TrialResult:
        self._check_key(input_key)
        started = time.perf_counter()
        outcome = run_trial(self._program.instantiate(), code, self._inputs[input_key])
        return TrialResult(input_key, outcome.get("score"), outcome.get("error"),
                           seconds=time.perf_counter() - started, data=outcome.get("data"))

    def close(self) -> None:
        self._inputs = {}
