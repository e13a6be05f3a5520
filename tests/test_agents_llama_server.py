"""Sampling from the embedded model through a real llama-server on loopback.

These need the embedded model and the built server (`python -m
evoforge.agents.install`); where either is missing they fail and say so.
"""

from __future__ import annotations

import threading
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from evoforge.agents.base import LLAMA_CPP_XTC_PROBABILITY, GenerationRequest
from evoforge.agents.config import LLMConfig, make_backend, start_shared_server
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.local_server import LocalServerBackend
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.sampler import SampleBatch, Sampler
from tests.llm_fixtures import bin_packing_spec, embedded_model_or_fail, llama_server, seed_prompt, tiny_spec

__all__ = ["llama_server"]  # the session fixture, imported so pytest finds it
pytestmark = pytest.mark.slow
SPEC = bin_packing_spec()


def sample_in_thread(sampler: Sampler, prompts: int) -> tuple[threading.Thread, list[SampleBatch]]:
    out: list[SampleBatch] = []
    prompt = seed_prompt(sampler.spec)
    thread = threading.Thread(target=lambda: out.extend(sampler.sample_many([prompt] * prompts)))
    thread.start()
    return thread, out


def wait_until_busy(server: LlamaServer, timeout: float = 60.0) -> None:
    """Until a slot is processing: the moment a kill interrupts sampling."""
    import json
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://{server.host}:{server.port}/slots", timeout=5) as response:
            if any(slot.get("is_processing") for slot in json.load(response)):
                return
        time.sleep(0.05)
    raise AssertionError("llama-server never started processing the request")


def assert_complete(batches: list[SampleBatch], prompts: int, n: int) -> None:
    assert len(batches) == prompts
    for batch in batches:
        assert len(batch.completions) == len(batch.candidates) == n
        assert all(c.finish_reason in {"stop", "length"} for c in batch.completions)
        assert all(c.text for c in batch.completions)


def test_real_completions_parse_into_candidates(llama_server: LlamaServer) -> None:
    backend = OpenAIBackend(llama_server.base_url, timeout=120)
    with Sampler(backend, SPEC, samples_per_prompt=4, mode="completion", max_tokens=160) as sampler:
        batch = sampler.sample(seed_prompt(SPEC))
    parsed = [c for c in batch.candidates if c.code is not None]
    assert len(parsed) >= 2, [c.parse_error for c in batch.candidates]
    assert all(c.code.startswith("def priority(item: float, bins: np.ndarray)") for c in parsed)


def test_chat_mode_answers_parse_into_candidates(llama_server: LlamaServer, tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path)
    backend = OpenAIBackend(llama_server.base_url, timeout=120)
    with Sampler(backend, spec, samples_per_prompt=2, mode="chat", max_tokens=200) as sampler:
        batch = sampler.sample(seed_prompt(spec))
    assert any(c.code is not None for c in batch.candidates), [c.parse_error for c in batch.candidates]


def test_n_samples_per_request_return_n_with_their_own_token_counts(llama_server: LlamaServer) -> None:
    request = GenerationRequest(prompt="def fibonacci(n):\n", n=4, max_tokens=16, temperature=1.0)
    with OpenAIBackend(llama_server.base_url, timeout=120) as backend:
        [completions] = backend.generate([request])
    assert len(completions) == 4
    assert backend.n_supported is True
    # Without stop strings most run to max_tokens; an early end-of-text is "stop".
    for completion in completions:
        if completion.finish_reason == "length":
            assert abs(completion.completion_tokens - 16) <= 2
        assert completion.prompt_tokens >= 0 and completion.latency_seconds > 0
    assert sum(c.prompt_tokens for c in completions) >= 4


def test_server_killed_mid_sampling_comes_back_and_no_sample_is_lost(tmp_path: Path) -> None:
    model = embedded_model_or_fail()
    with LlamaServer(model, slots=4, threads=2) as server:
        backend = OpenAIBackend(server.base_url, timeout=120, outage_seconds=120)
        sampler = Sampler(
            backend, tiny_spec(tmp_path), samples_per_prompt=4, mode="completion", max_tokens=48
        )
        thread, batches = sample_in_thread(sampler, prompts=2)
        wait_until_busy(server)
        server.kill()
        server.start()  # same port: the client finds it again by itself
        thread.join(timeout=400)
        sampler.close()
    assert not thread.is_alive()
    assert_complete(batches, prompts=2, n=4)
    assert backend.retrier.outages == 1


def test_backend_owning_its_server_restarts_it_after_a_crash(tmp_path: Path) -> None:
    embedded_model_or_fail()
    backend = make_backend(LLMConfig(slots=4, threads=2, outage_seconds=120))
    assert isinstance(backend, LocalServerBackend)
    first_pid = backend.server.process.pid if backend.server.process else None
    sampler = Sampler(backend, tiny_spec(tmp_path), samples_per_prompt=2, mode="completion", max_tokens=48)
    thread, batches = sample_in_thread(sampler, prompts=2)
    wait_until_busy(backend.server)
    backend.server.kill()
    thread.join(timeout=400)
    second_pid = backend.server.process.pid if backend.server.process else None
    sampler.close()
    assert not thread.is_alive()
    assert_complete(batches, prompts=2, n=2)
    assert second_pid is not None and second_pid != first_pid


def test_shared_server_config_makes_samplers_its_clients(tmp_path: Path) -> None:
    embedded_model_or_fail()
    server, client_config = start_shared_server(LLMConfig(threads=2, slots=2))
    assert server is not None
    try:
        assert (client_config.backend, client_config.base_url, client_config.mode) == (
            "openai", server.base_url, "completion",
        )  # fmt: skip
        spec = tiny_spec(tmp_path)
        with Sampler.from_config(replace(client_config, max_tokens=32), spec, 2) as sampler:
            batch = sampler.sample(seed_prompt(spec))
    finally:
        server.stop()
    assert len(batch.completions) == 2


def test_the_runs_xtc_setting_reaches_the_engine() -> None:
    """The run's path (one shared server, samplers made from its client config): XTC is on by default,
    and with the same prompt and seeds XTC always on draws other answers than XTC off (were the field
    dropped on the way, they would be identical)."""
    embedded_model_or_fail()
    server, client = start_shared_server(LLMConfig(threads=2, slots=1, max_tokens=48, seed=11))
    assert server is not None
    assert client.xtc_probability == LLAMA_CPP_XTC_PROBABILITY

    def draw(xtc: float) -> list[str]:
        with Sampler.from_config(replace(client, xtc_probability=xtc), SPEC, 4) as sampler:
            return [completion.text for completion in sampler.sample(seed_prompt(SPEC)).completions]

    try:
        draw(0.0)  # fills the prompt cache: a cold prompt's answers can differ from a cached one's
        off, always, off_again = draw(0.0), draw(1.0), draw(0.0)
    finally:
        server.stop()
    assert off == off_again  # the seed fixes the draw
    assert always != off
