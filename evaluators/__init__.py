"""Evaluators: turn a candidate into per-input scores, one kind of candidate each.

`open_evaluator` is the one seam the run loop, `evoforge evaluate` and the
held-out report go through: it picks the evaluator for the spec's `kind`
(problem.toml), so a new kind plugs in by adding one entry to `EVALUATOR_KINDS`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from evoforge.records import Evaluation, Limits
from evoforge.spec import ProblemSpec

# kind -> "module:Class"; imported only when chosen, so a program run never loads sympy, torch or Lean.
EVALUATOR_KINDS: dict[str, str] = {
    "program": "evoforge.evaluators.program:ProgramEvaluator",
    "lean_proof": "evoforge.evaluators.lean.proof_evaluator:LeanProofEvaluator",
    "expression": "evoforge.evaluators.expression:ExpressionEvaluator",
    "surrogate_program": "evoforge.evaluators.surrogate:SurrogateCascadeEvaluator",
    "openevolve": "evoforge.evaluators.openevolve:OpenEvolveEvaluator",
}


class Evaluator(Protocol):
    """What every kind offers: score one candidate text on each input of a split.

    A kind that gains from seeing candidates together (the surrogate cascade
    screens a batch in one forward pass) also offers `evaluate_batch` and says
    how many it wants at once in `batch_size`; see `evaluate_all`.
    """

    input_keys: tuple[str, ...]

    def evaluate(self, code: str) -> Evaluation: ...

    def close(self) -> None: ...


def evaluate_all(evaluator: Evaluator, codes: list[str]) -> list[Evaluation]:
    """Evaluations of `codes` in order: the kind's own `evaluate_batch`, else one at a time."""
    batched = getattr(evaluator, "evaluate_batch", None)
    return batched(codes) if batched is not None else [evaluator.evaluate(code) for code in codes]


def batch_size(evaluator: Evaluator) -> int:
    """How many candidates a run hands the evaluator at once (one, unless the kind says more)."""
    return max(1, int(getattr(evaluator, "batch_size", 1)))


def check_backend(spec: ProblemSpec) -> None:
    """Fail at once, before a run starts anything, if the kind's backend is missing (e.g. no Lean)."""
    preflight = getattr(_evaluator_class(spec.kind), "preflight", None)
    if preflight is not None:
        preflight(spec)


def open_evaluator(spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                   mode: Any = "fork", limits: Limits | None = None,
                   stop_on_error: bool = False, run_dir: Path | None = None,
                   fingerprints: bool = False) -> Evaluator:
    """A ready evaluator for the spec's kind; close it (or use it as a context manager).

    `run_dir` is given in a search: a kind that keeps per-run state (the
    surrogate cascade's checkpoints) keeps it there, so a resume finds it.
    `fingerprints`: a kind that offers behaviour fingerprints (programs) prepares its probe calls.
    """
    kind = _evaluator_class(spec.kind)
    extra = {"fingerprints": fingerprints} if getattr(kind, "offers_fingerprints", False) else {}
    return kind(spec, split=split, dataset=dataset, mode=mode, limits=limits,
                stop_on_error=stop_on_error, run_dir=run_dir, **extra)


def _evaluator_class(kind: str) -> Any:
    module_name, class_name = EVALUATOR_KINDS[kind].split(":")
    return getattr(importlib.import_module(module_name), class_name)
