"""Rows of the user's table: `evoforge run expression --csv FILE --target COLUMN` writes a copy
of this folder naming them; this one names none and asks for them."""

from evoforge.expressions.table import split_inputs

CSV = None
TARGET = None
SPLIT_COLUMN = None
SEED = 0


def train() -> dict:
    return split_inputs(CSV, TARGET, SPLIT_COLUMN, "train", SEED)


def test() -> dict:
    return split_inputs(CSV, TARGET, SPLIT_COLUMN, "test", SEED)
