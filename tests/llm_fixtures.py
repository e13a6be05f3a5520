"""Real servers on loopback for the agents' tests.

`ScriptedServer` is a tiny OpenAI-compatible HTTP server whose answers a test
scripts (503 twice, then a completion; refuse `n`; ...), so retry and
fallback logic is tested against real sockets and real HTTP. The
`llama_server` fixture serves the embedded model with llama.cpp's server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evoforge.agents.base import LLMUnavailable
from evoforge.agents.llama_server import INSTALL_COMMAND, LlamaServer, find_llama_server
from evoforge.records import Prompt
from evoforge.spec import ProblemSpec, load_problem

Reply = tuple[int, dict[str, Any]]
Script = Callable[[str, dict[str, Any]], Reply]


def completion_body(request: dict[str, Any], texts: list[str] | None = None) -> dict[str, Any]:
    """A valid OpenAI response with one choice per requested n (or per given text)."""
    chat = "messages" in request
    n = int(request.get("n", 1))
    texts = texts or [f"    return -(bins - item) * {i + 1}\n" for i in range(n)]
    choices = [
        {"index": i, "finish_reason": "stop", "logprobs": None,
         **({"message": {"role": "assistant", "content": t}} if chat else {"text": t})}
        for i, t in enumerate(texts)
    ]  # fmt: skip
    return {
        "id": "scripted", "object": "chat.completion" if chat else "text_completion",
        "created": 0, "model": request.get("model", "scripted"), "choices": choices,
        "usage": {"prompt_tokens": 10, "completion_tokens": 4 * len(texts),
                  "total_tokens": 10 + 4 * len(texts)},
    }  # fmt: skip


def word_tokens(text: str) -> list[int]:
    """The scripted server's tokenizer: one token per whitespace-separated word."""
    return list(range(len(text.split())))


class ScriptedServer:
    """An OpenAI-compatible endpoint on 127.0.0.1 that answers as `script` says.

    `/tokenize` (as vLLM and llama.cpp serve it) counts words, unless
    `tokenize=False` makes it a 404; those calls land in `tokenized`, not `requests`.
    """

    def __init__(self, script: Script, tokenize: bool = True) -> None:
        self.script, self.tokenize = script, tokenize
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.tokenized: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/tokenize":
                    server.tokenized.append(body)
                    found = server.tokenize
                    return self._send(*((200, {"tokens": word_tokens(body["prompt"])}) if found
                                        else (404, {"error": "not found"})))
                with server._lock:
                    server.requests.append((self.path, body))
                self._send(*server.script(self.path, body))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass  # keep pytest output clean; requests are recorded in server.requests

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


TINY_SPEC = '''"""A toy problem whose prompts are short, for tests that only need some sampling."""
from evoforge import evolve, run


@run
def evaluate(n: int) -> float:
    return float(sum(priority(i) for i in range(n)))


@evolve
def priority(x: int) -> float:
    """How much x is worth."""
    return float(x)
'''


def bin_packing_spec() -> ProblemSpec:
    return load_problem("bin_packing")


def tiny_spec(folder: Path) -> ProblemSpec:
    """A one-function spec: a short prompt keeps the slow tests quick on two cores."""
    path = folder / "tiny_spec.py"
    path.write_text(TINY_SPEC)
    return load_problem(path, inputs_json="[4]")


def seed_prompt(spec: ProblemSpec) -> Prompt:
    """The prompt a fresh run asks first: the seed program as the only parent."""
    return Prompt(island_id=0, parent_ids=(1,), parent_codes=(spec.seed_code,),
                  parent_scores=(-0.05,), version_generated=1)  # fmt: skip


def embedded_model_or_fail() -> Path:
    from evoforge.agents.embedded import assemble_embedded_model

    try:
        return assemble_embedded_model()
    except LLMUnavailable as error:
        pytest.fail(f"{error} (the slow agent tests need it: run `{INSTALL_COMMAND}` first)")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """The embedded model served by llama-server on loopback, shared by the slow tests."""
    model = embedded_model_or_fail()
    try:
        find_llama_server()
    except LLMUnavailable as error:
        pytest.fail(str(error))
    with LlamaServer(model, slots=4, threads=2, context_per_slot=4096) as server:
        yield server
