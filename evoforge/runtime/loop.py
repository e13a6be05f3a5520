"""The run loop: keep the sampler pool and the evaluator pool busy, independently.

The driver holds the run's state (`SearchState`) and calls it directly; only
sampling and evaluation go to Ray actors. Each turn of the loop starts what
can start (evaluations of queued candidates, up to the kind's batch size per
evaluator call, one for most kinds; sampling requests while the bounded
queue has room), waits for the first result and records it. Neither
pool waits on the other unless the queue is full (the LLM is faster than
evaluation) or empty (evaluation is faster than the LLM). The budget counts
stored samples, so completions lost to a crash are neither counted nor charged.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ray

from evoforge.agents.base import LLMUnavailable
from evoforge.llm_busy import busy_fraction
from evoforge.records import BehaviourDuplicate, RunCounters
from evoforge.run_config import RunConfig
from evoforge.search_state import PendingEvaluation, SearchState

ELAPSED_SAVE_SECONDS = 5.0
ProgressHook = Callable[[RunCounters, dict[str, float]], None]


class SearchStopped(RuntimeError):
    """The run cannot go on (a sampler or evaluator failed); it is saved and resumable."""


@dataclass
class Pools:
    samplers: list[Any]
    evaluators: list[Any]
    batch: int = 1  # the most queued candidates one evaluator call takes (the kind's batch_size)


def evaluation_batch(evaluator: Any) -> int:
    """The evaluators' batch size, asked of one of them (it waits for the actor to be ready)."""
    return int(_result(evaluator.batch_size.remote(), "an evaluator"))


class RunLoop:
    """Drive one session of a run until the budget is spent or it is stopped.

    The state must hold a program already (the seed is scored when the run
    is created), since every sampling request starts from a prompt.
    """

    def __init__(self, config: RunConfig, state: SearchState, pools: Pools,
                 on_progress: ProgressHook | None = None) -> None:
        self.config, self.state = config, state
        self.on_progress = on_progress or (lambda counters, status: None)
        self.queue: deque[PendingEvaluation] = deque(state.pending())
        self.sampling: dict[Any, tuple[Any, Any, int]] = {}  # future -> (sampler, prompt, n)
        self.evaluating: dict[Any, Any] = {}  # future -> evaluator
        self.idle_samplers, self.idle_evaluators = list(pools.samplers), list(pools.evaluators)
        self.batch = pools.batch
        self._session_start = self._elapsed_saved = time.monotonic()
        self._elapsed_before = state.elapsed_seconds()
        self._stop_sampling = False
        self._llm_requests: set[tuple[float, float]] = set()  # (start, end) of each finished request
        self._counted_before = (state.counters.samples, state.counters.completion_tokens)

    def run(self) -> RunCounters:
        """Evaluate what is pending, then sample and evaluate until the budget is spent."""
        try:
            while self._has_work():
                self._start_evaluations()
                self._start_sampling()
                self._handle_first_result()
                self._save_elapsed()
        finally:
            self._cancel_sampling()
            self._save_elapsed(force=True)
        return self.state.counters

    # -- what is left to do -----------------------------------------------
    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._session_start

    def _out_of_time(self) -> bool:
        return self.config.minutes is not None and self.elapsed() >= self.config.minutes * 60

    def _samples_left(self) -> int:
        in_flight = sum(n for _, _, n in self.sampling.values())
        return self.config.samples - self.state.counters.samples - in_flight

    def _has_work(self) -> bool:
        if self.queue or self.evaluating:
            return True
        if self._stop_sampling or self._out_of_time():
            return False
        return bool(self.sampling) or self._samples_left() > 0

    # -- starting work ------------------------------------------------------
    def _start_evaluations(self) -> None:
        while self.idle_evaluators and self.queue:
            evaluator = self.idle_evaluators.pop()
            batch = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
            known = frozenset(self.state.known_behaviours)  # behaviour dedup: evaluators probe first
            self.evaluating[evaluator.evaluate_batch.remote(batch, known)] = evaluator

    def _start_sampling(self) -> None:
        if self._out_of_time():
            self._stop_sampling = True
        while (
            not self._stop_sampling
            and self.idle_samplers
            and self._samples_left() > 0
            and len(self.queue) < self.config.eval_queue_size
        ):
            sampler = self.idle_samplers.pop()
            n = min(self.config.samples_per_prompt, self._samples_left())
            prompt = self.state.next_prompt()
            self.sampling[sampler.sample.remote(prompt, n)] = (sampler, prompt, n)

    # -- results --------------------------------------------------------------
    def _handle_first_result(self) -> None:
        futures = [*self.sampling, *self.evaluating]
        if not futures:
            return
        ready, _ = ray.wait(futures, num_returns=1, timeout=0.5)
        for ref in ready:
            if ref in self.evaluating:
                self._record_evaluation(ref)
            else:
                self._record_samples(ref)
        self.on_progress(self.state.counters, self._status())

    def _record_evaluation(self, ref: Any) -> None:
        self.idle_evaluators.append(self.evaluating.pop(ref))
        for pending, evaluation in _result(ref, "an evaluator"):
            if isinstance(evaluation, BehaviourDuplicate):
                self.state.record_behaviour_duplicate(pending, evaluation)
            else:
                self.state.record_evaluation(pending, evaluation)

    def _record_samples(self, ref: Any) -> None:
        sampler, prompt, _ = self.sampling.pop(ref)
        self.idle_samplers.append(sampler)
        batch = _result(ref, "a sampler")  # LLMUnavailable / SearchStopped: run() cancels the rest
        now = time.time()
        self._llm_requests.update((now - c.latency_seconds, now) for c in batch.completions
                                  if c.latency_seconds)
        fresh = self.state.record_batch(prompt, batch.prompt_text, list(batch.completions),
                                        list(batch.candidates), budget=self.config.samples)
        self.queue.extend(fresh)

    def _status(self) -> dict[str, float]:
        session = time.monotonic() - self._session_start
        busy = busy_fraction(self._llm_requests, session)
        counters = self.state.counters
        return {"elapsed": self.elapsed(), "session": session, "queue": len(self.queue),
                "session_samples": counters.samples - self._counted_before[0],
                "session_tokens": counters.completion_tokens - self._counted_before[1],
                "sampling": len(self.sampling), "evaluating": len(self.evaluating),
                **({"llm_busy": busy} if busy is not None and self._llm_requests else {})}

    # -- bookkeeping ----------------------------------------------------------
    def _save_elapsed(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._elapsed_saved >= ELAPSED_SAVE_SECONDS:
            self.state.add_elapsed(now - self._elapsed_saved)
            self._elapsed_saved = now

    def _cancel_sampling(self) -> None:
        for ref in list(self.sampling):
            ray.cancel(ref, force=False)
        self.sampling.clear()


def _result(ref: Any, role: str) -> Any:
    """A finished actor call's value; any failure of the actor (its task or its process) in one line.

    An unreachable LLM stays an `LLMUnavailable` (the user can fix it and
    resume); anything else stops the search with the remote error's last line.
    """
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, LLMUnavailable):
            raise LLMUnavailable(str(cause)) from None
        raise SearchStopped(f"{role} failed: {_one_line(cause or error)}") from None


def _one_line(error: BaseException) -> str:
    """The last line of a remote error: the sentence the user needs, not Ray's traceback.

    An actor's death is the exception: Ray puts why it died (its worker or node
    died, it was killed) on the line before its last, which alone only says
    that the actor never ran; the tab-indented ids between are left out.
    """
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if isinstance(error, ray.exceptions.ActorDiedError):
        kept = [line for line in str(error).splitlines()[1:] if line.strip() and not line.startswith("\t")]
        lines = [" ".join(line.strip() for line in kept)] if kept else lines
    return f"{type(error).__name__}: {lines[-1] if lines else ''}".strip()
