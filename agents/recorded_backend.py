"""A backend that replays recorded completions, for tests of the run loop's logic.

It is what its name says: no model runs. Tests of sampling itself use the
real embedded model behind a real server; this backend lets the loop, the
storage and resume be tested quickly and deterministically.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from evoforge.agents.base import GenerationRequest, LLMBackend, LLMUnavailable
from evoforge.records import Completion


class RecordedCompletionsBackend(LLMBackend):
    """Replays the completions of a JSONL file ({"text": ...} per line) in order, cycling."""

    def __init__(self, path: Path, seconds_per_completion: float = 0.0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise LLMUnavailable(f"{path}: no recorded completions file.")
        lines = self.path.read_text().splitlines()
        self.texts = [json.loads(line)["text"] for line in lines if line.strip()]
        if not self.texts:
            raise LLMUnavailable(f"{path}: holds no completions.")
        self.model_name = f"recorded:{self.path.name}"
        self.delay = seconds_per_completion
        self._next = 0
        self._lock = threading.Lock()

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        return [[self._one() for _ in range(request.n)] for request in requests]

    def _one(self) -> Completion:
        with self._lock:
            text = self.texts[self._next % len(self.texts)]
            self._next += 1
        if self.delay:
            time.sleep(self.delay)
        return Completion(
            text=text, model=self.model_name, prompt_tokens=0,
            completion_tokens=len(text.split()), latency_seconds=self.delay,
            finish_reason="stop",
        )
