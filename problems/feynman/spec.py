"""Physics laws from data (AI Feynman / SRSD), with LLM-SR's equation skeletons.

The evolved function is a skeleton: numpy arrays for the variables and a
vector `params` of free constants, which the scoring code fits to the
training points (scipy least squares, several restarts). A skeleton scores
by its error on validation points and the size of its formula; reports add
held-out points in and out of the sampled domain, and whether the formula is
the true law (proved by sympy, or matched to machine precision).
"""

import numpy as np

from evoforge import evolve, run
from evoforge.expressions.scoring import score_equation


@run
def evaluate(task: dict) -> dict:
    """Fit `equation`'s constants, and score it: {"score", "data": details} (evoforge.expressions.scoring)."""
    return score_equation(equation, task)


@evolve
def equation(mu: np.ndarray, Nn: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Friction force F from mu (coefficient of friction), Nn (normal force).

    Args:
      mu, Nn: one numpy array per variable, one value per data point.
      params: 10 free constants, fitted to the data; use as many as needed.

    Returns:
      One value of friction force F per data point.
    """
    return params[0] * mu + params[1] * Nn + params[2]
