"""Symbolic integration: find an antiderivative F of a given integrand f.

The evolved function computes F with numpy operations; the scoring code
turns it into a sympy formula and differentiates it. A candidate scores by
how closely F' matches f at training points; reports say whether F' = f is
proved by sympy (or, where simplify cannot decide, holds at fresh points).
"""

import numpy as np

from evoforge import evolve, run
from evoforge.expressions.antiderivative import score_antiderivative


@run
def evaluate(task: dict) -> dict:
    """Differentiate `antiderivative` and compare it with the integrand: {"score", "data": its details}."""
    return score_antiderivative(antiderivative, task)


@evolve
def antiderivative(x: np.ndarray) -> np.ndarray:
    """An antiderivative F of f(x) = x**3 on (0, 1): F'(x) must equal f(x).

    Args:
      x: numpy array of points in (0, 1).

    Returns:
      F(x), one value per point, built from numpy functions (np.sin, np.log, ...).
    """
    return x
