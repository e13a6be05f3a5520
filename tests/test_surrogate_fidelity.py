"""The cascade's choices and its fidelity figures, on estimates whose truth is known."""

from __future__ import annotations

import numpy as np

from evoforge.surrogates.cascade import Cascade, CascadeConfig
from evoforge.surrogates.fidelity import ScreenTally, fidelity
from evoforge.surrogates.screens import CoarseScreen


def test_fidelity_ranks_in_the_spec_direction() -> None:
    exact = np.linspace(0.0, 1.0, 20)
    same = fidelity(zip(exact + 0.01, exact, strict=True), candidates=100, exact_solves=20, sign=-1.0)
    assert same["spearman"] > 0.999 and same["top10_overlap"] == 1.0
    assert abs(same["mae"] - 0.01) < 1e-12 and same["solves_saved"] == 80
    reversed_ = fidelity(zip(exact[::-1], exact, strict=True), candidates=20, exact_solves=20, sign=-1.0)
    assert reversed_["spearman"] < -0.999 and reversed_["top10_overlap"] == 0.0


def test_tally_counts_only_exact_pairs_and_screened_candidates() -> None:
    tally = ScreenTally(sign=1.0)
    assert tally.add({}, 1.0) == {}  # an evaluation without a screen (e.g. a program kind) is not counted
    tally.add({"screen": "surrogate", "exact": True, "estimate": 0.5}, 0.4)
    figures = tally.add({"screen": "surrogate", "exact": False, "estimate": 0.1}, None)
    assert figures["candidates"] == 2 and figures["exact_solves"] == 1 and figures["rechecked"] == 1
    assert abs(figures["mae"] - 0.1) < 1e-12


def test_cascade_sends_warm_up_top_share_and_a_fixed_calibration_sample_to_the_solver() -> None:
    config = CascadeConfig(screen="coarse", top_fraction=0.1, calibration=0.05, warmup=5)
    cascade = Cascade(CoarseScreen(physics=None), config, sign=1.0)
    rng = np.random.default_rng(0)
    estimates = rng.normal(size=2000)
    codes = [f"def f(x):\n    return {i}\n" for i in range(2000)]
    verdicts = cascade.select(estimates, codes)
    assert all(v.exact and v.reason == "warm-up" for v in verdicts[:5])
    reasons = [v.reason for v in verdicts[5:]]
    assert 0.08 < reasons.count("top") / len(reasons) < 0.12
    assert 0.03 < reasons.count("calibration") / len(reasons) < 0.07
    for verdict in verdicts[5:]:
        if verdict.reason == "top":
            assert verdict.estimate >= verdict.threshold
        if not verdict.exact:
            assert verdict.estimate < verdict.threshold
    again = Cascade(CoarseScreen(physics=None), config, sign=1.0).select(estimates, codes)
    assert [v.reason for v in again] == [v.reason for v in verdicts]  # the draw is fixed by the code
    minimising = Cascade(CoarseScreen(physics=None), config, sign=-1.0).select(estimates, codes)
    tops = [v for v in minimising if v.reason == "top"]
    assert all(v.estimate <= v.threshold for v in tops)
