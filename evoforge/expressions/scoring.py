"""What an expression problem's `@run` does with one input (runs inside the sandbox).

Two kinds of input, made by the trusted inputs module:

- {"task": "fit", "train", "valid"}: what evolution sees. Constants are fitted
  on `train`; the score is -log10 of the normalised MSE on `valid` minus
  `COMPLEXITY_WEIGHT` times the sympy node count of the simplified formula
  (`UNEXPRESSIBLE_COMPLEXITY` for code that is not a formula sympy can follow).
- {"task": "held_out", "train", "eval", "truth"}: what reports see. Constants
  are fitted on the same `train`; the score is -log10 NMSE on `eval` (in or
  out of the sampled domain), and where `truth` is given, recovery is decided:
  "symbolic" when sympy proves the fitted formula equal to the truth,
  "numeric" when only the error on `eval` is at machine precision. On noisy
  training data (`noise` > 0) the rule is `noisy.noisy_recovery`'s: the
  law's form, with constants the noise cannot tell from the true ones.

Points are {"x": [[...] per point], "y": [...]}. The details (constants,
errors, formula, LaTeX, recovery) leave as the trial's data (`details.result`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from evoforge.expressions import details as carried
from evoforge.expressions.fitting import ExpressionError, fit_constants, nmse, predict
from evoforge.expressions.noisy import noisy_recovery
from evoforge.expressions.symbolic import node_count, parse_truth, recovery, shown, simplified, to_sympy

COMPLEXITY_WEIGHT = 0.02
NMSE_FLOOR = 1e-30
UNEXPRESSIBLE_COMPLEXITY = 100  # what code sympy cannot follow (branches, lookups) counts as in nodes


def score_equation(equation: Callable[..., object], task: dict[str, Any]) -> dict[str, Any]:
    """The `@run` body of an expression problem: fit, score; {"score", "data": the details}."""
    names = list(task["names"])
    train = _points(task["train"])
    fit = fit_constants(equation, *train, seed=int(task.get("seed", 0)))
    details: dict[str, Any] = {"nmse_train": fit.nmse}
    formula = _formula(equation, names, fit.params, details)
    used = details.pop("constants_used", [f"c{i}" for i in range(len(fit.params))])
    details["constants"] = {name: float(fit.params[int(name[1:])]) for name in used}
    if task["task"] == "fit":
        x_valid, y_valid = _points(task["valid"])
        error = nmse(predict(equation, x_valid, fit.params), y_valid)
        details["nmse_valid"] = finite_or_none(error)
        complexity = details.get("complexity", UNEXPRESSIBLE_COMPLEXITY)
        score = -math.log10(error + NMSE_FLOOR) - COMPLEXITY_WEIGHT * complexity
    else:
        error = _held_out(equation, task, fit.params, formula, train, len(used), details)
        score = -math.log10(error + NMSE_FLOOR)
    if not math.isfinite(score):
        return carried.failed(details, "the fitted equation's error is not finite (overflow or NaN)")
    return carried.result(score, details)


def _held_out(equation: Callable[..., object], task: dict[str, Any], params: np.ndarray, formula: Any,
              train: tuple[np.ndarray, np.ndarray], constants_used: int, details: dict[str, Any]) -> float:
    """The NMSE on the held-out points into `details`, and where a truth is given, the recovery verdict:
    the noise-free rule (`recovery`) on clean training data, `noisy_recovery`'s on noisy data."""
    names = list(task["names"])
    x_eval, y_eval = _points(task["eval"])
    predicted = predict(equation, x_eval, params)
    error = nmse(predicted, y_eval)
    details[f"nmse_{task.get('name', 'eval')}"] = finite_or_none(error)
    if not task.get("truth"):
        return error
    if formula is not None and not _formula_matches(formula, names, x_eval, predicted):
        formula, details["formula_error"] = None, "the sympy formula disagrees with the function"
    truth = parse_truth(task["truth"], names)
    if task.get("noise"):
        details.update(noisy_recovery(equation, names, truth, params, train, (x_eval, y_eval), constants_used,
                                      provable=formula is not None))
    else:
        details.update(recovery(formula, truth, error))
    return error


def _points(points: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(points["x"], dtype=float), np.asarray(points["y"], dtype=float)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _formula(equation: Callable[..., object], names: list[str], params: np.ndarray,
             details: dict[str, Any]) -> Any:
    """The fitted formula in sympy (None when the candidate is not expressible), into `details`."""
    import sympy

    try:
        expression = to_sympy(equation, names, params)
        skeleton = to_sympy(equation, names, None)
    except ExpressionError as error:
        details["formula_error"] = str(error)
        return None
    simple = simplified(expression)
    used = sorted(str(s) for s in skeleton.free_symbols if str(s).startswith("c") and str(s) not in names)
    details.update({
        "formula": carried.clip(str(shown(simple))),
        "latex": carried.clip(sympy.latex(shown(simple, 4))),
        "skeleton": carried.clip(str(skeleton)),
        "constants_used": used,
        "complexity": node_count(simple),
    })
    return expression


def _formula_matches(formula: Any, names: list[str], x: np.ndarray, predicted: np.ndarray) -> bool:
    """The formula a symbolic verdict is about must compute what the function computes.

    A skeleton that branches on its input's type (or a numpy call whose sympy
    stand-in means something else) would otherwise be judged by another formula.
    """
    import sympy

    symbols = [sympy.Symbol(name, real=True) for name in names]
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(sympy.lambdify(symbols, formula, modules="numpy")(*x.T), dtype=complex)
        except Exception:  # a formula numpy cannot evaluate proves nothing
            return False
    values = np.broadcast_to(values, predicted.shape)
    return bool(np.allclose(values.real, predicted, rtol=1e-6, atol=0, equal_nan=True)
                and np.allclose(values.imag, 0.0, atol=1e-9 * (np.abs(predicted).max() or 1.0)))
