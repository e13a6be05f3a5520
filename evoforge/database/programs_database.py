"""FunSearch's programs database: islands of clustered programs, reset now and then.

Everything it does is a function of the run seed and the calls it received.
`register` draws nothing at random; a reset's random choices are returned as a
`ResetEvent` for the caller to store, and `apply_reset` replays one without
drawing. So replaying the stored registrations and resets in order rebuilds
the islands exactly. Each random decision draws from a generator keyed by
(seed, stream, count) rather than from one long-lived generator, so the whole
random state is two counters (`rng_state`): restore the count of prompts
issued and the next prompts match those of the original run too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evoforge.database.cluster import Program
from evoforge.database.config import ProgramsDatabaseConfig
from evoforge.database.island import Island
from evoforge.database.sampling import Signature, get_signature, reduce_score
from evoforge.records import Prompt

_PROMPT_STREAM = 0
_RESET_STREAM = 1


@dataclass(frozen=True)
class ResetEvent:
    """Which islands were emptied, and the program each was re-seeded with (same order)."""

    island_ids: tuple[int, ...]
    founder_ids: tuple[int, ...]

    def to_json(self) -> dict[str, list[int]]:
        return {"island_ids": list(self.island_ids), "founder_ids": list(self.founder_ids)}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> ResetEvent:
        islands, founders = payload["island_ids"], payload["founder_ids"]
        return cls(tuple(int(i) for i in islands), tuple(int(i) for i in founders))


@dataclass(frozen=True)
class IslandSummary:
    """One island at a glance, for the progress display."""

    island_id: int
    num_programs: int
    num_clusters: int
    temperature: float
    best_program_id: int | None
    best_score: float | None


class ProgramsDatabase:
    """A collection of programs, organised as islands."""

    def __init__(self, config: ProgramsDatabaseConfig | None = None, seed: int = 0) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"the run seed must be a whole number >= 0, got {seed!r}.")
        self._config = config or ProgramsDatabaseConfig()
        self._seed = seed
        self._islands = [self._new_island() for _ in range(self._config.num_islands)]
        self._programs: dict[int, Program] = {}
        self._best: Program | None = None
        self._since_reset = 0
        self._prompts_issued = 0
        self._resets = 0
        self._hashes: set[str] = set()

    @property
    def config(self) -> ProgramsDatabaseConfig:
        return self._config

    @property
    def num_programs(self) -> int:
        return len(self._programs)

    # -- registration and prompts -------------------------------------------
    def register(self, program_id: int, code: str, signature: Signature, island_id: int | None) -> None:
        """Add a scored program to `island_id`, or to every island when None (the seed)."""
        if program_id in self._programs:
            raise ValueError(f"program {program_id} is already registered")
        if island_id is not None:
            self._check_island(island_id)
        signature = get_signature(signature)
        program = Program(program_id, code, signature, reduce_score(signature))
        self._programs[program_id] = program
        targets = range(len(self._islands)) if island_id is None else [island_id]
        for target in targets:
            self._islands[target].register_program(program)
        if self._best is None or program.score > self._best.score:
            self._best = program
        self._since_reset += 1

    def get_prompt(self) -> Prompt:
        """Parents from one island chosen uniformly among those holding programs."""
        rng = self._rng(_PROMPT_STREAM, self._prompts_issued)
        self._prompts_issued += 1
        candidates = [i for i, island in enumerate(self._islands) if island.num_programs]
        if not candidates:
            raise RuntimeError("register the seed program before asking the database for a prompt")
        island_id = candidates[int(rng.integers(len(candidates)))]
        parents = self._islands[island_id].get_parents(rng)
        return Prompt(
            island_id=island_id,
            parent_ids=tuple(p.program_id for p in parents),
            parent_codes=tuple(p.code for p in parents),
            parent_scores=tuple(p.score for p in parents),
            # The LLM is asked for `_v{n}` after parents `_v0` .. `_v{n-1}`.
            version_generated=len(parents),
        )

    # -- island resets -------------------------------------------------------
    def maybe_reset(self) -> ResetEvent | None:
        """Reset the weaker half once `reset_period_programs` programs arrived since the last reset."""
        if self._since_reset < self._config.reset_period_programs:
            return None
        return self.reset_islands()

    def reset_islands(self) -> ResetEvent | None:
        """Empty the weaker half of the islands, each re-seeded with a random survivor's best."""
        num_reset = len(self._islands) // 2
        if num_reset == 0:
            return None
        rng = self._rng(_RESET_STREAM, self._resets)
        best_scores = [island.best.score if island.best else -np.inf for island in self._islands]
        # Ties are broken at random, as FunSearch's noise does, but by a second
        # sort key so that no noise can reorder islands whose scores differ.
        order = np.lexsort((rng.random(len(best_scores)), best_scores)).tolist()
        reset_ids, keep_ids = order[:num_reset], order[num_reset:]
        founders = [self._islands[i].best for i in keep_ids if self._islands[i].best is not None]
        if not founders:
            raise RuntimeError("no island holds a program yet: register the seed before resetting")
        chosen = [founders[int(rng.integers(len(founders)))] for _ in reset_ids]
        event = ResetEvent(tuple(reset_ids), tuple(p.program_id for p in chosen))
        self.apply_reset(event)
        return event

    def apply_reset(self, event: ResetEvent) -> None:
        """Carry out a reset (a fresh one or a stored one replayed), drawing nothing at random."""
        if len(event.island_ids) != len(event.founder_ids):
            raise ValueError(f"reset event pairs {len(event.island_ids)} islands with "
                             f"{len(event.founder_ids)} founders")
        for island_id, founder_id in zip(event.island_ids, event.founder_ids, strict=True):
            self._check_island(island_id)
            if founder_id not in self._programs:
                raise ValueError(f"reset founder {founder_id} was never registered")
        for island_id, founder_id in zip(event.island_ids, event.founder_ids, strict=True):
            island = self._new_island()
            island.register_program(self._programs[founder_id])
            self._islands[island_id] = island
        self._since_reset = 0
        self._resets += 1

    # -- reading ---------------------------------------------------------------
    def best(self, island_id: int | None = None) -> Program | None:
        """The best program overall, or of one island (the first to reach the top score)."""
        if island_id is not None:
            self._check_island(island_id)
        return self._best if island_id is None else self._islands[island_id].best

    def island_summaries(self) -> list[IslandSummary]:
        return [
            IslandSummary(
                island_id=i, num_programs=island.num_programs, num_clusters=len(island.clusters),
                temperature=island.temperature,
                best_program_id=island.best.program_id if island.best else None,
                best_score=island.best.score if island.best else None,
            )
            for i, island in enumerate(self._islands)
        ]

    def island(self, island_id: int) -> Island:
        self._check_island(island_id)
        return self._islands[island_id]

    def clusters(self, island_id: int) -> dict[Signature, tuple[int, ...]]:
        """Program ids per signature on one island, in the order they arrived."""
        clusters = self.island(island_id).clusters
        return {sig: tuple(p.program_id for p in c.programs) for sig, c in clusters.items()}

    # -- dedup -------------------------------------------------------------
    def seen(self, code_hash: str) -> bool:
        """Whether a candidate with this normalised-code hash was already taken for evaluation."""
        return code_hash in self._hashes

    def remember(self, code_hash: str) -> None:
        self._hashes.add(code_hash)

    def check_and_remember(self, code_hash: str) -> bool:
        """True when the hash is new (evaluate it); False for a duplicate. Remembers it either way."""
        new = code_hash not in self._hashes
        self._hashes.add(code_hash)
        return new

    # -- randomness ----------------------------------------------------------
    def rng_state(self) -> dict[str, int]:
        """The whole random state, JSON-able: how many prompts and resets have drawn."""
        return {"prompts": self._prompts_issued, "resets": self._resets}

    def set_rng_state(self, state: dict[str, int]) -> None:
        self._prompts_issued = int(state["prompts"])
        self._resets = int(state["resets"])

    def _rng(self, stream: int, count: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, stream, count])

    def _new_island(self) -> Island:
        config = self._config
        return Island(config.functions_per_prompt, config.cluster_sampling_temperature_init,
                      config.cluster_sampling_temperature_period, config.scale_free_temperature)

    def _check_island(self, island_id: int) -> None:
        if not 0 <= island_id < len(self._islands):
            raise ValueError(f"island {island_id} does not exist (the database has {len(self._islands)})")
