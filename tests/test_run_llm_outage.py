"""A whole search against an LLM server that is not there, or dies mid-run and comes back.

A server that never answered fails the run within seconds, in one sentence,
with the run saved; one that was up gets the long patience. For the second
the embedded model is served by llama.cpp's server on loopback; `evoforge run
--llm openai` talks to it as it would to `vllm serve`. The test kills the
server with SIGKILL while the run is sampling, restarts it on the same port,
and checks from the database that the run finished its budget with nothing
lost.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evoforge.agents.llama_server import LlamaServer, free_port
from evoforge.storage import DB_FILENAME
from tests.llm_fixtures import embedded_model_or_fail
from tests.run_fixtures import count_rows, make_small_bin_packing

BUDGET = 12


def test_a_server_that_never_answered_fails_fast_in_one_sentence_and_the_run_resumes(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    command = [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--llm", "openai",
               "--base-url", url, "--samples", "8", "--run-dir", str(run_dir), "--llm-outage-minutes", "30"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    message = " ".join(run.stderr.split())
    assert run.returncode == 2, run.stderr[-3000:]
    assert f"LLM server {url} has not answered at all" in message
    assert f"The run is saved; continue it with `evoforge resume {run_dir}` (add --base-url URL" in message
    assert "Traceback" not in run.stderr and "RayTaskError" not in run.stderr
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:  # the run exists, whole, with its seed scored
        stored = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
        assert conn.execute("SELECT COUNT(*) FROM evaluations WHERE ok = 1").fetchone()[0] == 1
    assert stored["llm"]["outage_seconds"] == 30 * 60
    again = subprocess.run([sys.executable, "-m", "evoforge.cli", "resume", str(run_dir)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "has not answered at all" in again.stderr
    moved = f"http://127.0.0.1:{free_port()}/v1"  # the user points the run at where the server is now
    followed = subprocess.run(
        [sys.executable, "-m", "evoforge.cli", "resume", str(run_dir), "--base-url", moved],
        capture_output=True, text=True, timeout=300)
    followed_message = " ".join(followed.stderr.split())
    assert followed.returncode == 2 and f"LLM server {moved} has not answered" in followed_message
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        stored = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
    assert stored["llm"]["base_url"] == moved and stored["llm"]["outage_seconds"] == 30 * 60


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
