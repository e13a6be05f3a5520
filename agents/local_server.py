"""A GGUF file served by a llama-server child that this backend owns.

This is `make_backend` for the embedded default and `--llm path/to/model.gguf`
outside a run (a notebook, a test): it is an OpenAI client of a keep-alive
`LlamaServer` started by `config._serve`, whose watchdog restarts it if it
dies (a crash costs a retry, not the work), and it stops that server on close.
"""

from __future__ import annotations

from evoforge.agents.base import COMPLETION
from evoforge.agents.config import LLMConfig
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.openai_backend import OpenAIBackend


class LocalServerBackend(OpenAIBackend):
    """OpenAIBackend plus the lifetime of the llama-server it talks to."""

    default_mode = COMPLETION

    def __init__(self, server: LlamaServer, client: LLMConfig) -> None:
        self.server = server
        super().__init__(
            server.base_url, model=client.model, timeout=client.timeout,
            concurrency=client.concurrency, outage_seconds=client.outage_seconds,
        )  # fmt: skip

    def close(self) -> None:
        super().close()
        self.server.stop()
