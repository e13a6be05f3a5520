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

from evoforge.records import BehaviourDuplicate, Evaluation


def evaluate_unless_known(
    evaluator: Any, code: str, known: Collection[str]
) -> Evaluation | BehaviourDuplicate:
    """The full evaluation (its details carry the fingerprint), or a BehaviourDuplicate."""
    started = time.perf_counter()
    take_fingerprint = getattr(evaluator, "fingerprint", None)
    behaviour = take_fingerprint(code) if take_fingerprint is not None else None
    probe_seconds = time.perf_counter() - started
    if behaviour is not None and behaviour in known:
        return BehaviourDuplicate(behaviour, probe_seconds)
    evaluation: Evaluation = evaluator.evaluate(code)
    if behaviour is None:
        return evaluation
    details = {**evaluation.details, "behaviour_hash": behaviour, "probe_seconds": round(probe_seconds, 6)}
    return replace(evaluation, seconds=evaluation.seconds + probe_seconds, details=details)
