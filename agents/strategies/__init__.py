"""Prompt strategies: how a prompt is built from an island's parents and how the answer is read.

This module only names them (the driver, the run config and the database read
the names without importing any prompt code); `registry.strategy_named` gives
the strategy object a sampler uses. `mix` is no prompt of its own: the driver
picks one of `MIX_ARMS` per prompt (`evoforge.strategy_bandit`).
"""

from __future__ import annotations

FUNSEARCH = "funsearch"
CHAT_STRATEGY = "chat"
DIFF = "diff"
RANDOM = "random"
MIX = "mix"

DEFAULT_STRATEGY = FUNSEARCH
PROMPT_STRATEGIES = (FUNSEARCH, CHAT_STRATEGY, DIFF, RANDOM)
STRATEGY_NAMES = (*PROMPT_STRATEGIES, MIX)
# The evolutionary strategies a `mix` run chooses among; `random` stays the separate baseline arm.
MIX_ARMS = (FUNSEARCH, CHAT_STRATEGY, DIFF)


def check_strategy(name: str) -> str:
    """The name, or a ValueError saying which names exist."""
    if name not in STRATEGY_NAMES:
        raise ValueError(f"--strategy {name!r}: use one of {', '.join(STRATEGY_NAMES)}.")
    return name
