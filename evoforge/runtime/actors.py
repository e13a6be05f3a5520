"""The three kinds of Ray actor a run is made of.

Each is a thin shell around a plain class that knows nothing of Ray
(SearchState, Sampler, ProgramEvaluator), so the logic is testable without a
cluster and the actors only decide where things run. Actors ask for no CPU:
on a two-core machine fractional or whole CPU reservations starve each other,
and the real work happens in the LLM server and the sandbox processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from evoforge.records import Evaluation, Prompt, RunCounters
from evoforge.search_state import PendingEvaluation, SearchState
from evoforge.spec import ProblemSpec


@ray.remote(num_cpus=0, max_restarts=0)
class DatabaseActor:
    """The one writer of the run's SQLite file and owner of the islands."""

    def __init__(self, run_dir: str, spec: ProblemSpec, db_config: dict[str, Any], seed: int) -> None:
        self.state = SearchState(Path(run_dir), spec, db_config, seed)

    def seed_if_new(self) -> PendingEvaluation | None:
        return self.state.seed_if_new()

    def pending(self) -> list[PendingEvaluation]:
        return self.state.pending()

    def has_programs(self) -> bool:
        return self.state.has_programs()

    def next_prompt(self) -> Prompt:
        return self.state.next_prompt()

    def record_batch(self, prompt: Prompt, batch: Any) -> tuple[list[PendingEvaluation], RunCounters]:
        """Store a sampled batch; the new candidates and the counters in one round trip."""
        fresh = self.state.record_batch(
            prompt, batch.prompt_text, list(batch.completions), list(batch.candidates)
        )
        return fresh, self.state.counters

    def record_evaluation(self, pending: PendingEvaluation, evaluation: Evaluation) -> RunCounters:
        return self.state.record_evaluation(pending, evaluation)

    def counters(self) -> RunCounters:
        return self.state.counters

    def best(self) -> tuple[int, str, float] | None:
        return self.state.best()

    def elapsed_seconds(self) -> float:
        return self.state.elapsed_seconds()

    def add_elapsed(self, seconds: float) -> None:
        self.state.add_elapsed(seconds)

    def set_meta(self, key: str, value: Any) -> None:
        self.state.storage.set_meta(key, value)

    def close(self) -> None:
        self.state.close()


@ray.remote(num_cpus=0, max_restarts=0)
class SamplerActor:
    """One agent: a backend (or a client of a shared server) turning prompts into candidates."""

    def __init__(self, llm: dict[str, Any], spec: ProblemSpec, samples_per_prompt: int) -> None:
        from evoforge.agents.config import LLMConfig
        from evoforge.agents.sampler import Sampler

        self.sampler = Sampler.from_config(LLMConfig(**llm), spec, samples_per_prompt)

    def sample(self, prompt: Prompt, n: int) -> Any:
        return self.sampler.sample(prompt, n=n)

    def close(self) -> None:
        self.sampler.close()


@ray.remote(num_cpus=0, max_restarts=0)
class EvaluatorActor:
    """One evaluator: a warm sandbox for the problem's training inputs."""

    def __init__(self, spec: ProblemSpec, mode: str, run_dir: str | None = None) -> None:
        from evoforge.evaluators import open_evaluator

        self.evaluator = open_evaluator(spec, split="train", mode=mode, stop_on_error=True,
                                        run_dir=Path(run_dir) if run_dir else None)

    def evaluate(self, pending: PendingEvaluation) -> tuple[PendingEvaluation, Evaluation]:
        return pending, self.evaluator.evaluate(pending.code)

    def close(self) -> None:
        self.evaluator.close()
