"""Runs compared across arms: best held-out score vs samples, medians, spreads, bootstrap intervals.

One arm is one way of searching (a prompt strategy: funsearch, chat, diff,
mix, random), run under several seeds. What a run contributes is its curve
of the held-out score of its best-on-training program against samples drawn:
evolution only ever sees training scores, so a comparison that reported them
would reward overfitting. The curve is read with the report's own readers
(`viewer/run_data.py` for the run and its improvements, `viewer/held_out.py`
to score each improvement on the test split in the sandbox), so `compare`,
`report` and `serve` cannot disagree about a run. The statistics (median,
interquartile range, a bootstrap interval of a difference of medians) live in
`comparison_stats.py`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evoforge.comparison_stats import ArmAt, Difference, at_budget, median_difference
from evoforge.spec_errors import UserError
from evoforge.storage import RunStorage
from evoforge.viewer.held_out import HeldOutScores
from evoforge.viewer.run_data import RunView, load_run_view

HELD_OUT = "held-out"
TRAINING = "training"
MAX_HELD_OUT_POINTS = 50  # improvements scored per run; more are spread evenly, the last always kept
UNRECORDED_STRATEGY = "funsearch"  # runs from before strategies were recorded used FunSearch's prompt


@dataclass
class RunCurve:
    """One run: its arm, seed and best score (in the problem's units) at each improvement.

    A held-out score is None where that best-on-training program has none (it fails or runs out of
    time on the test inputs): the run counts as unscored while that program is its best.
    """

    run_dir: str
    problem: str
    arm: str
    seed: int
    samples: int
    points: list[tuple[int, float | None]]
    duplicate_rate: float | None
    valid_rate: float | None
    samples_per_minute: float | None
    held_out_error: str | None = None

    def value_at(self, samples: int) -> float | None:
        """The best-so-far score once `samples` samples were drawn (None before the first score)."""
        value = None
        for drawn, score in self.points:
            if drawn > samples:
                break
            value = score
        return value


@dataclass
class Comparison:
    """Everything `evoforge compare` prints, as JSON-safe data."""

    problem: str
    basis: str
    basis_note: str | None
    label: str
    unit: str
    higher_is_better: bool
    budget: int
    budget_points: list[int]
    reference: str
    arms: dict[str, list[ArmAt]]  # arm -> its figures at each budget point
    differences: list[Difference]
    runs: list[RunCurve] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compare_runs(run_dirs: list[Path], held_out: bool = True, reference: str = "random",
                 resamples: int = 2000) -> Comparison:
    """Read every run, group by arm, and compare each arm with `reference` (else the first arm)."""
    runs = [_read_run(Path(d)) for d in run_dirs]
    _check_one_problem([run.view for run in runs])
    curves, basis, note = _curves(runs, held_out)
    fmt = runs[0].view.score_format
    budget = min(curve.samples for curve in curves)
    points = budget_points(budget)
    arms: dict[str, list[RunCurve]] = {}
    for curve in curves:
        arms.setdefault(curve.arm, []).append(curve)
    arms = dict(sorted(arms.items()))
    reference = reference_arm(list(arms), reference)
    higher = bool(fmt["higher_is_better"])
    return Comparison(
        problem=runs[0].view.problem, basis=basis, basis_note=note, label=str(fmt["label"]),
        unit=str(fmt["unit"]), higher_is_better=higher, budget=budget, budget_points=points,
        reference=reference,
        arms={arm: [at_budget(members, b) for b in points] for arm, members in arms.items()},
        differences=[median_difference(arm, _finals(members, budget), reference,
                                       _finals(arms[reference], budget), higher, resamples,
                                       by_seed=_pairs_by_seed(members, arms[reference], budget))
                     for arm, members in arms.items() if arm != reference],
        runs=curves,
    )


def reference_arm(arms: list[str], wanted: str) -> str:
    """The arm named `wanted`, or the one whose strategy it is (labels may add a model), else the first."""
    matching = [arm for arm in arms if arm == wanted or arm.startswith(f"{wanted} · ")]
    return matching[0] if len(matching) == 1 else arms[0]


def budget_points(budget: int) -> list[int]:
    """A quarter, half, three quarters and all of the common budget (distinct, above zero)."""
    return sorted({b for b in (budget // 4, budget // 2, 3 * budget // 4, budget) if b > 0} or {budget})


def _finals(runs: list[RunCurve], budget: int) -> list[float]:
    return [v for v in (run.value_at(budget) for run in runs) if v is not None]


def _pairs_by_seed(runs: list[RunCurve], reference_runs: list[RunCurve],
                   budget: int) -> list[tuple[float, float]]:
    """(arm's score, reference's score) for each seed both arms ran once and scored by `budget`; a seed
    run twice in one arm has no single partner, so it is left out."""
    mine, theirs = _final_by_seed(runs, budget), _final_by_seed(reference_runs, budget)
    return [(mine[seed], theirs[seed]) for seed in sorted(mine.keys() & theirs.keys())]


def _final_by_seed(runs: list[RunCurve], budget: int) -> dict[int, float]:
    once = Counter(run.seed for run in runs)
    finals = {run.seed: run.value_at(budget) for run in runs if once[run.seed] == 1}
    return {seed: value for seed, value in finals.items() if value is not None}


@dataclass
class _Run:
    view: RunView
    config: dict[str, Any]


def _read_run(run_dir: Path) -> _Run:
    """The run's view and stored config, after the storage's check that the folder holds a whole run."""
    storage = RunStorage.open_run(run_dir)
    try:
        config = storage.meta("config", {}) or {}
    finally:
        storage.close()
    return _Run(load_run_view(run_dir), config)


def _check_one_problem(views: list[RunView]) -> None:
    problems = {view.problem for view in views}
    if len(problems) > 1:
        named = ", ".join(f"{view.run_dir} ({view.problem})" for view in views)
        raise UserError(f"these runs are of different problems: {named}; compare runs of one problem.")


def _curves(runs: list[_Run], held_out: bool) -> tuple[list[RunCurve], str, str | None]:
    """Held-out curves for every run, or training curves for all with the reason when a run's best at
    the common budget has no held-out score (the verdict is read there, and never from a mix of the
    two). An earlier best without one leaves the held-out basis, with a note: that run is unscored
    at those sample counts."""
    labels = _arm_labels(runs)
    training = [_curve(run, labels[i], _training_points(run.view)) for i, run in enumerate(runs)]
    if not held_out:
        return training, TRAINING, "training scores, as asked (--training)"
    scorer = HeldOutScores(max_points=MAX_HELD_OUT_POINTS)
    try:
        curves = [_held_out_curve(run, labels[i], scorer) for i, run in enumerate(runs)]
    finally:
        scorer.close()
    budget = min(curve.samples for curve in curves)
    lacking = [c for c in curves if c.held_out_error and c.value_at(budget) is None]
    if lacking:
        why = f"{lacking[0].run_dir}: {lacking[0].held_out_error}"
        note = (f"training scores: {len(lacking)} of {len(curves)} runs have no held-out score at "
                f"{budget} samples ({why}); a comparison never mixes held-out and training scores")
        return training, TRAINING, note
    partial = [c for c in curves if c.held_out_error]
    if not partial:
        return curves, HELD_OUT, None
    gaps = ", ".join(f"{c.run_dir} from sample {_first_unscored(c)}" for c in partial)
    note = (f"{len(partial)} of {len(curves)} runs had a best-on-training program without a held-out score "
            f"before the budget ({gaps}: {partial[0].held_out_error}); such a run counts as unscored "
            "until its next best")
    return curves, HELD_OUT, note


def _first_unscored(curve: RunCurve) -> int:
    return next(samples for samples, score in curve.points if score is None)


def _training_points(view: RunView) -> list[tuple[int, float]]:
    return [(p["samples"], p["shown"]) for p in view.best_so_far if p["shown"] is not None]


def _held_out_curve(run: _Run, arm: str, scorer: HeldOutScores) -> RunCurve:
    """The held-out score of each best-on-training program, scored in the sandbox as `report` does."""
    if not run.view.best_so_far:
        return _curve(run, arm, [], error="no valid program to score")
    history = scorer.history(Path(run.view.run_dir), run.view.best_so_far)
    points, errors = [], []
    for point in history["points"]:
        if point.get("error") or point.get("held_out_shown") is None:
            errors.append(point.get("error") or "no held-out score")
            points.append((point["samples"], None))
        else:
            points.append((point["samples"], point["held_out_shown"]))
    return _curve(run, arm, points, error=errors[0] if errors else None)


def _curve(run: _Run, arm: str, points: list[tuple[int, float | None]], error: str | None = None) -> RunCurve:
    view = run.view
    counts, throughput = view.counts, view.throughput
    samples = int(counts["samples"])
    return RunCurve(
        run_dir=view.run_dir, problem=view.problem, arm=arm, seed=int(run.config.get("seed", 0)),
        samples=samples, points=points,
        duplicate_rate=counts["duplicates"] / samples if samples else None,
        valid_rate=counts["valid"] / counts["evaluated"] if counts["evaluated"] else None,
        samples_per_minute=throughput.get("samples_per_minute"), held_out_error=error,
    )


def run_strategy(config: dict[str, Any]) -> str:
    """The prompt strategy a run stored (RunConfig's, or its LLM settings'), FunSearch's before that."""
    llm = config.get("llm") or {}
    return str(config.get("strategy") or llm.get("strategy") or UNRECORDED_STRATEGY)


def _arm_labels(runs: list[_Run]) -> list[str]:
    """Each run's arm: its strategy, and its model too when the runs compared used different models."""
    strategies = [run_strategy(run.config) for run in runs]
    models = [", ".join(run.view.counts.get("models") or []) or "?" for run in runs]
    if len(set(models)) <= 1:
        return strategies
    return [f"{strategy} · {model}" for strategy, model in zip(strategies, models, strict=True)]
