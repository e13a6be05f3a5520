"""Score a minimizer: how close run_search() gets to the global minimum, over a few seeds.

OpenEvolve's contract: evaluate(program_path) -> dict of metrics, combined_score first.
The program is imported from its path; calls of bumpy() beyond the budget are counted
and punished, so a search cannot buy accuracy with more evaluations.
"""

import importlib.util

import numpy as np

GLOBAL_MIN = -1.5187
SEEDS = (0, 1, 2, 3)
BUDGET = 300


def _load(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(program_path):
    program = _load(program_path)
    original, calls = program.bumpy, [0]

    def counted(x, y):
        calls[0] += 1
        return original(x, y)

    program.bumpy = counted
    values, distances = [], []
    for seed in SEEDS:
        calls[0] = 0
        x, y = program.run_search(seed)
        if calls[0] > BUDGET:
            raise ValueError(f"the search called bumpy() {calls[0]} times; the budget is {BUDGET}")
        if not (-5 <= x <= 5 and -5 <= y <= 5):
            raise ValueError(f"the point ({x}, {y}) is outside the bounds")
        values.append(original(x, y))
        distances.append(float(np.hypot(x + 1.704, y - 0.678)))
    gap = float(np.mean(values)) - GLOBAL_MIN
    return {
        "combined_score": 1.0 / (1.0 + 10.0 * max(gap, 0.0)),
        "mean_value": float(np.mean(values)),
        "mean_distance": float(np.mean(distances)),
        "worst_value": float(np.max(values)),
    }
