"""Pack 12 circles in the unit square so that the sum of their radii is as large as possible.

The block places the centres and then gives each circle the largest radius that keeps it
inside the square and clear of the circles already sized. Evolution may change anything
between the markers: the layout, the sizing, or both.
"""

import numpy as np

N_CIRCLES = 12


# EVOLVE-BLOCK-START
def place_centres(n: int) -> np.ndarray:
    """A square grid, as many columns as needed, filled row by row."""
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    points = [((c + 0.5) / columns, (r + 0.5) / rows) for r in range(rows) for c in range(columns)]
    return np.array(points[:n])


def size_circles(centres: np.ndarray) -> np.ndarray:
    """Largest radii, one circle after another, that fit the square and the circles before."""
    radii = np.zeros(len(centres))
    for i, (x, y) in enumerate(centres):
        limit = min(x, y, 1 - x, 1 - y)
        for j in range(i):
            gap = np.hypot(x - centres[j, 0], y - centres[j, 1]) - radii[j]
            limit = min(limit, gap)
        radii[i] = max(limit, 0.0)
    return radii


def construct_packing() -> tuple[np.ndarray, np.ndarray]:
    centres = place_centres(N_CIRCLES)
    return centres, size_circles(centres)
# EVOLVE-BLOCK-END


def run_packing() -> tuple[np.ndarray, np.ndarray, float]:
    centres, radii = construct_packing()
    return centres, radii, float(np.sum(radii))
