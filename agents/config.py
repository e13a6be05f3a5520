"""`--llm` and its options: which backend, which model, how to sample.

`backend` is a name ("embedded", "openai", "vllm", "transformers") or a path:
a .gguf file is served locally by llama-server, a folder of safetensors
weights is loaded in-process by transformers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from evoforge.agents.base import (
    CHAT,
    COMPLETION,
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TEMPERATURE_CEILING,
    DEFAULT_TOP_P,
    LLAMA_CPP_TEMPERATURE_CEILING,
    LLAMA_CPP_XTC_PROBABILITY,
    LLMBackend,
    LLMUnavailable,
)
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.strategies import RANDOM

# "recorded" replays a JSONL file of completions (--model FILE): for tests of the loop, no model runs.
BACKENDS = ("embedded", "openai", "vllm", "transformers", "recorded")
MODES = ("auto", CHAT, COMPLETION)


@dataclass(frozen=True)
class LLMConfig:
    """Everything needed to build a backend; plain data so it can cross Ray and SQLite.

    The one definition of every LLM default: the CLI, the sampler and the
    backends take theirs from here. `outage_seconds` is how long a server
    that has answered may stay away before the run stops (`--llm-outage-minutes`).
    """

    backend: str = "embedded"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    mode: str = "auto"
    temperature: float = DEFAULT_TEMPERATURE
    max_temperature: float | None = None  # the duplicate-driven raise's ceiling; None: the server's default
    top_p: float = DEFAULT_TOP_P
    # llama.cpp's XTC on completion prompts (agents/base.py); None: LLAMA_CPP_XTC_PROBABILITY where
    # llama.cpp serves the model evoforge starts, not sent to other servers (`completion_xtc`).
    xtc_probability: float | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    concurrency: int = 4
    timeout: float = 300.0
    outage_seconds: float = 600.0
    # CPU threads of a local model. None: a llama-server takes every core the process may use (a run
    # leaves one to each evaluator when scoring is slow: runtime/session.py), transformers one.
    threads: int | None = None
    slots: int = 8
    context_per_slot: int = 4096
    seed: int | None = None
    # vllm.LLM keywords the user gave (--vllm-arg, --max-model-len...); defaults in vllm_settings.
    engine_args: dict[str, Any] | None = None
    # Set by the run for its samplers: the Ray actor holding the node's shared vLLM engine.
    engine_actor: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"--llm mode {self.mode!r}: use one of {', '.join(MODES)}.")
        if self.backend not in BACKENDS and not Path(self.backend).expanduser().exists():
            raise ValueError(
                f"--llm {self.backend!r} is neither a backend ({', '.join(BACKENDS)}) "
                "nor an existing .gguf file or model folder."
            )
        if self.temperature < 0:
            raise ValueError(f"--temperature {self.temperature}: give a temperature of 0 (greedy) or above.")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"--threads {self.threads}: give 1 or more, or leave it out for every core.")
        if self.xtc_probability is not None and not 0 <= self.xtc_probability <= 1:
            raise ValueError(f"--xtc-probability {self.xtc_probability}: give one from 0 (off) to 1.")
        if self.xtc_probability is not None and not (
            self.backend == "openai" or served_by_llama_cpp(self.backend)
        ):
            raise ValueError(
                f"--xtc-probability is llama.cpp's sampler; --llm {self.backend} has none (give it with the "
                "embedded model, a .gguf file, or --llm openai at a llama-server)."
            )
        if self.max_temperature is not None and self.max_temperature <= 0:
            raise ValueError(f"--max-temperature {self.max_temperature}: give a temperature above 0.")



def temperature_ceiling(backend: str, max_temperature: float | None, strategy: str) -> float | None:
    """How hot a prompt answered with known code may be drawn (`--max-temperature`, else by arm and
    server; None: no hotter than the base, the hint alone). llama.cpp filters before it applies the
    temperature, so its models can be drawn much hotter (agents/base.py). The random arm's one prompt
    repeats all run long, so the raise would keep it near the ceiling, where hot draws cost it valid
    programs and time (bench/search_quality.md, "the hint without the heat"): a weaker baseline."""
    if max_temperature is not None:
        return max_temperature
    if strategy == RANDOM:
        return None
    return LLAMA_CPP_TEMPERATURE_CEILING if served_by_llama_cpp(backend) else DEFAULT_TEMPERATURE_CEILING


def completion_xtc(config: LLMConfig) -> float | None:
    """The XTC probability a sampler sends with completion prompts: the one given, else llama.cpp's
    default where evoforge serves the model with llama.cpp, else none (another server may refuse it)."""
    if config.xtc_probability is not None:
        return config.xtc_probability
    return LLAMA_CPP_XTC_PROBABILITY if served_by_llama_cpp(config.backend) else None


def served_by_llama_cpp(backend: str) -> bool:
    """The embedded model, or a model file (a folder is loaded by transformers)."""
    return backend == "embedded" or (backend not in BACKENDS and Path(backend).expanduser().is_file())


def make_backend(config: LLMConfig) -> LLMBackend:
    """Build (and for local models, start) the backend the config names."""
    if config.backend == "openai":
        return _openai(config)
    if config.backend == "recorded":
        from evoforge.agents.recorded_backend import RecordedCompletionsBackend

        delay = float(os.environ.get("EVOFORGE_RECORDED_DELAY", "0"))
        return RecordedCompletionsBackend(Path(_required_model(config)), seconds_per_completion=delay)
    if config.backend == "vllm":
        if config.engine_actor:
            from evoforge.agents.vllm_engine import EngineClient

            return EngineClient(config.engine_actor, _required_model(config))
        from evoforge.agents.vllm_backend import VLLMBackend

        return VLLMBackend(_required_model(config), config.engine_args)
    if config.backend == "transformers":
        from evoforge.agents.transformers_backend import TransformersBackend

        return TransformersBackend(config.model, threads=config.threads or 1)
    gguf = local_gguf_path(config)
    if gguf is not None:
        from evoforge.agents.local_server import LocalServerBackend

        return LocalServerBackend(*_serve(gguf, config))
    from evoforge.agents.transformers_backend import TransformersBackend

    return TransformersBackend(str(Path(config.backend).expanduser()), threads=config.threads or 1)


def local_gguf_path(config: LLMConfig) -> Path | None:
    """The GGUF file a local llama-server would serve for this config, if any."""
    if not served_by_llama_cpp(config.backend):
        return None
    if config.backend == "embedded":
        from evoforge.agents.embedded import assemble_embedded_model

        return assemble_embedded_model()
    return Path(config.backend).expanduser()


class SharedServer(Protocol):
    """A model server or engine a run starts once for all its samplers, and stops at the end."""

    def stop(self) -> None: ...


def start_shared_server(config: LLMConfig) -> tuple[SharedServer | None, LLMConfig]:
    """One llama-server (or vLLM engine) for several samplers, and the config of its clients.

    For the embedded model or a GGUF path the caller stops the returned server
    at the end (its watchdog restarts it until then); for --llm vllm it is the
    node's engine actor; other backends come back unchanged with no server.
    """
    if config.backend == "vllm" and not config.engine_actor:
        from evoforge.agents.vllm_engine import start_shared_engine

        return start_shared_engine(config)
    path = local_gguf_path(config)
    if path is None:
        return None, config
    return _serve(path, config)


def _serve(path: Path, config: LLMConfig) -> tuple[LlamaServer, LLMConfig]:
    """The one place a local model's server is started: a keep-alive `LlamaServer`."""
    server = LlamaServer(
        path, slots=config.slots, threads=config.threads, context_per_slot=config.context_per_slot,
        keep_alive=True,
    ).start()
    mode = COMPLETION if config.mode == "auto" else config.mode
    client = replace(config, backend="openai", base_url=server.base_url, model=path.stem, mode=mode,
                     xtc_probability=completion_xtc(config))
    return server, client


def _openai(config: LLMConfig) -> LLMBackend:
    from evoforge.agents.openai_backend import OpenAIBackend

    base_url = config.base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        raise LLMUnavailable(
            "--llm openai needs --base-url (e.g. http://127.0.0.1:8000/v1 for `vllm serve`)."
        )
    return OpenAIBackend(
        base_url,
        model=config.model,
        api_key=os.environ.get(config.api_key_env),
        timeout=config.timeout,
        concurrency=config.concurrency,
        outage_seconds=config.outage_seconds,
    )


def _required_model(config: LLMConfig) -> str:
    if not config.model:
        raise LLMUnavailable(f"--llm {config.backend} needs --model (a hub name or a local folder).")
    return config.model
