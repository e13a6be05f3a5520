"""Points for one Feynman equation: generated from its sampling ranges with a recorded seed.

`evoforge run feynman --equation ID` writes a copy of this folder with the
chosen equation, noise and dataset; this one is I.12.1, noise-free.
"""

from evoforge.expressions.feynman import split_inputs

EQUATION = "I.12.1"
DATASET = None  # a feynman.json-style file to read the equation from; None: the project's core30
NOISE = 0.0
SEED = 0


def train() -> dict:
    return split_inputs(EQUATION, "train", DATASET, NOISE, SEED)


def test() -> dict:
    return split_inputs(EQUATION, "test", DATASET, NOISE, SEED)
