"""problem.toml: the few settings a spec needs besides its code.

Unknown keys and values of the wrong type are errors, not silently ignored or
converted, so a typo in a limit never quietly runs a search with the default
and `label = 7` never prints as "7". Every error names the line of the
offending key, found by reading the text (tomllib keeps no positions).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evoforge.records import Direction, Limits
from evoforge.spec_errors import SpecError

TOP_KEYS = {"name", "kind", "direction", "description", "inputs", "limits", "prompt", "report"}
INPUT_KEYS = {"module", "train", "test"}
PROMPT_KEYS = {"notes"}
REPORT_KEYS = {"scale", "unit", "label", "decimals"}


class _Where:
    """Turns (table, key) into 'problem.toml:LINE' for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def at(self, table: str, key: str | None = None) -> str:
        return f"{self.path}:{self.line(table, key)}"

    def line(self, table: str, key: str | None) -> int:
        current = ""
        for number, raw in enumerate(self.lines, start=1):
            text = raw.strip()
            header = re.fullmatch(r"\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?", text)
            if header:
                current = header.group(1)
                if key is None and current == table:
                    return number
                continue
            if key is not None and current == table and re.match(rf"{re.escape(key)}\s*=", text):
                return number
        return self._inline_line(table)

    def _inline_line(self, table: str) -> int:
        """Where `table = {...}` or `table.key = ...` is written at the top, else line 1."""
        for number, raw in enumerate(self.lines, start=1):
            if table and re.match(rf"{re.escape(table)}\s*[.=]", raw.strip()):
                return number
            if raw.strip().startswith("["):
                break
        return 1


def parse_config(config: dict[str, Any], path: Path, default_name: str, text: str = "") -> dict[str, Any]:
    """Turn a parsed problem.toml into ProblemSpec keyword arguments."""
    where = _Where(path, text)
    _reject_unknown(config, TOP_KEYS, where, "")
    inputs = _table(config, "inputs", INPUT_KEYS, where)
    prompt = _table(config, "prompt", PROMPT_KEYS, where)
    return {
        "name": _text(config, "", "name", where, default_name),
        "kind": _kind(config, where),
        "direction": _direction(config, where),
        "description": _text(config, "", "description", where).strip(),
        "prompt_notes": _text(prompt, "prompt", "notes", where).strip(),
        "limits": _limits(config, where),
        "report": _report(_table(config, "report", REPORT_KEYS, where), where),
        "inputs_module": _inputs_module(inputs, where),
        "inline_inputs": _inline_inputs(inputs),
    }


def _text(table: dict[str, Any], name: str, key: str, where: _Where, default: str = "") -> str:
    """A string setting; anything else is refused rather than turned into its repr."""
    value = table.get(key, default)
    if not isinstance(value, str):
        shown = f"[{name}] {key}" if name else key
        raise SpecError(
            f"{where.at(name, key)}: {shown} = {_toml(value)} is not a string; "
            f'write it in quotes, like {key} = "...".'
        )
    return value


def _toml(value: Any) -> str:
    """A value as the user wrote it in TOML (true, not True), for messages."""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _kind(config: dict[str, Any], where: _Where) -> str:
    from evoforge.evaluators import EVALUATOR_KINDS

    kind = _text(config, "", "kind", where, "program")
    if kind not in EVALUATOR_KINDS:
        raise SpecError(
            f"{where.at('', 'kind')}: kind = {kind!r} is not supported; use one of {sorted(EVALUATOR_KINDS)}."
        )
    return kind


def _direction(config: dict[str, Any], where: _Where) -> Direction:
    direction = _text(config, "", "direction", where, Direction.MAXIMIZE.value)
    if direction not in {d.value for d in Direction}:
        raise SpecError(
            f'{where.at("", "direction")}: direction = {direction!r}; use "maximize" or "minimize".'
        )
    return Direction(direction)


def _table(config: dict[str, Any], key: str, allowed: set[str], where: _Where) -> dict[str, Any]:
    table = config.get(key, {})
    if not isinstance(table, dict):
        raise SpecError(f"{where.at('', key)}: {key} must be a table: write [{key}] on its own line.")
    _reject_unknown(table, allowed, where, key)
    return table


def _reject_unknown(table: dict[str, Any], allowed: set[str], where: _Where, name: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        shown = f"[{name}] {unknown[0]!r}" if name else repr(unknown[0])
        raise SpecError(
            f"{where.at(name, unknown[0])}: unknown key {shown}; use one of {sorted(allowed)} or remove it."
        )


def _limits(config: dict[str, Any], where: _Where) -> Limits:
    table = _table(config, "limits", set(Limits.__dataclass_fields__), where)
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = type(getattr(Limits(), key))
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or value <= 0 or (kind is int and value != int(value)):
            wanted = "whole number" if kind is int else "number"
            raise SpecError(
                f"{where.at('limits', key)}: [limits] {key} = {value!r}; give a positive {wanted}."
            )
        values[key] = kind(value)
    return Limits(**values)


def _report(table: dict[str, Any], where: _Where) -> Any:
    from evoforge.spec import ReportFormat

    decimals = table.get("decimals")
    if decimals is not None and (not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0):
        raise SpecError(
            f"{where.at('report', 'decimals')}: [report] decimals = {decimals!r}; "
            "give a whole number of digits after the point, like 2."
        )
    scale = table.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale == 0:
        raise SpecError(f"{where.at('report', 'scale')}: [report] scale = {scale!r}; give a non-zero number.")
    return ReportFormat(
        scale=float(scale),
        unit=_text(table, "report", "unit", where),
        label=_text(table, "report", "label", where, "score"),
        decimals=decimals,
    )


def _inputs_module(inputs: dict[str, Any], where: _Where) -> Path | None:
    if "module" not in inputs:
        return None
    module = where.path.parent / _text(inputs, "inputs", "module", where)
    if not module.is_file():
        raise SpecError(
            f"{where.at('inputs', 'module')}: [inputs] module = {inputs['module']!r} does not exist "
            f"beside {where.path.name}; create it (defining train(), test()) or fix the name."
        )
    return module.resolve()


def _inline_inputs(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from evoforge.spec import keyed_inputs

    return {split: keyed_inputs(inputs[split]) for split in ("train", "test") if split in inputs}
