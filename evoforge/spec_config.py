"""problem.toml: the few settings a spec needs besides its code.

Unknown keys are errors, not silently ignored, so a typo in a limit never
quietly runs a search with the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evoforge.records import Direction, Limits
from evoforge.spec_errors import SpecError

TOP_KEYS = {"name", "kind", "direction", "description", "inputs", "limits", "prompt", "report"}
INPUT_KEYS = {"module", "train", "test"}
PROMPT_KEYS = {"notes"}
REPORT_KEYS = {"scale", "unit", "label"}
KINDS = {"program"}


def parse_config(config: dict[str, Any], path: Path, default_name: str) -> dict[str, Any]:
    """Turn a parsed problem.toml into ProblemSpec keyword arguments."""
    from evoforge.spec import ReportFormat

    _reject_unknown(config, TOP_KEYS, path, "")
    kind = str(config.get("kind", "program"))
    if kind not in KINDS:
        raise SpecError(f"{path}: kind = {kind!r} is not supported yet; use one of {sorted(KINDS)}.")
    direction = str(config.get("direction", "maximize"))
    if direction not in {d.value for d in Direction}:
        raise SpecError(f"{path}: direction = {direction!r}; use \"maximize\" or \"minimize\".")
    inputs = _table(config, "inputs", INPUT_KEYS, path)
    prompt = _table(config, "prompt", PROMPT_KEYS, path)
    report = _table(config, "report", REPORT_KEYS, path)
    return {
        "name": str(config.get("name", default_name)),
        "kind": kind,
        "direction": Direction(direction),
        "description": str(config.get("description", "")),
        "prompt_notes": str(prompt.get("notes", "")),
        "limits": _limits(config, path),
        "report": ReportFormat(
            scale=float(report.get("scale", 1.0)),
            unit=str(report.get("unit", "")),
            label=str(report.get("label", "score")),
        ),
        "inputs_module": _inputs_module(inputs, path),
        "inline_inputs": _inline_inputs(inputs),
    }


def _table(config: dict[str, Any], key: str, allowed: set[str], path: Path) -> dict[str, Any]:
    table = config.get(key, {})
    if not isinstance(table, dict):
        raise SpecError(f"{path}: [{key}] must be a table.")
    _reject_unknown(table, allowed, path, f"[{key}] ")
    return table


def _reject_unknown(table: dict[str, Any], allowed: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError(
            f"{path}: unknown key {where}{unknown[0]!r}; the allowed keys are {sorted(allowed)}."
        )


def _limits(config: dict[str, Any], path: Path) -> Limits:
    table = config.get("limits", {})
    allowed = set(Limits.__dataclass_fields__)
    _reject_unknown(table, allowed, path, "[limits] ")
    try:
        return Limits(**{k: type(getattr(Limits(), k))(v) for k, v in table.items()})
    except (TypeError, ValueError) as error:
        raise SpecError(f"{path}: [limits] has a bad value ({error}).") from None


def _inputs_module(inputs: dict[str, Any], path: Path) -> Path | None:
    if "module" not in inputs:
        return None
    module = path.parent / str(inputs["module"])
    if not module.is_file():
        raise SpecError(f"{path}: [inputs] module = {inputs['module']!r} does not exist beside it.")
    return module.resolve()


def _inline_inputs(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from evoforge.spec import keyed_inputs

    return {split: keyed_inputs(inputs[split]) for split in ("train", "test") if split in inputs}
