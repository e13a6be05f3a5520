"""The candidate as a sympy formula, its complexity, and whether it is the true law.

Runs inside the sandbox: the candidate is called once with stand-ins for
numpy arrays (`SymbolicValue`) holding sympy symbols for its variables and
sympy numbers for its fitted constants; numpy's own functions on them build
the sympy formula, so the candidate's code needs no change. Parsing, simplification, equivalence
and printing are sympy's.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import sympy

from evoforge.expressions.fitting import N_PARAMS, ExpressionError

NUMPY_TO_SYMPY: dict[str, Callable[..., sympy.Expr]] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "arcsin": sympy.asin, "arccos": sympy.acos,
    "arctan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh, "exp": sympy.exp,
    "log": sympy.log, "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "square": lambda e: e**2,
    "log10": lambda e: sympy.log(e, 10), "log2": lambda e: sympy.log(e, 2), "exp2": lambda e: 2**e,
    "expm1": lambda e: sympy.exp(e) - 1, "log1p": lambda e: sympy.log(1 + e), "absolute": sympy.Abs,
    "fabs": sympy.Abs, "sign": sympy.sign, "negative": lambda e: -e, "positive": lambda e: e,
    "reciprocal": lambda e: 1 / e, "conjugate": lambda e: e,
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b, "true_divide": lambda a, b: a / b, "power": lambda a, b: a**b,
    "float_power": lambda a, b: a**b, "arctan2": sympy.atan2, "hypot": lambda a, b: sympy.sqrt(a**2 + b**2),
    "maximum": sympy.Max, "minimum": sympy.Min,
}
SIMPLIFY_NODE_LIMIT = 80
PROOF_NODE_LIMIT = 160  # larger formulas are not sent to sympy.simplify for a proof
SIMPLIFY_SECONDS = 3.0
PROOF_SECONDS = 8.0
DIGIT_LADDER = (12, 9, 7, 5)  # significant digits constants are compared at
MACHINE_PRECISION_NMSE = 1e-20  # relative RMS error about 1e-10: only rounding is left


def _unwrapped(value: object) -> object:
    if isinstance(value, SymbolicValue):
        return value.expr
    if isinstance(value, np.generic):
        return sympy.sympify(value.item())
    return value


class SymbolicValue:
    """A sympy expression standing in for a numpy array while the candidate runs.

    numpy hands its ufuncs (np.exp, np.add ...) on this object to
    `__array_ufunc__`, and on object arrays of it to same-named methods; both
    map to the sympy function. (Raw sympy objects cannot stand in: `Pow.exp`
    is the exponent, not a method.)
    """

    __array_priority__ = 1000

    def __init__(self, expr: object) -> None:
        self.expr = sympy.sympify(expr)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: object, **kwargs: object) -> object:
        function = NUMPY_TO_SYMPY.get(ufunc.__name__)
        if method != "__call__" or kwargs or function is None:
            raise ExpressionError(f"numpy's {ufunc.__name__} has no sympy counterpart")
        return SymbolicValue(function(*(_unwrapped(i) for i in inputs)))

    def _apply(self, name: str, *others: object) -> SymbolicValue:
        return SymbolicValue(NUMPY_TO_SYMPY[name](*(_unwrapped(o) for o in others)))


def _operator(name: str, reflected: bool = False) -> Callable[..., SymbolicValue]:
    if reflected:
        return lambda self, other: self._apply(name, other, self)
    return lambda self, other: self._apply(name, self, other)


for _name, _dunder in (("add", "add"), ("subtract", "sub"), ("multiply", "mul"), ("true_divide", "truediv"),
                       ("power", "pow")):
    setattr(SymbolicValue, f"__{_dunder}__", _operator(_name))
    setattr(SymbolicValue, f"__r{_dunder}__", _operator(_name, reflected=True))
SymbolicValue.__neg__ = lambda self: SymbolicValue(-self.expr)  # type: ignore[attr-defined]
SymbolicValue.__pos__ = lambda self: self  # type: ignore[attr-defined]
SymbolicValue.__abs__ = lambda self: SymbolicValue(sympy.Abs(self.expr))  # type: ignore[attr-defined]
for _name in NUMPY_TO_SYMPY:  # np.exp on an object array calls element.exp()
    if not hasattr(SymbolicValue, _name):
        setattr(SymbolicValue, _name, lambda self, _n=_name: self._apply(_n, self))


def to_sympy(equation: Callable[..., object], names: Sequence[str], params: Sequence[float] | None,
             with_params: bool = True) -> sympy.Expr:
    """The candidate with sympy symbols for `names`; params as numbers, or symbols c0.. when None.

    `with_params=False` is for functions of the variables alone (an antiderivative).
    """
    arguments: list[object] = [SymbolicValue(sympy.Symbol(name, real=True)) for name in names]
    if with_params:
        constants = sympy.symbols(f"c0:{N_PARAMS}", real=True) if params is None else [
            sympy.Float(float(p), 15) for p in params]
        arguments.append(np.array([SymbolicValue(c) for c in constants], dtype=object))
    try:
        with np.errstate(all="ignore"):
            result = equation(*arguments)
    except Exception as error:
        raise ExpressionError(f"not expressible in sympy ({type(error).__name__}: {error})") from None
    return _as_expression(result)



def _as_expression(result: object) -> sympy.Expr:
    if isinstance(result, np.ndarray):
        if result.size != 1:
            raise ExpressionError("not one formula: equation() returned an array of values")
        result = result.reshape(()).item()
    result = _unwrapped(result)
    try:
        expression = sympy.sympify(result, strict=True)
    except (sympy.SympifyError, TypeError) as error:
        raise ExpressionError(f"not expressible in sympy ({error})") from None
    if not isinstance(expression, sympy.Expr):
        raise ExpressionError(f"not a formula: equation() returned {type(result).__name__}")
    return expression


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime in this (main) thread after `seconds`: sympy.simplify has no bound of its own."""
    def expire(*_: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def simplified(expression: sympy.Expr) -> sympy.Expr:
    """sympy.simplify within SIMPLIFY_SECONDS; the formula as it is when too large or too slow."""
    if node_count(expression) > SIMPLIFY_NODE_LIMIT:
        return expression
    try:
        with time_limit(SIMPLIFY_SECONDS):
            return sympy.simplify(expression)
    except _OutOfTime:
        return expression


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
    A formula of more than PROOF_NODE_LIMIT nodes is not attempted, and a proof
    taking over PROOF_SECONDS is abandoned (False: the numeric verdict decides).
    """
    if node_count(candidate) > PROOF_NODE_LIMIT:
        return False  # too large to simplify in bounded time: left to the numeric verdict
    try:
        with time_limit(PROOF_SECONDS):
            return _equal_at_some_precision(candidate, truth.evalf())
    except _OutOfTime:
        return False


def _equal_at_some_precision(candidate: sympy.Expr, exact_truth: sympy.Expr) -> bool:
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


def recovery(formula: sympy.Expr | None, truth: sympy.Expr, eval_nmse: float) -> dict[str, object]:
    """Recovered symbolically (sympy proves it), else numerically (out-of-domain error at machine
    precision), else not: the one verdict runs and the gplearn baseline are judged by."""
    if formula is not None and symbolically_equal(formula, truth):
        return {"recovered": True, "recovered_how": "symbolic"}
    if eval_nmse < MACHINE_PRECISION_NMSE:
        return {"recovered": True, "recovered_how": "numeric"}
    return {"recovered": False, "recovered_how": None}
