"""Island resets: the weaker half is emptied and re-seeded from a survivor's best."""

import json

import pytest

from evoforge.database import ProgramsDatabase, ProgramsDatabaseConfig, ResetEvent


def _code(name: str) -> str:
    return f"def priority(x):\n    return x  # {name}\n"


def _four_islands(seed: int, scores: tuple[float, ...] = (3.0, 1.0, 4.0, 2.0)) -> ProgramsDatabase:
    """Island i holds program 10+i (its best, score scores[i]) and a weaker program 20+i."""
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=4, reset_period_programs=1000), seed=seed)
    for island_id, score in enumerate(scores):
        db.register(10 + island_id, _code(f"best{island_id}"), (score,), island_id)
        db.register(20 + island_id, _code(f"weak{island_id}"), (score - 10,), island_id)
    return db


def test_reset_empties_exactly_the_weaker_half_and_reseeds_each_with_a_survivors_best() -> None:
    db = _four_islands(seed=0)
    event = db.reset_islands()
    assert event is not None
    assert sorted(event.island_ids) == [1, 3]
    for island_id, founder_id in zip(event.island_ids, event.founder_ids, strict=True):
        assert founder_id in (10, 12)  # the best programs of surviving islands 0 and 2
        assert db.clusters(island_id) == {(db.best(island_id).score,): (founder_id,)}
    assert db.clusters(0) == {(3.0,): (10,), (-7.0,): (20,)}
    assert db.clusters(2) == {(4.0,): (12,), (-6.0,): (22,)}


def test_reset_founders_come_from_randomly_chosen_survivors() -> None:
    founders = set()
    for seed in range(20):
        founders.update(_four_islands(seed).reset_islands().founder_ids)
    assert founders == {10, 12}


def test_reset_breaks_ties_between_equal_islands_at_random() -> None:
    reset_sets = {tuple(sorted(_four_islands(seed, (1.0,) * 4).reset_islands().island_ids))
                  for seed in range(20)}
    assert len(reset_sets) > 1
    assert all(len(ids) == 2 for ids in reset_sets)


def test_reset_never_reorders_islands_whose_scores_differ_by_a_hair() -> None:
    scores = (1.0 + 3e-12, 1.0, 1.0 + 4e-12, 1.0 + 2e-12)
    for seed in range(20):
        assert sorted(_four_islands(seed, scores).reset_islands().island_ids) == [1, 3]


def test_reset_keeps_the_overall_best() -> None:
    db = _four_islands(seed=3)
    db.reset_islands()
    best = db.best()
    assert best is not None and (best.program_id, best.code, best.score) == (12, _code("best2"), 4.0)


def test_reset_is_due_every_reset_period_programs_registrations() -> None:
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=4, reset_period_programs=5), seed=0)
    db.register(0, _code("seed"), (0.0,), None)
    due_after = []
    for n in range(1, 21):
        db.register(n, _code(str(n)), (float(n % 3),), n % 4)
        if db.maybe_reset() is not None:
            due_after.append(n)
    assert due_after == [4, 9, 14, 19]  # the seed counts as the first registration


def test_a_single_island_is_never_reset() -> None:
    db = ProgramsDatabase(ProgramsDatabaseConfig(num_islands=1, reset_period_programs=1), seed=0)
    db.register(1, _code("a"), (1.0,), 0)
    assert db.maybe_reset() is None
    assert db.clusters(0) == {(1.0,): (1,)}


def test_reset_event_survives_a_json_round_trip() -> None:
    event = ResetEvent((1, 3), (10, 12))
    assert ResetEvent.from_json(json.loads(json.dumps(event.to_json()))) == event


def test_applying_a_reset_with_an_unknown_founder_is_refused_and_changes_nothing() -> None:
    db = _four_islands(seed=0)
    with pytest.raises(ValueError, match="never registered"):
        db.apply_reset(ResetEvent((1, 3), (10, 99)))
    assert db.clusters(1) == {(1.0,): (11,), (-9.0,): (21,)}
