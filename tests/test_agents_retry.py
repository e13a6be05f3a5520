"""How long a client waits for its LLM server: seconds if it never answered, the tolerance if it went away.

Against real HTTP servers on loopback (scripted answers).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from evoforge.agents.base import GenerationRequest, LLMUnavailable
from evoforge.agents.llama_server import free_port
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.retry import FIRST_CONTACT_SECONDS
from tests.llm_fixtures import ScriptedServer, completion_body

COMPLETION = GenerationRequest(prompt="def f():\n", n=1, max_tokens=16)
TOLERANCE = FIRST_CONTACT_SECONDS + 4


def test_a_server_never_reached_fails_within_the_first_contact_window() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with OpenAIBackend(url, model="m", timeout=2, outage_seconds=600) as backend:
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=f"{url} has not answered at all.*--base-url"):
            backend.generate([COMPLETION])
    assert time.monotonic() - started < FIRST_CONTACT_SECONDS + 12  # not the 600 s tolerance


def test_a_server_that_answered_then_went_away_gets_the_whole_tolerance() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body)

    server = ScriptedServer(script)
    with server, OpenAIBackend(server.base_url, model="m", timeout=2, outage_seconds=TOLERANCE) as backend:
        backend.generate([COMPLETION])
        server.httpd.server_close()  # gone: connections are refused from now on
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=r"has not answered for \d+ s.*--llm-outage-minutes"):
            backend.generate([COMPLETION])
        waited = time.monotonic() - started
    assert waited >= TOLERANCE


def test_a_server_answering_503_while_it_loads_is_not_a_wrong_address() -> None:
    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        loading = time.monotonic() < ready_at
        return (503, {"error": "loading model"}) if loading else (200, completion_body(body))

    ready_at = time.monotonic() + FIRST_CONTACT_SECONDS + 2
    with ScriptedServer(script) as server, OpenAIBackend(server.base_url, model="m", timeout=2,
                                                         outage_seconds=60) as backend:
        [[completion]] = backend.generate([COMPLETION])
    assert completion.text and backend.retrier.retries >= 2


def slow_script(seconds: float) -> Any:
    """Completions that take `seconds` to come back; the model list answers at once (the server is up)."""

    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        time.sleep(seconds)
        return 200, completion_body(body)

    return script


def test_a_request_slower_than_the_timeout_on_a_server_that_is_up_is_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with ScriptedServer(slow_script(0.8)) as server, OpenAIBackend(server.base_url, model="m", timeout=0.5,
                                                                  outage_seconds=600) as backend:
        [[first]] = backend.generate([COMPLETION])
        [[second]] = backend.generate([COMPLETION])
    assert first.text and second.text
    assert len(server.requests) == 3  # one re-send at 1 s, then every request waits 1 s from the start
    assert backend.timeout == 1.0 and backend.retrier.outages == 0  # no backoff, no "unavailable" line
    [warning] = [r.getMessage() for r in caplog.records if "busy, not down" in r.getMessage()]
    assert "took over 0.5 s" in warning and "waiting up to 1 s" in warning


def test_a_request_slower_than_four_times_the_timeout_still_ends_as_an_outage() -> None:
    with (ScriptedServer(slow_script(1.5)) as server,
          OpenAIBackend(server.base_url, model="m", timeout=0.25, outage_seconds=0.5) as backend,
          pytest.raises(LLMUnavailable, match="has not answered")):
        backend.generate([COMPLETION])
    assert backend.timeout == 1.0  # 0.25 doubled twice, and no further
    assert len(server.requests) >= 3
