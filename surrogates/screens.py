"""The cheap first stages a cascade can put before the exact solver.

A screen estimates scores for a batch of admissible designs. `surrogate`
predicts the solutions with the FNO and scores them like the exact path;
`coarse` solves exactly on the coarse grid (the honest cheap baseline); `none`
estimates nothing, so every candidate is solved exactly.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.physics import Physics

SCREENS = ("surrogate", "coarse", "none")


class Screen(Protocol):
    name: str

    def estimates(self, designs: np.ndarray) -> np.ndarray | None: ...


class SurrogateScreen:
    name = "surrogate"

    def __init__(self, physics: Physics, surrogate: Surrogate) -> None:
        self.physics = physics
        self.surrogate = surrogate

    def estimates(self, designs: np.ndarray) -> np.ndarray:
        return self.physics.scores(designs, self.surrogate.predict(designs))


class CoarseScreen:
    name = "coarse"

    def __init__(self, physics: Physics) -> None:
        self.physics = physics

    def estimates(self, designs: np.ndarray) -> np.ndarray:
        return self.physics.scores(designs, self.physics.solve(designs, coarse=True))


class NoScreen:
    name = "none"

    def estimates(self, designs: np.ndarray) -> None:
        return None
