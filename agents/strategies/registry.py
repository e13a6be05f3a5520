"""Strategy name -> the object that builds prompts and parses answers for it."""

from __future__ import annotations

from evoforge.agents.strategies import CHAT_STRATEGY, DIFF, FUNSEARCH, RANDOM
from evoforge.agents.strategies.base import PromptStrategy
from evoforge.agents.strategies.chat import ChatStrategy
from evoforge.agents.strategies.diff import DiffStrategy
from evoforge.agents.strategies.funsearch import FunSearchStrategy
from evoforge.agents.strategies.random_seed import RandomStrategy

STRATEGIES: dict[str, PromptStrategy] = {
    FUNSEARCH: FunSearchStrategy(), CHAT_STRATEGY: ChatStrategy(),
    DIFF: DiffStrategy(), RANDOM: RandomStrategy(),
}  # fmt: skip


def strategy_named(name: str, kind: str | None = None) -> PromptStrategy:
    """The prompt strategy of that name (`mix` is resolved by the driver before a prompt gets here);
    a kind with its own versions of the strategies (an OpenEvolve block) names them in its hooks."""
    from evoforge.kinds import kind_hook

    own = kind_hook(kind or "", "strategy_named")
    if own is not None:
        return own(name)
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"no prompt strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
