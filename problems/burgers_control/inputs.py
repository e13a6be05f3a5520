"""Inputs for Burgers control: the observed state evolution fits, and the held-out observations.

A hidden initial state (seed 7) is evolved by the solver at twice the scoring
resolution to make the observations. Evolution sees only the state at
t = 1.5; the held-out report scores the design's trajectory against the same
hidden trajectory at t = 0.75 and t = 3, which evolution never saw.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from evoforge.surrogates.burgers import BurgersSetting, hidden_state, observed, solve

HIDDEN_SEED = 7


@cache
def _observation(horizon: float) -> dict[str, Any]:
    setting = BurgersSetting(horizon=horizon)
    truth = hidden_state(HIDDEN_SEED, setting)
    target = observed(solve(truth, setting, 2 * setting.grid), setting)
    return {"physics": "burgers", "setting": setting.to_json(), "target": target.tolist()}


def train() -> dict[str, dict[str, Any]]:
    return {"t1.5": _observation(1.5)}


def test() -> dict[str, dict[str, Any]]:
    return {"t0.75": _observation(0.75), "t3": _observation(3.0)}
