"""The in-process defences: static rejection of escape hatches and the tamper guard."""

from __future__ import annotations

import ast
import builtins

import numpy as np
import pytest

from evoforge.sandboxes.guard import TamperedError, TamperGuard, reject_escape_hatches, used_chains
from evoforge.sandboxes.harness import SpecProgram, compile_candidate, run_trial

SPEC = '''
import numpy as np
import funsearch

def helper(values):
    return np.argmax(values) + len(values)

@funsearch.evolve
def solve(n):
    return np.random.default_rng(0).random()

@funsearch.run
def evaluate(n):
    return float(helper([solve(i) for i in range(n)]))
'''


@pytest.mark.parametrize("code", [
    "def f():\n    import sys\n    return sys._getframe(1)\n",
    "def f(g):\n    return g.__globals__\n",
    "def f():\n    return ().__class__.__bases__[0].__subclasses__()\n",
    "def f(e):\n    return e.__traceback__.tb_frame.f_back\n",
    "def f(x):\n    return getattr(x, 'f_globals')\n",
    "def f():\n    import gc\n    return gc\n",
    "def f():\n    from inspect import currentframe\n    return currentframe\n",
    "def f():\n    import sys\n    return sys.modules\n",
    "def f(gen):\n    return gen.gi_frame\n",
    "def f():\n    __builtins__['len'] = None\n",
])
def test_escape_hatches_are_rejected_with_a_reason(code: str) -> None:
    reason = reject_escape_hatches(code)
    assert reason is not None and reason.startswith("rejected:") and "line" in reason


@pytest.mark.parametrize("code", [
    "def f(n):\n    import math, itertools\n    return math.sqrt(n)\n",
    "def f(items):\n    return sorted(items, key=lambda x: -x)[:3]\n",
    "def f(bins, item):\n    import numpy as np\n    return np.where(bins > item, bins - item, 0.0)\n",
    "def f(n):\n    import sys\n    return min(n, sys.maxsize)\n",
])
def test_ordinary_candidates_pass_the_static_check(code: str) -> None:
    assert reject_escape_hatches(code) is None


def test_syntax_errors_are_reported_not_raised() -> None:
    assert compile_candidate("def f(:\n") == "syntax error: invalid syntax (line 1)"


@pytest.mark.parametrize("code", ["x = " + "-" * 100_000 + "1", "x = " + "[" * 5000 + "]" * 5000])
def test_pathologically_deep_code_is_rejected_not_raised(code: str) -> None:
    reason = compile_candidate(code)
    assert isinstance(reason, str) and reason.startswith(("rejected:", "syntax error:"))


def test_oversized_candidates_are_rejected() -> None:
    assert compile_candidate("x = 1\n" * 50_000).startswith("rejected: the candidate is longer than")


def test_used_chains_cover_the_scoring_code_but_not_the_evolved_function() -> None:
    chains = used_chains(ast.parse(SPEC), "solve")
    assert {("np",), ("np", "argmax"), ("len",), ("helper",), ("float",), ("range",)} <= chains
    assert ("np", "random", "default_rng") not in chains  # only the evolved function uses it
    assert ("solve",) not in chains  # rebound on purpose to the guarded candidate


def test_guard_names_the_first_changed_chain() -> None:
    namespace = {"np": np, "len": len}
    guard = TamperGuard(namespace, {("np",), ("np", "argmax"), ("len",)})
    guard.check_used()
    original = np.argmax
    np.argmax = lambda values: 0  # type: ignore[assignment]
    try:
        with pytest.raises(TamperedError, match=r"^np\.argmax$"):
            guard.check_used()
    finally:
        np.argmax = original
    assert guard.tampered == "np.argmax"


def test_guard_sees_a_shadowed_builtin_in_the_spec_namespace() -> None:
    namespace: dict[str, object] = {}
    guard = TamperGuard(namespace, {("len",)})
    namespace["len"] = lambda values: 0
    with pytest.raises(TamperedError, match="len"):
        guard.check_used()


def test_guard_final_check_covers_every_builtin() -> None:
    guard = TamperGuard({}, set())
    original = builtins.max
    builtins.max = min
    try:
        with pytest.raises(TamperedError, match=r"builtins\.max"):
            guard.check_all()
    finally:
        builtins.max = original


def test_guard_final_check_catches_a_deleted_or_moved_builtin() -> None:
    """The final check compares builtins by position; a deletion or a re-insertion still fails."""
    guard = TamperGuard({}, set())
    original = builtins.abs
    del builtins.abs
    try:
        with pytest.raises(TamperedError, match=r"builtins\.abs"):
            guard.check_all()
    finally:
        builtins.abs = original  # back under its name, but now last in the builtins dict
    with pytest.raises(TamperedError, match=r"^builtins$"):
        guard.check_all()


def test_a_swallowed_tamper_error_is_still_recorded() -> None:
    spec = SPEC.replace("return float(helper([solve(i) for i in range(n)]))",
                        "try:\n        return float(helper([solve(i) for i in range(n)]))\n"
                        "    except Exception:\n        return 100.0")
    prepared = SpecProgram(spec, "spec.py", "solve", "evaluate").instantiate()
    code = "def solve(n):\n    import numpy as np\n    np.argmax = lambda v: 99\n    return 1.0\n"
    original = np.argmax
    try:
        outcome = run_trial(prepared, code, 3)
    finally:
        np.argmax = original
    assert outcome == {"error": "candidate tampered with np.argmax"}


def test_candidate_globals_are_a_copy_of_the_spec_namespace() -> None:
    prepared = SpecProgram(SPEC, "spec.py", "solve", "evaluate").instantiate()
    code = "helper = None\ndef solve(n):\n    global np\n    np = None\n    return 1.0\n"
    assert run_trial(prepared, code, 3) == {"score": 3.0 + 0.0}
    assert prepared.namespace["helper"] is not None and prepared.namespace["np"] is np


def test_a_candidate_that_rebinds_spec_globals_while_loading_is_caught() -> None:
    prepared = SpecProgram(SPEC, "spec.py", "solve", "evaluate").instantiate()
    code = ("import evoforge_problem_spec as spec\nspec.helper = lambda values: 99.0\n"
            "def solve(n):\n    return 1.0\n")
    assert run_trial(prepared, code, 3) == {"error": "candidate tampered with helper"}


def test_a_candidate_that_unbinds_its_guard_is_caught() -> None:
    prepared = SpecProgram(SPEC, "spec.py", "solve", "evaluate").instantiate()
    code = ("import evoforge_problem_spec as spec\n"
            "def solve(n):\n    spec.solve = lambda n: 1.0\n    return 1.0\n")
    assert run_trial(prepared, code, 3) == {"error": "candidate tampered with solve"}


def test_final_check_finds_every_changed_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = {"helper": len, "solve": abs}
    guard = TamperGuard(namespace, set(), "solve")
    guard.bind_evolved(min)
    guard.check_all()  # untouched: passes
    namespace["helper"] = max
    with pytest.raises(TamperedError, match=r"^helper$"):
        guard.check_all()
    fresh = TamperGuard({}, set())
    monkeypatch.setattr(builtins, "sorted", None)
    with pytest.raises(TamperedError, match=r"builtins\.sorted"):
        fresh.check_all()
