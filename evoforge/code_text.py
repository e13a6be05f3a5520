"""Candidate code as text: the one path from written code to the function that runs.

A candidate from a file (`evoforge evaluate`) and one from the LLM
(`agents/parsing.py`) both go through `candidate_function`: the evolved
function is chosen, checked (a body, the spec's arguments, no call to an
earlier version of itself, which FunSearch rejects too, since `f_v0` does not
exist when the candidate runs), the imports, helpers and constants it uses are
moved into it (`hoisting.py`), and it and its recursive calls are renamed to
the spec's evolved name with the tokenizer, so comments and strings are left alone.

Two candidates that differ only in comments, docstrings, blank lines or the
function's name are the same program: they hash the same, so the run pays for
evaluating it once.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize

from evoforge.hoisting import dependencies, hoist, is_docstring, plain_body
from evoforge.spec import ProblemSpec


class CodeTextError(ValueError):
    """Why a text gives no usable function: `reason` is one line, `line` where (when known)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def candidate_function(source: str, tree: ast.Module, spec: ProblemSpec) -> str:
    """The function to run, named `spec.evolve_name`, with what it needs from `source` inside it.

    A kind that evolves something else (an OpenEvolve block) names its own `candidate_function` hook.
    """
    from evoforge.kinds import kind_hook

    own = kind_hook(spec.kind, "candidate_function")
    if own is not None:
        return own(source, tree, spec)
    function = choose_function(tree, spec.evolve_name)
    if not plain_body(function):
        raise CodeTextError(f"function `{function.name}` has an empty body", function.lineno)
    check_signature(function, spec)
    needed = dependencies(tree, function, spec.source)
    reject_earlier_versions([function, *needed], function.name, spec.evolve_name)
    code = hoist(source, function, needed)
    return rename_calls(code, function.name, spec.evolve_name)


def choose_function(tree: ast.Module, evolve_name: str) -> ast.FunctionDef:
    """The last function named f_vK or f; else the only function there is."""
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not functions:
        raise CodeTextError("no function definition")
    named = [f for f in functions if _versioned(evolve_name).fullmatch(f.name) or f.name == evolve_name]
    if named:
        return named[-1]
    if len(functions) == 1:
        return functions[0]
    names = ", ".join(f.name for f in functions)
    raise CodeTextError(f"no function named `{evolve_name}` among {names}", functions[-1].lineno)


def check_signature(function: ast.FunctionDef, spec: ProblemSpec) -> None:
    """It must accept the evolved function's positional arguments, as the spec calls it."""
    expected = _expected_arguments(spec.seed_code)
    args = function.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    required = len(positional) - len(args.defaults)
    fits = required <= len(expected) and (len(positional) >= len(expected) or args.vararg is not None)
    if not fits:
        raise CodeTextError(
            f"wrong signature: `{function.name}({', '.join(positional)})`, expected ({', '.join(expected)})",
            function.lineno,
        )


def reject_earlier_versions(nodes: list[ast.stmt], own_name: str, evolve_name: str) -> None:
    """A call to `f_vK` other than the function itself: an ancestor that will not be there when it runs."""
    pattern = _versioned(evolve_name)
    for node in nodes:
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id != own_name and pattern.fullmatch(call.func.id)):
                raise CodeTextError(
                    f"calls an earlier version: `{call.func.id}()` will not exist when the candidate runs",
                    call.lineno,
                )


def rename_calls(code: str, old_name: str, new_name: str) -> str:
    """Rename `old_name(`, its definition and its calls, token by token: comments, strings and
    attributes (`self.old_name(`) keep their text."""
    if old_name == new_name:
        return code
    lines = code.splitlines(keepends=True)
    for row, column in reversed(_call_positions(code, old_name)):
        line = lines[row - 1]
        lines[row - 1] = line[:column] + new_name + line[column + len(old_name) :]
    return "".join(lines)


def _call_positions(code: str, name: str) -> list[tuple[int, int]]:
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
                  if t.type not in (tokenize.NL, tokenize.COMMENT)]
    except (tokenize.TokenError, SyntaxError) as error:
        raise CodeTextError(f"syntax error: {error}") from None
    return [
        token.start
        for before, token, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True)
        if token.type == tokenize.NAME and token.string == name
        and after is not None and after.string == "("
        and (before is None or before.string != ".")
    ]


def _versioned(evolve_name: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(evolve_name)}_v\d+")


def _expected_arguments(seed_code: str) -> list[str]:
    for node in ast.parse(seed_code).body:
        if isinstance(node, ast.FunctionDef):
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    return []


def normalized_code(code: str) -> str:
    """Canonical text: parsed, docstrings dropped, function named `f`, re-printed."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if body and is_docstring(body[0]):
                node.body = body[1:] or [ast.Pass()]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.name = "f"
            break
    return ast.unparse(tree)


def code_hash(code: str) -> str:
    """SHA-256 of the normalized code: the dedup key (non-Python text, e.g. Lean: whitespace-folded)."""
    try:
        canonical = normalized_code(code)
    except SyntaxError:
        canonical = " ".join(code.split())
    return hashlib.sha256(canonical.encode()).hexdigest()

