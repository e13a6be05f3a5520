"""Which prompt strategy the next prompt uses: the run's own, or under `mix` a Thompson-sampling bandit.

Each arm's reward is an improvement: a sample whose program beats the best of
its parents. Its posterior is Beta(1 + improvements, 1 + other samples),
read from the run's SQLite file (`RunStorage.strategy_tallies`) at every
choice, and each choice draws from a generator seeded by (run seed, prompt
number): the bandit's whole state is in the run file, so `resume` continues
it exactly, and two samplers choosing at once still get different draws.
Thompson sampling suits the rare rewards of a search (a few improvements in
hundreds of samples): an arm is dropped only once its samples say it rarely helps.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from evoforge.agents.strategies import MIX, MIX_ARMS
from evoforge.records import StrategyTally
from evoforge.storage import RunStorage


class StrategyChooser:
    """Names the strategy of each prompt, in the order the driver draws them."""

    def __init__(self, strategy: str, storage: RunStorage, sign: float, seed: int) -> None:
        self.strategy, self.storage, self.sign, self.seed = strategy, storage, sign, seed
        self._draws = storage.count("prompts")  # prompts already drawn: continue the stream

    def choose(self) -> str:
        if self.strategy != MIX:
            return self.strategy
        rng = random.Random(f"{self.seed}:{self._draws}")
        self._draws += 1
        return thompson_choice(self.storage.strategy_tallies(self.sign), MIX_ARMS, rng)


def thompson_choice(tallies: dict[str, StrategyTally], arms: Sequence[str], rng: random.Random) -> str:
    """The arm whose draw from its Beta posterior of the improvement rate is highest."""
    def draw(arm: str) -> float:
        tally = tallies.get(arm, StrategyTally())
        return rng.betavariate(1 + tally.improvements, 1 + tally.samples - tally.improvements)

    return max(arms, key=draw)

