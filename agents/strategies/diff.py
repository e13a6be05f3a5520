"""`diff`: the model edits the best parent with search/replace blocks (OpenEvolve's format).

An edit keeps what works and changes a few lines, where a rewrite from
scratch often loses the parent's good parts. The edit is applied strictly:
each SEARCH text must occur exactly once in the parent (lines compared without
trailing spaces); a malformed or non-matching edit is a parse error that says
why, stored like any other.
"""

from __future__ import annotations

import ast
import re

from evoforge.agents.base import CHAT
from evoforge.agents.prompts import RenderedPrompt, preface, problem_line, recent_errors, spec_notes
from evoforge.code_text import CodeTextError, candidate_function, code_hash
from evoforge.records import Candidate, Direction, Prompt
from evoforge.spec import ProblemSpec

SEARCH, DIVIDER, REPLACE = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"
# Marker lines as written; small models miscount the 7 characters and open with the closing arrows
# (`>>>>>>> SEARCH`: 10 of the 102 diff answers of the bench runs on this machine), which costs
# nothing to forgive.
BLOCK = re.compile(
    r"^[<>]{5,9} SEARCH[ \t]*\n(.*?)^={5,9}[ \t]*\n(.*?)^>{5,9} REPLACE[ \t]*$", re.DOTALL | re.MULTILINE
)
OPENING = re.compile(r"^[<>]{5,9} SEARCH", re.MULTILINE)
EXAMPLE = (
    "For example, to change\n```python\ndef area(w, h):\n    return w + h\n```\n"
    f"into a product, the reply is\n{SEARCH}\n    return w + h\n{DIVIDER}\n    return w * h\n{REPLACE}"
)
SYSTEM = (
    "You are an expert Python programmer taking part in an evolutionary search over programs. "
    "You improve a function by editing it: reply with one or more edit blocks and nothing else. "
    "An edit block copies lines of the function exactly and gives the lines that replace them.\n"
    + EXAMPLE
)


class DiffError(ValueError):
    """Why an edit cannot be applied, in one line."""


class DiffStrategy:
    """The best parent with its score; the answer is a search/replace edit of it."""

    name = "diff"

    def build(self, spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
        best = max(range(len(prompt.parent_codes)), key=lambda i: prompt.parent_scores[i])
        base = prompt.parent_codes[best].strip() + "\n"
        request = diff_request(spec, base, spec.direction.oriented(prompt.parent_scores[best]), prompt)
        messages = (("system", SYSTEM), ("user", request))
        text = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
        return RenderedPrompt(CHAT, text, messages, None, spec.evolve_name, base_code=base)

    def parse(self, text: str, spec: ProblemSpec, rendered: RenderedPrompt, truncated: bool) -> Candidate:
        try:
            edited = apply_edits(rendered.base_code or spec.seed_code, text)
            code = _function(edited, spec)
        except (DiffError, CodeTextError) as error:
            return Candidate(None, None, f"diff: {error}")
        return Candidate(code, code_hash(code))


def diff_request(spec: ProblemSpec, base: str, raw_score: float, prompt: Prompt) -> str:
    name = spec.evolve_name
    better = "higher" if spec.direction is Direction.MAXIMIZE else "lower"
    parts = problem_line(spec)
    parts.append(f"The code `{name}` runs in:\n```python\n{preface(spec)}\n```")
    parts.append(f"The current `{name}` scores {raw_score:.6g} ({better} is better):\n```python\n{base}```")
    parts += recent_errors(prompt)
    parts += spec_notes(spec)
    parts.append(
        f"Edit `{name}` so that it scores better. Reply with edit blocks only: the lines to change, "
        f"copied exactly, between {SEARCH} and {DIVIDER}; the new lines between {DIVIDER} and {REPLACE}."
    )
    if prompt.hint:
        parts.append(prompt.hint)
    return "\n\n".join(parts)


def apply_edits(base: str, answer: str) -> str:
    """The base with every block of the answer applied in order, or a DiffError saying why not."""
    text = _strip_trailing_spaces(answer)
    blocks, opened = BLOCK.findall(text), len(OPENING.findall(text))
    if not blocks:
        if opened:
            raise DiffError(f"an edit block is not closed with {DIVIDER} and {REPLACE}")
        raise DiffError(f"no {SEARCH} ... {REPLACE} block in the answer")
    if opened > len(blocks):
        raise DiffError(f"{opened - len(blocks)} edit block(s) not closed with {REPLACE}")
    code = _strip_trailing_spaces(base)
    for number, (search, replacement) in enumerate(blocks, start=1):
        code = _apply_one(code, search, replacement, number)
    return code


def _apply_one(code: str, search: str, replacement: str, number: int) -> str:
    """Replace the one run of whole lines equal to the SEARCH lines."""
    lines, wanted = code.splitlines(), search.splitlines()
    if not search.strip():
        raise DiffError(f"edit block {number} has an empty SEARCH part")
    starts = [i for i in range(len(lines) - len(wanted) + 1) if lines[i : i + len(wanted)] == wanted]
    if not starts:
        raise DiffError(f"edit block {number}: its SEARCH lines are not in the function")
    if len(starts) > 1:
        raise DiffError(f"edit block {number}: its SEARCH lines occur {len(starts)} times in the function")
    start = starts[0]
    return "\n".join([*lines[:start], *replacement.splitlines(), *lines[start + len(wanted) :]]) + "\n"


def _function(source: str, spec: ProblemSpec) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise DiffError(f"the edited function does not parse: {error.msg} (line {error.lineno})") from None
    return candidate_function(source, tree, spec)


def _strip_trailing_spaces(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
