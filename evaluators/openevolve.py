"""Scoring an OpenEvolve candidate block: the program evaluator, plus the metrics each trial carried.

The candidate is an EVOLVE-BLOCK (`evoforge.openevolve_block`). It is checked
as code here (the sandbox's static check, on the block itself), then sent to
the sandbox as `evolve_block()` returning its text; there the generated spec's
`@run` code writes the full program into the trial's private directory and
calls evaluator.py's `evaluate` on it (`evoforge.openevolve_runner`). The
metrics come back as the trial's data and are filed as `details["metrics"]`,
which the run stores per candidate and `show --json` prints for the best.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.evaluators.program import ProgramEvaluator
from evoforge.expressions import details as carried
from evoforge.openevolve_block import sandbox_code
from evoforge.records import Evaluation, Limits, TrialResult
from evoforge.sandboxes import SandboxMode
from evoforge.sandboxes.guard import reject_escape_hatches
from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError


class OpenEvolveEvaluator:
    """Evaluates a block like a program (the same fork sandbox) and files its metrics."""

    def __init__(self, spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 stop_on_error: bool = False, run_dir: Path | None = None) -> None:
        if dataset is not None:
            raise SpecError(f"--dataset {dataset}: {spec.name} is an OpenEvolve folder, scored by its "
                            "evaluator.py only; drop --dataset.")
        self._programs = ProgramEvaluator(spec, split=split, mode=mode, limits=limits,
                                          stop_on_error=stop_on_error)
        self.input_keys = self._programs.input_keys

    def evaluate(self, block: str) -> Evaluation:
        refused = reject_escape_hatches(block)
        if refused is not None:
            return Evaluation(tuple(TrialResult(key, None, error=refused) for key in self.input_keys[:1]))
        evaluation = self._programs.evaluate(sandbox_code(block))
        unpacked = [_unpacked(trial) for trial in evaluation.trials]
        trials = tuple(trial for trial, _ in unpacked)
        metrics = {trial.input_key: found for trial, found in unpacked if found is not None}
        return Evaluation(trials, evaluation.seconds, details=_filed(metrics))

    def close(self) -> None:
        self._programs.close()

    def __enter__(self) -> OpenEvolveEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unpacked(trial: TrialResult) -> tuple[TrialResult, dict[str, Any] | None]:
    """The trial without its carried data, and its metrics; a reason given beside them is its error."""
    found = carried.unpack(trial.data)
    why = found.pop(carried.ERROR_KEY, None)
    metrics = found.get("metrics")
    if why is not None and trial.score is not None:
        return replace(trial, data=None, score=None, error=f"EvaluatorResultError: {why}"), metrics
    return replace(trial, data=None), metrics


def _filed(metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One input (evaluate): its metrics at the top; several: per input, as reports read them."""
    if not metrics:
        return {}
    if len(metrics) == 1:
        return {"metrics": next(iter(metrics.values()))}
    return {"per_input": {key: {"metrics": value} for key, value in metrics.items()}}
