"""Scoring a candidate expression: the program evaluator, plus the details each trial reports.

The candidate runs only in the sandbox; there the spec's trusted `@run`
code fits its constants, scores it and turns it into sympy
(`evoforge.expressions.scoring`). This side reads what each trial reported
(fitted constants, errors, formula, LaTeX, recovery) into
`Evaluation.details`, which the run database stores per candidate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evoforge.evaluators.program import ProgramEvaluator
from evoforge.expressions import channel
from evoforge.records import Evaluation, Limits
from evoforge.sandboxes import SandboxMode
from evoforge.spec import ProblemSpec


class ExpressionEvaluator:
    """Evaluates like a program, then collects every trial's details into one dict.

    Per-input values merge into one dict (one equation per run), with
    `errors` mapping an input to its one-sentence failure.
    """

    def __init__(self, spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 stop_on_error: bool = False, run_dir: Path | None = None) -> None:
        self._programs = ProgramEvaluator(spec, split=split, dataset=dataset, mode=mode, limits=limits,
                                          stop_on_error=stop_on_error)
        self.input_keys = self._programs.input_keys

    def evaluate(self, code: str) -> Evaluation:
        evaluation = self._programs.evaluate(code)
        return Evaluation(evaluation.trials, evaluation.seconds, details=merged_details(evaluation))

    def close(self) -> None:
        self._programs.close()

    def __enter__(self) -> ExpressionEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def merged_details(evaluation: Evaluation) -> dict[str, Any]:
    details: dict[str, Any] = {}
    errors = {t.input_key: t.error for t in evaluation.trials if t.error}
    for trial in evaluation.trials:
        details.update(channel.read(trial.output_tail))
    if errors:
        details["errors"] = errors
    return details
