"""The candidate as a sympy formula, its complexity, and whether it is the true law.

Runs inside the sandbox: the candidate is called once with sympy symbols for
its variables and sympy numbers for its fitted constants. numpy's ufuncs on
such objects call a method of the same name (`np.sin(x)` calls `x.sin()`),
so `numpy_methods_on_sympy` gives sympy expressions those methods; the
candidate's own code needs no change. Parsing, simplification, equivalence
and printing are sympy's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy

from evoforge.expressions.fitting import ExpressionError

NUMPY_TO_SYMPY: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "arcsin": sympy.asin, "arccos": sympy.acos,
    "arctan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh, "exp": sympy.exp,
    "log": sympy.log, "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "square": lambda e: e**2,
    "log10": lambda e: sympy.log(e, 10), "log2": lambda e: sympy.log(e, 2), "exp2": lambda e: 2**e,
    "expm1": lambda e: sympy.exp(e) - 1, "log1p": lambda e: sympy.log(1 + e), "absolute": sympy.Abs,
    "conjugate": lambda e: e, "sign": sympy.sign,
}
SIMPLIFY_NODE_LIMIT = 80
DIGIT_LADDER = (12, 9, 7, 5)  # significant digits constants are compared at


def numpy_methods_on_sympy() -> None:
    """Let numpy ufuncs act on sympy expressions (object arrays call these methods)."""
    for name, function in NUMPY_TO_SYMPY.items():
        if not hasattr(sympy.Expr, name):
            setattr(sympy.Expr, name, lambda self, f=function: f(self))


numpy_methods_on_sympy()


def to_sympy(equation: Callable[..., object], names: Sequence[str], params: Sequence[float] | None
             ) -> sympy.Expr:
    """The candidate with sympy symbols for `names`; params as numbers, or symbols c0.. when None."""
    symbols = [sympy.Symbol(name, real=True) for name in names]
    if params is None:
        values = np.array(sympy.symbols(f"c0:{_count()}", real=True), dtype=object)
    else:
        values = np.array([sympy.Float(float(p), 15) for p in params], dtype=object)
    try:
        with np.errstate(all="ignore"):
            result = equation(*symbols, values)
    except Exception as error:
        raise ExpressionError(f"not expressible in sympy ({type(error).__name__}: {error})") from None
    return _as_expression(result)


def _count() -> int:
    from evoforge.expressions.fitting import N_PARAMS

    return N_PARAMS


def _as_expression(result: object) -> sympy.Expr:
    if isinstance(result, np.ndarray):
        if result.size != 1:
            raise ExpressionError("not one formula: equation() returned an array of values")
        result = result.reshape(()).item()
    try:
        expression = sympy.sympify(result, strict=True)
    except (sympy.SympifyError, TypeError) as error:
        raise ExpressionError(f"not expressible in sympy ({error})") from None
    if not isinstance(expression, sympy.Expr):
        raise ExpressionError(f"not a formula: equation() returned {type(result).__name__}")
    return expression


def simplified(expression: sympy.Expr) -> sympy.Expr:
    """sympy.simplify, skipped for formulas too large to simplify in reasonable time."""
    if node_count(expression) > SIMPLIFY_NODE_LIMIT:
        return expression
    return sympy.simplify(expression)


def node_count(expression: sympy.Expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expression))


def shown(expression: sympy.Expr, digits: int = 6) -> sympy.Expr:
    """The formula with its constants printed to `digits` significant digits (whole numbers as such)."""
    def rounded(number: sympy.Float) -> sympy.Expr:
        value = float(number)
        if value == round(value) or abs(value - round(value)) <= 1e-9 * abs(value):
            return sympy.Integer(round(value))
        return sympy.Float(number, digits)

    return expression.xreplace({f: rounded(f) for f in expression.atoms(sympy.Float)})


def parse_truth(formula: str, names: Sequence[str]) -> sympy.Expr:
    """A trusted ground-truth formula (from the project's tables), over the variable names."""
    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    return sympy.sympify(formula, locals=symbols)


def symbolically_equal(candidate: sympy.Expr, truth: sympy.Expr) -> bool:
    """Equal once every constant (fitted or physical) is rounded to the same significant digits.

    Numbers are compared at several precisions (a constant that sits at a
    rounding boundary at one precision does not at the next), then turned into
    exact rationals so sympy proves `candidate - truth == 0` (or their ratio is 1).
    """
    exact_truth = truth.evalf()
    for digits in DIGIT_LADDER:
        left, right = _rationalized(candidate.evalf(), digits), _rationalized(exact_truth, digits)
        if left == right or sympy.simplify(left - right) == 0:
            return True
        ratio = sympy.simplify(left / right)
        if ratio == 1:
            return True
    return False


def _rationalized(expression: sympy.Expr, digits: int) -> sympy.Expr:
    numbers = expression.atoms(sympy.Float)
    return expression.xreplace({f: sympy.Rational(f"{float(f):.{digits - 1}e}") for f in numbers})
