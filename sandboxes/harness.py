"""How one candidate is run against one input, the same in every sandbox mode.

The spec runs as a module of its own. The candidate is executed in a copy of
that module's globals, so it sees `np` and the spec's helpers but rebinding a
global touches only its copy; the spec's evolved name is then bound to a
guarded wrapper and the spec's `@run` function is called with the input.
Everything the candidate does surfaces as a one-line error, never as an
exception out of `run_trial`.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from evoforge.sandboxes.guard import TamperedError, TamperGuard, reject_escape_hatches, used_chains
from evoforge.sandboxes.probes import ProbeCalls
from evoforge.sandboxes.scores import checked_outcome, short

SPEC_MODULE = "evoforge_problem_spec"
# Imported by a sandbox before the spec, so that a candidate's `import copy` costs nothing: modules that
# numpy or the sandbox load anyway, or that map no library of their own (in a fork server every
# trial pays for each mapping the server holds, at its fork and its exit). Anything else a candidate
# imports (numpy.random: about 20 ms) it imports itself, in its own trial.
# Not `threading` (nor `logging` or `subprocess`, which import it): its after-fork hook runs in every
# forked trial and copies some 120 pages the server shares with it (~1 ms a trial, a fifth of the overhead;
# `random`'s reseeding hook costs a tenth of that). A candidate that imports threading pays for it itself.
WARM_IMPORTS = ("numpy", "math", "random", "itertools", "functools", "collections", "dataclasses", "typing",
                "copy", "re", "time", "operator", "json", "string", "ctypes", "numpy.linalg")


def import_warm_modules() -> None:
    for name in WARM_IMPORTS:
        importlib.import_module(name)


def install_shims() -> None:
    """Make `import funsearch` work for DeepMind's unchanged spec files."""
    if "funsearch" in sys.modules:
        return
    from evoforge import spec_api

    shim = types.ModuleType("funsearch", "Identity decorators standing in for DeepMind's funsearch.")
    shim.evolve = spec_api.evolve  # type: ignore[attr-defined]
    shim.run = spec_api.run  # type: ignore[attr-defined]
    sys.modules["funsearch"] = shim


def bind_markers(namespace: dict[str, Any]) -> None:
    """Bind `funsearch` and `evoforge` in a spec's globals before it runs.

    DeepMind's published specs decorate with `@funsearch.run` without importing
    anything; an `import` in the spec simply rebinds the same names.
    """
    import evoforge

    namespace.setdefault("funsearch", sys.modules["funsearch"])
    namespace.setdefault("evoforge", evoforge)


@dataclass(frozen=True)
class SpecProgram:
    """A spec's source compiled once; `instantiate` gives a fresh module namespace."""

    source: str
    filename: str
    evolve_name: str
    run_name: str

    def instantiate(self) -> PreparedSpec:
        """Execute the spec's top level (trusted code) and snapshot what it reads."""
        install_shims()
        tree = ast.parse(self.source, filename=self.filename)
        module = types.ModuleType(SPEC_MODULE)
        module.__file__ = self.filename
        bind_markers(module.__dict__)
        sys.modules[SPEC_MODULE] = module  # dataclasses and pickling look their module up here
        exec(compile(tree, self.filename, "exec"), module.__dict__)
        namespace = module.__dict__
        guard = TamperGuard(namespace, used_chains(tree, self.evolve_name), self.evolve_name)
        return PreparedSpec(self, namespace, namespace[self.run_name], guard)


@dataclass(frozen=True)
class PreparedSpec:
    """A live spec namespace, its `@run` function and the guard over what it reads."""

    program: SpecProgram
    namespace: dict[str, Any]
    run_function: Callable[[Any], Any]
    guard: TamperGuard

    def candidate_globals(self) -> dict[str, Any]:
        """A copy of the spec namespace for one candidate to run in."""
        return dict(self.namespace)


MAX_CODE_CHARS = 200_000


def compile_candidate(code: str) -> CodeType | str:
    """The candidate compiled, or why it may not run: done before any process is forked for it."""
    if len(code) > MAX_CODE_CHARS:
        return f"rejected: the candidate is longer than {MAX_CODE_CHARS} characters"
    reason = reject_escape_hatches(code)
    if reason:
        return reason
    try:
        return compile(code, "<candidate>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        return short(f"candidate does not compile: {_name(error)}: {_text(error)}")


def run_trial(prepared: PreparedSpec, code: str | CodeType, value: Any) -> dict[str, Any]:
    """{"score": float}, {"score": float, "data": [...]} or {"error": "..."}: the candidate's whole
    effect, as data."""
    compiled = compile_candidate(code) if isinstance(code, str) else code
    if isinstance(compiled, str):
        return {"error": compiled}
    try:
        score_value = _score(prepared, compiled, value)
    except _Refused as refused:
        return {"error": str(refused)}
    except TamperedError as error:
        return {"error": f"candidate tampered with {error}"}
    except MemoryError as error:
        return {"error": short(f"memory limit: {_name(error)} {_text(error)}")}
    except RecursionError:
        return {"error": "recursion limit: the candidate recursed too deeply"}
    except BaseException as error:  # SystemExit, KeyboardInterrupt: all the candidate's doing
        return {"error": short(f"{_name(error)}: {_text(error)}")}
    return checked_outcome(score_value)


class _Refused(Exception):
    """The candidate cannot be run at all (load error, missing function)."""


TRIAL_RANDOM_SEED = 0


def _seed_global_randomness(compiled: CodeType) -> None:
    """Every trial starts from the same global random state (Python's and NumPy's), so a candidate
    that draws from it scores the same each time it is scored: a report's held-out score is then
    the one the run saw, and `compare` re-scores it alike. numpy.random is not a warm import (it
    imports threading, whose after-fork hook every trial would pay), so a candidate that names
    `random` loads it here, as it would on its first draw; a spec that loaded it is seeded too."""
    import random

    random.seed(TRIAL_RANDOM_SEED)
    if "numpy.random" not in sys.modules and "numpy" in sys.modules and "random" in _names(compiled):
        importlib.import_module("numpy.random")
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed(TRIAL_RANDOM_SEED)


def _names(code: CodeType) -> set[str]:
    """Every global and attribute name the code and the functions it defines use (a loop, not
    recursion: a candidate may nest a thousand lambdas)."""
    names: set[str] = set()
    waiting = [code]
    while waiting:
        current = waiting.pop()
        names.update(current.co_names)
        waiting.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return names


def _score(prepared: PreparedSpec, compiled: CodeType, value: Any) -> Any:
    program, guard = prepared.program, prepared.guard
    _seed_global_randomness(compiled)
    candidate_globals = prepared.candidate_globals()
    try:
        exec(compiled, candidate_globals)
    except BaseException as error:
        raise _Refused(short(f"candidate failed to load: {_name(error)}: {_text(error)}")) from None
    candidate = candidate_globals.get(program.evolve_name)
    if not callable(candidate):
        raise _Refused(f"the candidate does not define {program.evolve_name}()")
    guard.bind_evolved(_guarded(candidate, guard))
    if isinstance(value, ProbeCalls):  # a fingerprint trial: the evolved function on recorded calls
        score_value = value.outcome(prepared.namespace[program.evolve_name])
    else:
        score_value = prepared.run_function(value)
    guard.check_all()
    return score_value


def _guarded(candidate: Callable[..., Any], guard: TamperGuard) -> Callable[..., Any]:
    def evolved(*args: Any, **kwargs: Any) -> Any:
        result = candidate(*args, **kwargs)
        guard.check_used()
        return result

    return evolved


def _name(error: BaseException) -> str:
    name = type(error).__name__
    return name if isinstance(name, str) else "Exception"


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a candidate-defined exception whose __str__ itself raises
        return "<unprintable>"
