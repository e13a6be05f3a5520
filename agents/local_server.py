"""A GGUF file served by a llama-server child that this backend owns.

This is `make_backend` for the embedded default and `--llm path/to/model.gguf`
outside a run (a notebook, a test): the backend starts a keep-alive
`LlamaServer` on loopback and talks to it as an OpenAI client; the server's
own watchdog restarts it if it dies, so a crash costs a retry, not the work.
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
        self, model_path: Path, *, slots: int, threads: int, context_per_slot: int,
        concurrency: int, timeout: float, outage_seconds: float,
    ) -> None:
        self.server = LlamaServer(
            model_path, slots=slots, threads=threads, context_per_slot=context_per_slot, keep_alive=True
        ).start()
        super().__init__(
            self.server.base_url, model=Path(model_path).stem, timeout=timeout,
            concurrency=concurrency, outage_seconds=outage_seconds,
        )  # fmt: skip

    def close(self) -> None:
        super().close()
        self.server.stop()
