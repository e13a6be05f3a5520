"""The surrogate kind's panel: how far the screen could be trusted, as the run went on.

The figures are `surrogates/report.run_fidelity`'s (Spearman, top-k overlap,
MAE, exact solves saved, over the candidates the exact solver re-checked),
computed by the same `ScreenTally` the progress line uses; this module only
keeps the figures after each screened candidate, so the page can draw them
against samples drawn.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from evoforge.records import Direction
from evoforge.storage import RunStorage, existing_run_db
from evoforge.surrogates.fidelity import ScreenTally
from evoforge.surrogates.report import run_fidelity


class _TallyOverTime(ScreenTally):
    """A ScreenTally that remembers its figures after each screened candidate."""

    def __init__(self, sign: float) -> None:
        super().__init__(sign)
        self.points: list[dict[str, Any]] = []

    def add(self, details: Any, score: float | None) -> dict[str, Any]:
        figures = super().add(details, score)
        if "screen" in details:
            self.points.append(dict(figures))
        return figures


def fidelity_panel(conn: sqlite3.Connection, view: Any) -> dict[str, Any] | None:
    """The run's fidelity now and after each screened candidate; None for a run with no screen."""
    direction = Direction.MAXIMIZE if view.score_format["maximize"] else Direction.MINIMIZE
    tally = _TallyOverTime(direction.sign)
    storage = RunStorage(existing_run_db(Path(view.run_dir)), readonly=True)
    try:
        final = run_fidelity(storage, direction, tally)
    finally:
        storage.close()
    if not final:
        return None
    samples = [row[0] or 0 for row in conn.execute(
        "SELECT c.sample_id FROM evaluations e JOIN candidates c ON c.id = e.candidate_id"
        " WHERE json_extract(e.details, '$.screen') IS NOT NULL ORDER BY e.created, c.id")]
    over_time = [{"samples": sample, **_figures(point)}
                 for sample, point in zip(samples, tally.points, strict=False)]
    return {"final": _figures(final), "screen": final.get("screen"),
            "surrogate_version": final.get("surrogate_version"), "over_time": over_time}


def _figures(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures under fixed names (the overlap's key carries its k: "top10_overlap")."""
    overlap = next(((key, value) for key, value in figures.items() if key.endswith("_overlap")), (None, None))
    return {
        "candidates": figures.get("candidates"), "exact_solves": figures.get("exact_solves"),
        "solves_saved": figures.get("solves_saved"), "rechecked": figures.get("rechecked"),
        "spearman": figures.get("spearman"), "mae": figures.get("mae"),
        "top_k": overlap[0][3:-8] if overlap[0] else None, "top_k_overlap": overlap[1],
    }
