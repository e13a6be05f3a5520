"""Resolve a spec's inputs to values, in a trusted process only.

An inputs module beside spec.py defines `train()`, `test()` and, for
published sets read by path, `dataset(path)`; each returns {name: value}.
Values stay in the evaluator's process: a sandboxed child gets the one it is
scored on and nothing else.
"""

from __future__ import annotations

import importlib.util
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError

SPLITS = ("train", "test")


def resolve_inputs(spec: ProblemSpec, split: str, dataset: Path | None = None) -> dict[str, Any]:
    """The named inputs of one split, or of a dataset file given by path."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    if dataset is not None:
        return _dataset_inputs(spec, Path(dataset))
    if split in spec.inline_inputs:
        return dict(spec.inline_inputs[split])
    if spec.inputs_module is None:
        return dict(spec.inline_inputs.get("train", {}))
    module = _import_inputs_module(spec.inputs_module)
    maker = getattr(module, split, None)
    if maker is None:
        raise SpecError(f"{spec.inputs_module}:1: define {split}() returning {{name: input}}.")
    return _checked(_call(maker, spec.inputs_module, f"{split}()"), spec.inputs_module, f"{split}()")


def _dataset_inputs(spec: ProblemSpec, dataset: Path) -> dict[str, Any]:
    if not dataset.is_file():
        raise SpecError(f"--dataset {dataset}: no such file; give the path of a dataset file.")
    if spec.inputs_module is None:
        raise SpecError(
            f"{spec.name}: this problem does not read datasets (no inputs module); "
            "drop --dataset or pass the inputs with --inputs."
        )
    module = _import_inputs_module(spec.inputs_module)
    if not hasattr(module, "dataset"):
        raise SpecError(f"{spec.inputs_module}:1: define dataset(path) to read --dataset files.")
    what = f"dataset({dataset})"
    return _checked(
        _call(lambda: module.dataset(dataset), spec.inputs_module, what), spec.inputs_module, what
    )


def _import_inputs_module(path: Path) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(f"evoforge_inputs_{path.parent.name}", path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as error:
        raise SpecError(f"{path}:{error.lineno}: syntax error: {error.msg}; fix the inputs module.") from None
    except Exception as error:
        raise SpecError(_failure(path, "importing it", error)) from error
    return module


def _call(maker: Callable[[], Any], path: Path, what: str) -> Any:
    """Run user code from the inputs module; its failures become one clear SpecError."""
    try:
        return maker()
    except SpecError:
        raise
    except Exception as error:
        raise SpecError(_failure(path, what, error)) from error


def _failure(path: Path, what: str, error: Exception) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    line = frames[-1].lineno if frames else 1
    return f"{path}:{line}: {what} raised {type(error).__name__}: {error}; fix the inputs module."


def _checked(inputs: Any, path: Path, what: str) -> dict[str, Any]:
    if not isinstance(inputs, dict) or not inputs:
        raise SpecError(f"{path}:1: {what} must return a non-empty dict of {{name: input}}.")
    return {str(k): v for k, v in inputs.items()}
