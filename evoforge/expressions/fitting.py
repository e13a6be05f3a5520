"""Fitting an equation skeleton's free constants to points (runs inside the sandbox).

The candidate is LLM-SR's skeleton: `equation(x0, x1, ..., params)` with
numpy arrays for the variables and a vector of `N_PARAMS` free constants.
scipy's Levenberg-Marquardt fits them from several starting points, within a
bounded number of evaluations and seconds; what the candidate does wrong
(wrong arity, complex values, NaN, overflow, a wrong shape) becomes one
`ExpressionError` sentence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

N_PARAMS = 10
RESTARTS = 4
MAX_EVALUATIONS = 400
MAX_SECONDS = 5.0
GOOD_ENOUGH_NMSE = 1e-26
PENALTY = 1e6
TOLERANCE = 1e-15  # scipy stops at 1e-8 by default: far from the machine-precision fits a true law allows
FALLBACK_DECADES = (3, 6, 9, 12, 18, 24, -3, -6, -9, -12)  # for constants far from 1 (SI units)


class ExpressionError(Exception):
    """The candidate expression cannot be scored; the message says why, in one sentence."""


@dataclass(frozen=True)
class Fit:
    params: np.ndarray
    nmse: float


def predict(equation: Callable[..., object], x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """The candidate's values at the points `x` (n points x k variables), checked."""
    columns = [x[:, i] for i in range(x.shape[1])]
    with np.errstate(all="ignore"):
        try:
            raw = equation(*columns, params)
        except TypeError as error:
            raise ExpressionError(
                f"equation() cannot be called with {len(columns)} variables and params: {error}"
            ) from None
    return _checked_values(raw, len(x))


def _checked_values(raw: object, count: int) -> np.ndarray:
    try:
        values = np.asarray(raw)
    except Exception as error:
        raise ExpressionError(f"equation() returned something that is not numbers: {error}") from None
    if np.iscomplexobj(values):
        if not np.allclose(values.imag, 0.0):
            raise ExpressionError("equation() returned complex values; keep every operation real")
        values = values.real
    if values.dtype.kind not in "biuf":
        raise ExpressionError(f"equation() returned {values.dtype} values, not real numbers")
    try:
        return np.broadcast_to(values.astype(float), (count,)).copy()
    except ValueError:
        raise ExpressionError(
            f"equation() returned shape {values.shape}; return one value per point ({count})"
        ) from None


def nmse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Normalised mean squared error: MSE over the target's variance (its mean square if constant)."""
    scale = float(np.var(target)) or float(np.mean(target**2)) or 1.0
    with np.errstate(all="ignore"):
        value = float(np.mean((predicted - target) ** 2) / scale)
    return value if np.isfinite(value) else float("inf")


def fit_constants(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, seed: int = 0) -> Fit:
    """The best constants over several restarts; raises ExpressionError if no start gives numbers.

    Starts: all ones, then log-normal draws; only if none of those gives finite
    values (constants in SI units far from 1), every constant at 10**k.
    """
    rng = np.random.default_rng(seed)
    ordinary = [np.ones(N_PARAMS), *(rng.lognormal(0.0, 1.0, N_PARAMS) for _ in range(RESTARTS - 1))]
    best = _best_fit(equation, x, y, ordinary)
    if best is None:
        best = _best_fit(equation, x, y, [np.full(N_PARAMS, 10.0**k) for k in FALLBACK_DECADES])
    if best is None:
        raise ExpressionError("equation() gives NaN or infinite values at every starting point")
    if not np.isfinite(best.nmse):
        raise ExpressionError("the fitted equation overflows (infinite error)")
    return best


Scale = float | np.ndarray  # one for all points, or one per point (a weighted fit)


def refit(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, start: np.ndarray,
          scale: Scale | None = None) -> np.ndarray:
    """One least-squares descent from `start`, residuals divided by `scale` (the noisy-data rule's refits)."""
    start = np.asarray(start, dtype=float)
    return _least_squares(equation, x, y, _scale(y) if scale is None else scale, start)


def residual_sum(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, params: np.ndarray,
                 scale: Scale = 1.0) -> float:
    """Sum of squared residuals over `scale` at `params` (inf where the candidate gives no finite values)."""
    with np.errstate(all="ignore"):
        value = float(np.sum(((predict(equation, x, params) - y) / scale) ** 2))
    return value if np.isfinite(value) else float("inf")


def _scale(y: np.ndarray) -> float:
    return float(np.std(y)) or float(np.sqrt(np.mean(y**2))) or 1.0


def _best_fit(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, starts: list[np.ndarray]
              ) -> Fit | None:
    scale = _scale(y)
    deadline = time.monotonic() + MAX_SECONDS
    best: Fit | None = None
    for start in starts:
        if not np.all(np.isfinite(predict(equation, x, start))):
            continue
        fitted = _least_squares(equation, x, y, scale, start)
        candidate = Fit(fitted, nmse(predict(equation, x, fitted), y))
        if best is None or candidate.nmse < best.nmse:
            best = candidate
        if best.nmse < GOOD_ENOUGH_NMSE or time.monotonic() > deadline:
            break
    return best


def _least_squares(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, scale: Scale,
                   start: np.ndarray) -> np.ndarray:
    def residuals(params: np.ndarray) -> np.ndarray:
        values = (predict(equation, x, params) - y) / scale
        return np.where(np.isfinite(values), values, PENALTY)

    try:
        method = "lm" if len(y) >= len(start) else "trf"  # Levenberg-Marquardt needs points >= constants
        result = least_squares(residuals, start, method=method, max_nfev=MAX_EVALUATIONS,
                               x_scale="jac", ftol=TOLERANCE, xtol=TOLERANCE, gtol=TOLERANCE)
    except ValueError:  # scipy refuses what it cannot fit (e.g. fewer points than constants)
        return start
    return result.x if np.all(np.isfinite(result.x)) else start
