"""The agent: prompt in, parsed candidates out, one backend underneath.

It knows nothing of Ray or storage, so it runs the same in a notebook, a
test and a Ray actor; the run loop records what `sample` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from evoforge.agents.base import COMPLETION, GenerationRequest, LLMBackend
from evoforge.agents.config import LLMConfig, completion_xtc, make_backend
from evoforge.agents.prompts import COMPLETION_STOPS, RenderedPrompt
from evoforge.agents.strategies.registry import strategy_named
from evoforge.kinds import kind_hook
from evoforge.records import Candidate, Completion, Prompt
from evoforge.spec import ProblemSpec


@dataclass(frozen=True)
class SampleBatch:
    """What one prompt produced: raw completions and their parses, in the same order."""

    prompt_text: str
    completions: tuple[Completion, ...]
    candidates: tuple[Candidate, ...]


class Sampler:
    """Builds the FunSearch prompt, asks the backend for n samples, parses each."""

    def __init__(
        self,
        backend: LLMBackend,
        spec: ProblemSpec,
        samples_per_prompt: int,
        mode: str = LLMConfig.mode,
        temperature: float = LLMConfig.temperature,
        top_p: float = LLMConfig.top_p,
        max_tokens: int = LLMConfig.max_tokens,
        seed: int | None = LLMConfig.seed,
        xtc_probability: float | None = None,
    ) -> None:
        self.backend, self.spec = backend, spec
        self.samples_per_prompt = samples_per_prompt
        self.mode = getattr(backend, "default_mode", COMPLETION) if mode == "auto" else mode
        self.temperature, self.top_p, self.max_tokens, self.seed = temperature, top_p, max_tokens, seed
        self.xtc_probability = xtc_probability
        # A kind with its own prompt and parser (evoforge/kinds.py: Lean's repair prompt) ignores the
        # strategy; program-like kinds are rendered and parsed by the strategy chosen per prompt.
        self._kind_build = kind_hook(spec.kind, "build_prompt")
        self._kind_parse = kind_hook(spec.kind, "parse_completion")

    @classmethod
    def from_config(cls, config: LLMConfig, spec: ProblemSpec, samples_per_prompt: int) -> Sampler:
        """Build the backend the config names and a sampler using its sampling settings."""
        return cls(
            make_backend(config), spec, samples_per_prompt, mode=config.mode,
            temperature=config.temperature, top_p=config.top_p,
            max_tokens=config.max_tokens, seed=config.seed, xtc_probability=completion_xtc(config),
        )  # fmt: skip

    def sample(self, prompt: Prompt, n: int | None = None) -> SampleBatch:
        return self.sample_many([prompt], n)[0]

    def sample_many(self, prompts: list[Prompt], n: int | None = None) -> list[SampleBatch]:
        """Several prompts in one backend call, so their requests are in flight together."""
        rendered = [self._build(prompt) for prompt in prompts]
        count = n or self.samples_per_prompt
        requests = [self.request(r, count, p) for r, p in zip(rendered, prompts, strict=True)]
        results = self.backend.generate(requests)
        return [self._batch(r, completions) for r, completions in zip(rendered, results, strict=True)]

    def _build(self, prompt: Prompt) -> RenderedPrompt:
        """The prompt as the strategy the driver chose for it (`prompt.strategy`) renders it."""
        if self._kind_build is not None:
            return self._kind_build(self.spec, prompt, self.mode)
        rendered = strategy_named(prompt.strategy, self.spec.kind).build(self.spec, prompt, self.mode)
        return replace(rendered, strategy=prompt.strategy)

    def request(self, rendered: RenderedPrompt, n: int, prompt: Prompt | None = None) -> GenerationRequest:
        """The backend request; the run's driver may set the prompt's own seed and temperature."""
        seed = prompt.seed if prompt is not None and prompt.seed is not None else self.seed
        temperature = self.temperature
        if prompt is not None and prompt.temperature is not None:
            temperature = prompt.temperature
        common = {
            "n": n, "max_tokens": self.max_tokens, "temperature": temperature,
            "top_p": self.top_p, "seed": seed,
        }  # fmt: skip
        if rendered.messages is not None:
            return GenerationRequest(messages=rendered.messages, **common)  # type: ignore[arg-type]
        stops = getattr(rendered, "stops", COMPLETION_STOPS)
        # XTC (agents/base.py) where plain code follows, as measured: not in chat answers with their
        # formats, nor in a kind's own prompt (Lean's proofs).
        xtc = self.xtc_probability if self._kind_build is None else None
        return GenerationRequest(prompt=rendered.text, stop=stops, xtc_probability=xtc,
                                 **common)  # type: ignore[arg-type]

    def _batch(self, rendered: RenderedPrompt, completions: list[Completion]) -> SampleBatch:
        candidates = tuple(self._parse(completion, rendered) for completion in completions)
        return SampleBatch(rendered.text, tuple(completions), candidates)

    def _parse(self, completion: Completion, rendered: RenderedPrompt) -> Candidate:
        if completion.finish_reason and completion.finish_reason.startswith("error"):
            return Candidate(None, None, f"LLM request failed: {completion.finish_reason[6:].strip()}")
        truncated = completion.finish_reason == "length"
        if self._kind_parse is not None:
            return self._kind_parse(completion.text, self.spec, self.mode, rendered.header, truncated)
        strategy = strategy_named(rendered.strategy, self.spec.kind)
        return strategy.parse(completion.text, self.spec, rendered, truncated)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
