"""Serve a local model for the run when the user asked for one.

`--llm embedded` (the default) and `--llm PATH.gguf` need a server the run
owns: evoforge starts llama.cpp's server on loopback, the sampler actors talk
to it through the same OpenAI-compatible client as to any vLLM server, and it
stops with the run. Every other backend is passed through untouched.
"""

from __future__ import annotations

import contextlib
import logging
import threading
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
        watchdog = _Watchdog(server)
        watchdog.start()
        try:
            served = {k: v for k, v in llm.items() if k not in {"backend", "threads"}}
            served.update(backend="openai", base_url=server.base_url, model=model_path.stem)
            yield served
        finally:
            watchdog.stop()


class _Watchdog(threading.Thread):
    """Restart the run's own server if it dies; the clients' retries bridge the gap."""

    def __init__(self, server: Any, period: float = 2.0) -> None:
        super().__init__(name="llama-server-watchdog", daemon=True)
        self.server, self.period = server, period
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.period):
            process = self.server.process
            if process is not None and process.poll() is not None and not self._stopping.is_set():
                logging.getLogger(__name__).warning(
                    "the LLM server exited (code %s); restarting it", process.returncode
                )
                self.server.restart()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
