"""What differs per candidate kind beyond its evaluator (`evaluators.EVALUATOR_KINDS`), in one table.

A kind's hooks: how the LLM is prompted (`build_prompt`), how its completion
is parsed into a candidate (`parse_completion`), how a problem folder of
that kind without a spec.py is read (`load_folder`), what of a text is the
candidate (`candidate_function`, default: the @evolve function) and its own
versions of the prompt strategies (`strategy_named`). A kind that names no
prompt hooks is prompted and parsed by the run's prompt strategy
(`agents/strategies`), as programs are. Entries are
"module:function" strings, imported only when used, so a program run never
loads a Lean module.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

KIND_HOOKS: dict[str, dict[str, str]] = {
    "lean_proof": {
        "build_prompt": "evoforge.agents.lean_prompts:build_lean_prompt",
        "parse_completion": "evoforge.agents.lean_prompts:parse_lean_completion",
        "load_folder": "evoforge.evaluators.lean.problem:load_lean_problem",
    },
    "openevolve": {
        "load_folder": "evoforge.openevolve_folder:load_openevolve_folder",
        "candidate_function": "evoforge.openevolve_block:spec_candidate",
        "strategy_named": "evoforge.agents.strategies.block:block_strategy_named",
    },
}


def kind_hook(kind: str, hook: str) -> Callable[..., Any] | None:
    """The kind's function for `hook`, or None when the kind names none."""
    target = KIND_HOOKS.get(kind, {}).get(hook)
    if target is None:
        return None
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def folder_kind(folder: Path) -> str | None:
    """The kind problem.toml names in a folder without spec.py (such a kind reads it itself), else None.

    A folder with OpenEvolve's initial_program.py and evaluator.py (and no spec.py) is `openevolve`.
    """
    from evoforge.openevolve_folder import is_openevolve_folder

    if is_openevolve_folder(folder):
        return "openevolve"
    toml = folder / "problem.toml"
    if not toml.is_file() or (folder / "spec.py").is_file():
        return None
    try:
        kind = tomllib.loads(toml.read_text(encoding="utf-8")).get("kind")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return kind if isinstance(kind, str) else None
