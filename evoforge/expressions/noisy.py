"""Recovery from noisy training data: the true law's form, with constants the noise cannot tell apart.

Constants fitted to noisy points are never exact, so the noise-free rule
(fitted constants rationalised, then a sympy proof) would call nothing
recovered. On noisy data (`noise` > 0 in the task) a fitted skeleton is
recovered when both of these hold:

1. **Its form is the true law's.** Its constants are refitted, starting from
   the noisy fit, to the true law's exact values at the same training inputs
   (c*). sympy must then prove the skeleton at c* equal to the truth (the
   noise-free rule, `symbolic.recovery`: "symbolic"), or, failing a proof, the
   skeleton at c* must match the truth out of domain to machine precision
   ("numeric"). A wrong form (a missing factor 2 that no constant absorbs, a
   sin for a cos) fails here whatever the noise.
2. **The noisy data do not reject c*.** The F-test of the nested hypothesis
   "the constants are c*" against the free fit ĉ on the noisy training points,
   F = ((RSS(c*) - RSS(ĉ)) / k) / (RSS(ĉ) / (n - k)) with k the constants the
   skeleton uses and n the points, must give p >= `P_VALUE_FLOOR`: c* lies
   in the fitted constants' 99.9 % joint confidence region (likelihood-ratio
   form, so constants the data cannot identify one by one, c0*c1, are judged
   as the data allow). The noise is relative (sigma = 1 % of each value), so
   residuals are relative too (divided by |y|), and ĉ is refitted under that
   weighting from the search's fit: with plain residuals the largest values
   dominate and the test is overconfident by orders of magnitude on
   log-uniform ranges. A fit stuck in another basin fails here.

A skeleton without free constants has nothing to test in 2: its own formula
must be the law. Runs inside the sandbox, with the candidate's function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from scipy import stats

from evoforge.expressions.fitting import ExpressionError, nmse, predict, refit, residual_sum
from evoforge.expressions.symbolic import recovery, to_sympy

P_VALUE_FLOOR = 1e-3

Points = tuple[np.ndarray, np.ndarray]


def noisy_recovery(equation: Callable[..., object], names: Sequence[str], truth: sympy.Expr,
                   fitted: np.ndarray, train: Points, held_out: Points, constants_used: int,
                   provable: bool = True) -> dict[str, Any]:
    """The verdict of the rule above, with its F-test's p-value.

    `provable=False` (code sympy cannot follow, or a formula that is not what
    the function computes) leaves only the numeric route of step 1.
    """
    x_train, y_noisy = train
    exact = _truth_values(truth, names, x_train)
    if exact is None:
        return {"recovered": False, "recovered_how": None, "recovery_rule": "noisy: truth not finite"}
    true_params = refit(equation, x_train, exact, fitted, _relative(exact)) if constants_used else fitted
    try:
        form = to_sympy(equation, names, true_params) if provable else None
        ood_error = nmse(predict(equation, held_out[0], true_params), held_out[1])
    except ExpressionError:
        form, ood_error = None, float("inf")
    verdict: dict[str, Any] = dict(recovery(form, truth, ood_error))
    p_value = _p_value(equation, x_train, y_noisy, fitted, true_params, constants_used)
    verdict["constants_p_value"] = p_value
    verdict["recovery_rule"] = f"noisy: the law's form, constants within noise (p >= {P_VALUE_FLOOR:g})"
    if verdict["recovered"] and p_value < P_VALUE_FLOOR:
        verdict.update(recovered=False, recovered_how=None)
    return verdict


def _truth_values(truth: sympy.Expr, names: Sequence[str], x: np.ndarray) -> np.ndarray | None:
    symbols = [sympy.Symbol(name, real=True) for name in names]
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(sympy.lambdify(symbols, truth, modules="numpy")(*x.T),
                                            dtype=float), (len(x),))
    return values if np.all(np.isfinite(values)) else None


def _relative(y: np.ndarray) -> np.ndarray:
    """Per-point scale of relative residuals (no zero division where a value is 0)."""
    magnitude = np.abs(y)
    return np.maximum(magnitude, 1e-12 * (float(magnitude.max()) or 1.0))


def _p_value(equation: Callable[..., object], x: np.ndarray, y: np.ndarray, fitted: np.ndarray,
             true_params: np.ndarray, constants: int) -> float:
    """P(F >= observed) for "the constants are c*" (1.0 when nothing was fitted)."""
    if not constants:
        return 1.0
    freedom, scale = len(y) - constants, _relative(y)
    weighted_fit = refit(equation, x, y, fitted, scale)
    free, constrained = (residual_sum(equation, x, y, p, scale) for p in (weighted_fit, true_params))
    if freedom <= 0 or not np.isfinite(constrained):
        return 0.0
    if free <= 0.0:  # an exact fit of noisy points: only c* itself is consistent
        return 1.0 if constrained <= 0.0 else 0.0
    statistic = max(constrained - free, 0.0) / constants / (free / freedom)
    return float(stats.f.sf(statistic, constants, freedom))
