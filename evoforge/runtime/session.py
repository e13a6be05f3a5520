"""One session of a run: start or resume, wire the actors, run the loop, report.

The library entry points `run_search` and `resume_search` are what the CLI
calls and what a notebook can call directly. Each holds the run directory's
lock for the whole session, so two drivers can never share a run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from evoforge.agents.base import LLMUnavailable
from evoforge.agents.config import LLMConfig, served_by_llama_cpp, start_shared_server, temperature_ceiling
from evoforge.agents.llama_server import usable_cores
from evoforge.agents.strategies import DEFAULT_STRATEGY
from evoforge.records import Evaluation, RunCounters
from evoforge.run_config import RunConfig
from evoforge.runtime.actors import EvaluatorActor, SamplerActor
from evoforge.runtime.interrupts import sigterm_as_interrupt
from evoforge.runtime.loop import Pools, ProgressHook, RunLoop, SearchStopped, evaluation_batch
from evoforge.runtime.ray_session import start_ray
from evoforge.runtime.run_files import (
    create_run,
    ensure_seeded,
    load_run_config,
    refuse_existing_run,
    reopen_run,
    score_seed,
)
from evoforge.runtime.run_lock import hold_run_lock
from evoforge.search_state import SearchState
from evoforge.spec import ProblemSpec, load_problem
from evoforge.spec_errors import RunError

__all__ = ["RunOutcome", "held_out_report", "load_run_config", "resume_search", "run_search"]

ACTOR_CLOSE_SECONDS = 5.0
# Scoring a candidate that takes longer keeps an evaluator busy most of the time, so a local model's
# server leaves it a core (`server_threads`).
HEAVY_EVALUATION_SECONDS = 1.0


@dataclass
class RunOutcome:
    """What a session achieved, for the CLI to print and tests to check (scores as `@run` gives them)."""

    run_dir: Path
    counters: RunCounters
    best_code: str | None = None
    best_score: float | None = None
    held_out: dict[str, Any] = field(default_factory=dict)
    stopped_because: str | None = None


def run_search(config: RunConfig, progress: ProgressHook | None = None) -> RunOutcome:
    """Start a new run in `config.run_dir`, which must not hold a run already."""
    with sigterm_as_interrupt():
        spec = load_problem(config.problem, config.inputs_json)
        refuse_unsupported_strategy(spec, config.strategy)
        refuse_existing_run(config.run_dir)
        seed_evaluation = score_seed(spec, config.sandbox_mode)  # before anything is written
        with hold_run_lock(config.run_dir):
            create_run(config, spec, seed_evaluation)
            return _execute(config, spec, progress)


def refuse_unsupported_strategy(spec: ProblemSpec, strategy: str) -> None:
    """Lean proofs are prompted by their own repair loop (agents/lean_prompts.py), not a strategy."""
    if spec.kind == "lean_proof" and strategy != DEFAULT_STRATEGY:
        raise RunError(f"--strategy {strategy}: {spec.name} is a lean_proof problem, prompted by its own "
                       "proof-repair loop; leave --strategy out.")


def resume_search(run_dir: Path, progress: ProgressHook | None = None, **overrides: Any) -> RunOutcome:
    """Continue a stopped or killed run; overrides may raise the budget (samples, minutes)."""
    with sigterm_as_interrupt():
        load_run_config(run_dir)  # one sentence if there is no run here, before any lock file is made
        with hold_run_lock(Path(run_dir)):
            config, spec = reopen_run(Path(run_dir), overrides)
            return _execute(config, spec, progress)


def _execute(config: RunConfig, spec: ProblemSpec, progress: ProgressHook | None) -> RunOutcome:
    start_ray(config.address)
    with sigterm_as_interrupt():  # again: Ray's init installed its own handler
        base, ceiling = temperature_bounds(config.llm, config.strategy)
        llms = {label: temperature_bounds(settings, config.strategy)
                for label, settings in config.llm_arms().items()} if config.also_llms else None
        state = SearchState(config.run_dir, spec, config.database, config.seed, config.strategy,
                            temperature=base, temperature_ceiling=ceiling, llms=llms)
        try:
            ensure_seeded(state, spec, config.sandbox_mode)
            threads = server_threads(config, state.storage.mean_evaluation_seconds())
            stopped = _search(config, spec, state, progress, threads)
            outcome = RunOutcome(config.run_dir, state.counters, stopped_because=stopped)
            best = state.best()
            if best is not None:
                outcome.best_code, outcome.best_score = best.code, best.score
                outcome.held_out = held_out_report(spec, best.code, config.dataset)
                state.storage.set_meta("held_out", json.loads(json.dumps(outcome.held_out)))
        finally:
            state.close()
    return outcome


def temperature_bounds(settings: dict[str, Any], strategy: str) -> tuple[Any, Any]:
    """A backend's base temperature and the ceiling its raised prompts go up to (the base: a raised
    prompt gets only a hint; both None where the settings give no temperature)."""
    base = settings.get("temperature")
    ceiling = temperature_ceiling(settings.get("backend", "embedded"), settings.get("max_temperature"),
                                  strategy)
    return base, ceiling if ceiling is not None else base


def server_threads(config: RunConfig, evaluation_seconds: float | None) -> int | None:
    """The CPU threads of the run's local model server: every core unless evaluation is heavy.

    On the 2-core machine (README, "Keeping the LLM busy"), bin_packing, 0.15 s to score a candidate,
    drew 1.33-1.46x the samples a minute with 2 threads as with 1; on a copy with 12x the training
    items (2.5 s a candidate) 2 threads drew 12 a minute against 29, because a server's threads wait
    for each other at every step and the evaluator, busy most of the time, keeps taking one's core.
    `--threads` decides alone.
    """
    given = config.llm.get("threads")
    if given or evaluation_seconds is None or evaluation_seconds < HEAVY_EVALUATION_SECONDS:
        return given
    return max(1, usable_cores() - config.evaluators)


def _search(
    config: RunConfig, spec: ProblemSpec, state: SearchState, progress: ProgressHook | None,
    threads: int | None,
) -> str | None:
    """Run the loop; why it stopped early, or None when the budget was spent."""
    try:
        with _actors(config, spec, threads) as pools:
            RunLoop(config, state, pools, progress).run()
    except SearchStopped as error:
        return str(error)
    except LLMUnavailable as error:
        raise LLMUnavailable(
            f"{error} The run is saved; continue it with `evoforge resume {config.run_dir}` "
            "(add --base-url URL if the server is elsewhere)."
        ) from None
    return None


@contextlib.contextmanager
def _actors(config: RunConfig, spec: ProblemSpec, threads: int | None) -> Iterator[Pools]:
    evaluators = [EvaluatorActor.remote(spec, config.sandbox_mode, str(config.run_dir))
                  for _ in range(config.evaluators)]
    try:
        with _served_llm(config, threads) as llm:
            samplers = [SamplerActor.remote(llm, spec, config.samples_per_prompt)
                        for _ in range(config.samplers)]
            try:
                yield Pools(samplers, evaluators, evaluation_batch(evaluators[0]))
            finally:
                for sampler in samplers:  # it holds only a client: stop it now, even mid-request
                    ray.kill(sampler)
    finally:
        with contextlib.suppress(ray.exceptions.RayError):  # a moment to stop their sandboxes
            ray.get([e.close.remote() for e in evaluators], timeout=ACTOR_CLOSE_SECONDS)
        for evaluator in evaluators:
            ray.kill(evaluator)


@contextlib.contextmanager
def _served_llm(config: RunConfig, threads: int | None) -> Iterator[dict[str, dict[str, Any]]]:
    """The LLM settings for the samplers, by backend label: a local model gets one llama-server for
    the run, each of several its own, and they share the cores unless given their threads."""
    slots = max(1, config.samplers * config.samples_per_prompt)
    arms = config.llm_arms()
    local = sum(served_by_llama_cpp(settings.get("backend", "embedded")) for settings in arms.values())
    if threads is None and local > 1:
        threads = max(1, usable_cores() // local)
    with contextlib.ExitStack() as servers:
        clients = {}
        for label, settings in arms.items():
            server, client = start_shared_server(LLMConfig(**{**settings, "slots": slots,
                                                              "threads": settings.get("threads") or threads}))
            if server is not None:
                servers.callback(server.stop)
            clients[label] = dataclasses.asdict(client)
        yield clients


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
            **({"details": evaluation.input_details(t.input_key)} if evaluation.details else {}),
        }
        for t in evaluation.trials
    }
