"""Streams of candidate programs for the surrogate bench and its recorded test files.

`synthetic` is a seeded stream of programs written the way the LLM writes
them for these problems (sums of a few Fourier modes; bars, branches and
blobs of conductor), with a few broken ones mixed in: it is not a model's
output, and it is named so. `from_run` replays the candidates of an earlier
run (e.g. one driven by the embedded model), in the order they were sampled.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np


def synthetic(problem: str, count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    make = _burgers_program if problem == "burgers_control" else _heat_program
    name = "initial_condition(x" if problem == "burgers_control" else "conductor_layout(x, y"
    return [_broken(rng, name) if rng.random() < 0.05 else make(rng) for _ in range(count)]


def _burgers_program(rng: np.random.Generator) -> str:
    modes = sorted(rng.choice(np.arange(1, 9), size=rng.integers(1, 6), replace=False))
    terms = []
    for k in modes:
        a, b = rng.normal(size=2) / k ** rng.uniform(0.5, 1.5)
        terms.append(f"{a:+.3f} * np.sin({k} * x) {b:+.3f} * np.cos({k} * x)")
    body = "\n        ".join(f"+ ({t})" for t in terms)
    return (f"def initial_condition(x: np.ndarray) -> np.ndarray:\n"
            f"    return (\n        0.0\n        {body}\n    )\n")


def _heat_program(rng: np.random.Generator) -> str:
    lines = ["def conductor_layout(x: np.ndarray, y: np.ndarray) -> np.ndarray:",
             "    d = np.zeros_like(x)"]
    width = rng.uniform(0.03, 0.1)
    top = rng.uniform(0.3, 0.95)
    lines.append(f"    d = np.maximum(d, (np.abs(x - 0.5) < {width:.3f}) & (y < {top:.3f}))")
    for _ in range(rng.integers(0, 5)):
        x0, y0, angle = rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.9), rng.uniform(0, np.pi)
        w, length = rng.uniform(0.015, 0.06), rng.uniform(0.1, 0.5)
        lines.append(
            f"    d = np.maximum(d, (np.abs((x - {x0:.3f}) * np.sin({angle:.3f}) - (y - {y0:.3f})"
            f" * np.cos({angle:.3f})) < {w:.3f}) & (np.hypot(x - {x0:.3f}, y - {y0:.3f}) < {length:.3f}))")
    if rng.random() < 0.3:
        lines.append(f"    d = d + {rng.uniform(0, 0.3):.3f} * np.exp(-((x - 0.5) ** 2 + y ** 2) / 0.05)")
    lines.append("    return d.astype(float)")
    return "\n".join(lines) + "\n"


def _broken(rng: np.random.Generator, signature: str) -> str:
    body = ["undefined_name", "np.zeros_like(x)", "np.full_like(x, np.nan)"][rng.integers(3)]
    return f"def {signature}):\n    return {body}\n"


def from_run(run_dir: Path) -> list[str]:
    """The code of every parsed candidate of an earlier run, in sampling order."""
    with sqlite3.connect(Path(run_dir) / "evoforge.db") as conn:
        rows = conn.execute("SELECT code FROM candidates WHERE code IS NOT NULL ORDER BY id").fetchall()
    return [code for (code,) in rows]
