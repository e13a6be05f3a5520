"""The expression kind's panel: the best formula with its fitted constants, errors and verdict.

The run's evaluations store what the sandboxed `@run` reported per candidate
(evoforge/expressions/scoring.py: formula, LaTeX, constants, training and
validation NMSE). The held-out verdict (in- and out-of-domain NMSE, recovered
or not) comes from the run's own held-out report once the run has ended, and
until then from the page's held-out scoring of the current best, when it has it.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import sqlite3
from typing import Any

from evoforge.viewer.db import read_meta

FORMULA_KEYS = ("formula", "skeleton", "complexity", "constants", "nmse_train", "nmse_valid", "formula_error")
VERDICT_KEYS = ("nmse_in_domain", "nmse_out_of_domain", "recovered", "recovered_how")
MAX_HISTORY = 12
LATEX_POINTS = 22


def formula_panel(conn: sqlite3.Connection, view: Any) -> dict[str, Any] | None:
    """The best formula, the formulas of the last improvements, and the held-out verdict."""
    if not view.best_so_far:
        return None
    best_id = view.best_so_far[-1]["candidate_id"]
    details = view.best_details
    panel: dict[str, Any] = {"candidate_id": best_id, **{k: details.get(k) for k in FORMULA_KEYS}}
    panel["latex"] = details.get("latex")
    panel["latex_image"] = latex_image(details["latex"]) if details.get("latex") else None
    panel["held_out"] = _verdict(conn, view, best_id)
    panel["history"] = _formula_history(conn, view.best_so_far[-MAX_HISTORY:])
    return panel


def _verdict(conn: sqlite3.Connection, view: Any, best_id: int) -> dict[str, Any]:
    """In/out-of-domain NMSE and recovery of the best program, and where they come from."""
    final = read_meta(conn).get("held_out") or {}
    reported: dict[str, Any] = {}
    for report in final.values():  # each held-out input reports its own details (the verdict: out of domain)
        if isinstance(report, dict):
            reported.update(report.get("details") or {})
    if reported:
        return {"source": "the run's held-out report (its final best)", **_pick(reported)}
    points = (view.held_out_history or {}).get("points") or []
    scored = next((p for p in reversed(points) if p["candidate_id"] == best_id and p.get("held_out_details")),
                  None)
    if scored:
        return {"source": "scored on the held-out inputs by this page", **_pick(scored["held_out_details"])}
    return {"source": None, "note": "The held-out verdict (in- and out-of-domain error, recovered or not) "
                                    "is stored when the run ends."}


def _pick(details: dict[str, Any]) -> dict[str, Any]:
    return {key: details.get(key) for key in VERDICT_KEYS}


def _formula_history(conn: sqlite3.Connection, improvements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The formula at each of the last improvements of the best training score, newest first."""
    ids = [p["candidate_id"] for p in improvements]
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT candidate_id, details FROM evaluations WHERE candidate_id IN ({marks})", ids)
    formulas = {cid: json.loads(text or "{}").get("formula") for cid, text in rows}
    return [{"candidate_id": p["candidate_id"], "samples": p["samples"], "text": p["text"],
             "formula": formulas.get(p["candidate_id"])} for p in reversed(improvements)]


@functools.lru_cache(maxsize=256)
def latex_image(latex: str) -> str | None:
    """The LaTeX drawn by matplotlib's mathtext as an SVG data URL (no network, no TeX install);
    None when mathtext cannot read it (the page then shows the LaTeX source)."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buffer = io.BytesIO()
    try:
        mathtext.math_to_image(f"${latex}$", buffer, prop=FontProperties(size=LATEX_POINTS), format="svg")
    except Exception:  # mathtext knows a subset of LaTeX; the source is still shown
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
