"""A law behind your own table of measurements (`evoforge run expression --csv FILE --target y`).

The evolved function is an LLM-SR equation skeleton over the table's
columns with free constants `params`, fitted to the training rows (scipy
least squares). It scores by its error on validation rows and the size of
its formula; reports add held-out rows in and out of the data's core.
"""

import numpy as np

from evoforge import evolve, run
from evoforge.expressions.scoring import score_equation


@run
def evaluate(task: dict) -> dict:
    """Fit `equation`'s constants, and score it: {"score", "data": details} (evoforge.expressions.scoring)."""
    return score_equation(equation, task)


@evolve
def equation(x0: np.ndarray, x1: np.ndarray, params: np.ndarray) -> np.ndarray:
    """The target from the columns x0, x1.

    Args:
      x0, x1: one numpy array per column, one value per row.
      params: 10 free constants, fitted to the data; use as many as needed.

    Returns:
      One value of the target per row.
    """
    return params[0] * x0 + params[1] * x1 + params[2]
