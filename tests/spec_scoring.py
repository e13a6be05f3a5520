"""Scoring a spec in tests through the production path: `open_evaluator`, in-process mode.

In-process mode runs the same harness a sandboxed child runs (the spec as a
module with `funsearch`/`evoforge` bound, the candidate in a copy of its
globals, the tamper guard, the score checks), without the process boundary,
so problem tests stay fast and still test what `evaluate` and `run` execute.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.evaluators import open_evaluator
from evoforge.records import TrialResult
from evoforge.spec import ProblemSpec

IN_PROCESS = "in-process"


def trials(spec: ProblemSpec, code: str | None = None, split: str = "train",
           dataset: Path | None = None) -> dict[str, TrialResult]:
    """Each input of the split (or of a dataset file) -> its trial, for `code` or the seed."""
    evaluator = open_evaluator(spec, split=split, dataset=dataset, mode=IN_PROCESS)
    try:
        evaluation = evaluator.evaluate(code if code is not None else spec.seed_code)
    finally:
        evaluator.close()
    return {trial.input_key: trial for trial in evaluation.trials}


def trial_on(spec: ProblemSpec, value: Any, code: str | None = None) -> TrialResult:
    """The trial of `code` (or the seed) on one input value given here."""
    one = replace(spec, inputs_module=None, inline_inputs={"train": {"value": value}})
    return trials(one, code)["value"]


def score_on(spec: ProblemSpec, value: Any, code: str | None = None) -> float:
    """The score on one input; a trial that fails fails the test with its error."""
    trial = trial_on(spec, value, code)
    assert trial.score is not None, trial.error
    return trial.score


def error_on(spec: ProblemSpec, value: Any, code: str) -> str:
    """The error of a candidate that must fail on one input."""
    trial = trial_on(spec, value, code)
    assert trial.error is not None, f"scored {trial.score} where an error was expected"
    return trial.error
