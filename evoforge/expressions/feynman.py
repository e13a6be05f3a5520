"""Feynman equations as problems: the project's core30 table or a published file, and their points.

Training points (noise-free, or with sigma = 1 % relative noise) and
validation points come from SRSD's sampling ranges; held-out points come
from the same ranges (in domain) and from a wider box with every point
outside the sampled one in at least one variable (out of domain), where the
true law is real and finite. Every draw has a recorded seed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.expressions.core30 import CORE30
from evoforge.spec_errors import SpecError

TIERS = ("easy", "medium", "hard")
SIZES = {"train": 200, "valid": 100, "in_domain": 500, "out_of_domain": 500}
NOISE_LEVEL = 0.01


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    dist: str
    low: float
    high: float
    sign: str


@dataclass(frozen=True)
class FeynmanEquation:
    id: str
    tier: str
    output: str
    formula: str  # sympy text over the variable names
    variables: tuple[Variable, ...]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


def core30() -> list[FeynmanEquation]:
    return [FeynmanEquation(i, tier, output, formula, tuple(Variable(*v) for v in variables))
            for i, tier, output, formula, variables in CORE30]


def from_dataset(path: Path) -> list[FeynmanEquation]:
    """All equations of a published file in the shared feynman.json format (read by path)."""
    try:
        data = json.loads(Path(path).read_text())
        return [_from_record(record) for record in data["equations"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SpecError(
            f"--dataset {path}: not a Feynman equation file in feynman.json's format ({error})."
        ) from None


def _from_record(record: dict[str, Any]) -> FeynmanEquation:
    import sympy

    names = [v["ident"] for v in record["variables"]]
    xs = {f"x{i}": sympy.Symbol(name) for i, name in enumerate(names)}
    formula = str(sympy.sympify(record["formula"], locals=xs))
    variables = tuple(
        Variable(v["ident"], v.get("name", v["ident"]), v["srsd_sampling"]["dist"], v["srsd_sampling"]["low"],
                 v["srsd_sampling"]["high"], v["srsd_sampling"]["sign"])
        for v in record["variables"]
    )
    output = (record.get("ai_feynman") or {}).get("output") or "the target"
    return FeynmanEquation(record["id"], record["difficulty"], output, formula, variables)


def select(equations: list[FeynmanEquation], equation: str | None = None, tier: str | None = None
           ) -> list[FeynmanEquation]:
    """One equation by id, one tier, or all; a clear error for an unknown id or tier."""
    if equation is not None:
        found = [e for e in equations if e.id == equation]
        if not found:
            known = ", ".join(e.id for e in equations[:12])
            raise SpecError(f"--equation {equation}: no such equation; known ids include {known}, ...")
        return found
    if tier is not None:
        if tier not in TIERS:
            raise SpecError(f"--tier {tier}: use one of {', '.join(TIERS)}.")
        return [e for e in equations if e.tier == tier]
    return list(equations)


def item_seed(item_id: str, seed: int) -> int:
    """The recorded seed of one equation's (or integral's) points: the run seed and the item's id."""
    return seed * 1_000_003 + zlib.crc32(item_id.encode())


def inputs(equation: FeynmanEquation, split: str, noise: float = 0.0, seed: int = 0) -> dict[str, Any]:
    """The named inputs of one split for `scoring.score_equation` (see its docstring)."""
    rng = np.random.default_rng(item_seed(equation.id, seed))
    train, valid = (_noisy(_points(equation, SIZES[k], rng, False), noise, rng) for k in ("train", "valid"))
    common = {"names": equation.names, "train": train, "seed": seed, "noise": noise}
    if split == "train":
        return {"fit": {"task": "fit", **common, "valid": valid}}
    in_domain = _points(equation, SIZES["in_domain"], rng, False)
    out_of_domain = _points(equation, SIZES["out_of_domain"], rng, True)
    return {
        "in_domain": {"task": "held_out", "name": "in_domain", **common, "eval": in_domain, "truth": None},
        "out_of_domain": {"task": "held_out", "name": "out_of_domain", **common, "eval": out_of_domain,
                          "truth": equation.formula},
    }


def _noisy(points: dict[str, Any], noise: float, rng: np.random.Generator) -> dict[str, Any]:
    if not noise:
        return points
    y = np.asarray(points["y"])
    return {"x": points["x"], "y": (y * (1.0 + noise * rng.standard_normal(len(y)))).tolist()}


def _points(equation: FeynmanEquation, count: int, rng: np.random.Generator, outside: bool) -> dict[str, Any]:
    """`count` points where the law is real and finite, inside the sampled box or outside it."""
    law = truth_function(equation)
    kept: list[np.ndarray] = []
    for _ in range(200):
        x = np.column_stack([_draw(v, 4 * count, rng, outside) for v in equation.variables])
        if outside:
            x = x[~np.all([_inside(v, x[:, i]) for i, v in enumerate(equation.variables)], axis=0)]
        with np.errstate(all="ignore"):
            y = np.broadcast_to(np.asarray(law(*x.T), dtype=complex), (len(x),))
        good = np.isfinite(y) & (np.abs(y.imag) == 0)
        kept.append(np.column_stack([x[good], y[good].real]))
        if sum(len(k) for k in kept) >= count:
            break
    table = np.concatenate(kept)[:count]
    return {"x": table[:, :-1].tolist(), "y": table[:, -1].tolist()}


def truth_function(equation: FeynmanEquation) -> Any:
    import sympy

    symbols = [sympy.Symbol(n) for n in equation.names]
    expression = sympy.sympify(equation.formula, locals=dict(zip(equation.names, symbols, strict=True)))
    return sympy.lambdify(symbols, expression, modules="numpy")


def _draw(v: Variable, count: int, rng: np.random.Generator, outside: bool) -> np.ndarray:
    low, high = _widened(v) if outside else (v.low, v.high)
    if v.dist == "log_uniform":
        magnitude = 10 ** rng.uniform(np.log10(low), np.log10(high), count)
    elif v.dist == "integer":
        magnitude = rng.integers(int(low), int(high), count).astype(float)
    else:
        magnitude = rng.uniform(low, high, count)
    if v.sign == "both":
        magnitude = magnitude * rng.choice([-1.0, 1.0], count)
    return magnitude


def _widened(v: Variable) -> tuple[float, float]:
    """The out-of-domain box: half the sampled span again on each side (in log space for log ranges)."""
    if v.dist == "log_uniform":
        stretch = (v.high / v.low) ** 0.5
        return v.low / stretch, v.high * stretch
    span = v.high - v.low
    if v.dist == "integer":
        return max(1.0, v.low - span // 2), v.high + span // 2
    return v.low - span / 2, v.high + span / 2


def _inside(v: Variable, values: np.ndarray) -> np.ndarray:
    magnitude = np.abs(values) if v.sign == "both" else values
    upper = v.high - 1 if v.dist == "integer" else v.high
    return (magnitude >= v.low) & (magnitude <= upper)


def split_inputs(equation_id: str, split: str, dataset: str | None, noise: float, seed: int
                 ) -> dict[str, Any]:
    """Entry point of the generated inputs modules: one equation of core30 (or of a published file)."""
    equations = from_dataset(Path(dataset)) if dataset else core30()
    (equation,) = select(equations, equation=equation_id)
    return inputs(equation, split, noise=noise, seed=seed)
