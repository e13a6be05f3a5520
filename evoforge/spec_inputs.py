"""Resolve a spec's inputs to values, in a trusted process only.

An inputs module beside spec.py defines `train()`, `test()` and, for
published sets read by path, `dataset(path)`; each returns {name: value}.
Values stay in the evaluator's process: a sandboxed child gets the one it is
scored on and nothing else.
"""

from __future__ import annotations

import importlib.util
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
        raise SpecError(f"{spec.inputs_module}: define {split}() returning {{name: input}}.")
    return _checked(maker(), spec.inputs_module, split)


def _dataset_inputs(spec: ProblemSpec, dataset: Path) -> dict[str, Any]:
    if not dataset.exists():
        raise SpecError(f"--dataset {dataset}: no such file.")
    if spec.inputs_module is None:
        raise SpecError(f"{spec.name}: this problem does not read datasets (no inputs module).")
    module = _import_inputs_module(spec.inputs_module)
    if not hasattr(module, "dataset"):
        raise SpecError(f"{spec.inputs_module}: define dataset(path) to read --dataset files.")
    return _checked(module.dataset(dataset), spec.inputs_module, f"dataset({dataset})")


def _import_inputs_module(path: Path) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(f"evoforge_inputs_{path.parent.name}", path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _checked(inputs: Any, path: Path, what: str) -> dict[str, Any]:
    if not isinstance(inputs, dict) or not inputs:
        raise SpecError(f"{path}: {what} must return a non-empty dict of {{name: input}}.")
    return {str(k): v for k, v in inputs.items()}
