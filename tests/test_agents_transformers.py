"""In-process generation with transformers on the embedded GGUF.

Loading takes most of a minute here, so the module loads it once and checks
only what is specific to this backend; the sampler on top is backend-agnostic
and tested through llama-server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evoforge.agents.base import GenerationRequest
from evoforge.agents.transformers_backend import TransformersBackend, trim_at_stop
from tests.llm_fixtures import embedded_model_or_fail


@pytest.fixture(scope="module")
def backend() -> Iterator[TransformersBackend]:
    with TransformersBackend(str(embedded_model_or_fail()), threads=2) as loaded:
        yield loaded  # type: ignore[misc]


def test_stop_strings_cut_the_text_like_a_server_does() -> None:
    assert trim_at_stop("    return x\n\ndef g():\n", ("\ndef ",)) == ("    return x\n", True)
    assert trim_at_stop("    return x\n", ("\ndef ",)) == ("    return x\n", False)


@pytest.mark.slow
def test_n_rows_of_one_batch_come_back_with_token_counts(backend: TransformersBackend) -> None:
    request = GenerationRequest(prompt="def fibonacci(n):\n", n=2, max_tokens=8, temperature=1.0)
    [completions] = backend.generate([request])
    assert len(completions) == 2
    assert all(0 < c.completion_tokens <= 8 for c in completions)
    assert completions[0].prompt_tokens == 4 and completions[1].prompt_tokens == 0
    assert all(c.finish_reason in {"stop", "length"} for c in completions)
