"""The run's state: the islands in memory, backed by the SQLite file.

Storage is written first, then memory is changed, so the islands can always
be rebuilt by replaying the stored events. The driver of a run calls it
directly; it imports neither Ray nor any LLM code.

Scores cross into the islands "higher is better" (`Direction.oriented`) and
come out raw again: everything outside this class sees the spec's own scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evoforge.agents.strategies import CHAT_STRATEGY, DEFAULT_STRATEGY, DIFF, RANDOM
from evoforge.code_text import code_hash
from evoforge.database import ProgramsDatabase, ProgramsDatabaseConfig, ResetEvent
from evoforge.records import BehaviourDuplicate, Candidate, Completion, Evaluation, Prompt, RunCounters
from evoforge.sample_variety import TemperatureRaise, request_seed, variation_hint
from evoforge.spec import ProblemSpec
from evoforge.storage import DB_FILENAME, RunStorage
from evoforge.strategy_bandit import StrategyChooser
from evoforge.surrogates.fidelity import ScreenTally, reported_version
from evoforge.surrogates.report import keep_newest_version, run_fidelity

SHOW_ERRORS = (CHAT_STRATEGY, DIFF)  # the strategies whose prompts show why recent children failed


@dataclass(frozen=True)
class PendingEvaluation:
    """A candidate waiting for the evaluators."""

    candidate_id: int
    code: str
    island_id: int | None


@dataclass
class UndecidedBatch:
    """A stored batch whose candidates are not all evaluated yet: its duplicate count is not final."""

    parent_ids: tuple[int, ...]
    undecided: int
    duplicates: int


@dataclass(frozen=True)
class BestProgram:
    """The best program so far, with its score as the spec's `@run` returns it."""

    candidate_id: int
    code: str
    score: float


class SearchState:
    """Islands + storage + counters for one run."""

    def __init__(
        self, run_dir: Path, spec: ProblemSpec, db_config: dict[str, Any], seed: int,
        strategy: str = DEFAULT_STRATEGY, temperature: float | None = None,
        temperature_ceiling: float | None = None, llms: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        """`seed` also derives each request's sampling seed; `temperature`, the sampler's, is the base
        that prompts answered with known code are raised from, up to `temperature_ceiling` (None or
        the base: a raised prompt gets only a hint); without `temperature`, prompts carry none.
        `llms`: several backends' labels, which the bandit chooses among, each with its own base
        temperature and ceiling."""
        self.spec = spec
        self.run_seed = seed
        self.storage = RunStorage(Path(run_dir) / DB_FILENAME)
        self.llm_temperatures = llms or {}
        self.strategies = StrategyChooser(strategy, self.storage, spec.direction.sign, seed,
                                          tuple(self.llm_temperatures))
        self.database = ProgramsDatabase(ProgramsDatabaseConfig(**db_config), seed=seed)
        for known in self.storage.known_hashes():
            self.database.remember(known)
        self.known_behaviours: set[str] = set(self.storage.known_behaviours())
        self.temperatures = (TemperatureRaise(temperature, temperature_ceiling or temperature)
                             if temperature is not None else None)
        self._undecided: dict[int, UndecidedBatch] = {}  # by candidate id, a batch's own object for each
        self.counters = RunCounters()
        self._screen = ScreenTally(spec.direction.sign)
        self._replay()
        if self.temperatures is not None:
            self.temperatures.replay(self.storage.prompt_batches())

    # -- rebuild ----------------------------------------------------------
    def _replay(self) -> None:
        """Rebuild the islands and counters from the stored events."""
        codes = {p.candidate_id: p.code for p in self.storage.programs(only_ok=True)}
        for kind, payload in self.storage.events():
            if kind == "register":
                self.database.register(
                    payload["program_id"], codes[payload["program_id"]],
                    tuple(payload["signature"]), payload["island_id"],
                )
            elif kind == "reset":
                self.database.apply_reset(ResetEvent.from_json(payload))
        # Prompts already drawn are not drawn again: continue the prompt stream.
        self.database.set_rng_state({**self.database.rng_state(), "prompts": self.storage.count("prompts")})
        self._recount()

    def _recount(self) -> None:
        storage = self.storage
        self.counters.samples = storage.count("samples")
        self.counters.parsed = storage.count("candidates", "code IS NOT NULL AND sample_id IS NOT NULL")
        self.counters.duplicates = storage.count("candidates", "status = 'duplicate'")
        self.counters.evaluated = storage.count("evaluations")
        self.counters.valid = storage.count("evaluations", "ok = 1")
        self.counters.completion_tokens = storage.token_totals()[1]
        self.counters.screen = run_fidelity(storage, self.spec.direction, self._screen)
        keep_newest_version(storage, self.counters.screen.get("surrogate_version"))
        self._count_best()

    def _count_best(self) -> None:
        best = self.best()
        self.counters.best_score = best.score if best else None

    # -- the run's steps --------------------------------------------------
    def seed_if_new(self) -> PendingEvaluation | None:
        """Queue the spec's own function as the first program of a new run."""
        if self.storage.count("candidates") > 0:
            return None
        seed_hash = code_hash(self.spec.seed_code)
        candidate_id = self.storage.add_seed_candidate(self.spec.seed_code, seed_hash)
        self.database.remember(seed_hash)
        return PendingEvaluation(candidate_id, self.spec.seed_code, None)

    def pending(self) -> list[PendingEvaluation]:
        return [PendingEvaluation(*row) for row in self.storage.pending_candidates()]

    def has_programs(self) -> bool:
        return self.database.best() is not None

    def next_prompt(self) -> Prompt:
        """The island's parents, with the strategy that will render them, what it needs to see, and
        the request's own sampling seed and temperature (sample_variety.py)."""
        number = self.database.rng_state()["prompts"]  # continued on resume, so seeds are never reused
        strategy, llm = self.strategies.choose()
        prompt = self.database.get_prompt()
        if strategy == RANDOM:
            prompt = self._seed_prompt(prompt)
        # The parents' feedback feeds repair prompts (lean_proof); their children's errors, chat and diff.
        notes = tuple(str(self.storage.details_of(i).get("feedback", "")) for i in prompt.parent_ids)
        errors = tuple(self.storage.recent_errors(prompt.parent_ids)) if strategy in SHOW_ERRORS else ()
        temperature = (self.temperatures.temperature(prompt.parent_ids, self.llm_temperatures.get(llm or ""))
                       if self.temperatures else None)
        raised = self.temperatures is not None and self.temperatures.raised(prompt.parent_ids)
        return replace(prompt, parent_feedback=notes, strategy=strategy, llm=llm, recent_errors=errors,
                       seed=request_seed(self.run_seed, number), temperature=temperature,
                       hint=variation_hint(number) if raised else None)

    def _seed_prompt(self, prompt: Prompt) -> Prompt:
        """The `random` arm's prompt: the seed program as the only parent (recorded as such)."""
        seed = next((p for p in self.storage.programs(only_ok=True) if p.island_id is None), None)
        if seed is None:
            return prompt
        score = self.spec.direction.oriented(seed.score or 0.0)
        return replace(prompt, parent_ids=(seed.candidate_id,), parent_codes=(seed.code,),
                       parent_scores=(score,), version_generated=1)

    def record_batch(
        self, prompt: Prompt, prompt_text: str,
        completions: list[Completion], candidates: list[Candidate], budget: int | None = None,
    ) -> list[PendingEvaluation]:
        """Store a sampled batch; return the new, non-duplicate candidates to evaluate.

        With a `budget`, completions beyond it are dropped unstored, so the
        stored sample count never exceeds it whatever a backend returned.
        """
        if budget is not None:
            room = max(0, budget - self.counters.samples)
            completions, candidates = completions[:room], candidates[:room]
        duplicate = [
            c.code_hash is not None and not self.database.check_and_remember(c.code_hash)
            for c in candidates
        ]
        ids = self.storage.record_batch(prompt, prompt_text, completions, candidates, duplicate)
        self._recount_batch(completions, candidates, duplicate)
        pending = [
            PendingEvaluation(candidate_id, candidate.code, prompt.island_id)
            for candidate_id, candidate, dup in zip(ids, candidates, duplicate, strict=True)
            if candidate.code is not None and not dup
        ]
        if self.temperatures is not None:
            batch = UndecidedBatch(prompt.parent_ids, len(pending), sum(duplicate))
            self._undecided.update((p.candidate_id, batch) for p in pending)
            if not pending:
                self.temperatures.observe(batch.parent_ids, batch.duplicates)
        return pending

    def _decide(self, candidate_id: int, duplicate: bool) -> None:
        """One candidate of a stored batch is evaluated or found a duplicate; the batch's last one
        moves the prompt's temperature (sample_variety.py)."""
        batch = self._undecided.pop(candidate_id, None)
        if batch is None or self.temperatures is None:  # the seed, or a candidate a resume found pending
            return
        batch.undecided -= 1
        batch.duplicates += int(duplicate)
        if batch.undecided == 0:
            self.temperatures.observe(batch.parent_ids, batch.duplicates)

    def _recount_batch(
        self, completions: list[Completion], candidates: list[Candidate], duplicate: list[bool]
    ) -> None:
        self.counters.samples += len(completions)
        self.counters.parsed += sum(c.code is not None for c in candidates)
        self.counters.duplicates += sum(duplicate)
        self.counters.completion_tokens += sum(c.completion_tokens for c in completions)

    def record_evaluation(self, pending: PendingEvaluation, evaluation: Evaluation) -> RunCounters:
        """Register a valid program, reset islands when due, and store it all atomically.

        Memory changes first and the one transaction follows: if the process
        dies in between, both are lost together and replay stays consistent.
        """
        score = evaluation.score
        events: list[tuple[str, dict[str, Any]]] = []
        if score is not None:
            signature = tuple(self.spec.direction.oriented(s) for s in evaluation.signature)
            self.database.register(pending.candidate_id, pending.code, signature, pending.island_id)
            events.append(("register", {
                "program_id": pending.candidate_id, "island_id": pending.island_id,
                "signature": list(signature),
            }))
            reset = self.database.maybe_reset()
            if reset is not None:
                events.append(("reset", reset.to_json()))
        self.storage.record_evaluation(pending.candidate_id, evaluation, score, events)
        keep_newest_version(self.storage, reported_version(evaluation.details))
        if evaluation.details.get("behaviour_hash"):
            self.known_behaviours.add(str(evaluation.details["behaviour_hash"]))
        self.counters.screen = self._screen.add(evaluation.details, score) or self.counters.screen
        self.counters.evaluated += 1
        self.counters.valid += int(score is not None)
        self._decide(pending.candidate_id, duplicate=False)
        self._count_best()
        return self.counters

    def record_behaviour_duplicate(self, pending: PendingEvaluation, duplicate: BehaviourDuplicate) -> None:
        """A candidate that behaves like a known program: stored as a duplicate, never evaluated."""
        self.storage.record_behaviour_duplicate(pending.candidate_id, duplicate.behaviour_hash)
        self.counters.duplicates += 1
        self._decide(pending.candidate_id, duplicate=True)

    def best(self) -> BestProgram | None:
        best = self.database.best()
        if best is None:
            return None
        return BestProgram(best.program_id, best.code, self.spec.direction.oriented(best.score))

    def elapsed_seconds(self) -> float:
        return float(self.storage.meta("elapsed_seconds", 0.0))

    def add_elapsed(self, seconds: float) -> None:
        self.storage.set_meta("elapsed_seconds", self.elapsed_seconds() + seconds)
        self.storage.set_meta("updated", time.time())

    def close(self) -> None:
        self.storage.close()
