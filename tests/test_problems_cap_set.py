"""The built-in cap_set problem, evaluated for real through the evaluator users run."""

from __future__ import annotations

import itertools

import pytest

from evoforge.spec import load_problem
from evoforge.spec_inputs import resolve_inputs
from tests.spec_scoring import error_on, score_on

RANDOM_ORDER = "import random\ndef priority(el, n):\n    return random.Random(str(el)).random()\n"
# A candidate may call the spec's helpers: these raise when `is_cap_set` or `solve` is wrong, so
# the trial's error (or score) shows what the helper did.
CHECKS_IS_CAP_SET = '''
def priority(el, n):
    line, repeated = np.array([[0, 0], [1, 1], [2, 2]]), np.array([[0, 1], [0, 1]])
    cap = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    if is_cap_set(line) or is_cap_set(repeated) or not is_cap_set(cap):
        raise AssertionError("is_cap_set is wrong")
    return 0.0
'''


@pytest.fixture(scope="module")
def spec():
    return load_problem("cap_set")


def brute_force_cap_set_size(n: int) -> int:
    """Largest cap set in F_3^n by exhaustive search (n <= 2), independent of the spec's code."""
    points = list(itertools.product((0, 1, 2), repeat=n))
    best = 0
    for mask in range(1 << len(points)):
        chosen = [p for i, p in enumerate(points) if mask >> i & 1]
        if len(chosen) > best and all(
            any((x + y + z) % 3 for x, y, z in zip(a, b, c, strict=True))
            for a, b, c in itertools.combinations(chosen, 3)
        ):
            best = len(chosen)
    return best


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8])
def test_constant_priority_gives_two_to_the_n(spec, n):
    assert score_on(spec, n) == 2**n


@pytest.mark.parametrize("n", [3, 4])
def test_any_priority_builds_a_set_the_spec_accepts_as_a_cap_set(spec, n):
    # evaluate() raises "not a cap set" when its own check fails; a score means it passed.
    assert score_on(spec, n, RANDOM_ORDER) >= 2**n


@pytest.mark.parametrize("n", [1, 2])
def test_greedy_never_beats_the_true_maximum(spec, n):
    assert score_on(spec, n, RANDOM_ORDER) <= brute_force_cap_set_size(n)


def test_a_better_priority_beats_the_constant_one(spec):
    # Even a fixed pseudo-random order escapes the lexicographic {0, 1}^n cap.
    assert score_on(spec, 5, RANDOM_ORDER) > 2**5


def test_is_cap_set_rejects_lines_and_repeats_and_accepts_a_cap(spec):
    assert score_on(spec, 2, CHECKS_IS_CAP_SET) == 4


def test_priority_that_is_not_a_number_fails_the_evaluation(spec):
    broken = "def priority(el, n):\n    return 'high'\n"
    assert error_on(spec, 3, broken).startswith("ValueError")


def test_train_and_test_dimensions_are_disjoint(spec):
    train, test = resolve_inputs(spec, "train"), resolve_inputs(spec, "test")
    assert len(train) >= 2 and not set(train.values()) & set(test.values())


def test_dataset_file_lists_dimensions(spec, tmp_path):
    path = tmp_path / "dims.txt"
    path.write_text("3, 9\n")
    assert resolve_inputs(spec, "test", path) == {"n3": 3, "n9": 9}
