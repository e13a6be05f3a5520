"""vLLM settings and the shared engine's plumbing, without vLLM (no engine runs here).

The engine arguments the user gives are parsed, stored with the run and kept
by resume; the defaults for a CPU node are applied; a failed engine or
sampler start is one sentence, exit 2, with the run saved. The batching of
concurrent calls into one engine call is checked on a recorded backend.
The real engine is exercised in tests/test_vllm_engine.py and test_vllm_run.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from evoforge.agents.base import GenerationRequest, LLMBackend
from evoforge.agents.recorded_backend import RecordedCompletionsBackend
from evoforge.agents.vllm_engine import BatchingEngine
from evoforge.agents.vllm_settings import (
    CPU_ENGINE_DEFAULTS,
    cpu_dtype,
    engine_args_from_options,
    engine_kwargs,
    failure_sentence,
    gpu_visible,
    parse_engine_arg,
)
from evoforge.records import Completion
from evoforge.spec_errors import UserError
from evoforge.storage import DB_FILENAME
from tests.run_fixtures import RECORDED_BIN_PACKING, make_small_bin_packing


def test_engine_args_are_json_where_they_parse_and_typed_flags_win() -> None:
    assert parse_engine_arg("enforce-eager=true") == ("enforce_eager", True)
    assert parse_engine_arg("kv_cache_dtype=fp8") == ("kv_cache_dtype", "fp8")
    assert parse_engine_arg('limit_mm_per_prompt={"image": 0}') == ("limit_mm_per_prompt", {"image": 0})
    given = engine_args_from_options(["max_model_len=1024", "swap_space=2"], max_model_len=2048, dtype=None)
    assert given == {"max_model_len": 2048, "swap_space": 2}
    assert engine_args_from_options(None, dtype=None) is None


@pytest.mark.parametrize("text", ["enforce_eager", "=3", "two words=1"])
def test_a_malformed_engine_arg_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="use KEY=VALUE"):
        parse_engine_arg(text)


@pytest.mark.skipif(gpu_visible(), reason="checks the CPU defaults")
def test_a_cpu_engine_gets_the_cpu_defaults_and_kv_cache_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    kwargs = engine_kwargs("/models/m", {"max_model_len": 1024})
    expected = {**CPU_ENGINE_DEFAULTS, "dtype": cpu_dtype(), "max_model_len": 1024, "model": "/models/m"}
    assert kwargs == expected
    assert "seed" not in kwargs  # seeds go with each request, never one for the engine
    assert os.environ["VLLM_CPU_KVCACHE_SPACE"] == "2"
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "6")
    engine_kwargs("/models/m", None)
    assert os.environ["VLLM_CPU_KVCACHE_SPACE"] == "6"  # the user's own setting stays


def test_the_cpu_dtype_is_bfloat16_only_where_the_cpu_computes_it(tmp_path: Path) -> None:
    avx2_only, with_amx = tmp_path / "avx2", tmp_path / "amx"
    avx2_only.write_text("flags\t\t: fpu sse2 avx avx2 fma\n")
    with_amx.write_text("flags\t\t: fpu sse2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_dtype(avx2_only) == "float32"
    assert cpu_dtype(with_amx) == "bfloat16"
    assert cpu_dtype(tmp_path / "missing") == "float32"


def test_a_validation_failure_is_one_sentence_naming_the_field() -> None:
    class ModelConfig(BaseModel):
        seed: int

    with pytest.raises(ValidationError) as caught:
        ModelConfig(seed=None)  # type: ignore[arg-type]
    sentence = failure_sentence("/models/m", caught.value)
    assert sentence.startswith("vLLM could not start an engine for '/models/m': seed: Input should be")
    assert "\n" not in sentence


class CountingBackend(LLMBackend):
    """The recorded backend, counting engine calls; the first call lasts until 4 more calls wait."""

    def __init__(self) -> None:
        self.inner = RecordedCompletionsBackend(RECORDED_BIN_PACKING)
        self.model_name, self.calls, self.engine = self.inner.model_name, [], None

    def generate(self, requests: list[GenerationRequest]) -> list[list[Completion]]:
        deadline = time.monotonic() + 30
        while not self.calls and self.engine.waiting.qsize() < 4 and time.monotonic() < deadline:
            time.sleep(0.01)  # a long first generation: the other callers queue up meanwhile
        self.calls.append(len(requests))
        return self.inner.generate(requests)


def test_concurrent_callers_share_engine_calls_and_get_their_own_results() -> None:
    backend = CountingBackend()
    engine = backend.engine = BatchingEngine(backend)
    results: dict[int, list[list[Completion]]] = {}

    def call(index: int) -> None:
        results[index] = engine.generate([GenerationRequest(prompt=f"p{index}", n=index + 1)])

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while not backend.calls and engine.waiting.qsize():
        time.sleep(0.01)  # the first call is in the engine before the others arrive
    time.sleep(0.2)
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 5)]
    for thread in [*others]:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=60)
    engine.close()
    assert backend.calls == [1, 4]  # the four that waited went to the engine together
    assert {i: len(r[0]) for i, r in results.items()} == {i: i + 1 for i in range(5)}


def evoforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evoforge.cli", *args], capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def stored_llm(run_dir: Path) -> dict:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])["llm"]


def test_engine_flags_are_stored_with_the_run_and_kept_by_resume(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    first = evoforge("run", str(problem), "--llm", "recorded", "--model", str(RECORDED_BIN_PACKING),
                     "--samples", "2", "--run-dir", str(run_dir), "--max-model-len", "2048",
                     "--vllm-arg", "enforce_eager=true", "--gpu-memory-utilization", "0.5")  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    expected = {"enforce_eager": True, "max_model_len": 2048, "gpu_memory_utilization": 0.5}
    assert stored_llm(run_dir)["engine_args"] == expected
    again = evoforge("resume", str(run_dir), "--samples", "4")
    assert again.returncode == 0, again.stderr[-2000:]
    assert stored_llm(run_dir)["engine_args"] == expected


@pytest.mark.skipif(__import__("importlib").util.find_spec("vllm") is not None, reason="vllm is installed")
def test_a_shared_engine_that_cannot_start_is_one_sentence_and_the_run_is_saved(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    run = evoforge("run", str(problem), "--llm", "vllm", "--model", str(tmp_path), "--samples", "2",
                   "--run-dir", str(run_dir))  # fmt: skip
    message = " ".join(run.stderr.split())
    assert run.returncode == 2, run.stderr[-3000:]
    assert "needs the vllm package" in message and f"evoforge resume {run_dir}" in message
    assert "Traceback" not in run.stderr and "ActorDiedError" not in run.stderr
    assert stored_llm(run_dir)["backend"] == "vllm"


def test_a_sampler_whose_backend_fails_to_start_is_one_sentence_not_an_actor_death(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    run = evoforge("run", str(problem), "--llm", "recorded", "--model", str(tmp_path / "missing.jsonl"),
                   "--samples", "2", "--run-dir", str(run_dir))  # fmt: skip
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "ActorDiedError" not in run.stderr
    assert "missing.jsonl" in run.stderr
    assert (run_dir / DB_FILENAME).is_file()
