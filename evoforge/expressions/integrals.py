"""The integration problem's data: integrand / antiderivative pairs read by path, and their points.

The published set is `integration/integrals.json` under the shared data
folder (`EVOFORGE_DATA`, default ../shared/data beside the repository); the
project never copies it. The identities hold on (0, 1); points are drawn in
[0.2, 0.9] with recorded seeds, fresh ones for verification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.expressions.feynman import item_seed
from evoforge.spec_errors import SpecError

DOMAIN = (0.2, 0.9)
TRAIN_POINTS = 64
VERIFY_POINTS = 200


@dataclass(frozen=True)
class Integral:
    id: str
    integrand: str
    antiderivative: str
    sympy_solves: bool | None


def default_dataset() -> Path:
    from evoforge.data_paths import published_data_dir

    return published_data_dir() / "integration" / "integrals.json"


def load(path: Path | None = None) -> list[Integral]:
    path = Path(path or default_dataset())
    try:
        items = json.loads(path.read_text())["items"]
        return [Integral(i["id"], i["integrand"], i["antiderivative"], i.get("sympy_integrate_solves"))
                for i in items]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SpecError(
            f"{path}: not an integration set in integrals.json's format ({error}); "
            "give it with --dataset or set EVOFORGE_DATA."
        ) from None


def select(integrals: list[Integral], integral_id: str | None) -> list[Integral]:
    if integral_id is None:
        return list(integrals)
    found = [i for i in integrals if i.id == integral_id]
    if not found:
        known = ", ".join(i.id for i in integrals[:8])
        raise SpecError(f"--equation {integral_id}: no such integral; known ids include {known}, ...")
    return found


def inputs(integral: Integral, split: str, seed: int = 0) -> dict[str, Any]:
    """Training points for the score; held out: fresh points and a full verification."""
    rng = np.random.default_rng(item_seed(integral.id, seed))
    train = np.sort(rng.uniform(*DOMAIN, TRAIN_POINTS)).tolist()
    if split == "train":
        return {"derivative": {"task": "antiderivative", "name": "train", "integrand": integral.integrand,
                               "points": train}}
    fresh = np.sort(rng.uniform(*DOMAIN, VERIFY_POINTS)).tolist()
    return {"verify": {"task": "antiderivative", "name": "verify", "integrand": integral.integrand,
                       "points": fresh, "verify": True}}


def split_inputs(integral_id: str, split: str, dataset: str | None, seed: int) -> dict[str, Any]:
    """Entry point of the generated inputs modules."""
    (integral,) = select(load(Path(dataset) if dataset else None), integral_id)
    return inputs(integral, split, seed)
