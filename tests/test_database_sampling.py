"""The maths of the database: tempered softmax, temperature schedule, distinct draws."""

import math
import warnings

import numpy as np
import pytest

from evoforge.database.config import ProgramsDatabaseConfig
from evoforge.database.sampling import get_signature, reduce_score, sample_distinct, softmax, temperature


def test_softmax_matches_closed_form_boltzmann_probabilities() -> None:
    scores, t = [0.0, 0.5, 1.0], 0.3
    weights = [math.exp(s / t) for s in scores]
    expected = [w / sum(weights) for w in weights]
    assert softmax(scores, t).tolist() == pytest.approx(expected, rel=1e-12)


def test_softmax_does_not_overflow_on_huge_score_ranges() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities = softmax([-1e308, 0.0, 1e308, 1e308 * 0.5], temperature=1e-5)
    assert np.all(np.isfinite(probabilities))
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-15)
    assert int(np.argmax(probabilities)) == 2


def test_softmax_rejects_non_finite_logits() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        softmax([0.0, float("nan")], 1.0)


def test_temperature_schedule_cools_linearly_and_reheats_each_period() -> None:
    values = [temperature(0.1, 10, n) for n in (0, 1, 5, 9, 10, 13)]
    assert values == pytest.approx([0.1, 0.09, 0.05, 0.01, 0.1, 0.07])


def test_score_of_a_signature_is_its_mean() -> None:
    assert reduce_score((1.0, 2.0, 6.0)) == 3.0


def test_signature_rejects_empty_and_non_finite_scores() -> None:
    with pytest.raises(ValueError):
        get_signature(())
    with pytest.raises(ValueError):
        get_signature((1.0, float("inf")))


def test_distinct_draws_never_repeat_even_when_probabilities_underflow_to_zero() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        chosen = sample_distinct(rng, [0.0, 1.0, 1000.0, 2000.0], temperature=1e-3, k=3)
        assert len(set(chosen)) == 3
        assert chosen[0] == 3  # the only cluster with non-zero probability is drawn first


def test_distinct_draws_are_capped_by_the_number_of_choices() -> None:
    assert sorted(sample_distinct(np.random.default_rng(0), [0.0, 1.0], 1.0, k=5)) == [0, 1]


@pytest.mark.parametrize("field", ["num_islands", "functions_per_prompt", "reset_period_programs"])
def test_config_rejects_counts_below_one_with_a_clear_message(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be a whole number >= 1"):
        ProgramsDatabaseConfig(**{field: 0})


def test_config_rejects_a_non_positive_temperature() -> None:
    with pytest.raises(ValueError, match="must be a positive number"):
        ProgramsDatabaseConfig(cluster_sampling_temperature_init=0.0)
