"""Per-strategy tallies and recent errors, read back from a real run file."""

from __future__ import annotations

from pathlib import Path

from evoforge.records import Candidate, Completion, Evaluation, Prompt, StrategyTally, TrialResult
from evoforge.storage import RunStorage


def scored(score: float | None, error: str | None = None) -> Evaluation:
    return Evaluation(trials=(TrialResult("a", score, error),))


def child_run(tmp_path: Path, strategy: str, scores: list[float | None]) -> RunStorage:
    """A seed scoring 1.0 and one prompt of `strategy` whose children score `scores` (None: failed)."""
    storage = RunStorage(tmp_path / "run.db")
    seed = storage.add_seed_candidate("def f(x):\n    return x\n", "seed")
    storage.record_evaluation(seed, scored(1.0), 1.0)
    prompt = Prompt(0, (seed,), ("def f(x):\n    return x\n",), (1.0,), 1, strategy=strategy)
    codes = [f"def f(x):\n    return {i}\n" for i in range(len(scores))]
    ids = storage.record_batch(
        prompt, "text", [Completion(code, "m") for code in codes],
        [Candidate(code, f"h{i}") for i, code in enumerate(codes)], [False] * len(codes),
    )  # fmt: skip
    for candidate_id, score in zip(ids, scores, strict=True):
        storage.record_evaluation(candidate_id, scored(score, None if score is not None else "boom"), score)
    return storage


def test_an_improvement_is_a_valid_child_beating_its_best_parent(tmp_path: Path) -> None:
    storage = child_run(tmp_path, "chat", [2.0, 0.5, 0.25, 1.0, None])
    assert storage.strategy_tallies(+1.0) == {"chat": StrategyTally(5, 5, 0, 4, 1)}
    assert storage.strategy_tallies(-1.0)["chat"].improvements == 2  # lower is better: 0.5, 0.25


def test_recent_errors_are_those_of_the_parents_children_latest_first(tmp_path: Path) -> None:
    storage = child_run(tmp_path, "diff", [None, 2.0])
    seed = storage.programs()[0].candidate_id
    assert storage.recent_errors([seed]) == ["boom"]
    assert storage.recent_errors([seed + 100]) == []
