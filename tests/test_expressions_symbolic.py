"""The sympy side on its own (trusted code, run here directly): formulas from numpy code, equality."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy

from evoforge.expressions import symbolic
from evoforge.expressions.fitting import ExpressionError


def test_numpy_code_becomes_a_sympy_formula_without_changes() -> None:
    def equation(x, v, params):
        return params[0] * np.exp(-x**2) + np.sqrt(np.abs(v)) - np.sum(params[:2]) + np.arctan2(x, v)

    formula = symbolic.to_sympy(equation, ["x", "v"], [2.0, 0.5] + [0.0] * 8)
    x, v = sympy.symbols("x v", real=True)
    expected = 2 * sympy.exp(-x**2) + sympy.sqrt(sympy.Abs(v)) - 2.5 + sympy.atan2(x, v)
    assert sympy.simplify(formula - expected) == 0
    skeleton = symbolic.to_sympy(equation, ["x", "v"], None)
    assert {str(s) for s in skeleton.free_symbols} == {"x", "v", "c0", "c1"}


def test_code_sympy_cannot_follow_is_one_clear_error() -> None:
    def branching(x, params):
        return np.where(x > 1, x, -x)

    with pytest.raises(ExpressionError, match="not expressible in sympy"):
        symbolic.to_sympy(branching, ["x"], [1.0] * 10)


def test_fitted_constants_equal_the_physical_ones_to_rounding() -> None:
    """Equal at 5 significant digits at the least: 1e-5 relative, not the 1e-3 of a noisy fit."""
    v, m = sympy.symbols("v m_0", real=True)
    truth = symbolic.parse_truth("m_0/sqrt(1 - v**2/2.99792458e8**2)", ["m_0", "v"])
    fitted = m / sympy.sqrt(1 - v**2 / sympy.Float(299792457.99999964) ** 2)
    assert symbolic.symbolically_equal(fitted, truth)
    assert not symbolic.symbolically_equal(m / sympy.sqrt(1 - v**2 / sympy.Float(2.99e8) ** 2), truth)
    assert not symbolic.symbolically_equal(2 * fitted, truth)


def test_a_proof_that_takes_too_long_is_abandoned(monkeypatch) -> None:
    monkeypatch.setattr(symbolic, "PROOF_SECONDS", 0.5)
    x = sympy.Symbol("x", real=True)
    heavy = sum(sympy.sqrt(sympy.Abs(sympy.log(sympy.Abs(x + i))) + sympy.sin(x * i) ** 2) for i in range(8))
    started = time.perf_counter()
    assert symbolic.symbolically_equal(heavy, x) is False
    assert time.perf_counter() - started < 5
