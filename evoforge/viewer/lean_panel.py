"""The Lean kind's panel: how the run's proof checks ended, over the run and per theorem.

Each evaluation of a `lean_proof` candidate stores one verifier result per
theorem (evaluators/lean/proof_evaluator.py: `details[theorem] = {"status", ...}`);
the panel counts the statuses (VERIFIED, REJECTED, TIMEOUT, ...) in all, per
theorem, and per window of samples, so a person sees whether repairs converge.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

WINDOWS = 30
MIN_WINDOW = 1


def proof_status_panel(conn: sqlite3.Connection, view: Any) -> dict[str, Any] | None:
    """Status counts of every proof check of the run; None before the first check."""
    rows = conn.execute(
        "SELECT c.sample_id, e.details FROM evaluations e JOIN candidates c ON c.id = e.candidate_id"
        " ORDER BY e.created, c.id"
    ).fetchall()
    checks = [(sample or 0, theorem, status) for sample, text in rows
              for theorem, status in _statuses(text)]
    if not checks:
        return None
    totals: dict[str, int] = {}
    theorems: dict[str, dict[str, Any]] = {}
    for sample, theorem, status in checks:
        totals[status] = totals.get(status, 0) + 1
        row = theorems.setdefault(theorem, {"theorem": theorem, "counts": {}, "first_verified_sample": None})
        row["counts"][status] = row["counts"].get(status, 0) + 1
        if status == "VERIFIED" and row["first_verified_sample"] is None:
            row["first_verified_sample"] = sample
    return {"checks": len(checks), "totals": totals, "statuses": sorted(totals, key=_status_order),
            "theorems": list(theorems.values()), "over_samples": _windows(checks)}


def _statuses(details_text: str | None) -> list[tuple[str, str]]:
    """(theorem, status) of each verifier result in one evaluation's details."""
    try:
        details = json.loads(details_text or "{}")
    except json.JSONDecodeError:
        return []
    return [(key, str(value["status"])) for key, value in details.items()
            if isinstance(value, dict) and "status" in value]


def _status_order(status: str) -> tuple[int, str]:
    known = ("VERIFIED", "REJECTED", "TIMEOUT", "BACKEND_UNAVAILABLE", "INTERNAL_ERROR")
    return (known.index(status) if status in known else len(known), status)


def _windows(checks: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """Status counts in consecutive windows of checks, each labelled by its last sample."""
    size = max(MIN_WINDOW, math.ceil(len(checks) / WINDOWS))
    windows = []
    for first in range(0, len(checks), size):
        window = checks[first:first + size]
        counts: dict[str, int] = {}
        for _, _, status in window:
            counts[status] = counts.get(status, 0) + 1
        windows.append({"samples": window[-1][0], "counts": counts})
    return windows
