"""Read a run directory back: best program, score history, counts, plot.

Reads the SQLite file read-only, so `evoforge show` is safe on a run that is
still going. A run whose disk filled while it was created may lack the
metadata that says which way scores improve and how to show them: the
summary then names what is missing and leaves out what would need it, rather
than picking the "best" program in what may be the wrong direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evoforge.agents.strategies import DEFAULT_STRATEGY
from evoforge.duplicate_report import duplicate_rates
from evoforge.llm_busy import busy_fraction, request_intervals
from evoforge.records import Direction
from evoforge.spec_errors import UserError
from evoforge.storage import RunStorage
from evoforge.surrogates.report import run_fidelity

# Metadata a run stores when it is created, and what the report cannot do without each.
NEEDED_META = ("config", "direction", "report")


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
    tokens_per_second: float | None  # completion tokens over the run's search time
    llm_busy: float | None  # share of the search time with an LLM request in flight
    seed_score: float | None
    best_score: float | None
    best_candidate_id: int | None
    best_code: str | None
    history: list[tuple[int, float]] = field(default_factory=list)
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    held_out: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    best_details: dict[str, Any] = field(default_factory=dict)  # the kind's extras (formula, LaTeX ...)
    fidelity: dict[str, Any] = field(default_factory=dict)  # a screened run's surrogate fidelity
    strategy: str = DEFAULT_STRATEGY  # the run's --strategy
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)  # per prompt strategy used
    duplicate_rates: dict[str, Any] = field(default_factory=dict)  # see duplicate_report.py

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize_run(run_dir: Path) -> RunSummary:
    storage = RunStorage.open_run(run_dir)
    try:
        return _summary(storage, Path(run_dir))
    finally:
        storage.close()


def _summary(storage: RunStorage, run_dir: Path) -> RunSummary:
    missing = [key for key in NEEDED_META if storage.meta(key) is None]
    config = storage.meta("config", {})
    direction = storage.meta("direction")
    prompt_tokens, completion_tokens = storage.token_totals()
    elapsed = float(storage.meta("elapsed_seconds", 0.0))
    summary = RunSummary(
        run_dir=str(run_dir),
        problem=str(config.get("problem", "?")),
        direction=direction or "unknown",
        samples=storage.count("samples"),
        budget=int(config.get("samples", 0)),
        evaluated=storage.count("evaluations"),
        valid=storage.count("evaluations", "ok = 1"),
        duplicates=storage.count("candidates", "status = 'duplicate'"),
        unparsed=storage.count("candidates", "status = 'unparsed'"),
        pending=storage.count("candidates", "status = 'pending'"),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        elapsed_seconds=elapsed,
        tokens_per_second=completion_tokens / elapsed if elapsed > 0 else None,
        llm_busy=busy_fraction(request_intervals(storage.sample_timings()), elapsed),
        seed_score=None, best_score=None, best_candidate_id=None, best_code=None,
        top_errors=storage.error_counts(),
        held_out=storage.meta("held_out", {}),
        report=storage.meta("report", {}),
        missing=missing,
        strategy=str(config.get("strategy", DEFAULT_STRATEGY)),
        duplicate_rates=duplicate_rates(storage),
    )
    if direction is not None:
        _add_scores(summary, storage, Direction(direction))
    return summary


def _add_scores(summary: RunSummary, storage: RunStorage, direction: Direction) -> None:
    """Seed, best and history: only meaningful once the direction of "better" is known."""
    programs = storage.programs(only_ok=True)
    best = max(programs, key=lambda p: direction.oriented(p.score), default=None)
    seed = next((p for p in programs if p.island_id is None), None)
    summary.seed_score = seed.score if seed else None
    if best is not None:
        summary.best_score, summary.best_candidate_id = best.score, best.candidate_id
        summary.best_code = best.code
        summary.best_details = storage.details_of(best.candidate_id)
    summary.history = best_so_far(storage.score_history(), direction)
    summary.fidelity = run_fidelity(storage, direction)
    summary.strategies = strategy_report(storage, direction)


def strategy_report(storage: RunStorage, direction: Direction) -> dict[str, dict[str, Any]]:
    """Per prompt strategy (`STRATEGY on LABEL` per backend, in a run with several): samples, and the
    shares of them that parsed, were duplicates, scored as new valid programs; and improvements
    (valid children beating their best parent)."""
    report = {}
    for (strategy, llm), tally in storage.arm_tallies(direction.sign).items():
        n = tally.samples
        report[strategy if llm is None else f"{strategy} on {llm}"] = {
            "samples": n, "parsed_pct": _percent(tally.parsed, n),
            "duplicate_pct": _percent(tally.duplicates, n), "valid_pct": _percent(tally.valid, n),
            "improvements": tally.improvements,
        }  # fmt: skip
    return report


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def missing_meta_sentence(summary: RunSummary) -> str | None:
    """What the run lacks and what is left out because of it, or None for a whole run."""
    if not summary.missing:
        return None
    if "direction" in summary.missing:
        effect = "no best program or score is shown, since which way is better is unknown"
    elif "report" in summary.missing:
        effect = "scores are shown raw, as the spec's @run returns them"
    else:
        effect = "the problem and budget are unknown"
    repair = (f"`evoforge resume {summary.run_dir}` repairs it" if "config" not in summary.missing
              else "start the run again to get a complete one")
    return (f"this run lacks its stored {', '.join(summary.missing)} (its disk probably filled while it "
            f"was being created), so {effect}; {repair}.")


def best_so_far(history: list[tuple[int, float | None]], direction: Direction) -> list[tuple[int, float]]:
    """(samples drawn, best score so far) at each improvement."""
    chosen = improvements([score for _, score in history], direction)
    return [(history[i][0], float(history[i][1] or 0.0)) for i in chosen]


def improvements(scores: Sequence[float | None], direction: Direction) -> list[int]:
    """Indices of the scores that beat every earlier one (None: no score): the one best-so-far rule,
    which `evoforge show` and the report and live page (evoforge/viewer) both use."""
    chosen: list[int] = []
    best: float | None = None
    for index, score in enumerate(scores):
        if score is None:
            continue
        if best is None or direction.oriented(score) > direction.oriented(best):
            best = score
            chosen.append(index)
    return chosen


def plot_history(summary: RunSummary, out: Path, scale: float = 1.0, label: str = "score") -> Path:
    """Best score against samples drawn, as an image; its folder is created if missing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_plot_path(out)
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
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def check_plot_path(out: Path) -> None:
    """Refuse, before any work, a file name whose ending matplotlib cannot write."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    formats = FigureCanvasAgg.get_supported_filetypes()
    if Path(out).suffix.lower().lstrip(".") not in formats:
        raise UserError(
            f"{out}: cannot tell the image format from its ending; end the name with .png "
            f"(or one of {', '.join('.' + f for f in sorted(formats))})."
        )
