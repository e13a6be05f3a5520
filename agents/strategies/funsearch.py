"""`funsearch`: FunSearch's best-shot prompt (`agents/prompts.py`), unchanged."""

from __future__ import annotations

from evoforge.agents.parsing import parse_candidate
from evoforge.agents.prompts import RenderedPrompt, build_prompt
from evoforge.records import Candidate, Prompt
from evoforge.spec import ProblemSpec


class FunSearchStrategy:
    """The parents as `f_v0 .. f_v{k-1}`, worst first, and `def f_v{k}` for the model to continue."""

    name = "funsearch"

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        return build_prompt(spec, prompt, mode)

    def parse(self, text: str, spec: ProblemSpec, rendered: RenderedPrompt, truncated: bool) -> Candidate:
        return parse_candidate(text, spec, rendered.mode, rendered.header, truncated)
