"""The built-in cap_set problem, evaluated for real."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from fixtures.spec_runner import entry_point

from evoforge.spec import load_problem
from evoforge.spec_inputs import resolve_inputs


@pytest.fixture(scope="module")
def spec():
    return load_problem("cap_set")


def independent_cap_check(vectors: np.ndarray) -> bool:
    """No three distinct rows on a line, checked by brute force over triples."""
    rows = [tuple(int(x) for x in row) for row in vectors]
    if len(set(rows)) != len(rows):
        return False
    for a, b, c in itertools.combinations(rows, 3):
        if all((x + y + z) % 3 == 0 for x, y, z in zip(a, b, c, strict=True)):
            return False
    return True


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8])
def test_constant_priority_gives_two_to_the_n(spec, n):
    assert entry_point(spec)(n) == 2**n


@pytest.mark.parametrize("n", [3, 4])
def test_solve_builds_a_true_cap_set_whatever_the_priority(spec, n):
    random_priority = "import random\ndef priority(el, n):\n    return random.Random(str(el)).random()\n"
    solve = entry_point(spec, random_priority).__globals__["solve"]
    assert independent_cap_check(solve(n))


def test_a_cap_set_greedy_builds_is_maximal(spec):
    random_priority = "import random\ndef priority(el, n):\n    return random.Random(str(el)).random()\n"
    solve = entry_point(spec, random_priority).__globals__["solve"]
    capset = {tuple(int(x) for x in row) for row in solve(3)}
    others = set(itertools.product((0, 1, 2), repeat=3)) - capset
    assert all(not independent_cap_check(np.array([*capset, extra])) for extra in others)


def test_a_better_priority_beats_the_constant_one(spec):
    # Even a fixed pseudo-random order escapes the lexicographic {0, 1}^n cap.
    shuffled = "import random\ndef priority(el, n):\n    return random.Random(str(el)).random()\n"
    assert entry_point(spec, shuffled)(5) > 2**5


def test_is_cap_set_rejects_three_points_on_a_line(spec):
    is_cap_set = entry_point(spec).__globals__["is_cap_set"]
    assert not is_cap_set(np.array([[0, 0], [1, 1], [2, 2]]))


def test_is_cap_set_rejects_a_repeated_point(spec):
    is_cap_set = entry_point(spec).__globals__["is_cap_set"]
    assert not is_cap_set(np.array([[0, 1], [0, 1]]))


def test_is_cap_set_accepts_a_cap(spec):
    is_cap_set = entry_point(spec).__globals__["is_cap_set"]
    assert is_cap_set(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))


def test_priority_that_is_not_a_number_fails_the_evaluation(spec):
    broken = "def priority(el, n):\n    return 'high'\n"
    with pytest.raises(ValueError):
        entry_point(spec, broken)(3)


def test_train_and_test_dimensions_are_disjoint(spec):
    train, test = resolve_inputs(spec, "train"), resolve_inputs(spec, "test")
    assert len(train) >= 2 and not set(train.values()) & set(test.values())


def test_dataset_file_lists_dimensions(spec, tmp_path):
    path = tmp_path / "dims.txt"
    path.write_text("3, 9\n")
    assert resolve_inputs(spec, "test", path) == {"n3": 3, "n9": 9}
