"""Training pairs for a surrogate, made by the exact solver: resumable, seeded, self-describing.

Pairs are generated in chunks; chunk i draws its designs from the generator
seeded (seed, i), so a generation killed half way resumes where it stopped and
ends with the same arrays as an uninterrupted one. The finished file records
the seed and the solver's settings next to the arrays, plus a shifted set
(designs from another distribution) that measures how far the surrogate extrapolates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.surrogates.physics import Physics, physics_for

CHUNK = 16
Tick = Callable[[int, int], None]


@dataclass(frozen=True)
class PairSet:
    designs: np.ndarray
    solutions: np.ndarray
    shifted_designs: np.ndarray
    shifted_solutions: np.ndarray
    seed: int
    settings: dict[str, Any]


def problem_physics(problem: str) -> Physics:
    """The physics of a surrogate-backed problem: from its one training input."""
    from evoforge.spec import load_problem
    from evoforge.spec_inputs import resolve_inputs

    spec = load_problem(problem)
    values = list(resolve_inputs(spec, "train").values())
    if len(values) != 1 or not isinstance(values[0], dict) or "physics" not in values[0]:
        from evoforge.spec_errors import SpecError

        raise SpecError(f"{problem}: not a surrogate-backed problem (its training input names no physics).")
    return physics_for(values[0])


def generate(physics: Physics, path: Path, count: int, seed: int = 0, shifted: int | None = None,
             tick: Tick = lambda done, total: None) -> PairSet:
    """Make (or finish making) `count` training pairs and `shifted` extra pairs, saved at `path`."""
    shifted = max(CHUNK, count // 8) if shifted is None else shifted
    parts = path.with_suffix(".parts")
    _start_parts(parts, {"seed": seed, "settings": physics.settings})
    plan = [(False, i) for i in range(-(-count // CHUNK))] + [(True, i) for i in range(-(-shifted // CHUNK))]
    for done, (is_shifted, index) in enumerate(plan):
        tick(done, len(plan))
        _chunk(physics, parts, seed, index, is_shifted)
    tick(len(plan), len(plan))
    pairs = _assemble(physics, parts, seed, count, shifted)
    save(pairs, path)
    for leftover in parts.iterdir():
        leftover.unlink()
    parts.rmdir()
    return pairs


def _start_parts(parts: Path, made_with: dict[str, Any]) -> None:
    """Chunks left by an interrupted `generate` are reused only if made with the same seed and solver
    settings; others are removed, so a pair set never mixes two settings under one record."""
    record = parts / "made_with.json"
    wanted = json.dumps(made_with, sort_keys=True)
    if parts.is_dir() and (not record.is_file() or record.read_text() != wanted):
        for stale in parts.iterdir():
            stale.unlink()
    parts.mkdir(parents=True, exist_ok=True)
    record.write_text(wanted)


def _chunk(physics: Physics, parts: Path, seed: int, index: int, shifted: bool) -> None:
    name = parts / f"{'shifted' if shifted else 'train'}-{index:05d}.npz"
    if name.exists():
        return
    rng = np.random.default_rng([seed, index, int(shifted)])
    designs = physics.random_designs(rng, CHUNK, shifted=shifted)
    solutions = physics.solve(designs)
    partial = name.with_suffix(".partial.npz")
    np.savez(partial, designs=designs, solutions=solutions)
    partial.replace(name)


def _assemble(physics: Physics, parts: Path, seed: int, count: int, shifted: int) -> PairSet:
    def stacked(prefix: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
        files = sorted(parts.glob(f"{prefix}-*.npz"))
        loaded = [np.load(f) for f in files]
        designs = np.concatenate([f["designs"] for f in loaded])[:limit]
        return designs, np.concatenate([f["solutions"] for f in loaded])[:limit]

    designs, solutions = stacked("train", count)
    shifted_designs, shifted_solutions = stacked("shifted", shifted)
    return PairSet(designs, solutions, shifted_designs, shifted_solutions, seed, physics.settings)


def save(pairs: PairSet, path: Path) -> None:
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, designs=pairs.designs, solutions=pairs.solutions,
             shifted_designs=pairs.shifted_designs, shifted_solutions=pairs.shifted_solutions,
             seed=pairs.seed, settings=json.dumps(pairs.settings))
    partial.replace(path)


def load(path: Path) -> PairSet:
    with np.load(path) as f:
        return PairSet(f["designs"], f["solutions"], f["shifted_designs"], f["shifted_solutions"],
                       int(f["seed"]), json.loads(str(f["settings"])))
