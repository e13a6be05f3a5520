"""The small typed values that cross evoforge's seams.

spec -> prompt -> sample -> candidate -> evaluation -> record. Each is a frozen
dataclass of plain data so it can cross a Ray actor boundary, a sandbox pipe or
a SQLite row without pickling anything a candidate could have touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from evoforge.agents.strategies import DEFAULT_STRATEGY


class Direction(StrEnum):
    """Which way a spec's `@run` score is better.

    `oriented` is the one place a score changes direction: the programs
    database ranks "higher is better", everything a person reads is raw.
    """

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @property
    def sign(self) -> float:
        """+1 when higher raw scores are better, -1 when lower are: for vectorised code (numpy sorts)."""
        return 1.0 if self is Direction.MAXIMIZE else -1.0

    def oriented(self, score: float) -> float:
        """A raw score turned so that higher is better; applied twice it gives the raw score back."""
        return self.sign * score


@dataclass(frozen=True)
class Limits:
    """Resource limits for evaluating one candidate on one input."""

    wall_seconds: float = 30.0
    cpu_seconds: float = 30.0
    memory_mb: int = 1024
    max_output_bytes: int = 1 << 20
    max_open_files: int = 64
    max_file_bytes: int = 1 << 20


@dataclass(frozen=True)
class Prompt:
    """What the database asks an agent to improve on."""

    island_id: int
    parent_ids: tuple[int, ...]
    parent_codes: tuple[str, ...]
    parent_scores: tuple[float, ...]
    version_generated: int
    parent_feedback: tuple[str, ...] = ()  # per parent, what its evaluation said (details["feedback"])
    strategy: str = DEFAULT_STRATEGY  # the prompt strategy the driver chose (agents/strategies)
    recent_errors: tuple[str, ...] = ()  # why recent children of these parents failed (chat shows them)
    seed: int | None = None  # the request's sampling seed (evoforge.sample_variety); None: the server picks
    temperature: float | None = None  # None: the sampler's configured temperature
    hint: str | None = None  # a direction added to the ask of a prompt that repeats (evoforge.sample_variety)
    llm: str | None = None  # with several backends, the label of the one that answers (None: the only one)


@dataclass(frozen=True)
class Completion:
    """One raw text an LLM returned, with its cost."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_seconds: float = 0.0
    finish_reason: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A parsed function ready for evaluation, or the reason it is not."""

    code: str | None
    code_hash: str | None
    parse_error: str | None = None


@dataclass(frozen=True)
class TrialResult:
    """The outcome of running one candidate on one input.

    `score` is a finite float or None; `error` says why there is no score
    (timeout, memory, crash, invalid result ...) in one line. `data` is what
    the spec's `@run` returned beside the score, when it returned
    `{"score": ..., "data": [...]}`: a JSON list (nested at most four deep) of
    finite ints and floats, checked on both sides of the sandbox boundary
    (a surrogate needs the design field a candidate produced, not just its score).
    """

    input_key: str
    score: float | None
    error: str | None = None
    seconds: float = 0.0
    output_tail: str = ""
    data: list[Any] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if self.score is not None and not math.isfinite(self.score):
            raise ValueError(f"TrialResult score must be finite, got {self.score!r}")


@dataclass(frozen=True)
class Evaluation:
    """All trials of one candidate, reduced to one score where every trial passed.

    `details` is what a candidate kind knows beyond the per-input scores (an
    expression's fitted constants, a proof's Lean messages, a surrogate's
    estimate): plain JSON data, stored with the evaluation and shown by reports.
    """

    trials: tuple[TrialResult, ...]
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def ok(self) -> bool:
        return bool(self.trials) and all(t.score is not None for t in self.trials)

    def input_details(self, input_key: str) -> dict[str, Any]:
        """One input's details: what holds for every input, plus its own `details["per_input"][key]`
        (a kind whose inputs differ files them there, so reports show each input its own)."""
        common = {k: v for k, v in self.details.items() if k != "per_input"}
        return {**common, **(self.details.get("per_input") or {}).get(input_key, {})}

    @property
    def signature(self) -> tuple[float, ...]:
        """Per-input scores in input order: FunSearch clusters programs by this."""
        return tuple(t.score for t in self.trials if t.score is not None)

    @property
    def score(self) -> float | None:
        """Mean over inputs, as FunSearch reduces a signature to one score."""
        if not self.ok:
            return None
        return sum(self.signature) / len(self.signature)

    @property
    def first_error(self) -> str | None:
        return next((t.error for t in self.trials if t.error), None)


@dataclass(frozen=True)
class BehaviourDuplicate:
    """A candidate whose behaviour fingerprint equals a known program's: not evaluated further.

    `seconds` is what finding out cost (the probe trial), not an evaluation.
    """

    behaviour_hash: str
    seconds: float = 0.0


@dataclass(frozen=True)
class StrategyTally:
    """What one prompt strategy's (or strategy and backend's) samples became, counted in samples
    (the bandit's state)."""

    samples: int = 0
    parsed: int = 0
    duplicates: int = 0
    valid: int = 0
    improvements: int = 0


@dataclass
class RunCounters:
    """Budget and progress figures shown live and stored with the run."""

    samples: int = 0
    parsed: int = 0
    duplicates: int = 0
    evaluated: int = 0
    valid: int = 0
    best_score: float | None = None  # as the spec's @run returns it
    completion_tokens: int = 0
    screen: dict[str, Any] = field(default_factory=dict)  # a screened run's fidelity (surrogates)
