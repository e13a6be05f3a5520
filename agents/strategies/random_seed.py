"""`random`: every prompt shows only the seed program, so nothing evolves (best-of-N sampling).

It is the baseline arm: the same prompt form, model and budget as `funsearch`,
without the population, so a user sees what evolution adds on their problem.
"""

from __future__ import annotations

from dataclasses import replace

from evoforge.agents.prompts import RenderedPrompt
from evoforge.agents.strategies.funsearch import FunSearchStrategy
from evoforge.records import Prompt
from evoforge.spec import ProblemSpec


class RandomStrategy(FunSearchStrategy):
    """FunSearch's prompt built from the spec's own function alone, whatever the island holds."""

    name = "random"

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        seed_only = replace(prompt, parent_codes=(spec.seed_code,), parent_scores=(0.0,),
                            parent_feedback=(), version_generated=1)
        return super().build(spec, seed_only, mode)
