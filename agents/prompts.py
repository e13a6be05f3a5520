"""FunSearch's best-shot prompt, for completion models and for chat models.

Completion form (as in the FunSearch paper): the spec's preface, then the k
parent programs sorted from worst to best and renamed `f_v0 .. f_v{k-1}`,
then the header `def f_v{k}(...):` with the docstring "Improved version of
`f_v{k-1}`." for the model to continue (a prompt that repeats adds its hint
there: evoforge.sample_variety). Chat form: the same programs in a
message that asks for one improved function named `f` in a ```python block.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from evoforge.agents.base import CHAT, COMPLETION
from evoforge.agents.strategies import DEFAULT_STRATEGY
from evoforge.code_text import rename_calls
from evoforge.hoisting import is_docstring
from evoforge.records import Prompt
from evoforge.spec import ProblemSpec

SYSTEM_MESSAGE = (
    "You are an expert Python programmer taking part in an evolutionary search over programs. "
    "Each reply is exactly one complete Python function in a ```python code block, with no "
    "explanation. Use only the imports and helpers already shown."
)
# Where a completion model has finished the function (FunSearch trims here too).
MARKER_MODULES = {"funsearch", "evoforge"}
COMPLETION_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\n@")
ERROR_CHARS = 200  # the characters of each recent error a prompt shows


@dataclass(frozen=True)
class RenderedPrompt:
    """The text sent to the model, and what the parser needs to read the answer."""

    mode: str
    text: str
    messages: tuple[tuple[str, str], ...] | None
    header: str | None
    versioned_name: str
    base_code: str | None = None  # the program a diff answer edits (the diff strategy)
    strategy: str = DEFAULT_STRATEGY  # which strategy built it, and so parses its answers


def build_prompt(spec: ProblemSpec, prompt: Prompt, mode: str) -> RenderedPrompt:
    versions = versioned_functions(spec.evolve_name, prompt)
    k = len(versions)
    name = f"{spec.evolve_name}_v{k}"
    if mode == COMPLETION:
        asked = f"Improved version of `{spec.evolve_name}_v{k - 1}`."
        docstring = f"{asked} {prompt.hint}" if prompt.hint else asked
        header = function_header(versions[-1] if versions else spec.seed_code, name, docstring)
        text = "\n\n\n".join([preface(spec), *versions, header]).lstrip("\n")
        return RenderedPrompt(COMPLETION, text, None, header, name)
    if mode != CHAT:
        raise ValueError(f"unknown prompt mode {mode!r}")
    messages = (("system", SYSTEM_MESSAGE), ("user", chat_request(spec, versions, prompt.hint)))
    text = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
    return RenderedPrompt(CHAT, text, messages, None, name)


def chat_request(spec: ProblemSpec, versions: list[str], hint: str | None = None) -> str:
    name = spec.evolve_name
    parts = problem_line(spec)
    parts.append(f"The code the function runs in:\n```python\n{preface(spec)}\n```")
    shown = "\n\n\n".join(versions)
    parts.append(f"Earlier versions of `{name}`, from worse to better:\n```python\n{shown}\n```")
    parts += spec_notes(spec)
    parts.append(
        f"Write an improved version of `{name}` that scores better than "
        f"`{name}_v{len(versions) - 1}`. Keep the same arguments and name it `{name}`. "
        "Reply with the function only, in one ```python block."
    )
    if hint:
        parts.append(hint)
    return "\n\n".join(parts)


def problem_line(spec: ProblemSpec) -> list[str]:
    """The spec's description as the prompt's first part (none if empty): the model's only account
    of the problem in words, so its numbers are numbers the model may copy into code."""
    description = spec.description.strip()
    return [f"Problem: {description}"] if description else []


def recent_errors(prompt: Prompt) -> list[str]:
    """The island's recent failures, one line each (none if there are none); one line is enough
    to steer away from an error, and the whole traceback would crowd out the parents."""
    if not prompt.recent_errors:
        return []
    errors = "\n".join(f"- {error[:ERROR_CHARS]}" for error in prompt.recent_errors)
    return [f"Recent attempts failed with these errors; avoid them:\n{errors}"]


def spec_notes(spec: ProblemSpec) -> list[str]:
    """The spec author's `[prompt] notes` as a prompt part (none if empty): every prompt that
    describes the problem in words carries them, whatever the strategy."""
    notes = spec.prompt_notes.strip()
    return [f"Notes: {notes}"] if notes else []


def versioned_functions(evolve_name: str, prompt: Prompt) -> list[str]:
    """Parents sorted by score (worst first), renamed f_v0.., later docstrings rewritten."""
    order = sorted(range(len(prompt.parent_codes)), key=lambda i: prompt.parent_scores[i])
    versions = []
    for position, index in enumerate(order):
        code = prompt.parent_codes[index].strip() + "\n"
        code = rename_calls(code, evolve_name, f"{evolve_name}_v{position}")
        if position >= 1:
            code = set_docstring(code, f"Improved version of `{evolve_name}_v{position - 1}`.")
        versions.append(code.rstrip("\n"))
    return versions


def set_docstring(code: str, docstring: str) -> str:
    """Replace (or add) the function's docstring, keeping the body's indentation."""
    node = _first_function(code)
    lines = code.splitlines()
    first = node.body[0]
    indent = " " * first.col_offset
    new = [f'{indent}"""{docstring}"""']
    if is_docstring(first):
        lines[first.lineno - 1 : first.end_lineno] = new
    else:
        lines[first.lineno - 1 : first.lineno - 1] = new
    return "\n".join(lines) + "\n"


def function_header(code: str, name: str, docstring: str) -> str:
    """`def name(<the parent's arguments>) -> <its return type>:` plus the docstring line."""
    node = _first_function(code)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    indent = " " * node.body[0].col_offset if node.body[0].lineno > node.lineno else "    "
    return f'def {name}({ast.unparse(node.args)}){returns}:\n{indent}"""{docstring}"""\n'


def preface(spec: ProblemSpec) -> str:
    """The spec without the evolved function and the @run entry point (nor their marks)."""
    lines = spec.source.splitlines()
    tree = ast.parse(spec.source)
    drop: set[int] = set()
    for node in tree.body:
        if _is_marker_import(node):
            drop.update(range(node.lineno - 1, node.end_lineno or node.lineno))
        elif isinstance(node, ast.FunctionDef) and node.name in {spec.evolve_name, spec.run_name}:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # the commented-out `# @funsearch.evolve` marks of DeepMind's notebooks
            drop.update(range(start, node.end_lineno or node.lineno))
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return re.sub(r"\n{3,}", "\n\n\n", kept).strip("\n")


def _is_marker_import(node: ast.stmt) -> bool:
    """`import funsearch` / `from evoforge import evolve, run`: only there for the marks."""
    if isinstance(node, ast.ImportFrom):
        root = (node.module or "").split(".")[0]
        return root in MARKER_MODULES and all(a.name in {"evolve", "run"} for a in node.names)
    if isinstance(node, ast.Import):
        return all(alias.name in MARKER_MODULES for alias in node.names)
    return False


def _first_function(code: str) -> ast.FunctionDef:
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef):
            return node
    raise ValueError("no function definition in parent code")

