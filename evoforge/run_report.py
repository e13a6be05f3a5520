"""Read a run directory back: best program, score history, counts, plot.

Reads the SQLite file read-only, so `evoforge show` is safe on a run that is
still going.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evoforge.records import Direction
from evoforge.storage import RunStorage
from evoforge.surrogates.report import run_fidelity


@dataclass
class RunSummary:
    """Everything `evoforge show` prints, as JSON-safe data."""

    run_dir: str
    problem: str
    direction: str
    samples: int
    budget: int
    evaluated: int
    valid: int
    duplicates: int
    unparsed: int
    pending: int
    prompt_tokens: int
    completion_tokens: int
    elapsed_seconds: float
    seed_score: float | None
    best_score: float | None
    best_candidate_id: int | None
    best_code: str | None
    history: list[tuple[int, float]] = field(default_factory=list)
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    held_out: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    fidelity: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize_run(run_dir: Path) -> RunSummary:
    storage = RunStorage.open_run(run_dir)
    try:
        return _summary(storage, Path(run_dir))
    finally:
        storage.close()


def _summary(storage: RunStorage, run_dir: Path) -> RunSummary:
    config = storage.meta("config", {})
    direction = Direction(storage.meta("direction", Direction.MAXIMIZE.value))
    programs = storage.programs(only_ok=True)
    better = (max if direction is Direction.MAXIMIZE else min)
    best = better(programs, key=lambda p: p.score, default=None)
    seed = next((p for p in programs if p.island_id is None), None)
    prompt_tokens, completion_tokens = storage.token_totals()
    return RunSummary(
        run_dir=str(run_dir),
        problem=str(config.get("problem", "?")),
        direction=direction.value,
        samples=storage.count("samples"),
        budget=int(config.get("samples", 0)),
        evaluated=storage.count("evaluations"),
        valid=storage.count("evaluations", "ok = 1"),
        duplicates=storage.count("candidates", "status = 'duplicate'"),
        unparsed=storage.count("candidates", "status = 'unparsed'"),
        pending=storage.count("candidates", "status = 'pending'"),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        elapsed_seconds=float(storage.meta("elapsed_seconds", 0.0)),
        seed_score=seed.score if seed else None,
        best_score=best.score if best else None,
        best_candidate_id=best.candidate_id if best else None,
        best_code=best.code if best else None,
        history=best_so_far(storage.score_history(), direction),
        top_errors=storage.error_counts(),
        held_out=storage.meta("held_out", {}),
        report=storage.meta("report", {}),
        fidelity=run_fidelity(storage, direction),
    )


def best_so_far(history: list[tuple[int, float | None]], direction: Direction) -> list[tuple[int, float]]:
    """(samples drawn, best score so far) at each improvement."""
    points: list[tuple[int, float]] = []
    best: float | None = None
    for samples, score in history:
        if score is None:
            continue
        improved = best is None or (score > best if direction is Direction.MAXIMIZE else score < best)
        if improved:
            best = score
            points.append((samples, score))
    return points


def plot_history(summary: RunSummary, out: Path, scale: float = 1.0, label: str = "score") -> Path:
    """Best score against samples drawn, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [x for x, _ in summary.history] + [summary.samples]
    ys = [y * scale for _, y in summary.history]
    ys.append(ys[-1] if ys else float("nan"))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(xs, ys, where="post")
    ax.set_xlabel("samples drawn")
    ax.set_ylabel(f"best {label}")
    ax.set_title(f"evoforge · {summary.problem}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
