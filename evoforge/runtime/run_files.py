"""A run directory outside the loop: created whole or not at all, reopened with its own spec.

A new run is checked before anything is written: the spec is loaded into a
real sandbox (as the evaluators will load it) and its seed program scored, so
a spec that fails at import or a seed that does not score leaves no half run.
The run's metadata is then written in one transaction. `resume` runs the spec
text stored in the run, not whatever the file on disk says now, repairs
metadata an interrupted creation left out, and says so when the budget is spent.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.records import Evaluation
from evoforge.run_config import RunConfig, llm_settings
from evoforge.search_state import SearchState
from evoforge.spec import ProblemSpec, load_problem
from evoforge.spec_errors import RunError, SpecError
from evoforge.storage import DB_FILENAME, RunStorage

log = logging.getLogger("evoforge")


# -- a new run ----------------------------------------------------------------
def refuse_existing_run(run_dir: Path) -> None:
    if (run_dir / DB_FILENAME).exists():
        raise FileExistsError(
            f"{run_dir} already holds a run; continue it with `evoforge resume {run_dir}` "
            "or choose another --run-dir."
        )


def score_seed(spec: ProblemSpec, sandbox_mode: str) -> Evaluation:
    """The spec's own function scored in the sandbox: proves the spec imports and the seed runs."""
    from evoforge.evaluators import open_evaluator
    from evoforge.evaluators.behaviour import evaluate_unless_known

    evaluator = open_evaluator(spec, split="train", mode=sandbox_mode, stop_on_error=True, fingerprints=True)
    try:  # with its fingerprint, so that a renamed copy of the seed is a behavioural duplicate
        evaluation = evaluate_unless_known(evaluator, spec.seed_code, known=())
    finally:
        evaluator.close()
    assert isinstance(evaluation, Evaluation), "nothing is known before the seed"
    if evaluation.score is None:
        seed, fix = f"{spec.evolve_name}()", "fix the @evolve function so it runs"
        if spec.kind == "openevolve":  # the seed is the initial EVOLVE-BLOCK, scored by evaluator.py
            seed = "(the initial EVOLVE-BLOCK)"
            fix = "fix initial_program.py or evaluator.py so that evaluate() returns a numeric combined_score"
        raise SpecError(
            f"{spec.path}: the seed program {seed} does not score on the training inputs "
            f"({evaluation.first_error}); {fix}, then start again."
        )
    return evaluation


def create_run(config: RunConfig, spec: ProblemSpec, seed_evaluation: Evaluation) -> None:
    """Write the run's metadata (one transaction) and its scored seed program, or nothing at all.

    If the disk fills (or any write fails) on the way, the half-made file is
    removed: the folder holds no run rather than one `resume` cannot continue.
    """
    refuse_existing_run(config.run_dir)
    db_path = config.run_dir / DB_FILENAME
    try:
        _write_new_run(config, spec, seed_evaluation)
    except (sqlite3.Error, OSError):
        for suffix in ("", "-wal", "-shm"):
            db_path.with_name(DB_FILENAME + suffix).unlink(missing_ok=True)
        raise  # the CLI's one sentence for it (evoforge/user_errors.py): a full disk, a damaged file


def _write_new_run(config: RunConfig, spec: ProblemSpec, seed_evaluation: Evaluation) -> None:
    storage = RunStorage(config.run_dir / DB_FILENAME)
    try:
        storage.create_run(creation_meta(config, spec))
    finally:
        storage.close()
    state = SearchState(config.run_dir, spec, config.database, config.seed)
    try:
        seed = state.seed_if_new()
        assert seed is not None, "a new run holds no candidate yet"
        state.record_evaluation(seed, seed_evaluation)
    finally:
        state.close()


def creation_meta(config: RunConfig, spec: ProblemSpec) -> dict[str, Any]:
    return {
        "config": config.to_json(),
        "spec": {
            "name": spec.name, "path": str(spec.path), "source": spec.source,
            "evolve_name": spec.evolve_name, "run_name": spec.run_name, "seed_code": spec.seed_code,
            "kind": spec.kind,  # the report picks the kind's panels by it
        },
        "direction": spec.direction.value,
        "report": dataclasses.asdict(spec.report),
        "created": time.time(),
    }  # fmt: skip


# -- an existing run ------------------------------------------------------------
def load_run_config(run_dir: Path) -> RunConfig:
    """The stored settings of a run, or one sentence saying why there are none."""
    storage = RunStorage.open_run(run_dir)
    try:
        stored = storage.meta("config")
    finally:
        storage.close()
    if stored is None:
        raise RunError(
            f"{run_dir} holds no run settings: its creation did not finish (a full disk or a crash "
            "while it started); delete the folder and start the run again with `evoforge run`."
        )
    return replace(RunConfig.from_json(stored), run_dir=Path(run_dir))


def reopen_run(run_dir: Path, overrides: dict[str, Any]) -> tuple[RunConfig, ProblemSpec]:
    """The config (overrides of the budget, `llm` settings and `llm_outage_minutes` applied and
    stored) and the spec: a server that moved is followed with `resume --base-url`, by every
    backend that was on it.

    The caller holds the run's lock.
    """
    config = load_run_config(run_dir)
    llm_changes = {key: value for key, value in overrides.pop("llm", {}).items() if value is not None}
    outage_minutes = overrides.pop("llm_outage_minutes", None)
    if outage_minutes is not None:
        llm_changes["outage_seconds"] = outage_minutes * 60
    if llm_changes:  # further backends that shared the first one's value follow it (the same server)
        also = [llm_settings({**settings, **{key: value for key, value in llm_changes.items()
                                             if settings.get(key) == config.llm.get(key)}})
                for settings in config.also_llms]
        config = replace(config, llm=llm_settings({**config.llm, **llm_changes}), also_llms=also)
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    storage = RunStorage.open_run(run_dir, readonly=False)
    try:
        spec = _stored_spec(config, storage.meta("spec"))
        _repair_meta(storage, config, spec)
        _refuse_spent_budget(storage, config)
        storage.set_meta("config", config.to_json())
    finally:
        storage.close()
    return config, spec


def _stored_spec(config: RunConfig, stored: dict[str, Any] | None) -> ProblemSpec:
    """The problem as on disk, running the spec text the run was started with."""
    spec = load_problem(config.problem, config.inputs_json)
    source = (stored or {}).get("source")
    if source is None or source == spec.source:
        return spec
    log.warning(
        "%s changed since this run started; resuming with the copy stored in the run "
        "(start a new run to search with the new one).", spec.path,
    )
    return replace(
        spec, source=source,
        evolve_name=stored.get("evolve_name", spec.evolve_name),  # type: ignore[union-attr]
        run_name=stored.get("run_name", spec.run_name),  # type: ignore[union-attr]
        seed_code=stored.get("seed_code", spec.seed_code),  # type: ignore[union-attr]
    )  # fmt: skip


def _repair_meta(storage: RunStorage, config: RunConfig, spec: ProblemSpec) -> None:
    """Fill in metadata an interrupted creation left out, from the spec the run runs."""
    full = creation_meta(config, spec)
    missing = [key for key in ("spec", "direction", "report", "created") if storage.meta(key) is None]
    if not missing:
        return
    log.warning("%s lacked its %s; restored from %s.", config.run_dir, ", ".join(missing), spec.path)
    storage.create_run({key: full[key] for key in missing})


def _refuse_spent_budget(storage: RunStorage, config: RunConfig) -> None:
    if storage.count("candidates", "status = 'pending'"):
        return  # evaluating what was left pending is still to do
    samples = storage.count("samples")
    if samples >= config.samples:
        raise RunError(
            f"{config.run_dir} has spent its budget ({samples} of {config.samples} samples); "
            f"raise it with `evoforge resume {config.run_dir} --samples N` (N above {samples})."
        )
    minutes = float(storage.meta("elapsed_seconds", 0.0)) / 60
    if config.minutes is not None and minutes >= config.minutes:
        raise RunError(
            f"{config.run_dir} has spent its time budget ({minutes:.1f} of {config.minutes:g} minutes); "
            f"raise it with `evoforge resume {config.run_dir} --minutes M` (M above {minutes:.1f})."
        )


def ensure_seeded(state: SearchState, spec: ProblemSpec, sandbox_mode: str) -> None:
    """A run made before seeds were scored at creation: score what is pending before sampling."""
    if state.has_programs():
        return
    state.seed_if_new()
    from evoforge.evaluators import open_evaluator

    evaluator = open_evaluator(spec, split="train", mode=sandbox_mode, stop_on_error=True)
    try:
        for pending in state.pending():
            state.record_evaluation(pending, evaluator.evaluate(pending.code))
    finally:
        evaluator.close()
    if not state.has_programs():
        score_seed(spec, sandbox_mode)  # raises the SpecError that says why the seed does not score
