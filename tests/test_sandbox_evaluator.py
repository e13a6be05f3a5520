"""ProgramEvaluator: every input in order, one Evaluation; the same scores in every mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_sandbox_support import GOOD, LIMITS, candidate, write_spec

from evoforge.evaluators.program import ProgramEvaluator
from evoforge.sandboxes import SandboxMode
from evoforge.spec import load_problem

BEST_FIT = "def priority(item, bins):\n    return -(bins - item)\n"
FIRST_FIT = "def priority(item, bins):\n    return -np.arange(len(bins), dtype=float)\n"
WORST_FIT = "def priority(item, bins):\n    return bins - item\n"


def test_evaluation_has_one_trial_per_input_in_order(tmp_path: Path) -> None:
    with ProgramEvaluator(write_spec(tmp_path), limits=LIMITS) as evaluator:
        evaluation = evaluator.evaluate(GOOD)
    assert evaluator.input_keys == ("small", "big")
    assert [t.input_key for t in evaluation.trials] == ["small", "big"]
    assert evaluation.signature == (6.0, 20.0) and evaluation.score == 13.0


def test_evaluation_runs_every_input_even_after_a_failure(tmp_path: Path) -> None:
    with ProgramEvaluator(write_spec(tmp_path), limits=LIMITS) as evaluator:
        evaluation = evaluator.evaluate(candidate("return float('nan') if n < 5 else 1.0"))
    assert [t.score for t in evaluation.trials] == [None, 1.0] and evaluation.score is None
    assert evaluation.first_error == "invalid result: score is nan"


def test_evaluation_can_stop_at_the_first_failed_input(tmp_path: Path) -> None:
    with ProgramEvaluator(write_spec(tmp_path), limits=LIMITS, stop_on_error=True) as evaluator:
        evaluation = evaluator.evaluate(candidate("return 1.0 if n < 5 else float('nan')"))
        again = evaluator.evaluate(candidate("raise ValueError('broken')"))
    assert [t.score for t in evaluation.trials] == [1.0, None] and not evaluation.ok
    assert len(again.trials) == 1 and again.first_error == "ValueError: broken" and again.score is None


def _bin_packing_scores(mode: SandboxMode, codes: list[str]) -> list[tuple[float, ...]]:
    spec = load_problem("bin_packing")  # the spine's built-in problem, its train split
    with ProgramEvaluator(spec, mode=mode) as evaluator:
        return [evaluator.evaluate(code).signature for code in codes]


@pytest.mark.parametrize("mode", [SandboxMode.FORK, SandboxMode.SPAWN])
def test_bin_packing_scores_the_same_sandboxed_as_in_process(mode: SandboxMode) -> None:
    codes = [BEST_FIT, FIRST_FIT, WORST_FIT]
    sandboxed = _bin_packing_scores(mode, codes)
    in_process = _bin_packing_scores(SandboxMode.IN_PROCESS, codes)
    assert sandboxed == in_process
    assert all(len(signature) >= 1 for signature in sandboxed)
    assert sandboxed[0] != sandboxed[2]  # the heuristics differ, so the check is not vacuous
