"""Keep what a generated function needs when only the function is kept.

A candidate is one function that replaces the evolved one in the spec. Models
often write `import math` or a small helper above it; dropping those would
turn a good idea into a NameError. Such imports, helpers and constants that
the spec does not already provide are moved inside the function's body.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import textwrap

_BUILTINS = frozenset(dir(builtins))


def plain_body(function: ast.FunctionDef) -> list[ast.stmt]:
    """The body without its docstring, `pass` and `...`: empty means nothing was written."""
    return [
        s
        for s in function.body
        if not isinstance(s, ast.Pass) and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]


def hoist(source: str, function: ast.FunctionDef, needed: list[ast.stmt]) -> str:
    """The function's text (without decorators), with the `needed` statements moved into its body."""
    lines = source.splitlines()
    own = lines[function.lineno - 1 : function.end_lineno]
    if not needed:
        return "\n".join(own) + "\n"
    first = function.body[0]
    if first.lineno == function.lineno:  # `def f(x): return g(x)`: no line of its own to insert before
        inlined = copy.copy(function)
        inlined.body, inlined.decorator_list = [*needed, *function.body], []
        return ast.unparse(inlined) + "\n"
    indent = " " * first.col_offset
    pieces = [
        textwrap.indent(ast.get_source_segment(source, node, padded=False) or "", indent) for node in needed
    ]
    after_docstring = first.end_lineno if is_docstring(first) else first.lineno - 1
    at = (after_docstring or function.lineno) - function.lineno + 1
    return "\n".join([*own[:at], *pieces, *own[at:]]) + "\n"


def dependencies(tree: ast.Module, function: ast.FunctionDef, spec_source: str) -> list[ast.stmt]:
    """Top-level statements of the text that define names the function needs, transitively,
    leaving out what the spec's module already defines."""
    provided = _spec_names(spec_source)
    providers = {name: node for node in tree.body if node is not function for name in _bound_names(node)}
    chosen: list[ast.stmt] = []
    wanted = [n for n in _free_names(function) if n not in provided]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in providers:
            continue
        seen.add(name)
        node = providers[name]
        if node not in chosen:
            chosen.append(node)
            wanted.extend(n for n in _free_names(node) if n not in provided)
    return sorted(chosen, key=lambda node: node.lineno)


def _free_names(node: ast.AST) -> list[str]:
    loaded, stored = [], set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loaded.append if isinstance(child.ctx, ast.Load) else stored.add)(child.id)
        elif isinstance(child, ast.arg):
            stored.add(child.arg)
        elif isinstance(child, ast.FunctionDef | ast.ClassDef) and child is not node:
            stored.add(child.name)
    return [n for n in dict.fromkeys(loaded) if n not in stored and n not in _BUILTINS]


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


@functools.lru_cache(maxsize=32)
def _spec_names(source: str) -> frozenset[str]:
    """Names the spec's module defines, so the candidate may use them as they are."""
    return frozenset(name for node in ast.parse(source).body for name in _bound_names(node))


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
