"""How many samples a run wasted on duplicates, overall and by reason, for `evoforge show`.

A duplicate costs LLM time and brings nothing: 'code' ones repeat a known
program's normalized code, 'behaviour' ones (sandboxes/probes.py) compute the
same outputs as a known program under other names. What it costs is its
tokens, and duplicates are mostly the model's shortest answers, so their
share of the generated tokens is shown beside their share of the samples.
The programs given again most often are shown too, one line each: on a
small model they are the simplest ones (the seed, worst fit, a constant),
drawn again for prompt after prompt.
"""

from __future__ import annotations

import ast
from typing import Any

from evoforge.code_text import normalized_code
from evoforge.storage import RunStorage

SHOWN_WIDTH = 80  # characters of a repeated program's one-line form


def duplicate_rates(storage: RunStorage) -> dict[str, Any]:
    """{"samples", "duplicates", "rate", "token_share", "by_reason": {reason: count}, "most_repeated":
    [[count, one line]]}; rate is of all samples, token_share of all generated tokens (None before any
    were counted)."""
    samples = storage.count("samples")
    by_reason = storage.duplicate_reasons()
    duplicates = sum(by_reason.values())
    tokens = storage.token_totals()[1]
    token_share = storage.duplicate_completion_tokens() / tokens if tokens else None
    return {"samples": samples, "duplicates": duplicates, "rate": duplicates / samples if samples else 0.0,
            "token_share": token_share, "by_reason": by_reason,
            "most_repeated": [[count, ("the seed: " if seed else "") + one_line(code)]
                              for count, code, seed in storage.most_repeated()]}


def one_line(code: str) -> str:
    """A program as one short line: its function's body without the docstring, statements joined by
    '; ' (other text, e.g. a Lean proof, with its whitespace folded)."""
    try:
        tree = ast.parse(normalized_code(code))
        function = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
        text = "; ".join(ast.unparse(statement) for statement in function.body)
    except (SyntaxError, StopIteration):
        text = " ".join(code.split())
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_WIDTH else text[: SHOWN_WIDTH - 1] + "…"


def duplicates_line(rates: dict[str, Any]) -> str:
    """One line: 'duplicates 3 of 40 samples (7.5 %; 4.2 % of the generated tokens): code 2, behaviour 1'."""
    if not rates.get("samples"):
        return "duplicates: no samples yet"
    reasons = ", ".join(f"{reason} {count}" for reason, count in rates["by_reason"].items()) or "none"
    share = rates.get("token_share")
    tokens = "" if share is None else f"; {100 * share:.1f} % of the generated tokens"
    return (f"duplicates {rates['duplicates']} of {rates['samples']} samples "
            f"({100 * rates['rate']:.1f} %{tokens}): {reasons}")


def repeated_lines(rates: dict[str, Any]) -> list[str]:
    """'given again most often:' and one '  11 × return bins - item' line per program, or nothing."""
    repeated = rates.get("most_repeated") or []
    if not repeated:
        return []
    return ["given again most often:", *(f"  {count:5d} × {text}" for count, text in repeated)]
