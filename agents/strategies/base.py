"""The one interface every prompt strategy implements."""

from __future__ import annotations

from typing import Protocol

from evoforge.agents.prompts import RenderedPrompt
from evoforge.records import Candidate, Prompt
from evoforge.spec import ProblemSpec


class PromptStrategy(Protocol):
    """Builds the text sent to the model from the island's parents and reads a candidate back.

    `mode` (chat or completion) is the backend's preference; a strategy that
    needs instructions (chat, diff) builds chat messages whatever it is.
    """

    name: str

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt: ...

    def parse(self, text: str, spec: ProblemSpec, rendered: RenderedPrompt, truncated: bool) -> Candidate: ...
