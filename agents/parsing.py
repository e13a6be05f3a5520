"""Turn whatever a model wrote into one function, or one line saying why not.

Models wrap code in markdown fences, talk before and after it, rewrite the
whole file, continue only the body, stop mid-line, or rename the function.
Each reading of the text is tried in turn (fenced blocks, the prompt's header
plus the continuation, the raw text from its first line of code); trailing
lines that do not parse are dropped, FunSearch-style; the first reading that
yields a usable function wins. What makes it the function that runs (its
helpers kept, renamed, checked) is `code_text.candidate_function`, the same
path a candidate file takes.
"""

from __future__ import annotations

import ast
import re
import textwrap

from evoforge.agents.base import COMPLETION
from evoforge.code_text import CodeTextError, candidate_function, code_hash
from evoforge.records import Candidate
from evoforge.spec import ProblemSpec

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
CODE_START = re.compile(r"^(?:import|from|@|class)\b|(?:^|(?<=\s))def\s+\w+\s*\(", re.MULTILINE)


def parse_candidate(
    text: str, spec: ProblemSpec, mode: str, header: str | None = None, truncated: bool = False
) -> Candidate:
    """The evolved function found in `text`, named `spec.evolve_name`, or why there is none.

    `truncated` (the model hit max_tokens) drops the last line, which may stop mid-word.
    """
    if truncated and "\n" in text.strip():
        text = text.rstrip().rsplit("\n", 1)[0] + "\n"
    if not text.strip():
        return Candidate(None, None, "empty output")
    reasons: list[str] = []
    for reading in _readings(text, mode, header):
        try:
            code = _extract(reading, spec)
        except CodeTextError as failure:
            reasons.append(failure.reason)
            continue
        return Candidate(code, code_hash(code))
    return Candidate(None, None, _best_reason(reasons))


def _readings(text: str, mode: str, header: str | None) -> list[str]:
    """The ways to read the text, most specific first."""
    readings = [block for lang, block in FENCE.findall(text) if lang.lower() in {"", "python", "py"}]
    readings.reverse()  # a model that corrects itself puts the final version last
    if mode == COMPLETION and header is not None and not text.lstrip().startswith(("def ", "```")):
        readings.append(header + text)
        readings.append(header + _reindent(text, header))
    match = CODE_START.search(text)
    if match:
        readings.append(text[match.start() :])
    return readings


def _reindent(body: str, header: str) -> str:
    """A continuation indented differently from the header's docstring, moved to match it."""
    indent = re.match(r"[ \t]*", header.splitlines()[-1])
    return textwrap.indent(textwrap.dedent(body), indent.group(0) if indent else "    ")


def _extract(source: str, spec: ProblemSpec) -> str:
    tree, source = _parse_prefix(source)
    return candidate_function(source, tree, spec)


def _parse_prefix(source: str) -> tuple[ast.Module, str]:
    """Parse, dropping trailing lines until what is left parses (truncated output, chatter)."""
    lines = source.rstrip().splitlines()
    first_error: SyntaxError | None = None
    while lines:
        text = "\n".join(lines) + "\n"
        try:
            return ast.parse(text), text
        except SyntaxError as error:
            first_error = first_error or error
            cut = (error.lineno or len(lines)) - 1
            lines = lines[: min(cut, len(lines) - 1)]
    detail = "no code"
    if first_error:
        detail = first_error.msg + (f" (line {first_error.lineno})" if first_error.lineno else "")
    raise CodeTextError(f"syntax error: {detail}")


def _best_reason(reasons: list[str]) -> str:
    """The most informative failure: a signature or naming problem beats a syntax error."""
    for prefix in ("calls an earlier version", "wrong signature", "function `", "no function named",
                   "syntax error"):
        for reason in reasons:
            if reason.startswith(prefix):
                return reason
    return reasons[0] if reasons else "no Python code in the output"
