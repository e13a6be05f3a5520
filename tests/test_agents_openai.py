"""The OpenAI-compatible backend against real HTTP servers on loopback (scripted answers)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from evoforge.agents.base import GenerationRequest, LLMUnavailable
from evoforge.agents.llama_server import free_port
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.sampler import Sampler
from evoforge.spec import load_problem
from tests.llm_fixtures import ScriptedServer, bin_packing_spec, completion_body, seed_prompt

COMPLETION = GenerationRequest(prompt="def f():\n", n=1, max_tokens=16)


def backend_for(server: ScriptedServer, **kwargs: Any) -> OpenAIBackend:
    kwargs.setdefault("outage_seconds", 30.0)
    return OpenAIBackend(server.base_url, model="scripted", timeout=10, **kwargs)


def test_retries_503_until_the_server_answers() -> None:
    answers = iter([(503, {"error": "loading"}), (503, {"error": "loading"})])

    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return next(answers, (200, completion_body(body)))

    with ScriptedServer(script) as server, backend_for(server) as backend:
        [[completion]] = backend.generate([COMPLETION])
    assert len(server.requests) == 3
    assert completion.text.startswith("    return")
    assert backend.retrier.outages == 1 and backend.retrier.retries == 2


def test_outage_is_logged_once_and_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([(502, {"error": "down"})] * 4)

    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return next(answers, (200, completion_body(body)))

    caplog.set_level(logging.WARNING, logger="evoforge.agents")
    with ScriptedServer(script) as server, backend_for(server) as backend:
        backend.generate([COMPLETION])
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("is back" in m for m in messages) == 1


def test_n_samples_come_from_one_request_when_the_server_honours_n() -> None:
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body))) as server,
        backend_for(server) as backend,
    ):
        [completions] = backend.generate([COMPLETION.with_n(4)])
    assert len(completions) == 4
    assert [body["n"] for _, body in server.requests] == [4]
    assert backend.n_supported is True


def test_server_refusing_n_gets_parallel_single_requests() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("n", 1) > 1:
            return 400, {"error": {"message": "'n' must be 1 for this model", "type": "invalid_request"}}
        return 200, completion_body(body)

    with ScriptedServer(script) as server, backend_for(server) as backend:
        [first] = backend.generate([COMPLETION.with_n(3)])
        [second] = backend.generate([COMPLETION.with_n(3)])
    assert len(first) == 3 and len(second) == 3
    assert backend.n_supported is False
    assert [body["n"] for _, body in server.requests[-3:]] == [1, 1, 1]


def test_server_returning_fewer_choices_than_n_is_topped_up() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body, texts=["    return bins\n"])  # ignores n

    with ScriptedServer(script) as server, backend_for(server) as backend:
        [completions] = backend.generate([COMPLETION.with_n(3)])
    assert len(completions) == 3
    assert backend.n_supported is False


def test_chat_requests_send_messages_and_read_message_content() -> None:
    request = GenerationRequest(messages=(("system", "be brief"), ("user", "write f")), n=2)
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body))) as server,
        backend_for(server) as backend,
    ):
        [completions] = backend.generate([request])
    path, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "write f"},
    ]
    assert all(c.text.startswith("    return") for c in completions)


def test_request_carries_sampling_settings_and_stops() -> None:
    request = GenerationRequest(prompt="x", n=2, max_tokens=33, temperature=0.5, top_p=0.9,
                                stop=("\ndef ",), seed=7)  # fmt: skip
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body))) as server,
        backend_for(server) as backend,
    ):
        backend.generate([request])
    path, body = server.requests[0]
    assert path == "/v1/completions"
    assert {k: body[k] for k in ("prompt", "n", "max_tokens", "temperature", "top_p", "stop", "seed")} == {
        "prompt": "x", "n": 2, "max_tokens": 33, "temperature": 0.5, "top_p": 0.9,
        "stop": ["\ndef "], "seed": 7,
    }  # fmt: skip


def test_xtc_goes_out_only_with_a_sampler_that_has_it_and_only_on_completion_prompts() -> None:
    """llama.cpp's XTC fields reach the server for a completion prompt of a sampler configured with
    them; a chat prompt (its answer has a format to keep), a sampler without them and a kind with its
    own prompt (Lean's completion prompt) send none."""
    spec, lean_spec = bin_packing_spec(), load_problem("lean_core", '["nat_add_comm"]')
    with ScriptedServer(lambda path, body: (200, completion_body(body))) as server:
        with_xtc = Sampler(backend_for(server), spec, 1, mode="completion", xtc_probability=0.8)
        chat = Sampler(backend_for(server), spec, 1, mode="chat", xtc_probability=0.8)
        without = Sampler(backend_for(server), spec, 1, mode="completion")
        lean = Sampler(backend_for(server), lean_spec, 1, mode="completion", xtc_probability=0.8)
        for sampler in (with_xtc, chat, without, lean):
            with sampler:
                sampler.sample(seed_prompt(sampler.spec))
    fields = ("xtc_probability", "xtc_threshold")
    sent = [{key: body.get(key) for key in fields} for _, body in server.requests]
    assert [body.get("prompt") is not None for _, body in server.requests] == [True, False, True, True]
    assert sent == [{"xtc_probability": 0.8, "xtc_threshold": 0.1},
                    {"xtc_probability": None, "xtc_threshold": None},
                    {"xtc_probability": None, "xtc_threshold": None},
                    {"xtc_probability": None, "xtc_threshold": None}]  # Lean's own prompt: a proof


def test_each_choice_is_counted_by_the_servers_tokenizer() -> None:
    texts = ["    return 1\n", "    x = bins - item\n    return -x * 2\n", "    return bins\n"]
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body, texts))) as server,
        backend_for(server) as backend,
    ):
        [completions] = backend.generate([COMPLETION.with_n(3)])
    assert [c.completion_tokens for c in completions] == [2, 9, 2]
    assert [body["prompt"] for body in server.tokenized] == texts
    assert sum(c.prompt_tokens for c in completions) == 10


def test_without_a_tokenizer_endpoint_usage_is_shared_so_sums_stay_exact() -> None:
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body)), tokenize=False) as server,
        backend_for(server) as backend,
    ):
        [completions] = backend.generate([COMPLETION.with_n(3)])
        backend.generate([COMPLETION.with_n(3)])
    assert sum(c.prompt_tokens for c in completions) == 10
    assert sum(c.completion_tokens for c in completions) == 12
    assert all(c.latency_seconds > 0 for c in completions)
    assert len(server.tokenized) == 1  # learnt once: no endpoint, no more asking


def test_several_requests_are_in_flight_at_once() -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.3)
        with lock:
            active[0] -= 1
        return 200, completion_body(body)

    with ScriptedServer(script) as server, backend_for(server, concurrency=4) as backend:
        results = backend.generate([COMPLETION] * 4)
    assert len(results) == 4
    assert peak[0] == 4


def test_unreachable_server_raises_after_the_outage_tolerance() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with OpenAIBackend(url, model="m", timeout=2, outage_seconds=1.0) as backend:
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=f"{url}.*has not answered"):
            backend.generate([COMPLETION])
    assert 1.0 <= time.monotonic() - started < 15


def test_rejected_api_key_fails_at_once_with_a_clear_message() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 401, {"error": {"message": "invalid api key"}}

    with (
        ScriptedServer(script) as server,
        backend_for(server) as backend,
        pytest.raises(LLMUnavailable, match="refused the API key"),
    ):
        backend.generate([COMPLETION])
    assert len(server.requests) == 1


def test_model_is_discovered_from_the_server_when_not_given() -> None:
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body))) as server,
        OpenAIBackend(server.base_url, timeout=10) as backend,
    ):
        backend.generate([COMPLETION])
    assert server.requests[0][1]["model"] == "scripted"


def test_a_prompt_the_server_rejects_costs_one_sample_not_the_run() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 400, {"error": {"message": "the request exceeds the available context size"}}

    spec = bin_packing_spec()
    with ScriptedServer(script) as server:
        sampler = Sampler(backend_for(server), spec, samples_per_prompt=1, mode="completion")
        batch = sampler.sample(seed_prompt(spec))
        sampler.close()
    [candidate] = batch.candidates
    assert candidate.code is None
    assert "LLM request failed" in (candidate.parse_error or "")
    assert "context size" in (candidate.parse_error or "")


def test_sampler_turns_scripted_completions_into_candidates() -> None:
    spec = bin_packing_spec()
    with (
        ScriptedServer(lambda path, body: (200, completion_body(body))) as server,
        Sampler(backend_for(server), spec, samples_per_prompt=3, mode="completion") as sampler,
    ):
        batch = sampler.sample(seed_prompt(spec))
    assert len(batch.completions) == len(batch.candidates) == 3
    assert all(c.code and c.code.startswith("def priority(") for c in batch.candidates)
    assert len({c.code_hash for c in batch.candidates}) == 3
    assert batch.prompt_text.rstrip().endswith('"""Improved version of `priority_v0`."""')


def test_rejected_prompt_fails_each_requested_sample_without_guessing_about_n() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 422, {"error": {"message": "prompt too long"}}

    with ScriptedServer(script) as server, backend_for(server) as backend:
        [completions] = backend.generate([COMPLETION.with_n(3)])
    assert len(completions) == 3 and len(server.requests) == 1
    assert all((c.finish_reason or "").startswith("error: UnprocessableEntityError") for c in completions)
    assert backend.n_supported is None


def test_server_answering_with_no_choices_ends_in_an_error_sample() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {**completion_body(body), "choices": []}

    with ScriptedServer(script) as server, backend_for(server) as backend:
        [[completion]] = backend.generate([COMPLETION])
    assert completion.finish_reason == "error: the server returned no choices"
