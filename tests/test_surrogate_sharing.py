"""What a run's evaluators share in RUN_DIR/surrogate/: the running distribution and one surrogate owner.

Real files, real flock, a real (small) FNO fine-tuned for one epoch on pairs
solved by the real Burgers solver; two cascades in one process stand for two
evaluator processes (flock locks are per open file, so they exclude each other).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evoforge.surrogates.cascade import CHECKPOINT, FINETUNE_LOG, Cascade, CascadeConfig
from evoforge.surrogates.data import problem_physics
from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.running import RunningDistribution
from evoforge.surrogates.screens import SurrogateScreen


def test_the_running_cut_matches_numpy_and_is_shared_through_the_log(tmp_path: Path) -> None:
    log = tmp_path / "estimates.txt"
    values = np.random.default_rng(0).normal(size=500)
    mine, theirs = RunningDistribution(-1.0, log), RunningDistribution(-1.0, log)
    for start in range(0, 500, 50):  # batches, as evaluators write them
        batch = [(float(v), f"c{start + i}") for i, v in enumerate(values[start:start + 50])]
        for entry in batch:
            mine.add(*entry)
        mine.append_to_log(batch)
        assert abs(mine.quantile(0.95) - np.quantile(-values[:start + 50], 0.95)) < 1e-12
    with open(log, "a") as torn:
        torn.write("0.5 c0\n0.25")  # a candidate counted already, then a line a kill cut short
    theirs.sync()
    assert len(theirs) == 500 and theirs.sorted == mine.sorted
    with open(log, "a") as rest:
        rest.write("0.75 late\n")  # merges with the torn line: skipped, not misread
    theirs.sync()
    assert len(theirs) == 500 and RunningDistribution(-1.0, log).sorted == mine.sorted


def _pairs(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    physics = problem_physics("burgers_control")
    designs = physics.random_designs(np.random.default_rng(seed), count)
    return designs, physics.solve(designs)


def _cascade(state_dir: Path, surrogate: Surrogate) -> Cascade:
    physics = problem_physics("burgers_control")
    config = CascadeConfig(finetune_every=2, finetune_epochs=1, base_pairs=0)
    return Cascade(SurrogateScreen(physics, surrogate), config, -1.0, state_dir)


def test_only_the_owner_fine_tunes_and_the_other_follows_its_checkpoint(tmp_path: Path) -> None:
    designs, solutions = _pairs(2, seed=1)
    first = _cascade(tmp_path, Surrogate.fresh(1, designs, solutions, seed=0))
    second = _cascade(tmp_path, Surrogate.load(tmp_path / CHECKPOINT))
    assert first.owner and not second.owner

    second.learn(designs[0], solutions[0], "code a")  # a follower's exact solves go to disk only
    second.learn(designs[1], solutions[1], "code b")
    assert second.after_batch() is None and second.version == 0
    assert first.after_batch() == 1  # the owner picks up the follower's pairs and fine-tunes
    assert Surrogate.load(tmp_path / CHECKPOINT).version == 1

    second.refresh()
    assert second.version == 1 and not second.owner
    probe = designs
    assert np.allclose(second.screen.surrogate.predict(probe), first.screen.surrogate.predict(probe))

    first.close()  # the owner's process ends: the follower takes over, with every pair on disk
    second.refresh()
    assert second.owner and len(second.pairs) == 2
    second.learn(designs[0], solutions[0], "code c")  # pairs are kept per candidate
    second.learn(designs[1], solutions[1], "code d")
    assert second.after_batch() == 2
    records = [json.loads(line) for line in (tmp_path / FINETUNE_LOG).read_text().splitlines()]
    assert [r["version"] for r in records] == [1, 2] and [r["pairs"] for r in records] == [2, 4]
    second.close()
