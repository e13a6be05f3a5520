"""Islands: clustering by signature, Boltzmann sampling over clusters, prompts."""

import math
import warnings

import pytest

from evoforge.database import Program, ProgramsDatabase, ProgramsDatabaseConfig


def _db(**config: int | float) -> ProgramsDatabase:
    return ProgramsDatabase(ProgramsDatabaseConfig(**{"num_islands": 1, **config}), seed=7)


def _code(name: str, padding: int = 0) -> str:
    return f"def priority(x):\n    return x  # {name}{'.' * padding}\n"


def test_programs_with_the_same_signature_share_a_cluster() -> None:
    db = _db()
    db.register(1, _code("a"), (1.0, 2.0), 0)
    db.register(2, _code("b"), (1.0, 2.0), 0)
    assert db.clusters(0) == {(1.0, 2.0): (1, 2)}


def test_programs_with_different_signatures_get_different_clusters() -> None:
    db = _db()
    db.register(1, _code("a"), (1.0, 2.0), 0)
    db.register(2, _code("b"), (2.0, 1.0), 0)  # same mean, different per-input scores
    assert db.clusters(0) == {(1.0, 2.0): (1,), (2.0, 1.0): (2,)}


def test_cluster_score_is_the_mean_of_its_signature() -> None:
    db = _db()
    db.register(1, _code("a"), (1.0, 2.0, 6.0), 0)
    assert db.island(0).clusters[(1.0, 2.0, 6.0)].score == 3.0


def test_cluster_probabilities_are_the_softmax_of_scores_at_the_island_temperature() -> None:
    db = _db(cluster_sampling_temperature_init=0.5, cluster_sampling_temperature_period=10)
    for program_id, score in enumerate([0.0, 0.5, 1.0]):
        db.register(program_id, _code(str(program_id)), (score,), 0)
    t = 0.5 * (1 - 3 / 10)
    weights = {(s,): math.exp(s / t) for s in (0.0, 0.5, 1.0)}
    expected = {sig: w / sum(weights.values()) for sig, w in weights.items()}
    assert db.island(0).cluster_probabilities() == pytest.approx(expected, rel=1e-12)


def test_cluster_probabilities_do_not_depend_on_the_units_of_the_score() -> None:
    probabilities = []
    for scale, shift in ((1.0, 0.0), (1e-3, -0.05), (1000.0, 7.0)):
        db = _db(cluster_sampling_temperature_init=0.1)
        for program_id, score in enumerate([0.0, 0.2, 1.0]):
            db.register(program_id, _code(str(program_id)), (score * scale + shift,), 0)
        probabilities.append(sorted(db.island(0).cluster_probabilities().values()))
    assert probabilities[1] == pytest.approx(probabilities[0])
    assert probabilities[2] == pytest.approx(probabilities[0])
    assert probabilities[0][-1] > 0.99  # at T = 0.1 the best of a spread-out island dominates


def test_raw_score_softmax_remains_available_as_in_funsearch() -> None:
    db = _db(cluster_sampling_temperature_init=0.1, scale_free_temperature=False)
    for program_id, score in enumerate([-0.052, -0.051, -0.050]):
        db.register(program_id, _code(str(program_id)), (score,), 0)
    probabilities = sorted(db.island(0).cluster_probabilities().values())
    assert probabilities[-1] - probabilities[0] < 0.03  # fractional scores: nearly uniform


def test_island_temperature_follows_the_schedule_as_programs_arrive() -> None:
    db = _db(cluster_sampling_temperature_init=0.1, cluster_sampling_temperature_period=10)
    seen = []
    for program_id in range(12):
        db.register(program_id, _code(str(program_id)), (1.0,), 0)
        seen.append(db.island_summaries()[0].temperature)
    assert seen == pytest.approx([0.1 * (1 - (n % 10) / 10) for n in range(1, 13)])


def _best_cluster_frequency(db: ProgramsDatabase, draws: int) -> float:
    best = max(db.island(0).clusters.values(), key=lambda c: c.score)
    best_ids = {p.program_id for p in best.programs}
    return sum(db.get_prompt().parent_ids[0] in best_ids for _ in range(draws)) / draws


def test_sampling_gets_greedier_as_the_temperature_falls() -> None:
    db = _db(functions_per_prompt=1, cluster_sampling_temperature_init=1.0,
             cluster_sampling_temperature_period=100)
    for program_id, score in enumerate([0.0, 0.05, 0.1, 0.2]):
        db.register(program_id, _code(str(program_id)), (score,), 0)
    warm = _best_cluster_frequency(db, 2000)  # temperature 0.96: the best cluster has p = 0.416
    for program_id in range(4, 94):  # grow the worst cluster: the scores stay, the island cools
        db.register(program_id, _code(str(program_id)), (0.0,), 0)
    cold = _best_cluster_frequency(db, 2000)  # temperature 0.06
    assert db.island_summaries()[0].temperature == pytest.approx(0.06)
    assert 0.37 < warm < 0.46
    assert cold > 0.99


def test_shorter_programs_are_preferred_within_a_cluster() -> None:
    db = _db(functions_per_prompt=1)
    db.register(1, _code("short"), (1.0,), 0)
    db.register(2, _code("long", padding=400), (1.0,), 0)
    draws = [db.get_prompt().parent_ids[0] for _ in range(4000)]
    lengths = [len(_code("short")), len(_code("long", padding=400))]
    gap = (lengths[1] - lengths[0]) / (lengths[1] + 1e-6)
    expected_short = 1 / (1 + math.exp(-gap))  # softmax over negative normalised lengths, t = 1
    assert draws.count(1) / len(draws) == pytest.approx(expected_short, abs=0.03)
    assert draws.count(1) > draws.count(2)


def test_prompt_holds_functions_per_prompt_distinct_programs_sorted_by_score() -> None:
    db = _db(functions_per_prompt=3, cluster_sampling_temperature_init=10.0)
    for program_id in range(6):
        db.register(program_id, _code(str(program_id)), (float(program_id % 4),), 0)
    for _ in range(100):
        prompt = db.get_prompt()
        assert len(set(prompt.parent_ids)) == 3
        assert list(prompt.parent_scores) == sorted(prompt.parent_scores)
        assert len(set(prompt.parent_scores)) == 3  # one program per cluster
        assert prompt.version_generated == 3


def test_prompt_carries_each_parents_code_and_score() -> None:
    db = _db(functions_per_prompt=2)
    db.register(10, _code("low"), (1.0,), 0)
    db.register(20, _code("high"), (5.0,), 0)
    prompt = db.get_prompt()
    assert (prompt.island_id, prompt.parent_ids) == (0, (10, 20))
    assert prompt.parent_codes == (_code("low"), _code("high"))
    assert prompt.parent_scores == (1.0, 5.0)


def test_prompt_has_fewer_programs_when_the_island_has_fewer_clusters() -> None:
    db = _db(functions_per_prompt=4)
    db.register(1, _code("a"), (1.0,), 0)
    db.register(2, _code("b"), (1.0,), 0)
    prompt = db.get_prompt()
    assert len(prompt.parent_ids) == 1 and prompt.version_generated == 1


def test_seed_program_registered_without_island_lands_in_every_island() -> None:
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=4), seed=0)
    db.register(1, _code("seed"), (0.5,), None)
    assert [db.best(i) for i in range(4)] == [Program(1, _code("seed"), (0.5,), 0.5)] * 4
    assert db.num_programs == 1


def test_prompts_come_only_from_islands_holding_programs() -> None:
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=5), seed=0)
    db.register(1, _code("a"), (0.5,), 3)
    assert {db.get_prompt().island_id for _ in range(30)} == {3}


def test_prompt_from_an_empty_database_says_to_register_the_seed() -> None:
    with pytest.raises(RuntimeError, match="register the seed program"):
        _db().get_prompt()


def test_huge_score_ranges_sample_without_overflow() -> None:
    db = _db(functions_per_prompt=2)
    for program_id, score in enumerate([-1e300, 0.0, 1e300]):
        db.register(program_id, _code(str(program_id)), (score, score), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prompts = [db.get_prompt() for _ in range(20)]
    assert all(p.parent_ids[-1] == 2 for p in prompts)


def test_best_is_the_first_program_to_reach_the_top_score() -> None:
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=2), seed=0)
    db.register(1, _code("a"), (1.0,), 0)
    db.register(2, _code("b"), (3.0,), 1)
    db.register(3, _code("c"), (3.0,), 0)
    best, best_of_0 = db.best(), db.best(0)
    assert best is not None and (best.program_id, best.code, best.score) == (2, _code("b"), 3.0)
    assert best_of_0 is not None and (best_of_0.program_id, best_of_0.code) == (3, _code("c"))


def test_registering_a_program_id_twice_is_refused() -> None:
    db = _db()
    db.register(1, _code("a"), (1.0,), 0)
    with pytest.raises(ValueError, match="already registered"):
        db.register(1, _code("a"), (1.0,), 0)


def test_registering_into_a_missing_island_is_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        _db().register(1, _code("a"), (1.0,), 3)
