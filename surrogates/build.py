"""The problem's base surrogate: loaded from the cache, or made (data, then training) when missing.

One path for the CLI (`evoforge surrogate data|train`) and for a run whose
checkpoint is missing or was trained for other solver settings: the caller
passes its own progress reporting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evoforge.surrogates import data as pair_data
from evoforge.surrogates import store
from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.physics import Physics
from evoforge.surrogates.training import train

Say = Callable[[str], None]


@dataclass(frozen=True)
class Budget:
    """How much a default surrogate costs to make: pairs from the solver and training epochs."""

    pairs: int = 768
    epochs: int = 60
    seed: int = 0


DEFAULT_BUDGET = {"burgers": Budget(pairs=512, epochs=40), "heat": Budget(pairs=256, epochs=40)}


def make_data(problem: str, physics: Physics, budget: Budget,
              tick: pair_data.Tick = lambda d, t: None) -> pair_data.PairSet:
    path = store.data_path(problem)
    if path.exists():
        pairs = pair_data.load(path)
        if pairs.settings == physics.settings and len(pairs.designs) >= budget.pairs:
            return pairs
    return pair_data.generate(physics, path, budget.pairs, budget.seed, tick=tick)


def make_surrogate(problem: str, physics: Physics, budget: Budget,
                   data_tick: pair_data.Tick = lambda d, t: None,
                   epoch_tick: Callable[[int, int, float], None] = lambda e, t, loss: None) -> Surrogate:
    pairs = make_data(problem, physics, budget, data_tick)
    surrogate = train(physics, pairs, epochs=budget.epochs, seed=budget.seed, tick=epoch_tick)
    surrogate.save(store.model_path(problem))
    return surrogate


def cached_surrogate(problem: str, physics: Physics) -> Surrogate | None:
    """The cached checkpoint if it was trained for these exact solver settings."""
    path = store.model_path(problem)
    if not path.exists():
        return None
    surrogate = Surrogate.load(path)
    return surrogate if surrogate.meta.get("settings") == physics.settings else None


def ensure_surrogate(problem: str, physics: Physics, say: Say = print) -> Surrogate:
    """The cached surrogate, or a new one made with the default budget, saying so as it goes."""
    found = cached_surrogate(problem, physics)
    if found is not None:
        return found
    budget = DEFAULT_BUDGET[physics.name]
    say(f"{problem}: no surrogate in {store.problem_dir(problem)}; making one "
        f"({budget.pairs} exact solves, {budget.epochs} epochs) before the search starts")
    return make_surrogate(problem, physics, budget, _ticker("solving training pairs", say),
                          lambda e, t, loss: _ticker("training", say)(e, t))


def _ticker(what: str, say: Say) -> Callable[[int, int], None]:
    """A plain-text progress bar (a Ray actor's output is a log, not a terminal): every 10 %."""
    def tick(done: int, total: int) -> None:
        if total and (done == total or done % max(1, total // 10) == 0):
            bar = "#" * (20 * done // total)
            say(f"  {what} [{bar:<20}] {done}/{total}")
    return tick
