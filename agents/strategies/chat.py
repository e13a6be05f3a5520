"""`chat`: the parents with their scores and the errors of failed children, asking for a new idea.

The module the function runs in is left out (unlike `funsearch`): shown it, the
embedded 0.5B model rewrote the whole module and ran out of tokens before
reaching the function (2 of 4 answers lost that way in bench/strategy_parse_rate.py).

FunSearch's prompt shows code only; a chat model can use more: how well each
parent did, what went wrong in recent attempts, and room for a short plan
before the code. The parser reads the last python block of the answer (the
usual fallbacks of `parse_candidate` apply).
"""

from __future__ import annotations

from evoforge.agents.base import CHAT
from evoforge.agents.parsing import parse_candidate
from evoforge.agents.prompts import RenderedPrompt, preface, problem_line, recent_errors, spec_notes
from evoforge.records import Candidate, Direction, Prompt
from evoforge.spec import ProblemSpec

SYSTEM = (
    "You are an expert Python programmer taking part in an evolutionary search over programs. "
    "Answer with a plan of one or two sentences, then one complete Python function in a "
    "```python code block, and nothing after it. Use only the imports the user lists."
)


class ChatStrategy:
    """A chat request: problem, context code, scored parents, recent errors, the ask."""

    name = "chat"

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        messages = (("system", SYSTEM), ("user", chat_request(spec, prompt)))
        text = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
        return RenderedPrompt(CHAT, text, messages, None, spec.evolve_name)

    def parse(self, text: str, spec: ProblemSpec, rendered: RenderedPrompt, truncated: bool) -> Candidate:
        return parse_candidate(text, spec, CHAT, None, truncated)


def chat_request(spec: ProblemSpec, prompt: Prompt) -> str:
    name = spec.evolve_name
    parts = problem_line(spec)
    imports = [line for line in preface(spec).splitlines() if line.startswith(("import ", "from "))]
    parts.append("Imports available: " + ("; ".join(imports) or "none beyond Python's builtins") + ".")
    parts.append(scored_parents(spec, prompt))
    parts += recent_errors(prompt)
    parts += spec_notes(spec)
    parts.append(
        f"Write a new version of `{name}` built on an idea that differs from the versions above, "
        f"so that it scores better than the best of them. Keep the name `{name}` and the same "
        "arguments; leave out the docstring. First a plan of one or two sentences, then only the "
        f"function `{name}` in one ```python block."
    )
    if prompt.hint:
        parts.append(prompt.hint)
    return "\n\n".join(parts)


def scored_parents(spec: ProblemSpec, prompt: Prompt) -> str:
    """Each parent as it is, with its score, from worse to better."""
    better = "higher" if spec.direction is Direction.MAXIMIZE else "lower"
    order = sorted(range(len(prompt.parent_codes)), key=lambda i: prompt.parent_scores[i])
    shown = []
    for rank, index in enumerate(order, start=1):
        raw = spec.direction.oriented(prompt.parent_scores[index])
        label = f"{spec.report.label} {spec.report.show(raw)}"
        code = prompt.parent_codes[index].strip()
        shown.append(f"Version {rank} (score {raw:.6g}, {label}):\n```python\n{code}\n```")
    heading = f"Earlier versions of `{spec.evolve_name}`, from worse to better ({better} scores are better):"
    return "\n\n".join([heading, *shown])
