"""Read a hand-written candidate function from a file for `evoforge evaluate`."""

from __future__ import annotations

import ast
from pathlib import Path

from evoforge.code_text import rename_function
from evoforge.spec import function_source
from evoforge.spec_errors import SpecError


def read_candidate_function(path: Path, evolve_name: str) -> str:
    """The function named `evolve_name` in the file, or its only function, renamed to it.

    The candidate runs in a copy of the spec's namespace, so the spec's imports
    are in scope and the file's own module-level imports are not needed.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such candidate file.")
    source = path.read_text()
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise SpecError(f"{path}:{error.lineno}: syntax error: {error.msg}.") from None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    named = [n for n in functions if n.name == evolve_name]
    if named:
        return function_source(source, named[-1])
    if len(functions) == 1:
        return rename_function(function_source(source, functions[0]), evolve_name)
    raise SpecError(
        f"{path}: expected a function named {evolve_name}() (or a file with exactly one function); "
        f"found {[n.name for n in functions] or 'none'}."
    )
