"""Inputs for online bin packing: generated training sets and published test sets.

The project generates its own instances from recorded seeds (the paper's
training sets were not released), in the two families FunSearch used:
Weibull(scale 45, shape 3) sizes, floored and clipped to [1, 100], capacity
100; and OR-Library-style uniform integer sizes 20-100, capacity 150.
Published test sets (OR1-OR4, Weibull 5k) are read by path with `dataset()`.
Each input is one dataset {"capacity": C, "instances": {name: [sizes]}} and
scores as one entry of a program's signature.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

WEIBULL_CAPACITY = 100
OR_CAPACITY = 150


def weibull_items(count: int, rng: np.random.Generator) -> list[int]:
    """FunSearch's Weibull family: floor(45 * Weibull(3)), clipped to [1, 100]."""
    sizes = np.floor(45.0 * rng.weibull(3.0, size=count))
    return [int(s) for s in np.clip(sizes, 1, 100)]


def uniform_items(count: int, rng: np.random.Generator) -> list[int]:
    """Falkenauer's uniform class (OR-Library binpack1-4): integers 20-100."""
    return [int(s) for s in rng.integers(20, 101, size=count)]


def weibull_set(seed: int, instances: int, items: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    named = {f"weibull_{items}_{i}": weibull_items(items, rng) for i in range(instances)}
    return {"capacity": WEIBULL_CAPACITY, "instances": named}


def uniform_set(seed: int, instances: int, items: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    named = {f"u{items}_{i}": uniform_items(items, rng) for i in range(instances)}
    return {"capacity": OR_CAPACITY, "instances": named}


def train() -> dict[str, dict[str, Any]]:
    """What evolution sees: small enough that best fit scores all three in ~0.1 s."""
    return {
        "weibull_1k": weibull_set(seed=1001, instances=5, items=1000),
        "or_120": uniform_set(seed=1120, instances=20, items=120),
        "or_250": uniform_set(seed=1250, instances=10, items=250),
    }


def test() -> dict[str, dict[str, Any]]:
    """The project's held-out sets, the sizes of Weibull 5k and OR3, other seeds."""
    return {
        "weibull_5k": weibull_set(seed=2005, instances=5, items=5000),
        "or_500": uniform_set(seed=2500, instances=20, items=500),
    }


def dataset(path: Path) -> dict[str, dict[str, Any]]:
    """A published set read from JSON: one input named after the file stem.

    Accepts the shared format {"capacity": C, "instances": {name: [sizes]}}
    and FunSearch's notebook format {name: {"capacity", "num_items", "items"}}.
    """
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict) and "instances" in data:
        capacity, named = data["capacity"], data["instances"]
    else:
        capacity, named = _from_funsearch_format(data, path)
    return {Path(path).stem: _normalised(capacity, named)}


def _from_funsearch_format(data: Any, path: Path) -> tuple[Any, dict[str, Any]]:
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected an object with 'capacity' and 'instances'.")
    capacities = {instance["capacity"] for instance in data.values()}
    if len(capacities) != 1:
        raise ValueError(f"{path}: instances have different capacities {sorted(capacities)}.")
    return capacities.pop(), {name: instance["items"] for name, instance in data.items()}


def _normalised(capacity: Any, named: dict[str, list[Any]]) -> dict[str, Any]:
    """Integer sizes stay integers (FunSearch's arrays); any fraction makes it all float."""
    values = [capacity, *(s for sizes in named.values() for s in sizes)]
    if all(float(v).is_integer() for v in values):
        return {"capacity": int(capacity), "instances": {k: [int(s) for s in v] for k, v in named.items()}}
    return {"capacity": float(capacity), "instances": {k: [float(s) for s in v] for k, v in named.items()}}
