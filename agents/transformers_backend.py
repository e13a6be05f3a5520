"""In-process generation with Hugging Face transformers, batched.

Slower than llama-server on a CPU (see agents/README.md) but needs no binary
and runs wherever torch does, GPUs included. transformers 5 keeps a GGUF's
weights packed and computes in float32, so a GGUF is loaded in float32; a
folder or hub name loads in the dtype its config names.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evoforge.agents.base import COMPLETION, GenerationRequest, LLMBackend, LLMUnavailable
from evoforge.records import Completion


def import_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as error:
        raise LLMUnavailable(
            f"--llm transformers needs torch and transformers ({error.msg}); "
            "run pip install 'evoforge[transformers]'."
        ) from None
    return torch, transformers


def resolve_model(model: str | None) -> tuple[str, dict[str, Any]]:
    """from_pretrained arguments for a GGUF file, a folder or a hub name (None: the embedded GGUF)."""
    if model is None:
        from evoforge.agents.embedded import assemble_embedded_model

        model = str(assemble_embedded_model())
    path = Path(model).expanduser()
    if path.suffix != ".gguf":
        return model, {"dtype": "auto"}
    return str(path.parent), {"gguf_file": path.name, "dtype": "float32"}


def trim_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """Cut at the first stop string, as OpenAI-style servers do; says whether one was hit."""
    cuts = [text.find(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


class TransformersBackend(LLMBackend):
    """One model in this process; each request's n samples are rows of one batch."""

    default_mode = COMPLETION

    def __init__(self, model: str | None = None, threads: int = 1, batch_size: int = 8) -> None:
        self.torch, transformers = import_transformers()
        self.torch.set_num_threads(max(1, threads))
        source, kwargs = resolve_model(model)
        self.model_name = Path(model).stem if model else "qwen2.5-coder-0.5b-instruct"
        self.batch_size = batch_size
        gguf = {"gguf_file": kwargs["gguf_file"]} if "gguf_file" in kwargs else {}
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, **gguf)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
        self.model.eval()

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: GenerationRequest) -> list[Completion]:
        text = self._prompt_text(request)
        completions: list[Completion] = []
        for start in range(0, request.n, self.batch_size):
            rows = min(self.batch_size, request.n - start)
            completions.extend(self._batch(text, rows, request))
        return completions

    def _prompt_text(self, request: GenerationRequest) -> str:
        if request.mode == COMPLETION:
            return request.prompt or ""
        return str(self.tokenizer.apply_chat_template(
            request.chat_messages(), tokenize=False, add_generation_prompt=True
        ))  # fmt: skip

    def _batch(self, text: str, rows: int, request: GenerationRequest) -> list[Completion]:
        inputs = self.tokenizer([text] * rows, return_tensors="pt", padding=True)
        if request.seed is not None:
            self.torch.manual_seed(request.seed)
        started = time.monotonic()
        with self.torch.no_grad():
            output = self.model.generate(
                **inputs, do_sample=request.temperature > 0, temperature=request.temperature or None,
                top_p=request.top_p, max_new_tokens=request.max_tokens,
                stop_strings=list(request.stop) or None, tokenizer=self.tokenizer,
                pad_token_id=self.tokenizer.pad_token_id,
            )  # fmt: skip
        seconds = time.monotonic() - started
        new = output[:, inputs["input_ids"].shape[1] :]
        prompt_tokens = int(inputs["attention_mask"][0].sum())
        return [self._completion(row, request, prompt_tokens if i == 0 else 0, seconds)
                for i, row in enumerate(new)]  # fmt: skip

    def _completion(
        self, row: Any, request: GenerationRequest, prompt_tokens: int, seconds: float
    ) -> Completion:
        tokens = [t for t in row.tolist() if t != self.tokenizer.pad_token_id]
        ended = self.tokenizer.eos_token_id in tokens
        text, stopped = trim_at_stop(self.tokenizer.decode(tokens, skip_special_tokens=True), request.stop)
        return Completion(
            text=text, model=self.model_name, prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens), latency_seconds=seconds,
            finish_reason="stop" if ended or stopped else "length",
        )  # fmt: skip

    def close(self) -> None:
        self.model = None
