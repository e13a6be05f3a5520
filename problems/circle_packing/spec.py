"""Circle packing: n circles in the unit square, maximize the sum of their radii.

The evolved function constructs the packing; `evaluate` checks it strictly
before it counts: right shapes, finite numbers, positive radii, every circle
inside [0, 1]^2 and no two overlapping, each up to TOLERANCE and no further.
For n = 26, AlphaEvolve reports 2.63586.
"""

import numpy as np

from evoforge import evolve, run

TOLERANCE = 1e-9


def check_packing(centers: np.ndarray, radii: np.ndarray, n: int) -> None:
    """Raises ValueError, saying what is wrong, unless the packing is valid."""
    if centers.shape != (n, 2) or radii.shape != (n,):
        raise ValueError(f"expected centers of shape ({n}, 2) and radii of shape ({n},), "
                         f"got {centers.shape} and {radii.shape}")
    if not (np.isfinite(centers).all() and np.isfinite(radii).all()):
        raise ValueError("centers and radii must be finite numbers")
    if (radii <= 0).any():
        raise ValueError(f"radius {int(np.argmin(radii))} is not positive")
    low = centers - radii[:, None]
    high = centers + radii[:, None]
    outside = (low < -TOLERANCE).any(axis=1) | (high > 1 + TOLERANCE).any(axis=1)
    if outside.any():
        raise ValueError(f"circle {int(np.argmax(outside))} leaves the unit square")
    first, second = np.triu_indices(n, k=1)
    gaps = np.linalg.norm(centers[first] - centers[second], axis=1) - radii[first] - radii[second]
    if (gaps < -TOLERANCE).any():
        worst = int(np.argmin(gaps))
        raise ValueError(f"circles {int(first[worst])} and {int(second[worst])} overlap "
                         f"by {-gaps[worst]:.3g}")


@run
def evaluate(n: int) -> float:
    """The sum of the radii of a valid packing of `n` circles (invalid ones raise)."""
    centers, radii = construct_packing(n)
    centers = np.array(centers, dtype=float)
    radii = np.array(radii, dtype=float)
    check_packing(centers, radii, n)
    return float(radii.sum())


@evolve
def construct_packing(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Places `n` circles in the unit square so that the sum of their radii is large.

    Returns:
      centers: array of shape (n, 2), the (x, y) of each circle.
      radii: array of shape (n,), each circle's radius.
    Circles must lie inside [0, 1]^2 and must not overlap (tolerance 1e-9).
    """
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    radius = 0.5 / max(columns, rows)
    index = np.arange(n)
    centers = np.stack([(2 * (index % columns) + 1) * radius, (2 * (index // columns) + 1) * radius], axis=1)
    radii = np.full(n, radius)
    return centers, radii
