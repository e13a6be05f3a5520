"""Behaviour fingerprints through the real fork sandbox: probe trials on the seed's recorded calls.

A renamed-variable copy of a program must get its fingerprint; a program of
the same length that packs differently, or one that differs only on a few
calls, must not. The probe calls come from scoring the spec's seed in the
sandbox server, so these tests use the small bin-packing problem the run-loop
tests use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.evaluators import open_evaluator
from evoforge.evaluators.behaviour import evaluate_unless_known
from evoforge.records import BehaviourDuplicate, Evaluation
from evoforge.spec import load_problem
from tests.run_fixtures import make_small_bin_packing

BEST_FIT = "def priority(item, bins):\n    return -(bins - item)\n"
RENAMED = "def priority(size, capacities):\n    gap = capacities - size\n    return -gap\n"
REORDERED = "def priority(item, bins):\n    return item - bins\n"  # -0.0 where the item fills a bin
WORST_FIT = "def priority(item, bins):\n    return +(bins - item)\n"  # the same length as BEST_FIT
# Best fit except for the largest items (100 units): a few calls of the whole input only.
RARE_BRANCH = "def priority(item, bins):\n    return bins if item >= 100 else -(bins - item)\n"
RAISES = "def priority(item, bins):\n    return 1 / 0\n"


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory):
    spec = load_problem(make_small_bin_packing(tmp_path_factory.mktemp("problem")))
    with open_evaluator(spec, split="train", stop_on_error=True, fingerprints=True) as opened:
        yield opened


def test_renamed_variable_copy_has_the_seed_fingerprint(evaluator) -> None:
    seed = evaluator.fingerprint(BEST_FIT)
    assert seed is not None and len(seed) == 32
    assert evaluator.fingerprint(RENAMED) == seed
    assert evaluator.fingerprint(REORDERED) == seed


def test_a_program_of_the_same_length_that_packs_differently_has_another_fingerprint(evaluator) -> None:
    assert len(WORST_FIT) == len(BEST_FIT)
    assert evaluator.fingerprint(WORST_FIT) != evaluator.fingerprint(BEST_FIT)
    assert evaluator.evaluate(WORST_FIT).score != evaluator.evaluate(BEST_FIT).score


def test_a_program_that_differs_on_a_few_calls_only_has_another_fingerprint(evaluator) -> None:
    assert evaluator.fingerprint(RARE_BRANCH) != evaluator.fingerprint(BEST_FIT)


def test_a_candidate_that_fails_on_a_probe_gets_no_fingerprint_and_a_full_evaluation(evaluator) -> None:
    assert evaluator.fingerprint(RAISES) is None
    outcome = evaluate_unless_known(evaluator, RAISES, known=set())
    assert isinstance(outcome, Evaluation) and not outcome.ok and "ZeroDivisionError" in outcome.first_error


def test_a_known_behaviour_skips_the_full_evaluation(evaluator) -> None:
    first = evaluate_unless_known(evaluator, BEST_FIT, known=set())
    assert isinstance(first, Evaluation) and first.ok
    behaviour = first.details["behaviour_hash"]
    again = evaluate_unless_known(evaluator, RENAMED, known={behaviour})
    assert again == BehaviourDuplicate(behaviour, again.seconds)
    different = evaluate_unless_known(evaluator, WORST_FIT, known={behaviour})
    assert isinstance(different, Evaluation) and different.ok
    assert different.details["behaviour_hash"] != behaviour


def test_an_evaluator_opened_without_fingerprints_takes_none(tmp_path: Path) -> None:
    spec = load_problem(make_small_bin_packing(tmp_path / "problem"))
    with open_evaluator(spec, split="train") as plain:
        assert plain.fingerprint(BEST_FIT) is None
        assert isinstance(evaluate_unless_known(plain, BEST_FIT, known=set()), Evaluation)
