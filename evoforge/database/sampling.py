"""The maths behind FunSearch's choices: tempered softmax, temperature schedule, scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Signature = tuple[float, ...]


def softmax(logits: Sequence[float] | np.ndarray, temperature: float) -> np.ndarray:
    """Tempered softmax of finite `logits` that cannot overflow, however wide their range."""
    values = np.asarray(logits, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("softmax needs a non-empty 1-D array of logits")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"logits contain non-finite values: {set(values[~np.isfinite(values)].tolist())}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    # Shift before dividing: the largest logit becomes exp(0) = 1, so nothing
    # overflows; a gap wider than float64 becomes -inf, i.e. probability 0.
    with np.errstate(over="ignore"):
        weights = np.exp((values - values.max()) / temperature)
    # Dividing by the sum keeps the total within rounding of 1, as numpy's
    # sampler demands.
    return weights / weights.sum()


def spread_normalized(scores: Sequence[float]) -> list[float]:
    """Scores mapped onto [0, 1] by the island's own spread (all 0 when they are equal).

    FunSearch's temperature 0.1 was tuned for scores like minus a bin count,
    whose gaps are whole numbers; a problem scored as a fraction (gaps of
    0.001) would make the same temperature sample clusters uniformly. On this
    scale the best cluster is e^(1/T) times likelier than the worst whatever
    the problem's units.
    """
    low, high = min(scores), max(scores)
    if not high > low:
        return [0.0 for _ in scores]
    return [(s - low) / (high - low) for s in scores]


def temperature(init: float, period: int, num_programs: int) -> float:
    """FunSearch's saw-tooth schedule: cools linearly as the island grows, reheats every period."""
    return init * (1 - (num_programs % period) / period)


def get_signature(scores: Sequence[float]) -> Signature:
    """Canonical per-input scores (higher is better); a bad one is the caller's bug."""
    signature = tuple(float(s) for s in scores)
    if not signature:
        raise ValueError("a signature needs at least one per-input score")
    if not all(math.isfinite(s) for s in signature):
        raise ValueError(f"signature scores must be finite, got {signature}")
    return signature


def reduce_score(signature: Signature) -> float:
    """One score per signature: the mean over inputs, as `Evaluation.score` reduces it."""
    return sum(signature) / len(signature)


def sample_distinct(
    rng: np.random.Generator, logits: Sequence[float], temperature: float, k: int
) -> list[int]:
    """Draw min(k, n) distinct indices, each from the softmax over those not yet drawn.

    Renormalising over the remaining logits (rather than asking numpy for
    `replace=False`) still works when a cold temperature has made most
    probabilities exactly zero.
    """
    remaining = list(range(len(logits)))
    chosen: list[int] = []
    for _ in range(min(k, len(remaining))):
        probabilities = softmax([logits[i] for i in remaining], temperature)
        chosen.append(remaining.pop(int(rng.choice(len(remaining), p=probabilities))))
    return chosen
