"""The prompt strategies for OpenEvolve problems, whose candidate is an EVOLVE-BLOCK, not one function.

Each strategy keeps its idea and its parser (`registry.strategy_named` picks
these for the `openevolve` kind); only the text differs, since a block may
hold several functions and constants whose names the rest of the program uses:

- `funsearch`: the program around the block, then the parents as marked
  blocks "Version 0 .. k-1", worst first, then an open
  `# EVOLVE-BLOCK-START` for version k; the model continues the block and
  stops at `# EVOLVE-BLOCK-END`. Nothing is renamed (FunSearch's `f_vK`
  renaming applies to one function; here the names must stay). In chat mode
  the same versions are shown and the whole block is asked for.
- `chat`: the parents with their scores and recent errors; a new idea, the whole block.
- `diff`: the best block with its score; search/replace edits of it (applied strictly).
- `random`: `funsearch` built from the seed block alone.

What comes back is read by the strategy's usual parser; `code_text.candidate_function`
turns it into a block (`openevolve_block.block_candidate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from evoforge.agents.base import CHAT, COMPLETION
from evoforge.agents.prompts import RenderedPrompt, problem_line, recent_errors, spec_notes
from evoforge.agents.strategies.base import PromptStrategy
from evoforge.agents.strategies.chat import ChatStrategy
from evoforge.agents.strategies.diff import DIVIDER, EXAMPLE, REPLACE, SEARCH, DiffStrategy
from evoforge.agents.strategies.funsearch import FunSearchStrategy
from evoforge.openevolve_block import END_MARKER, START_MARKER, block_program
from evoforge.records import Direction, Prompt
from evoforge.spec import ProblemSpec

ROLE = "You are an expert Python programmer taking part in an evolutionary search over programs. "
WHOLE_BLOCK = ("Each reply is the complete new code between the EVOLVE-BLOCK markers (every function, "
               "class and constant of it) in one ```python code block, with no explanation.")


@dataclass(frozen=True)
class BlockPrompt(RenderedPrompt):
    """A completion prompt that stops where the block ends."""

    stops: tuple[str, ...] = (f"# {END_MARKER}",)


class BlockFunSearch(FunSearchStrategy):
    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        versions = ordered_blocks(prompt)
        k = len(versions)
        if mode == COMPLETION:
            shown = [f"# Version {i}{_improved(i)}\n# {START_MARKER}\n{code}# {END_MARKER}"
                     for i, code in enumerate(versions)]
            opening = f"# Version {k}{_improved(k)}\n# {START_MARKER}\n"
            text = "\n\n".join([_context(spec), *shown, opening])
            return BlockPrompt(COMPLETION, text, None, "\n", spec.evolve_name)
        listed = "\n\n".join(f"Version {i}:\n```python\n{code}```" for i, code in enumerate(versions))
        request = "\n\n".join([
            *_problem(spec), f"Earlier versions of the block, from worse to better:\n\n{listed}",
            f"Write version {k}, an improved block that scores better than version {k - 1}. "
            f"{_keep_names(spec)}Reply with the whole block only, in one ```python block.",
        ])
        return _chat((("system", ROLE + WHOLE_BLOCK), ("user", request)), spec)


class BlockRandom(BlockFunSearch):
    name = "random"

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        seed_only = replace(prompt, parent_codes=(spec.seed_code,), parent_scores=(0.0,),
                            parent_feedback=(), version_generated=1)
        return super().build(spec, seed_only, mode)


class BlockChat(ChatStrategy):
    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        better = "higher" if spec.direction is Direction.MAXIMIZE else "lower"
        shown = [f"Version {rank} (score {spec.direction.oriented(prompt.parent_scores[i]):.6g}):\n"
                 f"```python\n{prompt.parent_codes[i].strip()}\n```"
                 for rank, i in enumerate(_order(prompt), start=1)]
        heading = f"Earlier versions of the block, from worse to better ({better} scores are better):"
        parts = [*_problem(spec), heading + "\n\n" + "\n\n".join(shown)]
        parts += recent_errors(prompt)
        parts.append(f"Write a new version of the block built on an idea that differs from the versions "
                     f"above, so that it scores better than the best of them. {_keep_names(spec)}"
                     "First a plan of one or two sentences, then the whole block in one ```python block.")
        system = ROLE + ("Answer with a plan of one or two sentences, then the complete new code between the "
                         "EVOLVE-BLOCK markers in one ```python code block, and nothing after it.")
        return _chat((("system", system), ("user", "\n\n".join(parts))), spec)


class BlockDiff(DiffStrategy):
    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        best = max(range(len(prompt.parent_codes)), key=lambda i: prompt.parent_scores[i])
        base = prompt.parent_codes[best].strip() + "\n"
        score = spec.direction.oriented(prompt.parent_scores[best])
        better = "higher" if spec.direction is Direction.MAXIMIZE else "lower"
        parts = [*_problem(spec), f"The current block scores {score:.6g} ({better} is better):\n"
                 f"```python\n{base}```"]
        parts += recent_errors(prompt)
        parts.append(f"Edit the block so that it scores better. Reply with edit blocks only: the lines to "
                     f"change, copied exactly, between {SEARCH} and {DIVIDER}; the new lines between "
                     f"{DIVIDER} and {REPLACE}.")
        system = ROLE + ("You improve code by editing it: reply with one or more edit blocks and nothing "
                         "else. An edit block copies lines of the code exactly and gives the lines that "
                         "replace them.\n" + EXAMPLE)
        return replace(_chat((("system", system), ("user", "\n\n".join(parts))), spec), base_code=base)


def ordered_blocks(prompt: Prompt) -> list[str]:
    """The parents' blocks, worst first, as FunSearch orders versions."""
    return [prompt.parent_codes[i].strip("\n") + "\n" for i in _order(prompt)]


def _order(prompt: Prompt) -> list[int]:
    return sorted(range(len(prompt.parent_codes)), key=lambda i: prompt.parent_scores[i])


def _improved(version: int) -> str:
    return f" (improved over version {version - 1})" if version else ""


def _context(spec: ProblemSpec) -> str:
    return f"# The program; the EVOLVE-BLOCK is what changes:\n{block_program(spec.source).context()}"


def _problem(spec: ProblemSpec) -> list[str]:
    parts = problem_line(spec)
    parts.append(f"The program (the EVOLVE-BLOCK is what you change):\n```python\n"
                 f"{block_program(spec.source).context()}\n```")
    parts += spec_notes(spec)
    return parts


def _keep_names(spec: ProblemSpec) -> str:
    names = block_program(spec.source).required_names
    if not names:
        return ""
    them = "it" if len(names) == 1 else "them"
    return f"Keep defining {', '.join(f'`{n}`' for n in names)}: the rest of the program uses {them}. "


def _chat(messages: tuple[tuple[str, str], ...], spec: ProblemSpec) -> RenderedPrompt:
    text = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
    return RenderedPrompt(CHAT, text, messages, None, spec.evolve_name)


BLOCK_STRATEGIES = {
    "funsearch": BlockFunSearch(), "chat": BlockChat(), "diff": BlockDiff(), "random": BlockRandom(),
}  # fmt: skip


def block_strategy_named(name: str) -> PromptStrategy:
    """The `strategy_named` kind hook of OpenEvolve problems."""
    return BLOCK_STRATEGIES[name]
