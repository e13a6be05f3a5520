"""A GGUF file served by a llama-server child that this backend owns.

This is the embedded default and `--llm path/to/model.gguf`: the backend
starts the server on loopback, talks to it as an OpenAI client, and restarts
it if it dies, so a crashed server costs a retry, not the run.
"""

from __future__ import annotations

from pathlib import Path

from evoforge.agents.base import COMPLETION
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.openai_backend import OpenAIBackend


class LocalServerBackend(OpenAIBackend):
    """OpenAIBackend plus the lifetime of the llama-server it talks to."""

    default_mode = COMPLETION

    def __init__(
        self,
        model_path: Path,
        *,
        slots: int = 8,
        threads: int = 1,
        context_per_slot: int = 4096,
        concurrency: int = 4,
        timeout: float = 300.0,
        outage_seconds: float = 600.0,
    ) -> None:
        self.server = LlamaServer(
            model_path, slots=slots, threads=threads, context_per_slot=context_per_slot
        ).start()
        super().__init__(
            self.server.base_url,
            model=Path(model_path).stem,
            timeout=timeout,
            concurrency=concurrency,
            outage_seconds=outage_seconds,
        )

    def _on_failure(self) -> None:
        self.server.restart_if_exited()

    def close(self) -> None:
        super().close()
        self.server.stop()
