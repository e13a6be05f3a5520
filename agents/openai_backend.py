"""Any OpenAI-compatible server: `vllm serve`, llama.cpp's server, hosted APIs.

Requests run in a thread pool so several are in flight at once. `n` samples
per request are asked for where the server honours it (vLLM, llama-server,
OpenAI); a server that refuses `n` or returns fewer choices is topped up with
n=1 requests, and later batches go out as parallel n=1 requests from the start.

A request that runs past the timeout while the server still answers at once
is slow, not down (long answers, many in flight, a loaded machine): it is
sent again at once with the timeout doubled, up to `MAX_TIMEOUT_FACTOR` times
the configured one, instead of entering the outage backoff. Otherwise a
machine busy with other work turned every long request into a timeout, a
re-send that timed out again and, ten minutes on, a run stopped as if the
server were dead. llama.cpp drops the abandoned request, so the re-send does
not double the load.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from evoforge.agents.base import (
    CHAT,
    LLAMA_CPP_XTC_THRESHOLD,
    GenerationRequest,
    LLMBackend,
    LLMUnavailable,
    split_evenly,
)
from evoforge.agents.config import LLMConfig
from evoforge.agents.retry import OutageRetrier, TransientError
from evoforge.records import Completion
from evoforge.sample_variety import choice_seed

log = logging.getLogger("evoforge.agents")

MAX_TIMEOUT_FACTOR = 4  # a slow server's requests may take up to 4x the configured timeout
PROBE_SECONDS = 10.0  # how quickly a server that is up lists its models, however busy it is


class OpenAIBackend(LLMBackend):
    """A client of one OpenAI-compatible endpoint; thread-safe."""

    default_mode = CHAT

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = LLMConfig.timeout,
        concurrency: int = LLMConfig.concurrency,
        outage_seconds: float = LLMConfig.outage_seconds,
    ) -> None:
        import openai

        self.base_url = base_url
        self.client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )
        self.timeout, self.max_timeout = timeout, timeout * MAX_TIMEOUT_FACTOR
        self._timeout_lock = threading.Lock()
        self.retrier = OutageRetrier(f"LLM server {base_url}", outage_seconds)
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="llm")
        self._model = model
        self.n_supported: bool | None = None  # learnt from the first request with n > 1
        self.tokenize_supported: bool | None = None  # learnt from the first n > 1 response

    @property
    def model_name(self) -> str:  # type: ignore[override]
        if self._model is None:
            self._model = self.retrier.call(self._first_served_model)
        return self._model

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        model = self.model_name
        calls = [self._split(request) for request in requests]
        futures = [[self.pool.submit(self._fill, part, model) for part in parts] for parts in calls]
        return [[c for future in group for c in future.result()] for group in futures]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def _split(self, request: GenerationRequest) -> list[GenerationRequest]:
        """n=1 requests in parallel where the server is known not to honour n."""
        if request.n == 1 or self.n_supported is not False:
            return [request]
        return [_from_choice(request.with_n(1), i) for i in range(request.n)]

    def _fill(self, request: GenerationRequest, model: str) -> list[Completion]:
        """Ask until `request.n` completions arrived, whatever the server does with n."""
        got: list[Completion] = []
        while len(got) < request.n:
            missing = request.n - len(got)
            want = missing if self.n_supported is not False else 1
            batch = self._request_with_n_fallback(_from_choice(request.with_n(want), len(got)), model)
            if not batch:
                batch = [Completion("", model, finish_reason="error: the server returned no choices")]
            elif want > 1 and not _any_failed(batch):
                self._learn_n_support(want, len(batch))
            got.extend(batch[:missing])
        return got

    def _learn_n_support(self, asked: int, received: int) -> None:
        if received >= asked:
            self.n_supported = True
        elif self.n_supported is None:
            log.info("%s returned %d of n=%d choices; using n=1 requests", self.base_url, received, asked)
            self.n_supported = False

    def _request_with_n_fallback(self, request: GenerationRequest, model: str) -> list[Completion]:
        import openai

        try:
            return self.retrier.call(lambda: self._request(request, model))
        except openai.APIStatusError as error:  # a 4xx left over: transient and fatal ones are raised
            if request.n > 1 and _mentions_n(error):
                self.n_supported = False
                return self._request_with_n_fallback(request.with_n(1), model)
            # A prompt the server rejects (too long, bad stop...) costs its samples, not the run.
            return [_failed(model, error)] * request.n

    def _request(self, request: GenerationRequest, model: str) -> list[Completion]:
        started = time.monotonic()
        try:
            response = self._send_while_slow(request, model)
        except _transient_errors() as error:
            raise TransientError(_describe(error), reached=_reached(error)) from error
        except _fatal_errors() as error:
            raise LLMUnavailable(_fatal_message(error, self.base_url, model)) from error
        completions = _completions(response, request, model, time.monotonic() - started)
        if len(completions) > 1 and not _usage_per_choice(response):
            completions = self._count_each_choice(response, completions)
        return completions

    def _count_each_choice(self, response: Any, completions: list[Completion]) -> list[Completion]:
        """A usage total covers all n choices: count each choice with the server's tokenizer.

        vLLM and llama.cpp both serve `/tokenize`. vLLM's total also counts the
        stop string a choice's text was cut at and the end-of-text token, so
        those are counted back (from vLLM's `stop_reason`). Without a
        tokenizer endpoint the total stays split evenly (sums stay exact).
        """
        if self.tokenize_supported is False:
            return completions
        root = self.base_url.rstrip("/").removesuffix("/v1")
        choices = sorted(response.choices, key=lambda c: c.index or 0)
        try:
            counts = [_choice_tokens(root, self._model, choice, completion.text)
                      for choice, completion in zip(choices, completions, strict=True)]
        except (OSError, ValueError, KeyError) as error:
            log.info("could not count tokens at %s/tokenize (%s); sharing the usage total", root, error)
            self.tokenize_supported = False
            return completions
        self.tokenize_supported = True
        return [replace(c, completion_tokens=n) for c, n in zip(completions, counts, strict=True)]

    def _send_while_slow(self, request: GenerationRequest, model: str) -> Any:
        """`_send`, again with a longer timeout each time the request outlasts it on a server that is up."""
        import openai

        while True:
            timeout = self.timeout
            try:
                return self._send(request, model, timeout)
            except openai.APITimeoutError as error:
                if timeout >= self.max_timeout or not _reached(error) or not self._answers_quickly():
                    raise
                self._lengthen_timeout(timeout)

    def _answers_quickly(self) -> bool:
        try:
            self.client.models.list(timeout=min(PROBE_SECONDS, self.timeout))
        except Exception:  # any failure means "not clearly up": the outage path decides
            return False
        return True

    def _lengthen_timeout(self, timed_out: float) -> None:
        """Double the timeout once per timeout seen, however many requests ran past it together."""
        with self._timeout_lock:
            if self.timeout > timed_out:
                return
            self.timeout = min(self.max_timeout, 2 * self.timeout)
            log.warning("%s took over %g s to answer a request but is up (busy, not down); waiting up to "
                        "%g s for each request from now on", self.base_url, timed_out, self.timeout)

    def _send(self, request: GenerationRequest, model: str, timeout: float) -> Any:
        common: dict[str, Any] = {
            "model": model, "n": request.n, "max_tokens": request.max_tokens,
            "temperature": request.temperature, "top_p": request.top_p, "timeout": timeout,
        }  # fmt: skip
        if request.stop:
            common["stop"] = list(request.stop)
        if request.seed is not None:
            common["seed"] = request.seed
        if request.xtc_probability is not None:  # llama.cpp's own fields
            common["extra_body"] = {"xtc_probability": request.xtc_probability,
                                    "xtc_threshold": LLAMA_CPP_XTC_THRESHOLD}
        if request.prompt is not None:
            return self.client.completions.create(prompt=request.prompt, **common)
        return self.client.chat.completions.create(messages=request.chat_messages(), **common)

    def _first_served_model(self) -> str:
        try:
            models = list(self.client.models.list())
        except _transient_errors() as error:
            raise TransientError(_describe(error), reached=_reached(error)) from error
        except _fatal_errors() as error:
            raise LLMUnavailable(_fatal_message(error, self.base_url, None)) from error
        if not models:
            raise LLMUnavailable(f"{self.base_url} serves no model; pass --model NAME.")
        return str(models[0].id)


def _from_choice(request: GenerationRequest, choice: int) -> GenerationRequest:
    """The part of a request that starts at its `choice`-th completion: its seed moves with it, so a
    split or topped-up request draws what the server's own n choices would (seed + i), never a repeat."""
    return replace(request, seed=choice_seed(request.seed, choice)) if choice else request


def count_tokens(root_url: str, text: str, model: str | None = None) -> int:
    """Tokens of `text` by the server's tokenizer: llama.cpp reads `content`, vLLM `prompt`."""
    fields = {"content": text, "prompt": text, "add_special_tokens": False, "model": model}
    body = json.dumps({key: value for key, value in fields.items() if value is not None}).encode()
    request = urllib.request.Request(
        f"{root_url}/tokenize", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(json.load(response)["tokens"])


def _choice_tokens(root_url: str, model: str | None, choice: Any, text: str) -> int:
    """One choice's generated tokens: its text, plus what vLLM generated but cut from the text."""
    if not hasattr(choice, "stop_reason") or choice.finish_reason != "stop":
        return count_tokens(root_url, text, model)
    stop = choice.stop_reason
    if isinstance(stop, str):  # the stop string: generated, counted, not in the text
        return count_tokens(root_url, text + stop, model)
    return count_tokens(root_url, text, model) + 1  # the end-of-text or stop token


def _usage_per_choice(response: Any) -> bool:
    """Whether every choice carries its own usage (some servers do; OpenAI's format does not)."""
    return all(getattr(getattr(c, "usage", None), "completion_tokens", None) is not None
               for c in response.choices)


def _completions(response: Any, request: GenerationRequest, model: str, seconds: float) -> list[Completion]:
    choices = sorted(response.choices, key=lambda c: c.index or 0)
    usage = getattr(response, "usage", None)
    prompt_tokens = split_evenly(getattr(usage, "prompt_tokens", 0) or 0, max(1, len(choices)))
    output_tokens = split_evenly(getattr(usage, "completion_tokens", 0) or 0, max(1, len(choices)))
    if _usage_per_choice(response):
        output_tokens = [int(c.usage.completion_tokens) for c in choices]
    return [
        Completion(
            text=_choice_text(choice, request),
            model=str(getattr(response, "model", None) or model),
            prompt_tokens=prompt_tokens[i],
            completion_tokens=output_tokens[i],
            latency_seconds=seconds,
            finish_reason=choice.finish_reason,
        )
        for i, choice in enumerate(choices)
    ]


def _choice_text(choice: Any, request: GenerationRequest) -> str:
    if request.prompt is not None:
        return str(choice.text or "")
    return str(choice.message.content or "")


def _failed(model: str, error: Exception) -> Completion:
    return Completion(text="", model=model, finish_reason=f"error: {_describe(error)}")


def _any_failed(completions: list[Completion]) -> bool:
    return any((c.finish_reason or "").startswith("error") for c in completions)


def _mentions_n(error: Exception) -> bool:
    text = str(error).lower()
    return "'n'" in text or '"n"' in text or " n " in text or "n must" in text or "only n=1" in text


def _describe(error: Exception) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())[:300]


def _reached(error: Exception) -> bool:
    """Whether the server was there (an error status, a dropped request), not refused or silent."""
    import openai

    if isinstance(error, openai.APIStatusError):
        return True
    # By name: openai's transport is httpx or its vendored copy, whose classes differ.
    causes = {kind.__name__ for kind in type(error.__cause__).__mro__}
    return not causes & {"ConnectError", "ConnectTimeout"}


def _transient_errors() -> tuple[type[Exception], ...]:
    import openai

    return (
        openai.APIConnectionError,  # includes APITimeoutError
        openai.InternalServerError,
        openai.RateLimitError,
        openai.ConflictError,
    )


def _fatal_errors() -> tuple[type[Exception], ...]:
    import openai

    return (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


def _fatal_message(error: Exception, base_url: str, model: str | None) -> str:
    import openai

    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"{base_url} refused the API key; set the key in the environment variable the config names."
    return f"{base_url} does not serve model {model!r} or the endpoint ({_describe(error)}); check --model."
