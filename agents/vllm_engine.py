"""One vLLM engine per node, shared by every sampler on it (as one llama-server is).

The engine lives in a Ray actor that takes concurrent `generate` calls from
all samplers; a single dispatcher thread hands everything that has arrived
to the engine in one `generate` call, so the engine schedules the samplers'
requests together instead of each sampler loading its own copy of the model
(which doubled memory and, with equal seeds, drew identical completions).
Each request keeps its own seed. The samplers reach the actor by name.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from evoforge.agents.base import GenerationRequest, LLMBackend, LLMUnavailable
from evoforge.records import Completion

# How long the dispatcher waits for more calls after the first, so samplers that ask at
# about the same time share one engine step (small next to a generation's seconds).
GATHER_SECONDS = 0.05
MAX_CONCURRENT_CALLS = 256
CLOSE_SECONDS = 60.0  # the engine core's own shutdown
# How long close() waits for the dispatcher: a generate call in flight is not waited for (it took
# the whole minute of a SIGTERM'd run); shutting the engine down ends it.
DISPATCH_JOIN_SECONDS = 1.0


class BatchingEngine(LLMBackend):
    """Calls from many threads, one engine call at a time with everything waiting (no Ray here)."""

    def __init__(self, backend: LLMBackend, gather_seconds: float = GATHER_SECONDS) -> None:
        self.backend, self.gather_seconds = backend, gather_seconds
        self.model_name = backend.model_name
        self.waiting: queue.Queue[tuple[list[GenerationRequest], Future] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._dispatch, name="vllm-dispatch", daemon=True)
        self.thread.start()

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        done: Future = Future()
        self.waiting.put((requests, done))
        return done.result()

    def close(self) -> None:
        if self.thread.is_alive():
            self.waiting.put(None)
            self.thread.join(timeout=DISPATCH_JOIN_SECONDS)
        self.backend.close()

    def _dispatch(self) -> None:
        while (first := self.waiting.get()) is not None:
            calls = [first, *self._gather()]
            stop = None in calls
            calls = [call for call in calls if call is not None]
            self._run(calls)
            if stop:
                return

    def _gather(self) -> list[Any]:
        calls: list[Any] = []
        with contextlib.suppress(queue.Empty):
            calls.append(self.waiting.get(timeout=self.gather_seconds))
            while True:
                calls.append(self.waiting.get_nowait())
        return calls

    def _run(self, calls: list[tuple[list[GenerationRequest], Future]]) -> None:
        requests = [request for batch, _ in calls for request in batch]
        try:
            results = self.backend.generate(requests)
        except Exception as error:  # every waiting caller gets the engine's error
            for _, done in calls:
                done.set_exception(error)
            return
        start = 0
        for batch, done in calls:
            done.set_result(results[start : start + len(batch)])
            start += len(batch)


@functools.cache
def _engine_actor_class() -> Any:
    import ray

    @ray.remote(num_cpus=0, max_restarts=0, max_concurrency=MAX_CONCURRENT_CALLS)
    class VLLMEngineActor:
        """The node's engine. A failed start is kept and reported by `ready`, as one sentence."""

        def __init__(self, model: str, engine_args: dict[str, Any]) -> None:
            from evoforge.agents.vllm_backend import VLLMBackend

            self.engine: BatchingEngine | None = None
            self.failure: str | None = None
            try:
                self.engine = BatchingEngine(VLLMBackend(model, engine_args))
            except LLMUnavailable as error:
                self.failure = str(error)

        def ready(self) -> bool:
            if self.failure is not None:
                raise LLMUnavailable(self.failure)
            return True

        def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
            if self.engine is None:
                raise LLMUnavailable(self.failure or "the vLLM engine is closed.")
            return self.engine.generate(requests)

        def close(self) -> None:
            if self.engine is not None:
                self.engine, engine = None, self.engine
                engine.close()

    return VLLMEngineActor


class SharedEngine:
    """The driver's handle on the node's engine actor: started once, stopped once."""

    def __init__(self, model: str, engine_args: dict[str, Any] | None) -> None:
        import ray

        self.name = f"evoforge-vllm-{uuid.uuid4().hex[:12]}"
        self.actor = _engine_actor_class().options(name=self.name).remote(model, engine_args or {})
        try:
            ray.get(self.actor.ready.remote())
        except ray.exceptions.RayError as error:
            self.stop()
            cause = getattr(error, "cause", None)
            reason = str(cause) if isinstance(cause, LLMUnavailable) else _last_line(error)
            raise LLMUnavailable(reason) from None

    def stop(self) -> None:
        """Close the engine (its engine-core process goes with it), then end the actor."""
        import ray

        with contextlib.suppress(ray.exceptions.RayError):
            ray.get(self.actor.close.remote(), timeout=CLOSE_SECONDS)
        ray.kill(self.actor)


class EngineClient(LLMBackend):
    """A sampler's backend: requests go to the shared engine actor, named in the config."""

    def __init__(self, actor_name: str, model: str) -> None:
        import ray

        self.actor, self.model_name = ray.get_actor(actor_name), model

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        import ray

        try:
            return ray.get(self.actor.generate.remote(requests))
        except ray.exceptions.RayError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, LLMUnavailable):
                raise LLMUnavailable(str(cause)) from None
            raise LLMUnavailable(f"the shared vLLM engine failed ({_last_line(error)}).") from None


def start_shared_engine(config: Any) -> tuple[SharedEngine, Any]:
    """The node's engine for `config` (an LLMConfig naming vllm) and the config its clients use."""
    if not config.model:
        raise LLMUnavailable("--llm vllm needs --model (a hub name or a local folder).")
    engine = SharedEngine(config.model, config.engine_args)
    return engine, replace(config, engine_actor=engine.name)


def _last_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
