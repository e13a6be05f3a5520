"""A whole search against a real OpenAI-compatible server that dies mid-run and comes back.

The embedded model is served by llama.cpp's server on loopback; `evoforge run
--llm openai` talks to it as it would to `vllm serve`. The test kills the
server with SIGKILL while the run is sampling, restarts it on the same port,
and checks from the database that the run finished its budget with nothing
lost.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from evoforge.agents.llama_server import LlamaServer
from evoforge.storage import DB_FILENAME
from tests.llm_fixtures import embedded_model_or_fail
from tests.run_fixtures import count_rows, make_small_bin_packing

BUDGET = 12


@pytest.mark.slow
def test_run_survives_the_llm_server_dying_and_coming_back(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    db = run_dir / DB_FILENAME
    with LlamaServer(embedded_model_or_fail(), slots=4, threads=1) as server:
        command = [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--llm", "openai",
                   "--base-url", server.base_url, "--samples", str(BUDGET), "--samples-per-prompt", "2",
                   "--max-tokens", "160", "--run-dir", str(run_dir)]
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 400
        while count_rows(db, "SELECT COUNT(*) FROM samples") < 2:
            assert run.poll() is None and time.monotonic() < deadline, "the run never sampled"
            time.sleep(0.5)
        samples_before_kill = count_rows(db, "SELECT COUNT(*) FROM samples")
        server.kill()
        time.sleep(3)
        assert run.poll() is None, "the run died with the server"
        server.start()
        stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-3000:]
    assert samples_before_kill < BUDGET
    assert count_rows(db, "SELECT COUNT(*) FROM samples") == BUDGET
    assert count_rows(db, "SELECT COUNT(*) FROM candidates WHERE status = 'pending'") == 0
    assert count_rows(db, "SELECT COUNT(*) FROM samples WHERE model IS NULL OR raw_text = ''") == 0
    assert "best" in stdout
    assert "unavailable" in stderr and "is back after" in stderr  # the outage was hit and bridged
