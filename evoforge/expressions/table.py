"""A user's own table as an expression problem: `evoforge run expression --csv FILE --target y`.

The columns other than the target become the equation's variables (names
made into Python identifiers). Rows are split automatically, with a
recorded seed: the 15 % of rows farthest from the data's centre (median,
in units of each column's spread) are held out as out-of-domain, the rest
shuffled into train 70 % / validation 15 % / in-domain test 15 % of them. A
`--split-column` with the values train, valid, test, ood overrides it.
"""

from __future__ import annotations

import csv
import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.spec_errors import SpecError

OOD_FRACTION = 0.15
TRAIN_FRACTION, VALID_FRACTION = 0.70, 0.15
SPLITS = ("train", "valid", "test", "ood")
MIN_ROWS = 20


@dataclass(frozen=True)
class Table:
    path: Path
    names: list[str]  # the variables, as identifiers
    x: np.ndarray
    y: np.ndarray
    split: np.ndarray  # one of SPLITS per row


def identifier(column: str) -> str:
    name = re.sub(r"\W", "_", column.strip()) or "x"
    name = f"x_{name}" if name[0].isdigit() else name
    return f"{name}_" if keyword.iskeyword(name) or name in {"params", "np"} else name


def read_table(path: Path, target: str, split_column: str | None = None, seed: int = 0) -> Table:
    """The table, checked: numbers only, the target present, enough rows for every split."""
    rows, header = _rows(path)
    if target not in header:
        raise SpecError(f"--target {target}: {path} has no such column; its columns are {', '.join(header)}.")
    if split_column is not None and split_column not in header:
        raise SpecError(f"--split-column {split_column}: {path} has no such column.")
    features = [c for c in header if c not in (target, split_column)]
    if not features:
        raise SpecError(f"{path}: no column besides the target to build a law from.")
    x = np.array([[_number(path, n, r[c], c) for c in features] for n, r in enumerate(rows, 2)])
    y = np.array([_number(path, n, r[target], target) for n, r in enumerate(rows, 2)])
    split = _given_split(path, rows, split_column) if split_column else automatic_split(x, seed)
    missing = [s for s in SPLITS if not np.any(split == s)]
    if missing:
        raise SpecError(f"{path}: the split leaves no rows for {', '.join(missing)}; give more rows "
                        f"(at least {MIN_ROWS}) or fix the split column.")
    names = [identifier(c) for c in features]
    if len(set(names)) != len(names):
        raise SpecError(f"{path}: column names {features} collide once made into Python names {names}.")
    return Table(Path(path), names, x, y, split)


def _rows(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            rows, header = list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise SpecError(f"--csv {path}: cannot read it as CSV ({error}).") from None
    if len(rows) < MIN_ROWS:
        raise SpecError(f"--csv {path}: {len(rows)} data rows; give at least {MIN_ROWS}.")
    return rows, header


def _number(path: Path, line: int, text: str | None, column: str) -> float:
    try:
        value = float(text or "")
    except ValueError:
        raise SpecError(f"{path}:{line}: column {column} holds {text!r}, not a number.") from None
    if not np.isfinite(value):
        raise SpecError(f"{path}:{line}: column {column} holds {text!r}; give finite numbers.")
    return value


def _given_split(path: Path, rows: list[dict[str, str]], column: str) -> np.ndarray:
    values = np.array([(r[column] or "").strip().lower() for r in rows])
    wrong = sorted(set(values) - set(SPLITS))
    if wrong:
        raise SpecError(f"{path}: split column {column} holds {wrong[0]!r}; use {', '.join(SPLITS)}.")
    return values


def automatic_split(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The farthest rows from the centre out of domain; the rest shuffled into train/valid/test."""
    spread = np.median(np.abs(x - np.median(x, axis=0)), axis=0)
    distance = np.max(np.abs(x - np.median(x, axis=0)) / np.where(spread > 0, spread, 1.0), axis=1)
    order = np.argsort(distance, kind="stable")
    cut = len(x) - round(OOD_FRACTION * len(x))
    inside, outside = order[:cut], order[cut:]
    inside = np.random.default_rng(seed).permutation(inside)
    n_train, n_valid = int(TRAIN_FRACTION * len(inside)), int(VALID_FRACTION * len(inside))
    split = np.empty(len(x), dtype=object)
    split[outside] = "ood"
    split[inside[:n_train]], split[inside[n_train:n_train + n_valid]] = "train", "valid"
    split[inside[n_train + n_valid:]] = "test"
    return split.astype(str)


def inputs(table: Table, split: str, seed: int = 0) -> dict[str, Any]:
    """The same task shapes as the Feynman problem's (see scoring.score_equation), without a truth."""
    def points(name: str) -> dict[str, Any]:
        chosen = table.split == name
        return {"x": table.x[chosen].tolist(), "y": table.y[chosen].tolist()}

    common = {"names": table.names, "train": points("train"), "seed": seed}
    if split == "train":
        return {"fit": {"task": "fit", **common, "valid": points("valid")}}
    return {
        "in_domain": {"task": "held_out", "name": "in_domain", **common, "eval": points("test"),
                      "truth": None},
        "out_of_domain": {"task": "held_out", "name": "out_of_domain", **common, "eval": points("ood"),
                          "truth": None},
    }


def split_inputs(path: str | None, target: str | None, split_column: str | None, split: str, seed: int
                 ) -> dict[str, Any]:
    """Entry point of the generated inputs modules."""
    if path is None or target is None:
        raise SpecError("the expression problem fits a law to your table: give --csv FILE --target COLUMN.")
    return inputs(read_table(Path(path), target, split_column, seed), split, seed)
