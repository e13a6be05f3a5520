"""Burgers control: find the initial state that a viscous Burgers flow carried to an observed state.

u_t + u u_x = 0.01 u_xx on a periodic interval; the evolved function proposes
the initial state, `evaluate` makes it admissible (Fourier modes 1-8, unit mean
square: a fixed energy budget) and scores the misfit of the exact
pseudo-spectral solution against the observation at t = 1.5. With
`design_only` set (the cascade evaluator does this) it returns the admissible
state without solving, so the trusted evaluator can screen it with the surrogate.
"""

import numpy as np

from evoforge import evolve, run
from evoforge.surrogates.burgers import BurgersSetting, design_field, grid_points, score_design


@run
def evaluate(observation: dict) -> dict:
    """{"score": misfit at the horizon, "data": the admissible initial state as a list}."""
    setting = BurgersSetting(**observation["setting"])
    u0 = design_field(initial_condition(grid_points(setting.design_grid)), setting.band)
    if observation.get("design_only"):
        return {"score": 0.0, "data": u0.tolist()}
    return {"score": score_design(u0, setting, np.asarray(observation["target"])), "data": u0.tolist()}


@evolve
def initial_condition(x: np.ndarray) -> np.ndarray:
    """The initial velocity u(x, 0) at the points x of [0, 2*pi).

    Only Fourier modes 1..8 count and the result is rescaled to mean square 1.
    """
    return np.sin(x)
