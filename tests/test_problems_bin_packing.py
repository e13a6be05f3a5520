"""The built-in bin_packing problem, evaluated for real on generated and published sets.

Scores go through the evaluator users run (in-process mode); the published
sets are found through EVOFORGE_DATA (tests/data_paths.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evoforge.spec import load_problem
from evoforge.spec_inputs import resolve_inputs
from tests.spec_scoring import error_on, score_on, trials

FIRST_FIT = "def priority(item, bins):\n    return np.zeros_like(bins)\n"
# Published (FunSearch, Nature 2023, Table 1), in percent of excess bins over L1.
PUBLISHED = {
    "or1": (6.42, 5.81),
    "or2": (6.45, 6.06),
    "or3": (5.74, 5.37),
    "or4": (5.23, 4.94),
    "weibull_5k": (4.23, 3.98),
}


@pytest.fixture(scope="module")
def spec():
    return load_problem("bin_packing")


def published_score(spec, binpack_dir: Path, name: str, code: str | None = None) -> float:
    (trial,) = trials(spec, code, split="test", dataset=binpack_dir / f"{name}.json").values()
    assert trial.score is not None, trial.error
    return trial.score


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_best_fit_seed_reproduces_the_published_excess(spec, binpack_dir, name):
    score = published_score(spec, binpack_dir, name)
    assert spec.report.show(score) == f"{PUBLISHED[name][1]:.2f}%"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_first_fit_reproduces_the_published_excess(spec, binpack_dir, name):
    score = published_score(spec, binpack_dir, name, FIRST_FIT)
    assert spec.report.show(score) == f"{PUBLISHED[name][0]:.2f}%"


def test_seed_is_best_fit_the_funsearch_seed(spec):
    assert "return -(bins - item)" in spec.seed_code
    assert spec.evolve_name == "priority" and spec.run_name == "evaluate"


def test_best_fit_puts_each_item_in_the_fullest_bin_that_fits(spec):
    # 5 -> A, 7 -> B, 3 -> B (fullest), 5 -> A: two bins, the L1 bound ceil(20 / 10): no excess.
    assert score_on(spec, {"capacity": 10, "instances": {"a": [5, 7, 3, 5]}}) == 0.0


def test_first_fit_puts_each_item_in_the_first_bin_that_fits(spec):
    # 5 -> A, 7 -> B, 3 -> A (first), 5 -> a new bin C: three bins, one over the bound of two.
    assert score_on(spec, {"capacity": 10, "instances": {"a": [5, 7, 3, 5]}}, FIRST_FIT) == -0.5


def test_worst_possible_priority_still_packs_every_item_validly(spec):
    one_per_bin = "def priority(item, bins):\n    return bins.astype(float)\n"
    # Preferring the emptiest bin opens a new bin for every item: 3 bins where 1 would do.
    assert score_on(spec, {"capacity": 10, "instances": {"a": [1, 1, 1]}}, one_per_bin) == -2.0


def test_score_is_minus_excess_over_the_l1_bound(spec):
    # 4 items of 6 need 4 bins of 10; the L1 bound is ceil(24 / 10) = 3.
    assert score_on(spec, {"capacity": 10, "instances": {"a": [6, 6, 6, 6]}}) == pytest.approx(-1 / 3)


def test_a_perfect_packing_scores_zero(spec):
    assert score_on(spec, {"capacity": 10, "instances": {"a": [5, 5, 7, 3]}}) == 0.0


def test_train_has_several_inputs_from_both_families(spec):
    train = resolve_inputs(spec, "train")
    capacities = {value["capacity"] for value in train.values()}
    assert len(train) >= 2 and capacities == {100, 150}


def test_training_sets_are_the_same_on_every_call(spec):
    assert resolve_inputs(spec, "train") == resolve_inputs(spec, "train")


def test_test_sets_share_no_instance_with_the_training_sets(spec):
    seen = {
        tuple(items)
        for value in resolve_inputs(spec, "train").values()
        for items in value["instances"].values()
    }
    held_out = [
        tuple(items)
        for value in resolve_inputs(spec, "test").values()
        for items in value["instances"].values()
    ]
    assert held_out and not seen.intersection(held_out)


def test_weibull_sizes_are_floored_weibull_45_3_clipped_to_1_100(spec):
    sizes = np.array(resolve_inputs(spec, "test")["weibull_5k"]["instances"]["weibull_5000_0"])
    assert sizes.min() >= 1 and sizes.max() <= 100
    # E[floor(45 W)] is about 45 * Gamma(4/3) - 1/2 = 39.7 for W ~ Weibull(shape 3).
    assert abs(sizes.mean() - 39.7) < 1.0


def test_or_style_sizes_are_uniform_integers_20_to_100(spec):
    sizes = [s for items in resolve_inputs(spec, "train")["or_120"]["instances"].values() for s in items]
    assert min(sizes) == 20 and max(sizes) == 100 and all(isinstance(s, int) for s in sizes)


def test_seed_scores_every_train_input_with_a_finite_negative_number(spec):
    scores = [trial.score for trial in trials(spec).values()]
    assert len(scores) >= 2 and all(s is not None and -0.2 < s < 0 for s in scores)


def test_dataset_is_named_after_the_file_stem(spec, binpack_dir):
    assert list(resolve_inputs(spec, "test", binpack_dir / "or1.json")) == ["or1"]


def test_dataset_in_funsearch_notebook_format_scores_like_the_shared_format(spec, binpack_dir, tmp_path):
    or1 = json.loads((binpack_dir / "or1.json").read_text())
    notebook = {
        name: {"capacity": or1["capacity"], "num_items": len(items), "items": items}
        for name, items in or1["instances"].items()
    }
    path = tmp_path / "or1_notebook.json"
    path.write_text(json.dumps(notebook))
    (converted,) = trials(spec, split="test", dataset=path).values()
    assert converted.score == published_score(spec, binpack_dir, "or1")


def test_dataset_with_fractional_sizes_packs_in_floats(spec, tmp_path):
    path = tmp_path / "fractions.json"
    path.write_text(json.dumps({"capacity": 1, "instances": {"a": [0.5, 0.25, 0.25, 0.6]}}))
    (trial,) = trials(spec, split="test", dataset=path).values()
    assert trial.score == pytest.approx(0.0)


def test_report_prints_percent_of_excess_bins(spec):
    assert spec.report.show(-0.0537) == "5.37%"


def test_inline_fractional_sizes_with_an_integer_capacity_pack(spec):
    assert score_on(spec, {"capacity": 1, "instances": {"a": [0.6, 0.6, 0.6]}}) == pytest.approx(-0.5)


INTEGER_BINS_ONLY = (
    "def priority(item, bins):\n"
    "    if bins.dtype.kind != 'i':\n        raise TypeError(f'bins of dtype {bins.dtype}')\n"
    "    return -(bins - item)\n"
)


def test_integer_sizes_give_the_priority_integer_bins(spec):
    assert score_on(spec, {"capacity": 10, "instances": {"a": [5, 7]}}, INTEGER_BINS_ONLY) == 0.0


def test_fractional_sizes_give_the_priority_float_bins(spec):
    value = {"capacity": 1, "instances": {"a": [0.5, 0.5]}}
    assert error_on(spec, value, INTEGER_BINS_ONLY).startswith("TypeError: bins of dtype float")
