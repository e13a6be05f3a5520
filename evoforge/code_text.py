"""Function text helpers shared by the database, the agents and the evaluators.

Two candidates that differ only in comments, docstrings, blank lines or the
function's name are the same program: they hash the same, so the run pays for
evaluating it once.
"""

from __future__ import annotations

import ast
import hashlib


def rename_function(code: str, new_name: str) -> str:
    """Rename the single top-level function in `code` (text-preserving where possible)."""
    tree = ast.parse(code)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions:
        raise ValueError("no function definition")
    node = functions[0]
    lines = code.splitlines()
    line = lines[node.lineno - 1]
    head = f"def {node.name}"
    if head in line:
        lines[node.lineno - 1] = line.replace(head, f"def {new_name}", 1)
        return "\n".join(lines) + "\n"
    node.name = new_name
    return ast.unparse(node) + "\n"


def normalized_code(code: str) -> str:
    """Canonical text: parsed, docstrings dropped, function named `f`, re-printed."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if body and _is_docstring(body[0]):
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


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
