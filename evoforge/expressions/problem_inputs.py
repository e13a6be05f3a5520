"""Entry points the generated inputs modules call (trusted code, outside the sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evoforge.expressions import feynman


def feynman_split(equation_id: str, split: str, dataset: str | None, noise: float, seed: int
                  ) -> dict[str, Any]:
    """The inputs of one split for one equation of core30 (or of a published file)."""
    equations = feynman.from_dataset(Path(dataset)) if dataset else feynman.core30()
    (equation,) = feynman.select(equations, equation=equation_id)
    return feynman.inputs(equation, split, noise=noise, seed=seed)
