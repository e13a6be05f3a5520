"""Scoring designs whose exact score is a PDE solve: sandboxed design, trusted screen and solver.

The candidate's code runs only in the sandbox, where the spec's `@run` (told
`design_only`) returns the admissible design field as data. Everything after
that is trusted code in this process: the screen (surrogate or coarse solve)
estimates, the cascade decides, the exact solver scores the chosen ones.
Only exact scores are scores: a screened-out candidate's evaluation fails with
the reason and keeps its estimate in `details`, so islands, "best" and every
reported figure rest on exactly solved candidates.

Screening happens only in a search (a run directory is given) or when a screen
is named (benches); `evoforge evaluate` and held-out reports solve exactly.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.records import Evaluation, Limits, TrialResult
from evoforge.sandboxes import SandboxMode, open_sandbox
from evoforge.spec import ProblemSpec
from evoforge.spec_inputs import resolve_inputs
from evoforge.surrogates.cascade import (
    CHECKPOINT,
    Cascade,
    CascadeConfig,
    Verdict,
    code_id,
    stored_config,
)
from evoforge.surrogates.physics import Physics, physics_for
from evoforge.surrogates.screens import CoarseScreen, NoScreen, Screen, SurrogateScreen

STATE_FOLDER = "surrogate"


class SurrogateCascadeEvaluator:
    """A warm sandbox that designs, plus the trusted cascade that scores the designs."""

    def __init__(self, spec: ProblemSpec, split: str = "train", dataset: Path | None = None,
                 mode: SandboxMode = SandboxMode.FORK, limits: Limits | None = None,
                 stop_on_error: bool = False, run_dir: Path | None = None,
                 config: CascadeConfig | None = None, surrogate: Any = None) -> None:
        inputs = resolve_inputs(spec, split, dataset)
        self.spec = spec
        self.physics: dict[str, Physics] = {key: physics_for(value) for key, value in inputs.items()}
        designing = {key: {**value, "design_only": True} for key, value in inputs.items()}
        designer = replace(spec, inline_inputs={split: designing})
        self._sandbox = open_sandbox(designer, split, None, mode, limits)
        self.input_keys: tuple[str, ...] = self._sandbox.input_keys
        self.sign = spec.direction.sign
        state_dir = Path(run_dir) / STATE_FOLDER if run_dir is not None else None
        config = stored_config(state_dir) or config
        if config is None and state_dir is not None:
            config = CascadeConfig()
        self.cascade = self._cascade(config, state_dir, surrogate) if config is not None else None

    def _cascade(self, config: CascadeConfig, state_dir: Path | None, surrogate: Any) -> Cascade:
        if len(self.physics) != 1:
            raise ValueError(f"{self.spec.name}: a screened search needs exactly one training input")
        physics = next(iter(self.physics.values()))
        base = None
        if config.screen == "surrogate":
            surrogate, base = _starting_surrogate(self.spec.name, physics, state_dir, surrogate)
        screen = _screen(config.screen, physics, surrogate)
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        return Cascade(screen, config, self.sign, state_dir, base)

    # -- evaluation --------------------------------------------------------
    def evaluate(self, code: str) -> Evaluation:
        return self.evaluate_batch([code])[0]

    def evaluate_batch(self, codes: list[str]) -> list[Evaluation]:
        """Design every candidate in the sandbox, then screen the batch at once and solve the chosen."""
        designed = [self._designs(code) for code in codes]
        if self.cascade is None:
            return [self._exact_everywhere(trials, designs) for trials, designs in designed]
        return self._screened(codes, designed)

    def _designs(self, code: str) -> tuple[list[TrialResult], dict[str, np.ndarray] | None]:
        trials, designs = [], {}
        for key in self.input_keys:
            trial = self._sandbox.run(code, key)
            problem = _design_problem(trial)
            if problem is None:
                try:
                    designs[key] = self.physics[key].admissible(trial.data)
                except ValueError as error:
                    problem = f"invalid design: {error}"
            trials.append(replace(trial, data=None, score=None, error=problem))
            if problem is not None:
                return trials, None
        return trials, designs

    def _exact_everywhere(self, trials: list[TrialResult],
                          designs: dict[str, np.ndarray] | None) -> Evaluation:
        if designs is None:
            return Evaluation(tuple(trials), seconds=sum(t.seconds for t in trials))
        scored = []
        for trial in trials:
            started = time.perf_counter()
            physics, design = self.physics[trial.input_key], designs[trial.input_key]
            score = float(physics.scores(design[None], physics.solve(design[None]))[0])
            scored.append(replace(trial, score=score, seconds=trial.seconds + time.perf_counter() - started))
        first = next(iter(designs.values()))
        return Evaluation(tuple(scored), seconds=sum(t.seconds for t in scored),
                          details={"exact": True, "design": _rounded(first)})

    def _screened(self, codes: list[str], designed: list[tuple[list[TrialResult], Any]]) -> list[Evaluation]:
        """Failed designs keep their error; the rest are estimated in one forward pass, then chosen or not.

        Every evaluation of the batch records the batch (its id and size) and
        the surrogate version that screened it; when the owner fine-tunes once
        the batch is done, they also record the version it made (`finetuned_to`).
        """
        cascade, key = self.cascade, self.input_keys[0]
        assert cascade is not None
        evaluations = [Evaluation(tuple(trials), seconds=sum(t.seconds for t in trials))
                       for trials, _ in designed]
        ready = [i for i, (_, designs) in enumerate(designed) if designs is not None]
        if not ready:
            return evaluations
        cascade.refresh()
        designs = np.stack([designed[i][1][key] for i in ready])
        started = time.perf_counter()
        estimates = cascade.screen.estimates(designs)
        screen_seconds = (time.perf_counter() - started) / len(ready)
        verdicts = cascade.select(estimates, [codes[i] for i in ready])
        batch = {"screen": cascade.screen.name, "surrogate_version": cascade.version,
                 "screen_batch": _batch_id([codes[i] for i in ready]), "screen_batch_size": len(ready),
                 "surrogate_owner": cascade.owner}
        for j, i in enumerate(ready):
            trial = designed[i][0][0]
            evaluations[i] = self._verdict(trial, designs[j], verdicts[j], codes[i], screen_seconds, batch)
        finetuned_to = cascade.after_batch()
        if finetuned_to is not None:
            for i in ready:
                evaluations[i].details["finetuned_to"] = finetuned_to
        return evaluations

    def _verdict(self, trial: TrialResult, design: np.ndarray, verdict: Verdict, code: str,
                 screen_seconds: float, batch: dict[str, Any]) -> Evaluation:
        """Solve a chosen design exactly, or record why not.

        A chosen design is solved alone, so its score never depends on its batch-mates."""
        cascade = self.cascade
        assert cascade is not None
        details: dict[str, Any] = {**batch, "exact": verdict.exact, "reason": verdict.reason,
                                   "estimate": verdict.estimate, "threshold": verdict.threshold}
        seconds = trial.seconds + screen_seconds
        if not verdict.exact:
            # one sentence for all of them, so reports count them together; the figures are in details
            error = f"screened out by the {cascade.screen.name} screen; not exactly solved"
            return Evaluation((replace(trial, error=error, seconds=seconds),), seconds, details)
        physics = next(iter(self.physics.values()))
        started = time.perf_counter()
        solution = physics.solve(design[None])
        score = float(physics.scores(design[None], solution)[0])
        seconds += time.perf_counter() - started
        details.update(design=_rounded(design), exact_seconds=time.perf_counter() - started)
        cascade.learn(design, solution[0], code)
        return Evaluation((replace(trial, score=score, seconds=seconds),), seconds, details)

    @property
    def batch_size(self) -> int:
        """How many candidates a run hands this evaluator at once: a screened search's batch, else one."""
        return self.cascade.config.batch if self.cascade is not None else 1

    def close(self) -> None:
        if self.cascade is not None:
            self.cascade.close()
        self._sandbox.close()

    def __enter__(self) -> SurrogateCascadeEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _design_problem(trial: TrialResult) -> str | None:
    if trial.score is None:
        return trial.error or "the design failed"
    if trial.data is None:
        return 'the spec\'s @run returned no design: it must return {"score": ..., "data": [...]}'
    return None


def _screen(name: str, physics: Physics, surrogate: Any) -> Screen:
    if name == "surrogate":
        return SurrogateScreen(physics, surrogate)
    if name == "coarse":
        return CoarseScreen(physics)
    if name == "none":
        return NoScreen()
    raise ValueError(f"screen {name!r}: use surrogate, coarse or none")


def _starting_surrogate(problem: str, physics: Physics, state_dir: Path | None,
                        given: Any) -> tuple[Any, Any]:
    """The run's own latest checkpoint, else the given or cached one (made first when missing)."""
    from evoforge.surrogates import build, data, store
    from evoforge.surrogates.model import Surrogate

    if state_dir is not None and (state_dir / CHECKPOINT).exists():
        surrogate = Surrogate.load(state_dir / CHECKPOINT)
    else:  # the cascade's owner keeps it as the run's first checkpoint
        surrogate = given or build.ensure_surrogate(problem, physics,
                                                    say=lambda line: print(line, flush=True))
    base = None
    if store.data_path(problem).exists():
        pairs = data.load(store.data_path(problem))
        base = (pairs.designs, pairs.solutions) if pairs.settings == physics.settings else None
    return surrogate, base


def _batch_id(codes: list[str]) -> str:
    """A screened batch's id, fixed by its candidates: rows sharing it were one forward pass."""
    return code_id("\0".join(code_id(code) for code in codes))[:12]


def _rounded(design: np.ndarray) -> list[Any]:
    return np.round(design, 6).tolist()
