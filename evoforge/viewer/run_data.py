"""A run's database turned into plain data for the report and the live page.

Both views render the same `RunView`, so what the static HTML file shows and
what the live page shows can never drift apart. Scores are stored raw (as the
spec's `@run` returns them); here they become the problem's units through its
`report` meta (value * scale, unit, label) and its direction decides which is
best.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from evoforge.records import Direction
from evoforge.run_report import improvements
from evoforge.spec import ReportFormat
from evoforge.viewer import lineage, run_stats
from evoforge.viewer.db import change_token, connect_readonly, read_meta
from evoforge.viewer.panels import panels_for


@dataclass(frozen=True)
class ScoreFormat:
    """The run's own `ReportFormat` (how a score is shown) and `Direction` (which way is better).

    Only a pairing: the formatting is `ReportFormat`'s and "better" is `Direction.oriented`, the
    same ones `evoforge show` uses, so the pages and the terminal can never disagree.
    """

    report: ReportFormat = field(default_factory=ReportFormat)
    direction: Direction = Direction.MAXIMIZE

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> ScoreFormat:
        known = {f.name for f in fields(ReportFormat)}
        report = {k: v for k, v in (meta.get("report") or {}).items() if k in known}
        return cls(ReportFormat(**report), Direction(meta.get("direction") or "maximize"))

    def shown(self, raw: float | None) -> float | None:
        """The raw score in the problem's units, for charts; None for no score or a non-finite one."""
        return self.report.value(raw) if raw is not None and math.isfinite(raw) else None

    def text(self, raw: float | None) -> str:
        """The score as `evoforge show` writes it ("3.98%")."""
        return self.report.show(raw)

    def better(self, a: float, b: float | None) -> bool:
        """Whether raw score `a` beats raw score `b` (None: nothing to beat)."""
        return b is None or self.direction.oriented(a) > self.direction.oriented(b)

    def to_json(self) -> dict[str, Any]:
        report = self.report
        # A negative scale flips the axis: "higher is better" is about what the reader sees.
        higher = (self.direction is Direction.MAXIMIZE) == (report.scale >= 0)
        return {**asdict(report), "maximize": self.direction is Direction.MAXIMIZE,
                "higher_is_better": higher,
                "axis_title": f"{report.label} ({report.unit})" if report.unit else report.label}


class HeldOutSource(Protocol):
    """Held-out scores of the programs that were best on training (see held_out.py)."""

    def history(self, run_dir: Path, improvements: list[dict[str, Any]]) -> dict[str, Any]: ...


@dataclass
class RunView:
    """Everything one run's page shows, as JSON-safe data."""

    run_dir: str
    problem: str
    kind: str
    token: str
    score_format: dict[str, Any]
    counts: dict[str, Any]
    evaluations: dict[str, list[Any]]
    best_so_far: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    throughput: dict[str, Any]
    lineage: list[dict[str, Any]]
    islands: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    best_details: dict[str, Any]
    held_out: dict[str, Any]
    held_out_history: dict[str, Any]
    panels: list[dict[str, Any]] = field(default_factory=list)
    explanation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_run_view(run_dir: Path, held_out: HeldOutSource | None = None) -> RunView:
    """Read RUN_DIR's database (read-only) into a RunView."""
    conn = connect_readonly(run_dir)
    try:
        conn.execute("BEGIN")  # one snapshot: every panel sees the same moment of the run
        return _view(conn, Path(run_dir), held_out)
    finally:
        conn.close()


def _view(conn: sqlite3.Connection, run_dir: Path, held_out: HeldOutSource | None) -> RunView:
    meta = read_meta(conn)
    fmt = ScoreFormat.from_meta(meta)
    start = _start_time(conn, meta)
    evaluations = evaluation_series(conn, fmt, start)
    improvements = best_so_far(evaluations, fmt)
    counts = run_stats.counts(conn, meta)
    best_id = improvements[-1]["candidate_id"] if improvements else None
    kind = str((meta.get("spec") or {}).get("kind") or meta.get("kind") or "program")
    view = RunView(
        run_dir=str(run_dir), problem=_problem_name(meta), kind=kind, token=change_token(conn),
        score_format=fmt.to_json(), counts=counts, evaluations=evaluations, best_so_far=improvements,
        rates=run_stats.rates(conn, start), throughput=run_stats.throughput(conn, meta, start),
        lineage=lineage.lineage_of(conn, best_id, fmt) if best_id is not None else [],
        islands=run_stats.islands(conn, fmt), errors=run_stats.errors(conn),
        best_details=run_stats.details_of(conn, best_id), held_out=meta.get("held_out") or {},
        held_out_history=held_out.history(run_dir, improvements) if held_out and improvements else {},
    )
    view.panels = panels_for(kind, conn, view)
    view.explanation = explain_empty(view)
    return view


def _problem_name(meta: dict[str, Any]) -> str:
    spec = meta.get("spec") or {}
    return str(spec.get("name") or (meta.get("config") or {}).get("problem") or "?")


def _start_time(conn: sqlite3.Connection, meta: dict[str, Any]) -> float:
    first = conn.execute("SELECT MIN(created) FROM candidates").fetchone()[0]
    return float(meta.get("created") or first or 0.0)


def evaluation_series(conn: sqlite3.Connection, fmt: ScoreFormat, start: float) -> dict[str, list[Any]]:
    """One entry per evaluation, in evaluation order, as columns (compact JSON for big runs)."""
    rows = conn.execute(
        "SELECT c.id, c.sample_id, c.island_id, e.ok, e.score, e.error, e.created FROM evaluations e"
        " JOIN candidates c ON c.id = e.candidate_id ORDER BY e.created, c.id"
    ).fetchall()
    return {
        "candidate_id": [r["id"] for r in rows],
        "samples": [r["sample_id"] or 0 for r in rows],
        "minutes": [round((r["created"] - start) / 60, 4) for r in rows],
        "island": [r["island_id"] for r in rows],
        "ok": [bool(r["ok"]) for r in rows],
        "raw": [r["score"] if r["score"] is None or math.isfinite(r["score"]) else None for r in rows],
        "shown": [fmt.shown(r["score"]) for r in rows],
        "error": [(r["error"] or "")[:160] for r in rows],
    }


def best_so_far(evaluations: dict[str, list[Any]], fmt: ScoreFormat) -> list[dict[str, Any]]:
    """Each evaluation that beat every earlier one on training: the run's improvements."""
    scores = [raw if ok else None for raw, ok in zip(evaluations["raw"], evaluations["ok"], strict=True)]
    return [{
        "candidate_id": evaluations["candidate_id"][i], "samples": evaluations["samples"][i],
        "minutes": evaluations["minutes"][i], "raw": evaluations["raw"][i], "shown": evaluations["shown"][i],
        "text": fmt.text(evaluations["raw"][i]),
    } for i in improvements(scores, fmt.direction)]


def explain_empty(view: RunView) -> str | None:
    """One paragraph for a run with nothing to plot yet, instead of empty charts."""
    if view.best_so_far:
        return None
    counts = view.counts
    if not counts["evaluated"]:
        return (f"No candidate has been evaluated yet ({counts['samples']} samples drawn). "
                "The charts fill in as soon as the first evaluation is stored.")
    top = view.errors[0]["message"] if view.errors else "no error recorded"
    n = counts["evaluated"]
    failed = "the one evaluated candidate" if n == 1 else f"all {n} evaluated candidates"
    return (f"No valid candidate yet: {failed} failed, so there is no score to plot. "
            f"Most common failure: {top}. If the seed program itself fails, fix the spec's @evolve "
            "function so it runs on the training inputs, then start again.")
