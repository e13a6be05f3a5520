"""The statistics of a comparison: per-arm median and quartiles, and a bootstrap interval.

A handful of seeds per arm is what a search comparison can afford, so the
figures are the robust ones: the median and the interquartile range (numpy's
linear quantiles), and a percentile bootstrap interval for the difference of
two arms' medians (each arm's runs resampled with replacement, independently).
The bootstrap's generator has a fixed seed, so the same runs always print the
same interval. Beside it, a tally by seed: runs of one seed start alike in
every arm (the first prompt shows only the spec's seed program and draws with
the same sampling seeds, so the first batch is the same text), which makes
the seed a natural pairing, and "ahead in most seeds" a count a reader can check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

BOOTSTRAP_SEED = 20240613
CONFIDENCE = 0.95


class Curve(Protocol):
    duplicate_rate: float | None
    valid_rate: float | None
    samples_per_minute: float | None

    def value_at(self, samples: int) -> float | None: ...


@dataclass(frozen=True)
class ArmAt:
    """One arm at one budget: its runs' best scores summarised."""

    samples: int
    runs: int
    scored: int  # runs with a score by then
    median: float | None
    q1: float | None
    q3: float | None
    duplicate_rate: float | None  # medians over the arm's runs (whole runs, not only up to `samples`)
    valid_rate: float | None
    samples_per_minute: float | None


@dataclass(frozen=True)
class SeedTally:
    """Over the seeds both arms ran: where the arm's final score is ahead of, level with or behind the
    reference's run of the same seed (the problem's direction decides "ahead")."""

    ahead: int
    level: int
    behind: int


@dataclass(frozen=True)
class Difference:
    """median(arm) - median(reference) with its bootstrap interval; `better` reads the direction."""

    arm: str
    reference: str
    difference: float | None
    low: float | None
    high: float | None
    confidence: float
    verdict: str  # "better", "worse", "no clear difference" (the interval holds 0) or "too few runs ..."
    seeds: SeedTally | None = None  # None: no seed was run once in each arm


MIN_RUNS_FOR_VERDICT = 3  # runs per arm before a bootstrap interval may call a difference


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile)."""
    q1, median, q3 = np.quantile(np.asarray(values, dtype=float), [0.25, 0.5, 0.75])
    return float(q1), float(median), float(q3)


def at_budget(runs: Sequence[Curve], samples: int) -> ArmAt:
    values = [v for v in (run.value_at(samples) for run in runs) if v is not None]
    q1, median, q3 = quartiles(values) if values else (None, None, None)
    return ArmAt(
        samples=samples, runs=len(runs), scored=len(values), median=median, q1=q1, q3=q3,
        duplicate_rate=_median_of(run.duplicate_rate for run in runs),
        valid_rate=_median_of(run.valid_rate for run in runs),
        samples_per_minute=_median_of(run.samples_per_minute for run in runs),
    )


def _median_of(values) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.median(known)) if known else None


def bootstrap_interval(a: Sequence[float], b: Sequence[float], resamples: int = 2000,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval of median(a*) - median(b*) over resamples of each with replacement."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    xs, ys = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    da = np.median(xs[rng.integers(0, len(xs), size=(resamples, len(xs)))], axis=1)
    db = np.median(ys[rng.integers(0, len(ys), size=(resamples, len(ys)))], axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(da - db, [tail, 1 - tail])
    return float(low), float(high)


def seed_tally(pairs: Sequence[tuple[float, float]], higher_is_better: bool) -> SeedTally | None:
    """Count (arm's score, reference's score) pairs of one seed each by which is ahead."""
    if not pairs:
        return None
    signs = [0 if math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12)
             else 1 if (mine > theirs) == higher_is_better else -1 for mine, theirs in pairs]
    return SeedTally(ahead=signs.count(1), level=signs.count(0), behind=signs.count(-1))


def median_difference(arm: str, values: Sequence[float], reference: str, reference_values: Sequence[float],
                      higher_is_better: bool, resamples: int = 2000,
                      by_seed: Sequence[tuple[float, float]] = ()) -> Difference:
    """The arm against the reference at the final budget, with the direction's verdict and, from
    `by_seed` (the two arms' scores of each seed they share), the tally by seed."""
    seeds = seed_tally(by_seed, higher_is_better)
    if not values or not reference_values:
        return Difference(arm, reference, None, None, None, CONFIDENCE, "no scores to compare", seeds)
    difference = float(np.median(values) - np.median(reference_values))
    low, high = bootstrap_interval(values, reference_values, resamples)
    if min(len(values), len(reference_values)) < MIN_RUNS_FOR_VERDICT:
        # a bootstrap of one or two runs is a point, not an interval: it would call any gap "better"
        counts = f"{len(values)} and {len(reference_values)}"
        verdict = f"too few runs ({counts}; {MIN_RUNS_FOR_VERDICT} each needed)"
    elif low <= 0 <= high:
        verdict = "no clear difference"
    else:
        verdict = "better" if (low > 0) == higher_is_better else "worse"
    return Difference(arm, reference, difference, low, high, CONFIDENCE, verdict, seeds)
