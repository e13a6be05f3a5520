"""Shared pieces for the run-loop tests: a small bin-packing problem and run settings.

The problem reuses the built-in bin_packing spec.py unchanged, with small
generated inputs and a 2-second wall clock so that a looping candidate costs
the tests little.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from evoforge.spec import builtin_problems_dir

REPO = Path(__file__).resolve().parents[1]
RECORDED_BIN_PACKING = REPO / "tests" / "data" / "recorded_bin_packing.jsonl"

SMALL_INPUTS = '''
import numpy as np


def _instances(seed, count, items, low, high):
    rng = np.random.default_rng(seed)
    return {f"i{k}": [int(x) for x in rng.integers(low, high, size=items)] for k in range(count)}


def train():
    return {
        "uniform": {"capacity": 150, "instances": _instances(1, 2, 120, 20, 101)},
        "small_items": {"capacity": 100, "instances": _instances(2, 2, 150, 5, 60)},
    }


def test():
    return {"held_out": {"capacity": 150, "instances": _instances(3, 2, 120, 20, 101)}}
'''

SMALL_TOML = '''
name = "small_bin_packing"
direction = "maximize"
description = "bin packing on small generated instances, for tests"

[inputs]
module = "inputs.py"

[limits]
wall_seconds = 2
cpu_seconds = 2
memory_mb = 512

[report]
scale = -100
unit = "%"
'''


def make_small_bin_packing(folder: Path) -> Path:
    """A problem folder: the built-in spec.py, small inputs, tight limits."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(builtin_problems_dir() / "bin_packing" / "spec.py", folder / "spec.py")
    (folder / "inputs.py").write_text(SMALL_INPUTS)
    (folder / "problem.toml").write_text(SMALL_TOML)
    return folder


def count_rows(db: Path, sql: str) -> int:
    """One number from a run's database while the run may still be writing it (0 before it exists)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def recorded_llm() -> dict:
    return {"backend": "recorded", "model": str(RECORDED_BIN_PACKING)}
