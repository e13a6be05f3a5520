"""Points for one integrand of the shared integration set (read by path, seeded).

`evoforge run integration --equation ID` writes a copy of this folder with
the chosen integral; this one is classic_00, f(x) = x**3.
"""

from evoforge.expressions.integrals import split_inputs

INTEGRAL = "classic_00"
DATASET = None
SEED = 0


def train() -> dict:
    return split_inputs(INTEGRAL, "train", DATASET, SEED)


def test() -> dict:
    return split_inputs(INTEGRAL, "test", DATASET, SEED)
