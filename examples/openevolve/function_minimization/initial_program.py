"""Find the global minimum of a bumpy function of two variables with a fixed budget of evaluations.

f(x, y) = sin(x) * cos(y) + sin(x * y) + (x**2 + y**2) / 20 on [-5, 5]^2; its global
minimum is near (-1.704, 0.678), where f = -1.519. The search below is plain random
sampling; evolution may change anything between the markers.
"""

import numpy as np


def bumpy(x: float, y: float) -> float:
    return float(np.sin(x) * np.cos(y) + np.sin(x * y) + (x**2 + y**2) / 20)


# EVOLVE-BLOCK-START
def search(budget: int, bounds: tuple[float, float], seed: int) -> tuple[float, float]:
    """Spend at most `budget` calls of bumpy() and return the best point found."""
    rng = np.random.default_rng(seed)
    best, best_value = (0.0, 0.0), bumpy(0.0, 0.0)
    for _ in range(budget - 1):
        x, y = rng.uniform(bounds[0], bounds[1], size=2)
        value = bumpy(x, y)
        if value < best_value:
            best, best_value = (float(x), float(y)), value
    return best
# EVOLVE-BLOCK-END


def run_search(seed: int = 0) -> tuple[float, float]:
    return search(budget=300, bounds=(-5.0, 5.0), seed=seed)
