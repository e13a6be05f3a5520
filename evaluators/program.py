"""Scoring a candidate program on every input of a spec's split, in a sandbox.

This is what one Ray evaluator actor holds; it never imports Ray, so it runs
the same in a test, a notebook or an actor.
"""

from __future__ import annotations

import time
from pathlib import Path

from evoforge.records import Evaluation, Limits, TrialResult
from evoforge.sandboxes import Sandbox, SandboxMode, open_sandbox
from evoforge.sandboxes.probes import fingerprint_text
from evoforge.spec import ProblemSpec


class ProgramEvaluator:
    """A warm sandbox for one spec and split; `evaluate` runs a candidate on each input in order.

    With `stop_on_error`, it stops at the first input that fails: during a
    search the program is invalid either way (FunSearch drops it), and a
    candidate that times out on one input usually times out on the rest,
    costing the run minutes for nothing. Reports leave it off to see every input.
    A program keeps no per-run state, so `run_dir` is not used. With `fingerprints`
    (a search), the sandbox also records probe calls for `fingerprint` (evaluators/behaviour.py).
    """

    offers_fingerprints = True

    def __init__(self, spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 stop_on_error: bool = False, run_dir: Path | None = None,
                 fingerprints: bool = False) -> None:
        self.spec = spec
        self.stop_on_error = stop_on_error
        self._sandbox: Sandbox = open_sandbox(spec, split, dataset, mode, limits, probe=fingerprints)
        self.input_keys: tuple[str, ...] = self._sandbox.input_keys

    def fingerprint(self, code: str) -> str | None:
        """The candidate's behaviour fingerprint (sandboxes/probes.py), or None where none is taken:
        the sandbox was opened without `fingerprints` (or cannot take them), or the candidate
        fails on a probe call."""
        if not getattr(self._sandbox, "can_probe", False):
            return None
        return fingerprint_text(self._sandbox.probe(code).data)  # type: ignore[attr-defined]

    def evaluate(self, code: str) -> Evaluation:
        started = time.perf_counter()
        trials: list[TrialResult] = []
        for key in self.input_keys:
            trial = self._sandbox.run(code, key)
            trials.append(trial)
            if trial.score is None and self.stop_on_error:
                break
        return Evaluation(tuple(trials), seconds=time.perf_counter() - started)

    def close(self) -> None:
        self._sandbox.close()

    def __enter__(self) -> ProgramEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
