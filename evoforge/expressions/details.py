"""How an expression's details (formula, constants, errors, recovery) leave the sandbox.

The spec's `@run` returns `{"score": s, "data": pack(details)}`; the sandbox
carries `data` as `TrialResult.data`, a list of numbers checked on both sides
of its boundary, so the details travel as the UTF-8 bytes of their JSON.
The evaluator `unpack`s them as data only, never evaluated; they are as
trustworthy as the score itself (see the sandboxes' note on what in-process
isolation cannot stop).

A trial that fails once its details are known (an error that is not finite
out of domain) still reports them: `failed` puts its sentence under
`ERROR_KEY` beside a placeholder score, and the evaluator makes that the
trial's error, so the report keeps the formula and the recovery verdict.
"""

from __future__ import annotations

import json
from typing import Any

MAX_TEXT_CHARS = 2000
ERROR_KEY = "error"


def result(score: float, details: dict[str, Any]) -> dict[str, Any]:
    """What `@run` returns: the score, and the details as data."""
    return {"score": score, "data": pack(details)}


def failed(details: dict[str, Any], why: str) -> dict[str, Any]:
    """What `@run` returns for a trial that failed after its details were known (score unused)."""
    return {"score": 0.0, "data": pack({**details, ERROR_KEY: why})}


def pack(details: dict[str, Any]) -> list[int]:
    return list(json.dumps(details, allow_nan=False, separators=(",", ":")).encode())


def unpack(data: list[Any] | None) -> dict[str, Any]:
    """The details a trial carried, or {} when it carried none (or no JSON object)."""
    if not data:
        return {}
    try:
        value = json.loads(bytes(data).decode())
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def clip(text: str | None) -> str | None:
    """Very long formulas are cut: a report shows them, nothing parses them back."""
    if text is None or len(text) <= MAX_TEXT_CHARS:
        return text
    return text[: MAX_TEXT_CHARS - 3] + "..."
