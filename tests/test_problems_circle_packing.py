"""The built-in circle_packing problem: the seed, and the strict validity check, through the evaluator."""

from __future__ import annotations

import pytest

from evoforge.spec import load_problem
from evoforge.spec_inputs import resolve_inputs
from tests.spec_scoring import error_on, score_on


@pytest.fixture(scope="module")
def spec():
    return load_problem("circle_packing")


def packing(centers: str, radii: str) -> str:
    """A candidate that returns fixed circles whatever n is asked."""
    body = f"    return np.array({centers}, dtype=float), np.array({radii}, dtype=float)\n"
    return "def construct_packing(n):\n" + body


def test_seed_is_a_valid_packing_of_26_circles_summing_about_2_17(spec):
    assert score_on(spec, 26) == pytest.approx(26 / 12)


@pytest.mark.parametrize("n", [1, 2, 7, 26, 32])
def test_seed_is_valid_for_other_counts(spec, n):
    assert score_on(spec, n) > 0


def test_touching_circles_are_valid(spec):
    assert score_on(spec, 2, packing("[[0.25, 0.5], [0.75, 0.5]]", "[0.25, 0.25]")) == 0.5


# Invalid packings, each with the reason the spec's check gives: (n, centers, radii, reason).
INVALID = {
    "overlapping circles": (2, "[[0.25, 0.5], [0.74, 0.5]]", "[0.25, 0.25]", "overlap"),
    "an overlap past the tolerance": (2, "[[0.25, 0.5], [0.75 - 2e-9, 0.5]]", "[0.25, 0.25]", "overlap"),
    "a circle leaving the square": (1, "[[0.1, 0.5]]", "[0.2]", "leaves the unit square"),
    "a circle past the top edge": (1, "[[0.5, 0.9]]", "[0.2]", "leaves the unit square"),
    "a NaN centre": (1, "[[0.5, float('nan')]]", "[0.1]", "finite"),
    "an infinite radius": (1, "[[0.5, 0.5]]", "[float('inf')]", "finite"),
    "a negative radius": (2, "[[0.25, 0.5], [0.75, 0.5]]", "[0.25, -0.1]", "not positive"),
    "the wrong number of circles": (26, "[[0.5, 0.5]]", "[0.1]", "shape"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_packing_fails_with_its_reason(spec, case):
    n, centers, radii, reason = INVALID[case]
    error = error_on(spec, n, packing(centers, radii))
    assert error.startswith("ValueError") and reason in error


def test_an_overlap_within_the_tolerance_is_accepted(spec):
    overlapping = packing("[[0.25, 0.5], [0.75 - 5e-10, 0.5]]", "[0.25, 0.25]")
    assert score_on(spec, 2, overlapping) == 0.5


def test_train_and_test_ask_for_26_circles(spec):
    assert resolve_inputs(spec, "train") == {"n26": 26} == resolve_inputs(spec, "test")


def test_reference_value_is_in_the_description_and_prompt(spec):
    assert "2.63586" in spec.description and "2.63586" in spec.prompt_notes
