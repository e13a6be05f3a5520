"""Serve a local model for the run when the user asked for one.

`--llm embedded` (the default) and `--llm PATH.gguf` need a server the run
owns: evoforge starts llama.cpp's server on loopback, the sampler actors talk
to it through the same OpenAI-compatible client as to any vLLM server, and it
stops with the run. Every other backend is passed through untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LOCAL_BACKENDS = {"embedded"}


def needs_local_server(llm: dict[str, Any]) -> bool:
    backend = str(llm.get("backend", "embedded"))
    return backend in LOCAL_BACKENDS or backend.endswith(".gguf")


@contextlib.contextmanager
def serve_llm(llm: dict[str, Any], slots: int) -> Iterator[dict[str, Any]]:
    """Yield the LLM settings the sampler actors should use while the run lasts."""
    if not needs_local_server(llm):
        yield llm
        return
    from evoforge.agents.embedded import assemble_embedded_model
    from evoforge.agents.llama_server import LlamaServer

    backend = str(llm.get("backend", "embedded"))
    model_path = assemble_embedded_model() if backend == "embedded" else Path(backend)
    threads = int(llm.get("threads") or 1)
    with LlamaServer(model_path, slots=max(1, slots), threads=threads) as server:
        served = {k: v for k, v in llm.items() if k not in {"backend", "threads"}}
        served.update(backend="openai", base_url=server.base_url, model=server.model_name)
        yield served
