"""Serve a local model for the run when the user asked for one.

`--llm embedded` (the default) and `--llm PATH.gguf` need a server the run
owns: one llama.cpp server on loopback shared by every sampler actor, which
talk to it through the same OpenAI-compatible client as to any vLLM server.
A watchdog restarts it if it dies; the clients' retries bridge the gap. Every
other backend is passed through untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

from evoforge.agents.config import LLMConfig, start_shared_server
from evoforge.agents.llama_server import LlamaServer


@contextlib.contextmanager
def serve_llm(llm: dict[str, Any], slots: int) -> Iterator[dict[str, Any]]:
    """Yield the LLM settings the sampler actors should use while the run lasts."""
    config = LLMConfig(**{**llm, "slots": max(1, slots)})
    server, client = start_shared_server(config)
    if server is None:
        yield llm
        return
    watchdog = _Watchdog(server)
    watchdog.start()
    try:
        yield dataclasses.asdict(client)
    finally:
        watchdog.stop()
        server.stop()


class _Watchdog(threading.Thread):
    """Restart the run's own server if it exits, even while no sampler is calling it."""

    def __init__(self, server: LlamaServer, period: float = 2.0) -> None:
        super().__init__(name="llama-server-watchdog", daemon=True)
        self.server, self.period = server, period
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.period):
            self.server.restart_if_exited()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
