"""Scoring a candidate antiderivative (runs inside the sandbox, the integration problem's `@run`).

The candidate `antiderivative(x)` is turned into sympy and differentiated by
sympy. Training score: -log10 of the normalised squared error of F' against
the integrand at the training points, minus the complexity term. Held out:
verified "symbolic" when sympy simplifies F' - f to 0, else "numeric" when
F' matches f to 1e-9 relative at fresh random points of the domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from evoforge.expressions import details as carried
from evoforge.expressions.fitting import nmse
from evoforge.expressions.scoring import COMPLEXITY_WEIGHT, NMSE_FLOOR, finite_or_none
from evoforge.expressions.symbolic import node_count, shown, simplified, to_sympy

NUMERIC_TOLERANCE = 1e-9


def score_antiderivative(antiderivative: Callable[..., object], task: dict[str, Any]) -> dict[str, Any]:
    """The `@run` body of the integration problem: differentiate, compare; {"score", "data": details}."""
    x = sympy.Symbol("x", real=True)
    integrand = sympy.sympify(task["integrand"], locals={"x": x})
    candidate = simplified(to_sympy(antiderivative, ["x"], params=None, with_params=False))
    derivative = sympy.diff(candidate, x)
    points = np.asarray(task["points"], dtype=float)
    error = nmse(_values(derivative, x, points), _values(integrand, x, points))
    details: dict[str, Any] = {
        "formula": carried.clip(str(shown(candidate))), "latex": carried.clip(sympy.latex(candidate)),
        "complexity": node_count(candidate), f"nmse_{task.get('name', 'train')}": finite_or_none(error),
    }
    if task.get("verify"):
        details.update(verify(derivative, integrand, x, points))
    if not math.isfinite(error):
        return carried.failed(details, "the derivative of the antiderivative is not finite at the points")
    penalty = 0.0 if task.get("verify") else COMPLEXITY_WEIGHT * details["complexity"]
    return carried.result(-math.log10(error + NMSE_FLOOR) - penalty, details)


def verify(derivative: sympy.Expr, integrand: sympy.Expr, x: sympy.Symbol, points: np.ndarray
           ) -> dict[str, Any]:
    """Is F' = f? sympy's simplify first; where it cannot decide, the values at `points`."""
    if sympy.simplify(derivative - integrand) == 0:
        return {"verified": True, "verified_how": "symbolic"}
    left, right = _values(derivative, x, points), _values(integrand, x, points)
    close = np.all(np.isfinite(left)) and np.allclose(left, right, rtol=NUMERIC_TOLERANCE, atol=0)
    return {"verified": bool(close), "verified_how": "numeric" if close else None}


def _values(expression: sympy.Expr, x: sympy.Symbol, points: np.ndarray) -> np.ndarray:
    function = sympy.lambdify(x, expression, modules="numpy")
    with np.errstate(all="ignore"):
        values = np.asarray(function(points), dtype=complex)
    values = np.broadcast_to(values, points.shape)
    return np.where(np.abs(values.imag) <= 1e-12 * np.abs(values.real), values.real, np.nan)

