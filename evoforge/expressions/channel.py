"""How a sandboxed `@run` hands its details (constants, errors, formula) to the evaluator.

A trial's result channel carries one number. Until the sandbox carries extra
data (`TrialResult.data`, in progress on another branch), the spec's trusted
code prints one marked JSON line as its last output, and the evaluator reads
the last such line from the trial's output tail (the final 2,000 bytes of its
stdout and stderr). The line is only read as JSON data, never evaluated; it is
as trustworthy as the score itself (see the sandboxes' note on what in-process
isolation cannot stop).
"""

from __future__ import annotations

import json
import sys
from typing import Any

MARKER = "EVOFORGE-EXPRESSION "
MAX_TEXT_CHARS = 400


def emit(details: dict[str, Any]) -> None:
    """Print the details line (called by trusted code, after the candidate has run)."""
    sys.stdout.write("\n" + MARKER + json.dumps(details, allow_nan=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def clip(text: str | None) -> str | None:
    """Long formulas are cut so the details line fits in the output tail."""
    if text is None or len(text) <= MAX_TEXT_CHARS:
        return text
    return text[: MAX_TEXT_CHARS - 3] + "..."


def read(output_tail: str) -> dict[str, Any]:
    """The details of the last marked line, or {} when there is none or it is not a JSON object."""
    for line in reversed(output_tail.splitlines()):
        if line.startswith(MARKER):
            try:
                value = json.loads(line[len(MARKER):])
            except (ValueError, RecursionError):
                return {}
            return value if isinstance(value, dict) else {}
    return {}
