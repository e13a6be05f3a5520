"""Scoring a candidate expression: the program evaluator, plus the details each trial carried.

The candidate runs only in the sandbox; there the spec's trusted `@run`
code fits its constants, scores it and turns it into sympy
(`evoforge.expressions.scoring`), and returns the details (fitted constants,
errors, formula, LaTeX, recovery) as the trial's data
(`evoforge.expressions.details`). This side unpacks them into
`Evaluation.details`, which the run database stores per candidate.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.evaluators.program import ProgramEvaluator
from evoforge.expressions import details as carried
from evoforge.records import Evaluation, Limits, TrialResult
from evoforge.sandboxes import SandboxMode
from evoforge.spec import ProblemSpec


class ExpressionEvaluator:
    """Evaluates like a program, then files every trial's details (see `filed_details`)."""

    def __init__(self, spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 stop_on_error: bool = False, run_dir: Path | None = None) -> None:
        self._programs = ProgramEvaluator(spec, split=split, dataset=dataset, mode=mode, limits=limits,
                                          stop_on_error=stop_on_error)
        self.input_keys = self._programs.input_keys

    def evaluate(self, code: str) -> Evaluation:
        evaluation = self._programs.evaluate(code)
        unpacked = [_unpacked(trial) for trial in evaluation.trials]
        trials = tuple(trial for trial, _ in unpacked)
        per_input = {trial.input_key: details for trial, details in unpacked if details}
        return Evaluation(trials, evaluation.seconds, details=filed_details(per_input, len(trials)))

    def close(self) -> None:
        self._programs.close()

    def __enter__(self) -> ExpressionEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unpacked(trial: TrialResult) -> tuple[TrialResult, dict[str, Any]]:
    """The trial without its packed data, and its details; a failure reported beside them becomes
    the trial's error (see `details.failed`)."""
    details = carried.unpack(trial.data)
    why = details.pop(carried.ERROR_KEY, None)
    if why is not None and trial.score is not None:
        return replace(trial, data=None, score=None, error=f"ExpressionError: {why}"), details
    return replace(trial, data=None), details


def filed_details(per_input: dict[str, dict[str, Any]], trial_count: int) -> dict[str, Any]:
    """What every input agrees on (formula, constants ...) at the top, the rest under "per_input".

    One equation is fitted once per input on the same training points, so the
    formula and constants agree and the held-out errors and verdict differ;
    `Evaluation.input_details(key)` puts one input's view back together. A
    search evaluation has one input: its details stay flat.
    """
    if not per_input:
        return {}
    if len(per_input) < trial_count:  # an input without details: nothing is common to all of them
        return {"per_input": per_input}
    first, *others = per_input.values()
    common = {k: v for k, v in first.items() if all(k in o and o[k] == v for o in others)}
    rest = {key: {k: v for k, v in d.items() if k not in common} for key, d in per_input.items()}
    return {**common, **({"per_input": {k: v for k, v in rest.items() if v}} if any(rest.values()) else {})}
