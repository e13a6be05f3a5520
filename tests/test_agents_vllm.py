"""The vLLM backend's request building and output reading, without a GPU.

vLLM is not installed here: the engine call itself runs only on a GPU node,
but what goes into it and what comes out of it is plain data tested here, and
the missing-vLLM path is exercised for real.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from evoforge.agents.base import GenerationRequest, LLMUnavailable
from evoforge.agents.config import LLMConfig, make_backend
from evoforge.agents.vllm_backend import completions_from_output, sampling_kwargs, split_by_mode

needs_no_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is not None, reason="checks the message shown where vLLM is missing"
)


def test_sampling_kwargs_map_one_request_to_sampling_params() -> None:
    request = GenerationRequest(prompt="p", n=4, max_tokens=300, temperature=0.7, top_p=0.9,
                                stop=("\ndef ", "\nclass "), seed=3)  # fmt: skip
    assert sampling_kwargs(request) == {
        "n": 4, "temperature": 0.7, "top_p": 0.9, "max_tokens": 300,
        "stop": ["\ndef ", "\nclass "], "seed": 3,
    }  # fmt: skip


def test_sampling_kwargs_leave_out_empty_stops_and_seed() -> None:
    kwargs = sampling_kwargs(GenerationRequest(prompt="p"))
    assert kwargs["stop"] is None and "seed" not in kwargs


def test_completion_and_chat_requests_are_batched_separately_in_order() -> None:
    chat = GenerationRequest(messages=(("user", "hi"),))
    text = GenerationRequest(prompt="def f():")
    assert split_by_mode([text, chat, text, chat]) == ([0, 2], [1, 3])


def test_request_output_becomes_n_completions_with_token_counts() -> None:
    output = SimpleNamespace(
        prompt_token_ids=list(range(12)),
        outputs=[
            SimpleNamespace(text="    return 1\n", token_ids=[1, 2, 3], finish_reason="stop"),
            SimpleNamespace(text="    return", token_ids=[1, 2], finish_reason="length"),
        ],
    )
    first, second = completions_from_output(output, "qwen", 1.5)
    assert (first.text, first.prompt_tokens, first.completion_tokens, first.finish_reason) == (
        "    return 1\n",
        12,
        3,
        "stop",
    )
    assert (second.prompt_tokens, second.completion_tokens, second.finish_reason) == (0, 2, "length")
    assert first.model == "qwen" and second.latency_seconds == 1.5


@needs_no_vllm
def test_missing_vllm_says_how_to_install_it() -> None:
    with pytest.raises(LLMUnavailable, match=r"needs the vllm package.*pip install 'evoforge\[vllm\]'"):
        make_backend(LLMConfig(backend="vllm", model="Qwen/Qwen2.5-Coder-0.5B-Instruct"))


def test_vllm_without_a_model_says_to_pass_one() -> None:
    with pytest.raises(LLMUnavailable, match="needs --model"):
        make_backend(LLMConfig(backend="vllm"))
