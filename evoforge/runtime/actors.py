"""The two kinds of Ray actor a run is made of: samplers and evaluators.

Each is a thin shell around a plain class that knows nothing of Ray
(Sampler, an evaluator), so the logic is testable without a cluster and the
actors only decide where things run. The program database is not an actor:
the driver holds it and calls it directly. Actors ask for no CPU:
on a two-core machine fractional or whole CPU reservations starve each other,
and the real work happens in the LLM server and the sandbox processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from evoforge.records import BehaviourDuplicate, Evaluation, Prompt
from evoforge.search_state import PendingEvaluation
from evoforge.spec import ProblemSpec


@ray.remote(num_cpus=0, max_restarts=0)
class SamplerActor:
    """One agent: a backend (or a client of a shared server) turning prompts into candidates; with
    several backends, one sampler each, and a prompt goes to the one its `llm` label names.

    A backend that fails to start is kept and raised by the first `sample`: the
    loop then sees the backend's own error (an LLMUnavailable is resumable),
    not Ray's ActorDiedError with a traceback inside.
    """

    def __init__(self, llms: dict[str, dict[str, Any]], spec: ProblemSpec, samples_per_prompt: int) -> None:
        from evoforge.agents.config import LLMConfig
        from evoforge.agents.sampler import Sampler

        self.samplers, self.failure, self.first = {}, None, next(iter(llms))
        try:
            for label, llm in llms.items():
                self.samplers[label] = Sampler.from_config(LLMConfig(**llm), spec, samples_per_prompt)
        except Exception as error:  # reported by sample(), where the loop handles sampler failures
            self.failure = error

    def sample(self, prompt: Prompt, n: int) -> Any:
        if self.failure is not None or not self.samplers:
            raise self.failure or RuntimeError("the sampler did not start")
        return self.samplers[prompt.llm or self.first].sample(prompt, n=n)


@ray.remote(num_cpus=0, max_restarts=0)
class EvaluatorActor:
    """One evaluator: a warm sandbox for the problem's training inputs."""

    def __init__(self, spec: ProblemSpec, mode: str, run_dir: str | None = None) -> None:
        from evoforge.evaluators import open_evaluator

        self.evaluator = open_evaluator(spec, split="train", mode=mode, stop_on_error=True,
                                        run_dir=Path(run_dir) if run_dir else None, fingerprints=True)

    def batch_size(self) -> int:
        from evoforge.evaluators import batch_size

        return batch_size(self.evaluator)

    def evaluate_batch(self, batch: list[PendingEvaluation], known_behaviours: frozenset[str] = frozenset()
                       ) -> list[tuple[PendingEvaluation, Evaluation | BehaviourDuplicate]]:
        """Each candidate with its evaluation, or a BehaviourDuplicate when it behaves like a known
        program; a batch of one for most kinds (see `batch_size`)."""
        from evoforge.evaluators.behaviour import evaluate_batch_unless_known

        outcomes = evaluate_batch_unless_known(self.evaluator, [p.code for p in batch], known_behaviours)
        return list(zip(batch, outcomes, strict=True))

    def close(self) -> None:
        self.evaluator.close()
