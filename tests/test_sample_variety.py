"""Per-request seeds and the duplicate-driven temperature, and how the OpenAI client passes seeds on.

The client is tested against a real HTTP server on loopback (tests/llm_fixtures.py)
that records what it was sent; the slow test asks the embedded model served by
llama.cpp's server what it does with one seed and n > 1.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from typing import Any

import pytest

from evoforge.agents.base import GenerationRequest
from evoforge.agents.config import temperature_ceiling
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.sampler import Sampler
from evoforge.sample_variety import SEED_STRIDE, TemperatureRaise, request_seed
from tests.llm_fixtures import ScriptedServer, bin_packing_spec, completion_body, llama_server, seed_prompt

__all__ = ["llama_server"]  # the fixture, imported for the slow test


def test_request_seeds_of_a_run_leave_room_for_every_choice() -> None:
    seeds = [request_seed(5, number) for number in range(2000)]
    choices = {seed + choice for seed in seeds for choice in range(SEED_STRIDE)}
    assert len(choices) == len(seeds) * SEED_STRIDE
    assert all(0 <= seed < 1 << 31 for seed in seeds)
    assert request_seed(5, 0) != request_seed(6, 0)
    assert request_seed(5, 3) == request_seed(5, 3)  # a resume recomputes the same seeds


def test_the_sampler_asks_with_the_prompts_seed_and_temperature() -> None:
    with ScriptedServer(lambda path, body: (200, completion_body(body))) as server:
        backend = OpenAIBackend(server.base_url, model="scripted")
        with Sampler(backend, bin_packing_spec(), samples_per_prompt=2, mode="completion") as sampler:
            sampler.sample(seed_prompt(bin_packing_spec()))
            sampler.sample(replace(seed_prompt(bin_packing_spec()), seed=123, temperature=1.2))
    first, second = (body for _, body in server.requests)
    assert "seed" not in first and first["temperature"] == 1.0  # no seed: the server picks
    assert (second["seed"], second["temperature"], second["n"]) == (123, 1.2, 2)


def test_a_server_that_ignores_n_gets_one_request_per_choice_with_consecutive_seeds() -> None:
    def one_choice(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body, [f"    return bins * {body.get('seed')}\n"])

    with ScriptedServer(one_choice) as server:
        backend = OpenAIBackend(server.base_url, model="scripted")
        first = backend.generate([GenerationRequest(prompt="p", n=3, seed=100)])[0]
        later = backend.generate([GenerationRequest(prompt="p", n=3, seed=200)])[0]
        backend.close()
    seeds = [body["seed"] for _, body in server.requests]
    assert seeds[0] == 100 and sorted(seeds[1:3]) == [101, 102]  # topped up after the n=3 answer
    assert sorted(seeds[3:]) == [200, 201, 202]  # known now: n=1 requests from the start
    assert len({c.text for c in first}) == 3 and len({c.text for c in later}) == 3


def test_duplicates_raise_a_prompts_temperature_to_the_ceiling_and_new_code_cools_it() -> None:
    raise_ = TemperatureRaise(base=1.0, ceiling=1.4)
    parents = (4, 2)
    steps = []
    for duplicates in (2, 1, 3, 1, 1, 0, 0, 0, 0, 0):
        raise_.observe(parents, duplicates)
        steps.append(raise_.temperature((2, 4)))  # the same parents in another order: the same prompt
    assert steps == [1.1, 1.2, 1.3, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0, 1.0]
    assert raise_.temperature((9,)) == 1.0


def test_replayed_batches_give_the_same_temperatures() -> None:
    batches = [((1,), 4), ((1,), 1), ((3,), 0)]
    replayed = TemperatureRaise(base=1.0, ceiling=1.4)
    replayed.replay(batches)
    assert (replayed.temperature((1,)), replayed.temperature((3,))) == (1.2, 1.0)


def test_a_model_llama_cpp_serves_may_be_drawn_hotter_than_others_unless_the_user_says(tmp_path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    gguf, folder = str(tmp_path / "model.gguf"), str(tmp_path)
    def ceiling(backend: str, max_temperature: float | None = None) -> float | None:
        return temperature_ceiling(backend, max_temperature, "funsearch")

    assert ceiling("embedded") == ceiling(gguf) == 3.0
    assert ceiling(folder) == 1.2  # a folder of weights: transformers, in-process
    assert ceiling("openai") == ceiling("vllm") == 1.2
    assert ceiling("embedded", 1.5) == 1.5
    assert temperature_ceiling("embedded", None, "random") is None  # its one prompt: the hint alone
    assert temperature_ceiling("embedded", 1.5, "random") == 1.5


@pytest.mark.slow
def test_llama_server_draws_distinct_choices_from_one_seed_and_repeats_them(llama_server) -> None:
    def ask(seed: int) -> list[str]:
        body = {"prompt": "def priority(item, bins):\n", "n": 4, "seed": seed, "max_tokens": 16,
                "temperature": 1.0, "top_p": 0.95}
        request = urllib.request.Request(f"{llama_server.base_url}/completions",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return [choice["text"] for choice in json.load(response)["choices"]]

    first = ask(7)
    assert len(set(first)) == 4  # llama.cpp gives child choice i the seed + i
    assert ask(7) == first  # the same seed draws the same completions: seeds must never repeat
