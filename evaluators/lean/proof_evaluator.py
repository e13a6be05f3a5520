"""The `lean_proof` candidate kind: a candidate is a proof; each input is a statement.

A verified proof scores 1. A proof Lean rejected still scores, below 1.0 by its
errors and unsolved goals, so rejected attempts stay in the islands, ordered,
and their first error and goals (`details["feedback"]`) go into the next prompt
(the repair loop). A proof the static rules reject, or one that ran out of time,
scores 0. No Lean (BACKEND_UNAVAILABLE) or a broken REPL gives no score.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evoforge.evaluators.lean.discovery import LeanSettings
from evoforge.evaluators.lean.outcome import Status, VerifyResult
from evoforge.evaluators.lean.task import ProofTask
from evoforge.records import Evaluation, Limits, TrialResult
from evoforge.spec import ProblemSpec

REJECTED_CEILING = 0.5  # the best a rejected proof can score; a verified one scores 1


def partial_score(result: VerifyResult) -> float | None:
    """1 verified; (0, 0.5] rejected by Lean, fewer errors and goals scoring higher; 0 otherwise."""
    if result.status is Status.VERIFIED:
        return 1.0
    if result.status is Status.REJECTED and "rule" not in result.extra:
        return REJECTED_CEILING / ((1 + len(result.errors)) * (1 + len(result.goals)))
    if result.status in (Status.REJECTED, Status.TIMEOUT):
        return 0.0
    return None


def feedback(result: VerifyResult, limit: int = 1200) -> str:
    """What the next prompt should know: Lean's first error and the goals left."""
    if result.verified:
        return ""
    error = result.first_error()
    if result.goals and error.startswith("unsolved goals"):
        error = "unsolved goals"  # the goals follow, once
    lines = [f"{result.status.value}: {error}"]
    if result.goals:
        lines.append("goals left:\n" + "\n\n".join(result.goals[:3]))
    return "\n".join(lines)[:limit]


class LeanProofEvaluator:
    """Verifies a proof against each statement of the split; one REPL pool for the evaluator's life."""

    def __init__(
        self,
        spec: ProblemSpec,
        split: str = "train",
        dataset: Path | None = None,
        mode: Any = None,
        limits: Limits | None = None,
        stop_on_error: bool = False,
        run_dir: Path | None = None,  # the open_evaluator seam's; a proof check keeps no per-run state
    ) -> None:
        from evoforge.evaluators.lean.backends import open_verifier

        self.spec, self.stop_on_error = spec, stop_on_error
        self.theorems: dict[str, dict[str, Any]] = dict(spec.inline_inputs.get(split) or {})
        self.input_keys: tuple[str, ...] = tuple(self.theorems)
        settings = lean_settings(spec, limits)
        self.workers = settings.processes
        self.verifier = open_verifier(settings)

    @staticmethod
    def preflight(spec: ProblemSpec) -> None:
        """Raise BackendUnavailable now, before a run starts any actor, if there is no Lean."""
        from evoforge.evaluators.lean.discovery import find_repl

        find_repl(lean_settings(spec, None))

    def evaluate(self, code: str) -> Evaluation:
        """Every statement through the verifier's `verify_stream` (its pool's processes at once);
        with `stop_on_error`, no further check starts after one that gives no score."""
        started = time.perf_counter()
        tasks = [self._task(key, code) for key in self.input_keys]
        results: dict[int, VerifyResult] = {}
        for index, result in self.verifier.verify_stream(tasks, self.workers):
            results[index] = result
            if self.stop_on_error and partial_score(result) is None:
                break  # the stream cancels the checks not yet started
        trials, details = [], {}
        for index in sorted(results):
            key, result = self.input_keys[index], results[index]
            score = partial_score(result)
            error = None if score is not None else f"{result.status.value}: {result.first_error()}"
            trials.append(TrialResult(key, score, error, result.seconds, output_tail=feedback(result)))
            details[key] = result.to_json()
        details["feedback"] = next((t.output_tail for t in trials if t.output_tail), "")
        return Evaluation(tuple(trials), seconds=time.perf_counter() - started, details=details)

    def _task(self, key: str, code: str) -> ProofTask:
        theorem = self.theorems[key]
        return ProofTask(
            theorem["name"],
            theorem["statement"],
            "",
            preamble=theorem.get("preamble") or "",
            imports=theorem.get("imports") or "",
        ).with_candidate(code)

    def close(self) -> None:
        self.verifier.close()

    def __enter__(self) -> LeanProofEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def lean_settings(spec: ProblemSpec, limits: Limits | None) -> LeanSettings:
    """Where Lean is (environment) and the per-check time (the spec's wall_seconds)."""
    return LeanSettings.from_environment(timeout_seconds=(limits or spec.limits).wall_seconds)
