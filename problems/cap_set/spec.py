"""Large cap sets in F_3^n, built greedily in the order a priority function sets.

As in FunSearch (Romera-Paredes et al., Nature 2023): every vector of
{0, 1, 2}^n gets a priority once; the highest-priority vector that completes
no line with two vectors already chosen is added, until none is left. A cap
set has no three distinct points x, y, z with x + y + z = 0 (mod 3).
"""

import itertools

import numpy as np

from evoforge import evolve, run


def solve(n: int) -> np.ndarray:
    """Builds a cap set in F_3^n greedily, highest priority first."""
    all_vectors = np.array(list(itertools.product((0, 1, 2), repeat=n)), dtype=np.int32)
    # With powers in decreasing order, vector i of itertools.product encodes to i.
    powers = 3 ** np.arange(n - 1, -1, -1)
    priorities = np.array([priority(tuple(int(x) for x in v), n) for v in all_vectors], dtype=float)
    capset = np.empty(shape=(0, n), dtype=np.int32)
    while np.any(priorities != -np.inf):
        max_index = np.argmax(priorities)
        vector = all_vectors[None, max_index]
        # The third point of the line through `vector` and each chosen point.
        blocking = ((-capset - vector) % 3) @ powers
        priorities[blocking] = -np.inf
        priorities[max_index] = -np.inf
        capset = np.concatenate([capset, vector], axis=0)
    return capset


def is_cap_set(vectors: np.ndarray) -> bool:
    """True if the rows are distinct and no three of them sum to 0 mod 3."""
    n = vectors.shape[1]
    codes = vectors @ (3 ** np.arange(n - 1, -1, -1))
    if len(set(codes.tolist())) != len(codes):
        return False
    member = np.zeros(3**n, dtype=bool)
    member[codes] = True
    first, second = np.triu_indices(len(vectors), k=1)
    thirds = ((-vectors[first] - vectors[second]) % 3) @ (3 ** np.arange(n - 1, -1, -1))
    return not bool(member[thirds].any())


@run
def evaluate(n: int) -> int:
    """The size of the cap set built in dimension `n` (checked before it counts)."""
    capset = solve(n)
    if not is_cap_set(capset):
        raise ValueError("the construction is not a cap set")
    return len(capset)


@evolve
def priority(el: tuple[int, ...], n: int) -> float:
    """Returns the priority with which we want to add `el` to the cap set.

    Args:
      el: a vector of {0, 1, 2}^n.
      n: the dimension.
    """
    return 0.0
