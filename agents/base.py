"""The one interface every LLM backend implements.

A backend turns a batch of generation requests into completions and nothing
else: prompt building, parsing and bookkeeping live in the sampler, so a new
backend is a single small class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from evoforge.records import Completion

CHAT = "chat"
COMPLETION = "completion"


class LLMUnavailable(RuntimeError):
    """The model cannot be reached or loaded; the message says what to do."""


# The sampling defaults, defined once: LLMConfig (what a run stores) starts from them too.
DEFAULT_MAX_TOKENS = 384
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 0.95
# How hot a prompt answered with known code may be drawn (evoforge/sample_variety.py). llama.cpp's
# server keeps only tokens within min_p = 0.05 of the likeliest (and the top 40) before it applies
# the temperature, so even 3.0 only reorders plausible tokens and parse rates hold (README, "Hotter
# retries": one random-arm run of 40 on cap_set each, 13 duplicates at 1.0, 2 at 3.0; a prompt the
# model answers with one line barely moves). Servers that apply the temperature first (vLLM, most
# OpenAI-style ones) spread it over the whole vocabulary.
DEFAULT_TEMPERATURE_CEILING = 1.2
LLAMA_CPP_TEMPERATURE_CEILING = 3.0
# A completion prompt served by llama.cpp is drawn with XTC ("exclude top choices"): at a token where
# two or more choices each have 10 % or more, with this probability all but the least likely of
# them are dropped. Where the code has one obvious next token nothing changes; where the model
# hesitates it takes the road less travelled. It cut duplicates in all 20 runs of 100 samples
# (bin_packing and cap_set, funsearch and random, seeds 0-4: 574 -> 285 of 2000) and on expressions
# (48 of 200 -> 21); 0.5 cut fewer (README, "Fewer wasted samples").
# Chat prompts go without: their answers carry a format XTC breaks (the diff strategy's markers
# came back as `>>>>>>> SEARCH`, 0 of 8 parsed). `--xtc-probability` sets it, 0 turns it off.
LLAMA_CPP_XTC_PROBABILITY = 0.8
LLAMA_CPP_XTC_THRESHOLD = 0.1


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt, asked for `n` samples.

    Exactly one of `prompt` (completion mode) and `messages` (chat mode,
    (role, content) pairs) is set, so a backend never has to guess the mode.
    """

    prompt: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None
    n: int = 1
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    stop: tuple[str, ...] = ()
    seed: int | None = None
    xtc_probability: float | None = None  # llama.cpp's XTC (above); None: not sent, the server's own

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("GenerationRequest needs exactly one of prompt= or messages=")
        if self.n < 1:
            raise ValueError(f"GenerationRequest n must be >= 1, got {self.n}")

    @property
    def mode(self) -> str:
        return COMPLETION if self.prompt is not None else CHAT

    def chat_messages(self) -> list[dict[str, str]]:
        """The messages in the shape OpenAI-style APIs and chat templates take."""
        return [{"role": role, "content": content} for role, content in self.messages or ()]

    def with_n(self, n: int) -> GenerationRequest:
        from dataclasses import replace

        return replace(self, n=n)


class LLMBackend(ABC):
    """Generates completions; one instance may serve many prompts concurrently."""

    model_name: str = "unknown"

    @abstractmethod
    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        """For each request, its `n` completions, in request order."""

    def close(self) -> None:  # noqa: B027 - a deliberate no-op default: most backends hold nothing
        """Release servers, engines or connections; safe to call twice."""

    def __enter__(self) -> LLMBackend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def split_evenly(total: int, parts: int) -> list[int]:
    """Share a usage count between the n choices of one request so sums stay exact."""
    base, extra = divmod(max(total, 0), parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
