"""One session of a run: start or resume, wire the actors, run the loop, report.

The library entry points `run_search` and `resume_search` are what the CLI
calls and what a notebook can call directly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ray

from evoforge.records import Evaluation, RunCounters
from evoforge.run_config import RunConfig
from evoforge.runtime.actors import DatabaseActor, EvaluatorActor, SamplerActor
from evoforge.runtime.llm_service import serve_llm
from evoforge.runtime.loop import Pools, RunLoop, SearchStopped
from evoforge.runtime.ray_session import start_ray
from evoforge.spec import ProblemSpec, load_problem
from evoforge.storage import DB_FILENAME, RunStorage

ProgressHook = Callable[[RunCounters, dict[str, float]], None]


@dataclass
class RunOutcome:
    """What a session achieved, for the CLI to print and tests to check."""

    run_dir: Path
    counters: RunCounters
    best_code: str | None = None
    best_score: float | None = None
    held_out: dict[str, Any] = field(default_factory=dict)
    stopped_because: str | None = None


def run_search(config: RunConfig, progress: ProgressHook | None = None) -> RunOutcome:
    """Start a new run in `config.run_dir` (which must not hold a run already)."""
    db_path = config.run_dir / DB_FILENAME
    if db_path.exists():
        raise FileExistsError(
            f"{config.run_dir} already holds a run; continue it with `evoforge resume {config.run_dir}` "
            "or choose another --run-dir."
        )
    spec = load_problem(config.problem, config.inputs_json)
    storage = RunStorage(db_path)
    storage.set_meta("config", config.to_json())
    storage.set_meta("spec", {"name": spec.name, "path": str(spec.path), "source": spec.source})
    storage.set_meta("direction", spec.direction.value)
    storage.set_meta("report", dataclasses.asdict(spec.report))
    storage.set_meta("created", time.time())
    storage.close()
    return _execute(config, spec, progress)


def load_run_config(run_dir: Path) -> RunConfig:
    storage = RunStorage.open_run(run_dir)
    try:
        return replace(RunConfig.from_json(storage.meta("config")), run_dir=Path(run_dir))
    finally:
        storage.close()


def resume_search(
    run_dir: Path, progress: ProgressHook | None = None, **overrides: Any
) -> RunOutcome:
    """Continue a stopped or killed run; overrides may raise the budget (samples, minutes)."""
    config = load_run_config(run_dir)
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    storage = RunStorage.open_run(run_dir, readonly=False)
    storage.set_meta("config", config.to_json())
    storage.close()
    spec = load_problem(config.problem, config.inputs_json)
    return _execute(config, spec, progress)


def _execute(config: RunConfig, spec: ProblemSpec, progress: ProgressHook | None) -> RunOutcome:
    start_ray(config.address)
    with _actors(config, spec) as pools:
        _evaluate_until_seeded(pools)
        loop = RunLoop(config, pools, on_progress=progress or (lambda c, s: None))
        stopped = None
        try:
            counters = loop.run()
        except SearchStopped as error:
            counters, stopped = loop.counters, str(error)
        best = ray.get(pools.database.best.remote())
    outcome = RunOutcome(config.run_dir, counters, stopped_because=stopped)
    if best is not None:
        outcome.best_code, outcome.best_score = best[1], spec.better_score(best[2])
        outcome.held_out = held_out_report(spec, best[1], config.dataset)
        _store_report(config.run_dir, outcome)
    return outcome


@contextlib.contextmanager
def _actors(config: RunConfig, spec: ProblemSpec) -> Iterator[Pools]:
    database = DatabaseActor.remote(str(config.run_dir), spec, config.database, config.seed)
    evaluators = [EvaluatorActor.remote(spec, config.sandbox_mode, str(config.run_dir))
                  for _ in range(config.evaluators)]
    actors = [database, *evaluators]
    try:
        with serve_llm(config.llm, slots=config.samplers * config.samples_per_prompt) as llm:
            samplers = [
                SamplerActor.remote(llm, spec, config.samples_per_prompt) for _ in range(config.samplers)
            ]
            actors.extend(samplers)
            yield Pools(database, samplers, evaluators)
    finally:
        for actor in actors:
            with contextlib.suppress(ray.exceptions.RayError):
                ray.get(actor.close.remote(), timeout=30)
            ray.kill(actor)


def _evaluate_until_seeded(pools: Pools) -> None:
    """Evaluate the seed (and anything pending) before sampling: sampling needs a program."""
    database, evaluator = pools.database, pools.evaluators[0]
    ray.get(database.seed_if_new.remote())
    if ray.get(database.has_programs.remote()):
        return
    errors = []
    for pending in ray.get(database.pending.remote()):
        pending, evaluation = ray.get(evaluator.evaluate.remote(pending))
        ray.get(database.record_evaluation.remote(pending, evaluation))
        errors.append(evaluation.first_error)
    if not ray.get(database.has_programs.remote()):
        raise SearchStopped(
            f"the seed program does not score on the training inputs ({errors[0] if errors else '?'}); "
            "fix the spec's @evolve function so it runs, then start again."
        )


def held_out_report(spec: ProblemSpec, code: str, dataset: str | None) -> dict[str, Any]:
    """Score a program on the held-out test inputs (and a --dataset file), as reports use."""
    from evoforge.evaluators import open_evaluator

    report: dict[str, Any] = {}
    targets: list[tuple[str, Path | None]] = [("test", None)]
    if dataset:
        targets.append(("test", Path(dataset)))
    for split, path in targets:
        evaluator = open_evaluator(spec, split=split, dataset=path)
        try:
            evaluation = evaluator.evaluate(code)
        finally:
            evaluator.close()
        report.update(_trial_report(spec, evaluation))
    return report


def _trial_report(spec: ProblemSpec, evaluation: Evaluation) -> dict[str, Any]:
    return {
        t.input_key: {
            "score": t.score,
            "shown": spec.report.show(t.score) if t.score is not None else None,
            "error": t.error,
        }
        for t in evaluation.trials
    }


def _store_report(run_dir: Path, outcome: RunOutcome) -> None:
    storage = RunStorage.open_run(run_dir, readonly=False)
    try:
        storage.set_meta("held_out", json.loads(json.dumps(outcome.held_out)))
    finally:
        storage.close()
