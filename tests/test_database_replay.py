"""Determinism under a seed, and rebuilding the islands from recorded events."""

import json
import random

from evoforge.database import ProgramsDatabase, ProgramsDatabaseConfig, ResetEvent

CONFIG = ProgramsDatabaseConfig(num_islands=6, functions_per_prompt=2, reset_period_programs=7,
                                cluster_sampling_temperature_period=25)


def _code(n: int) -> str:
    return f"def priority(x):\n    return x * {n}" + " + 0" * (n % 5) + "\n"


def _run(seed: int, operations: int, driver_seed: int) -> tuple[ProgramsDatabase, list, list]:
    """A random mix of prompts and registrations; returns the db, its events and its prompts."""
    driver = random.Random(driver_seed)
    db = ProgramsDatabase(CONFIG, seed=seed)
    db.register(0, _code(0), (0.0, 0.0), None)
    events: list[tuple[str, dict]] = [("register", {"program_id": 0, "island_id": None, "signature": [0, 0]})]
    prompts = []
    for program_id in range(1, operations):
        if driver.random() < 0.5:
            prompts.append(db.get_prompt())
        signature = [float(driver.randint(0, 4)), float(driver.randint(0, 2))]
        island_id = prompts[-1].island_id if prompts else driver.randrange(CONFIG.num_islands)
        db.register(program_id, _code(program_id), tuple(signature), island_id)
        events.append(("register", {"program_id": program_id, "island_id": island_id,
                                    "signature": signature}))
        reset = db.maybe_reset()
        if reset is not None:
            events.append(("reset", reset.to_json()))
    return db, json.loads(json.dumps(events)), prompts


def _replay(events: list, seed: int) -> ProgramsDatabase:
    db = ProgramsDatabase(CONFIG, seed=seed)
    for kind, payload in events:
        if kind == "register":
            program_id = payload["program_id"]
            db.register(program_id, _code(program_id), tuple(payload["signature"]), payload["island_id"])
        else:
            db.apply_reset(ResetEvent.from_json(payload))
    return db


def _snapshot(db: ProgramsDatabase) -> tuple:
    return ([db.clusters(i) for i in range(CONFIG.num_islands)], db.island_summaries(), db.best())


def test_same_seed_and_calls_give_identical_prompts_and_resets() -> None:
    first, first_events, first_prompts = _run(seed=5, operations=120, driver_seed=1)
    second, second_events, second_prompts = _run(seed=5, operations=120, driver_seed=1)
    assert first_prompts == second_prompts
    assert first_events == second_events
    assert _snapshot(first) == _snapshot(second)


def test_different_seeds_give_different_prompts() -> None:
    _, _, first_prompts = _run(seed=5, operations=120, driver_seed=1)
    _, _, second_prompts = _run(seed=6, operations=120, driver_seed=1)
    assert first_prompts != second_prompts


def test_replaying_registrations_and_resets_rebuilds_identical_islands() -> None:
    original, events, _ = _run(seed=11, operations=150, driver_seed=2)
    assert sum(kind == "reset" for kind, _ in events) >= 10
    rebuilt = _replay(events, seed=11)
    assert _snapshot(rebuilt) == _snapshot(original)


def test_rebuilt_database_with_restored_rng_state_gives_the_same_next_prompts() -> None:
    original, events, _ = _run(seed=11, operations=150, driver_seed=2)
    rebuilt = _replay(events, seed=11)
    rebuilt.set_rng_state(json.loads(json.dumps(original.rng_state())))
    assert [rebuilt.get_prompt() for _ in range(30)] == [original.get_prompt() for _ in range(30)]


def test_rebuilt_database_keeps_resetting_in_step_with_the_original() -> None:
    original, events, _ = _run(seed=3, operations=60, driver_seed=4)
    rebuilt = _replay(events, seed=3)
    for program_id in range(1000, 1020):
        for db in (original, rebuilt):
            db.register(program_id, _code(program_id), (float(program_id % 3), 1.0), program_id % 6)
        assert original.maybe_reset() == rebuilt.maybe_reset()
    assert _snapshot(rebuilt) == _snapshot(original)
