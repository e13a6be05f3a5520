"""Defences against a candidate that corrupts its own score from inside the process.

The candidate runs in the same interpreter as the spec's `@run` function, so
it could patch `np.argmax` or `builtins.len` and make a bad program score
well. Two cheap checks make that a recorded error instead:

- `reject_escape_hatches` refuses, before anything runs, code that names the
  frame and introspection attributes a candidate would need to reach the
  spec's namespace or the harness (`f_back`, `__globals__`, `gc`, ...).
- `TamperGuard` snapshots the identity of every global name and attribute
  chain the spec's own code uses (plus all builtins) and checks them with a
  tuple of `is` tests after each candidate call.

Neither is a proof: a determined candidate with ctypes can rewrite memory.
What they stop is the monkey-patching an LLM actually writes; the process
boundary, not these checks, is what keeps the host safe.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from typing import Any

ESCAPE_ATTRIBUTES = frozenset({
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "_getframe", "__globals__",
    "__builtins__", "gi_frame", "cr_frame", "ag_frame", "gi_code", "tb_frame", "tb_next",
    "__subclasses__", "get_referrers", "get_referents", "get_objects", "__closure__",
    "__code__", "func_globals", "__self__", "_current_frames", "settrace", "setprofile",
    "__dict__", "__reduce_ex__", "__mro__", "__bases__",
})
# Plain words that are only dangerous as an attribute (`sys.modules` reaches the harness).
ESCAPE_ATTRIBUTES_ONLY = frozenset({"modules"})
ESCAPE_MODULES = frozenset({"gc", "inspect"})
_MISSING = object()


class TamperedError(Exception):
    """The candidate rebound a name the spec's scoring code relies on."""


def reject_escape_hatches(code: str) -> str | None:
    """The reason `code` is refused before running, or None if it may run."""
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return f"syntax error: {error.msg} (line {error.lineno})"
    except (MemoryError, RecursionError, ValueError) as error:  # "x = ----...1": too deep to parse
        return f"rejected: too complex to parse ({type(error).__name__})"
    for node in ast.walk(tree):
        reason = _escape_reason(node)
        if reason:
            return f"rejected: {reason} (line {getattr(node, 'lineno', '?')})"
    return None


def _escape_reason(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and node.attr in ESCAPE_ATTRIBUTES | ESCAPE_ATTRIBUTES_ONLY:
        return f"uses the introspection attribute {node.attr}"
    if isinstance(node, ast.Name) and node.id in ESCAPE_ATTRIBUTES:
        return f"uses the name {node.id}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        hit = next((word for word in ESCAPE_ATTRIBUTES if word in node.value), None)
        if hit:
            return f"spells the introspection name {hit} in a string"
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        hit = next((n for n in names if n.split(".")[0] in ESCAPE_MODULES), None)
        if hit:
            return f"imports the introspection module {hit}"
    return None


def used_chains(tree: ast.AST, skip_function: str) -> set[tuple[str, ...]]:
    """Dotted names (`np`, `np.random.default_rng`, `len`) read by the spec outside the evolved function."""
    chains: set[tuple[str, ...]] = set()
    for node in _walk_except(tree, skip_function):
        if isinstance(node, ast.Attribute):
            chain = _chain(node)
            if chain:
                chains.update(chain[:i] for i in range(1, len(chain) + 1))
        elif isinstance(node, ast.Name):
            chains.add((node.id,))
    return {chain for chain in chains if chain[0] != skip_function}  # rebound on purpose


def _walk_except(tree: ast.AST, skip_function: str) -> Iterator[ast.AST]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == skip_function:
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _chain(node: ast.Attribute) -> tuple[str, ...] | None:
    parts: list[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    return (current.id, *reversed(parts))


class TamperGuard:
    """Identities of what the spec's scoring code reads, checked after each candidate call.

    Everything is recorded when the guard is made, before any candidate
    exists (in a fork server, once, before the first fork), so that what a
    candidate's top-level code changes while it is loaded is caught too.
    """

    def __init__(self, namespace: dict[str, Any], chains: set[tuple[str, ...]],
                 evolved_name: str = "") -> None:
        self._namespace = namespace
        self._builtins = builtins.__dict__
        self._builtin_items = tuple(self._builtins.items())
        self._builtin_values = tuple(self._builtins.values())
        stable = []
        for chain in sorted(chains):
            first, second = self._resolve(chain), self._resolve(chain)
            if first is not _MISSING and first is second:
                stable.append((chain, first))
        self._chains = tuple(stable)
        self._fast_check = _compiled_checker(self._chains)
        self._values = tuple(value for _, value in self._chains)
        self._evolved_name = evolved_name
        self._evolved = namespace.get(evolved_name, _MISSING)
        self._namespace_items = tuple(item for item in namespace.items() if item[0] != evolved_name)
        self.tampered: str | None = None

    def bind_evolved(self, function: Any) -> None:
        """Bind `function` under the evolved name, once the spec's other bindings proved untouched."""
        self._check_namespace()
        self._namespace[self._evolved_name] = self._evolved = function

    def _resolve(self, chain: tuple[str, ...]) -> Any:
        value = self._namespace.get(chain[0], _MISSING)
        if value is _MISSING:
            value = self._builtins.get(chain[0], _MISSING)
        for attr in chain[1:]:
            if value is _MISSING:
                return _MISSING
            try:
                value = getattr(value, attr, _MISSING)
            except Exception:  # a lazy attribute that fails to load is simply not tracked
                return _MISSING
        return value

    def check_used(self) -> None:
        """The per-call check: only what the scoring code reads, as generated straight-line `is` tests."""
        try:
            changed = self._fast_check(self._namespace, self._builtins, _MISSING, self._values)
        except Exception:  # an attribute that now raises on access: find which one the slow way
            changed = "?"
        if changed is not None:
            self._check_used_slowly()
            self._fail(changed)

    def _check_used_slowly(self) -> None:
        for chain, value in self._chains:
            if self._resolve(chain) is not value:
                self._fail(".".join(chain))

    def check_all(self) -> None:
        """The final check: used chains, every builtin and every spec-level binding, by identity."""
        self.check_used()
        # Position by position, touching the values only: in a freshly forked trial, reading the names
        # too copies some 60 more pages. A builtin deleted or moved fails here as well; one added after
        # the snapshot is nothing the spec's code reads.
        if len(self._builtins) < len(self._builtin_values):
            self._find_changed_builtin()
        for value, current in zip(self._builtin_values, self._builtins.values(), strict=False):
            if current is not value:
                self._find_changed_builtin()
        self._check_namespace()
        if self.tampered:
            raise TamperedError(self.tampered)

    def _find_changed_builtin(self) -> None:
        for name, value in self._builtin_items:
            if self._builtins.get(name, _MISSING) is not value:
                self._fail(f"builtins.{name}")
        self._fail("builtins")  # every name still bound to its object, but the order changed

    def _check_namespace(self) -> None:
        if self._namespace.get(self._evolved_name, _MISSING) is not self._evolved:
            self._fail(self._evolved_name)
        for name, value in self._namespace_items:
            if self._namespace.get(name, _MISSING) is not value:
                self._fail(name)

    def _fail(self, name: str) -> None:
        self.tampered = self.tampered or name
        raise TamperedError(name)


def _compiled_checker(chains: tuple[tuple[tuple[str, ...], Any], ...]) -> Any:
    """A function doing every identity test of `chains` inline: ~5x faster than a loop of getattr.

    Names come from the spec's ast (identifiers only) and enter the source as
    repr'd string literals, so the generated code is fixed by the spec, not
    by any candidate.
    """
    lines = ["def check(_ns, _bi, _M, _o):"]
    variable: dict[tuple[str, ...], str] = {}
    for index, (chain, _) in enumerate(chains):  # sorted: a prefix comes before its extensions
        name = f"_v{index}"
        if len(chain) == 1:
            lines += [f"    {name} = _ns.get({chain[0]!r}, _M)",
                      f"    if {name} is _M: {name} = _bi.get({chain[0]!r}, _M)"]
        else:
            parent = variable.get(chain[:-1])
            source = parent if parent else _nested_getattr(variable, chain[:-1])
            lines.append(f"    {name} = getattr({source}, {chain[-1]!r}, _M)")
        lines.append(f"    if {name} is not _o[{index}]: return {'.'.join(chain)!r}")
        variable[chain] = name
    lines.append("    return None")
    scope: dict[str, Any] = {"__builtins__": {"getattr": getattr}}
    exec("\n".join(lines), scope)
    return scope["check"]


def _nested_getattr(variable: dict[tuple[str, ...], str], chain: tuple[str, ...]) -> str:
    """getattr(getattr(root, 'a', _M), 'b', _M) from the nearest ancestor that has a variable."""
    for cut in range(len(chain), 0, -1):
        if chain[:cut] in variable:
            expression = variable[chain[:cut]]
            break
    else:
        expression, cut = f"_ns.get({chain[0]!r}, _bi.get({chain[0]!r}, _M))", 1
    for attr in chain[cut:]:
        expression = f"getattr({expression}, {attr!r}, _M)"
    return expression
