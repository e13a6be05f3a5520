"""The project's core30 table against the published SRSD file, and the generated points."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evoforge.expressions import feynman
from evoforge.spec_errors import SpecError
from tests.data_paths import needs_published, published_data_dir

DATA = published_data_dir()
FEYNMAN_JSON = DATA / "feynman" / "feynman.json"

needs_data = needs_published("feynman/feynman.json")


@needs_data
def test_core30_matches_the_published_file_in_ids_tiers_variables_and_ranges() -> None:
    published = {e["id"]: e for e in json.loads(FEYNMAN_JSON.read_text())["equations"] if e.get("core30")}
    ours = {e.id: e for e in feynman.core30()}
    assert set(ours) == set(published) and len(ours) == 30
    for key, equation in ours.items():
        record = published[key]
        assert equation.tier == record["difficulty"], key
        assert equation.names == [v["ident"] for v in record["variables"]], key
        for variable, theirs in zip(equation.variables, record["variables"], strict=True):
            sampling = theirs["srsd_sampling"]
            assert (variable.dist, variable.sign) == (sampling["dist"], sampling["sign"]), key
            assert np.isclose(variable.low, sampling["low"]), key
            assert np.isclose(variable.high, sampling["high"]), key


@needs_data
def test_core30_formulas_equal_the_published_ones_at_sampled_points() -> None:
    published = {e.id: e for e in feynman.from_dataset(FEYNMAN_JSON)}
    for equation in feynman.core30():
        points = feynman.inputs(equation, "test")["in_domain"]["eval"]
        x = np.asarray(points["x"])
        theirs = feynman.truth_function(published[equation.id])(*x.T)
        assert np.allclose(points["y"], theirs, rtol=1e-9, atol=0), equation.id


@needs_data
def test_the_full_published_set_is_read_by_path() -> None:
    equations = feynman.from_dataset(FEYNMAN_JSON)
    assert len(equations) == 120
    assert {t: sum(e.tier == t for e in equations) for t in feynman.TIERS} == {"easy": 30, "medium": 40,
                                                                             "hard": 50}


def test_points_are_seeded_noisy_only_where_asked_and_out_of_domain_outside_the_box() -> None:
    (equation,) = feynman.select(feynman.core30(), equation="I.10.7")
    clean, again = feynman.inputs(equation, "train"), feynman.inputs(equation, "train")
    assert clean == again
    noisy = feynman.inputs(equation, "train", noise=0.01)["fit"]["train"]
    ratio = np.asarray(noisy["y"]) / np.asarray(clean["fit"]["train"]["y"]) - 1
    assert 0.005 < ratio.std() < 0.02
    held = feynman.inputs(equation, "test", noise=0.01)
    ood = np.asarray(held["out_of_domain"]["eval"]["x"])
    outside = (ood[:, 0] < 0.1) | (ood[:, 0] > 10) | (ood[:, 1] < 1e5) | (ood[:, 1] > 1e8)
    assert outside.all() and np.all(np.abs(ood[:, 1]) < 2.99792458e8)
    truth = feynman.truth_function(equation)(*ood.T)
    assert np.allclose(held["out_of_domain"]["eval"]["y"], truth, rtol=1e-12)  # held-out points are clean


def test_unknown_equation_and_tier_are_one_clear_sentence() -> None:
    with pytest.raises(SpecError, match=r"--equation X\.1: no such equation"):
        feynman.select(feynman.core30(), equation="X.1")
    with pytest.raises(SpecError, match="--tier impossible: use one of easy, medium, hard"):
        feynman.select(feynman.core30(), tier="impossible")
    assert len(feynman.select(feynman.core30(), tier="hard")) == 10
