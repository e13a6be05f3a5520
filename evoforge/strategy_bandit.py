"""Which prompt strategy (and backend) the next prompt uses: the run's own, or a Thompson-sampling bandit.

Under `mix` the bandit chooses among the strategies; a run given several
backends (`--also-llm`) has it choose among (strategy, backend) pairs, with
only the run's strategy when that is not `mix`. A run with one backend
stores no label and draws exactly as it did before backends could be several.

Each arm's reward is an improvement: a sample whose program beats the best of
its parents. Its posterior is Beta(1 + improvements, 1 + other samples),
read from the run's SQLite file (`RunStorage.strategy_tallies`, or
`arm_tallies` per pair) at every
choice, and each choice draws from a generator seeded by (run seed, prompt
number): the bandit's whole state is in the run file, so `resume` continues
it exactly, and two samplers choosing at once still get different draws.
Thompson sampling suits the rare rewards of a search (a few improvements in
hundreds of samples): an arm is dropped only once its samples say it rarely helps.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from evoforge.agents.strategies import MIX, MIX_ARMS
from evoforge.records import StrategyTally
from evoforge.storage import RunStorage

Arm = TypeVar("Arm", bound=Hashable)


class StrategyChooser:
    """Names the strategy (and backend label) of each prompt, in the order the driver draws them."""

    def __init__(self, strategy: str, storage: RunStorage, sign: float, seed: int,
                 llms: Sequence[str] = ()) -> None:
        self.strategy, self.storage, self.sign, self.seed = strategy, storage, sign, seed
        self.llms = tuple(llms) if len(llms) > 1 else ()  # one backend: nothing to choose or to label
        self._draws = storage.count("prompts")  # prompts already drawn: continue the stream

    def choose(self) -> tuple[str, str | None]:
        if self.strategy != MIX and not self.llms:
            return self.strategy, None
        rng = random.Random(f"{self.seed}:{self._draws}")
        self._draws += 1
        if not self.llms:
            return thompson_choice(self.storage.strategy_tallies(self.sign), MIX_ARMS, rng), None
        strategies = MIX_ARMS if self.strategy == MIX else (self.strategy,)
        pairs = [(strategy, llm) for strategy in strategies for llm in self.llms]
        return thompson_choice(self.storage.arm_tallies(self.sign), pairs, rng)


def thompson_choice(tallies: Mapping[Arm, StrategyTally], arms: Sequence[Arm], rng: random.Random) -> Arm:
    """The arm whose draw from its Beta posterior of the improvement rate is highest."""
    def draw(arm: Arm) -> float:
        tally = tallies.get(arm, StrategyTally())
        return rng.betavariate(1 + tally.improvements, 1 + tally.samples - tally.improvements)

    return max(arms, key=draw)
