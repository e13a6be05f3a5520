"""Turn whatever a model wrote into one function, or one line saying why not.

Models wrap code in markdown fences, talk before and after it, rewrite the
whole file, continue only the body, stop mid-line, or rename the function.
Each reading of the text is tried in turn (fenced blocks, the prompt's header
plus the continuation, the raw text from its first line of code); trailing
lines that do not parse are dropped, FunSearch-style; the first reading that
yields a usable function wins and is renamed to the spec's evolved name.
"""

from __future__ import annotations

import ast
import re
import textwrap

from evoforge.agents.base import COMPLETION
from evoforge.agents.hoisting import hoist_dependencies, plain_body
from evoforge.code_text import code_hash, rename_function
from evoforge.records import Candidate
from evoforge.spec import ProblemSpec

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
CODE_START = re.compile(r"^(?:import|from|@|class)\b|(?:^|(?<=\s))def\s+\w+\s*\(", re.MULTILINE)


class ParseFailure(ValueError):
    """A reading of the text that gives no usable function; the message is the reason."""


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
        except ParseFailure as failure:
            reasons.append(str(failure))
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
    function = _choose_function(tree, spec.evolve_name)
    if not plain_body(function):
        raise ParseFailure(f"function `{function.name}` has an empty body")
    _check_signature(function, spec)
    code = hoist_dependencies(source, tree, function, spec)
    code = re.sub(rf"\b{re.escape(function.name)}\b(?=\s*\()", spec.evolve_name, code)
    return rename_function(code, spec.evolve_name)


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
    detail = f"{first_error.msg} (line {first_error.lineno})" if first_error else "no code"
    raise ParseFailure(f"syntax error: {detail}")


def _choose_function(tree: ast.Module, evolve_name: str) -> ast.FunctionDef:
    """The last function named f_vK or f; else the only function there is."""
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not functions:
        raise ParseFailure("no function definition in the output")
    versioned = re.compile(rf"{re.escape(evolve_name)}(?:_v\d+)?")
    named = [f for f in functions if versioned.fullmatch(f.name)]
    if named:
        return named[-1]
    if len(functions) == 1:
        return functions[0]
    names = ", ".join(f.name for f in functions)
    raise ParseFailure(f"no function named `{evolve_name}` among {names}")


def _check_signature(function: ast.FunctionDef, spec: ProblemSpec) -> None:
    """It must accept the evolved function's positional arguments, as the spec calls it."""
    expected = _expected_arguments(spec)
    args = function.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    required = len(positional) - len(args.defaults)
    fits = required <= len(expected) and (len(positional) >= len(expected) or args.vararg is not None)
    if not fits:
        raise ParseFailure(
            f"wrong signature: `{function.name}({', '.join(positional)})`, expected ({', '.join(expected)})"
        )


def _expected_arguments(spec: ProblemSpec) -> list[str]:
    for node in ast.parse(spec.seed_code).body:
        if isinstance(node, ast.FunctionDef):
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    return []


def _best_reason(reasons: list[str]) -> str:
    """The most informative failure: a signature or naming problem beats a syntax error."""
    for prefix in ("wrong signature", "function `", "no function named", "syntax error"):
        for reason in reasons:
            if reason.startswith(prefix):
                return reason
    return reasons[0] if reasons else "no Python code in the output"
