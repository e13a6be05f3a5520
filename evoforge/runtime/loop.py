"""The run loop: keep the sampler pool and the evaluator pool busy, independently.

Sampling requests stay in flight while the bounded evaluation queue has room;
evaluators take from the queue whenever one is free. Neither pool waits on
the other unless the queue is full (the LLM is faster than evaluation) or
empty (evaluation is faster than the LLM). The budget counts stored samples,
so completions lost to a crash are neither counted nor charged.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray

from evoforge.records import RunCounters
from evoforge.run_config import RunConfig
from evoforge.search_state import PendingEvaluation

ELAPSED_SAVE_SECONDS = 5.0


class SearchStopped(RuntimeError):
    """The run cannot go on (e.g. the LLM stayed unreachable); it is saved and resumable."""


@dataclass
class Pools:
    database: Any
    samplers: list[Any]
    evaluators: list[Any]


@dataclass
class LoopState:
    """What is in flight right now, and where each future came from."""

    queue: deque[PendingEvaluation] = field(default_factory=deque)
    sampling: dict[Any, tuple[Any, Any, int]] = field(default_factory=dict)
    evaluating: dict[Any, Any] = field(default_factory=dict)
    idle_samplers: list[Any] = field(default_factory=list)
    idle_evaluators: list[Any] = field(default_factory=list)

    def samples_in_flight(self) -> int:
        return sum(n for _, _, n in self.sampling.values())


class RunLoop:
    """Drive one session of a run until the budget is spent or it is stopped.

    The database must hold a program already (the session scores the seed
    first), since every sampling request starts from a prompt.
    """

    def __init__(
        self, config: RunConfig, pools: Pools,
        on_progress: Callable[[RunCounters, dict[str, float]], None] = lambda c, s: None,
    ) -> None:
        self.config = config
        self.pools = pools
        self.on_progress = on_progress
        self.state = LoopState(
            idle_samplers=list(pools.samplers), idle_evaluators=list(pools.evaluators)
        )
        self.counters: RunCounters = ray.get(pools.database.counters.remote())
        self._session_start = time.monotonic()
        self._elapsed_before = ray.get(pools.database.elapsed_seconds.remote())
        self._elapsed_saved = self._session_start
        self._stop_sampling = False

    # -- budget -----------------------------------------------------------
    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._session_start

    def _out_of_time(self) -> bool:
        return self.config.minutes is not None and self.elapsed() >= self.config.minutes * 60

    def _samples_left(self) -> int:
        return self.config.samples - self.counters.samples - self.state.samples_in_flight()

    # -- main -------------------------------------------------------------
    def run(self) -> RunCounters:
        """Evaluate what is pending, then sample and evaluate until the budget is spent."""
        self.state.queue.extend(ray.get(self.pools.database.pending.remote()))
        try:
            while self._has_work():
                self._fill()
                self._wait_and_handle()
                self._save_elapsed()
        finally:
            self._cancel_sampling()
            self._save_elapsed(force=True)
        return self.counters

    def _has_work(self) -> bool:
        if self.state.queue or self.state.evaluating:
            return True
        if self._stop_sampling or self._out_of_time():
            return False
        return bool(self.state.sampling) or self._samples_left() > 0

    def _fill(self) -> None:
        if self._out_of_time():
            self._stop_sampling = True
        while self.state.idle_evaluators and self.state.queue:
            evaluator = self.state.idle_evaluators.pop()
            pending = self.state.queue.popleft()
            self.state.evaluating[evaluator.evaluate.remote(pending)] = evaluator
        while self._may_sample():
            sampler = self.state.idle_samplers.pop()
            n = min(self.config.samples_per_prompt, self._samples_left())
            prompt = ray.get(self.pools.database.next_prompt.remote())
            self.state.sampling[sampler.sample.remote(prompt, n)] = (sampler, prompt, n)

    def _may_sample(self) -> bool:
        return (
            not self._stop_sampling
            and bool(self.state.idle_samplers)
            and self._samples_left() > 0
            and len(self.state.queue) < self.config.eval_queue_size
        )

    def _wait_and_handle(self) -> None:
        futures = [*self.state.sampling, *self.state.evaluating]
        if not futures:
            return
        ready, _ = ray.wait(futures, num_returns=1, timeout=0.5)
        for ref in ready:
            if ref in self.state.evaluating:
                self._handle_evaluation(ref)
            else:
                self._handle_samples(ref)
        self.on_progress(self.counters, self._status())

    def _handle_evaluation(self, ref: Any) -> None:
        evaluator = self.state.evaluating.pop(ref)
        self.state.idle_evaluators.append(evaluator)
        pending, evaluation = ray.get(ref)
        self.counters = ray.get(self.pools.database.record_evaluation.remote(pending, evaluation))

    def _handle_samples(self, ref: Any) -> None:
        sampler, prompt, _ = self.state.sampling.pop(ref)
        self.state.idle_samplers.append(sampler)
        try:
            batch = ray.get(ref)
        except ray.exceptions.RayTaskError as error:
            self._stop_sampling = True
            raise SearchStopped(_one_line(error)) from None
        fresh, self.counters = ray.get(self.pools.database.record_batch.remote(prompt, batch))
        self.state.queue.extend(fresh)

    def _status(self) -> dict[str, float]:
        return {
            "elapsed": self.elapsed(),
            "queue": len(self.state.queue),
            "sampling": len(self.state.sampling),
            "evaluating": len(self.state.evaluating),
        }

    def _save_elapsed(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._elapsed_saved >= ELAPSED_SAVE_SECONDS:
            ray.get(self.pools.database.add_elapsed.remote(now - self._elapsed_saved))
            self._elapsed_saved = now

    def _cancel_sampling(self) -> None:
        for ref in list(self.state.sampling):
            ray.cancel(ref, force=False)
        self.state.sampling.clear()


def _one_line(error: BaseException) -> str:
    """The last line of a remote traceback: the sentence the user needs."""
    cause = getattr(error, "cause", None)
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else repr(error)
