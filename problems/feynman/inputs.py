"""Points for one Feynman equation: generated from its sampling ranges with a recorded seed.

`evoforge run feynman --equation ID` writes a copy of this folder with the
chosen equation, noise and dataset; this one is I.12.1, noise-free.
"""

from evoforge.expressions.problem_inputs import feynman_split

EQUATION = "I.12.1"
DATASET = None  # a feynman.json-style file to read the equation from; None: the project's core30
NOISE = 0.0
SEED = 0


def train() -> dict:
    return feynman_split(EQUATION, "train", DATASET, NOISE, SEED)


def test() -> dict:
    return feynman_split(EQUATION, "test", DATASET, NOISE, SEED)
