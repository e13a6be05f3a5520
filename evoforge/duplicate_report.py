"""How many samples a run wasted on duplicates, overall and by reason, for `evoforge show`.

A duplicate costs the LLM time of a new idea and brings nothing: 'code' ones
repeat a known program's normalized code, 'behaviour' ones (sandboxes/probes.py)
compute the same outputs as a known program under other names.
"""

from __future__ import annotations

from typing import Any

from evoforge.storage import RunStorage


def duplicate_rates(storage: RunStorage) -> dict[str, Any]:
    """{"samples", "duplicates", "rate", "by_reason": {reason: count}}; rate is of all samples."""
    samples = storage.count("samples")
    by_reason = storage.duplicate_reasons()
    duplicates = sum(by_reason.values())
    return {"samples": samples, "duplicates": duplicates,
            "rate": duplicates / samples if samples else 0.0, "by_reason": by_reason}


def duplicates_line(rates: dict[str, Any]) -> str:
    """One line: 'duplicates 3 of 40 samples (7.5 %): code 2, behaviour 1'."""
    if not rates.get("samples"):
        return "duplicates: no samples yet"
    reasons = ", ".join(f"{reason} {count}" for reason, count in rates["by_reason"].items()) or "none"
    return (f"duplicates {rates['duplicates']} of {rates['samples']} samples "
            f"({100 * rates['rate']:.1f} %): {reasons}")
