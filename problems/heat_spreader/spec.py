"""Heat spreader: a conducting layout that keeps a heat-generating plate cool.

Volume-to-point heat conduction: the plate generates heat everywhere, loses it
only through a short sink on its bottom edge, and a limited amount of good
conductor may be laid out to carry the heat there. The evolved function draws
the layout; `evaluate` makes it admissible (densities in [0, 1], volume budget)
and scores it by the peak temperature of the exact finite-volume solve. With
`design_only` set (the cascade evaluator does this) it returns the layout
without solving, so the trusted evaluator can screen it with the surrogate.
"""

import numpy as np

from evoforge import evolve, run
from evoforge.surrogates.heat import HeatSetting, design_field, score_design


@run
def evaluate(plate: dict) -> dict:
    """{"score": peak temperature, "data": the admissible layout as nested lists}."""
    setting = HeatSetting(**plate["setting"])
    centres = (np.arange(setting.design_grid) + 0.5) / setting.design_grid
    x, y = np.meshgrid(centres, centres, indexing="xy")
    layout = design_field(conductor_layout(x, y), setting.volume)
    if plate.get("design_only"):
        return {"score": 0.0, "data": layout.tolist()}
    return {"score": score_design(layout, setting), "data": layout.tolist()}


@evolve
def conductor_layout(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Density of conducting material in each cell (0 = plate, 1 = solid conductor).

    Args:
      x: 32 x 32 array of cell-centre x coordinates in (0, 1).
      y: 32 x 32 array of cell-centre y coordinates; the heat sink is at y = 0, 0.375 <= x <= 0.625.

    Returns:
      A 32 x 32 array of densities in [0, 1], at most 15 % of the area in total.
    """
    return (np.abs(x - 0.5) < 0.075).astype(float)
