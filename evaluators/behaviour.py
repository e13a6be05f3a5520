"""Evaluate a candidate unless it behaves like a program the run already has.

After normalized-code dedup, the cheapest check left is behaviour: one probe
trial in the sandbox (sandboxes/probes.py) gives the candidate's fingerprint;
if a known program has the same one, the full evaluation is skipped and the
candidate is recorded as a behavioural duplicate. Kinds without fingerprints
(expressions, proofs) are simply evaluated.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from evoforge.evaluators import evaluate_all
from evoforge.records import BehaviourDuplicate, Evaluation


def evaluate_unless_known(
    evaluator: Any, code: str, known: Collection[str]
) -> Evaluation | BehaviourDuplicate:
    """The full evaluation (its details carry the fingerprint), or a BehaviourDuplicate."""
    return evaluate_batch_unless_known(evaluator, [code], known)[0]


def evaluate_batch_unless_known(
    evaluator: Any, codes: list[str], known: Collection[str]
) -> list[Evaluation | BehaviourDuplicate]:
    """Each candidate probed first; those that behave like a known program skip the kind's batch."""
    probes = [_probe(evaluator, code) for code in codes]
    outcomes: list[Evaluation | BehaviourDuplicate | None] = [None] * len(codes)
    fresh: list[int] = []
    for index, (behaviour, seconds) in enumerate(probes):
        if behaviour is not None and behaviour in known:
            outcomes[index] = BehaviourDuplicate(behaviour, seconds)
        else:
            fresh.append(index)
    evaluations = evaluate_all(evaluator, [codes[index] for index in fresh])
    for index, evaluation in zip(fresh, evaluations, strict=True):
        outcomes[index] = _with_behaviour(evaluation, *probes[index])
    return [outcome for outcome in outcomes if outcome is not None]


def _probe(evaluator: Any, code: str) -> tuple[str | None, float]:
    """The candidate's fingerprint (None for kinds or modes without one) and the seconds it took."""
    started = time.perf_counter()
    take_fingerprint = getattr(evaluator, "fingerprint", None)
    behaviour = take_fingerprint(code) if take_fingerprint is not None else None
    return behaviour, time.perf_counter() - started


def _with_behaviour(evaluation: Evaluation, behaviour: str | None, probe_seconds: float) -> Evaluation:
    if behaviour is None:
        return evaluation
    details = {**evaluation.details, "behaviour_hash": behaviour, "probe_seconds": round(probe_seconds, 6)}
    return replace(evaluation, seconds=evaluation.seconds + probe_seconds, details=details)
