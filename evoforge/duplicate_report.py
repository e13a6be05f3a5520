"""How many samples a run wasted on duplicates, overall and by reason, for `evoforge show`.

A duplicate costs LLM time and brings nothing: 'code' ones repeat a known
program's normalized code, 'behaviour' ones (sandboxes/probes.py) compute the
same outputs as a known program under other names. What it costs is its
tokens, and duplicates are mostly the model's shortest answers, so their
share of the generated tokens is shown beside their share of the samples.
"""

from __future__ import annotations

from typing import Any

from evoforge.storage import RunStorage


def duplicate_rates(storage: RunStorage) -> dict[str, Any]:
    """{"samples", "duplicates", "rate", "token_share", "by_reason": {reason: count}}; rate is of all
    samples, token_share of all generated tokens (None before any were counted)."""
    samples = storage.count("samples")
    by_reason = storage.duplicate_reasons()
    duplicates = sum(by_reason.values())
    tokens = storage.token_totals()[1]
    token_share = storage.duplicate_completion_tokens() / tokens if tokens else None
    return {"samples": samples, "duplicates": duplicates, "rate": duplicates / samples if samples else 0.0,
            "token_share": token_share, "by_reason": by_reason}


def duplicates_line(rates: dict[str, Any]) -> str:
    """One line: 'duplicates 3 of 40 samples (7.5 %; 4.2 % of the generated tokens): code 2, behaviour 1'."""
    if not rates.get("samples"):
        return "duplicates: no samples yet"
    reasons = ", ".join(f"{reason} {count}" for reason, count in rates["by_reason"].items()) or "none"
    share = rates.get("token_share")
    tokens = "" if share is None else f"; {100 * share:.1f} % of the generated tokens"
    return (f"duplicates {rates['duplicates']} of {rates['samples']} samples "
            f"({100 * rates['rate']:.1f} %{tokens}): {reasons}")
