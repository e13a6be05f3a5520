"""SIGKILL a running search (driver, Ray, sandboxes: the whole process group), then resume it.

Checked from the database: nothing evaluated before the kill is lost or
changed, nothing is left pending, and the sample count continues to exactly
the budget.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from evoforge.storage import DB_FILENAME
from tests.run_fixtures import RECORDED_BIN_PACKING, count_rows, make_small_bin_packing

BUDGET = 40


def _evoforge(*args: str) -> list[str]:
    return [sys.executable, "-m", "evoforge.cli", *args]


def _wait_for_evaluations(db: Path, process: subprocess.Popen, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        if db.exists() and count_rows(db, "SELECT COUNT(*) FROM evaluations") >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError("the run made no progress to kill")


def test_sigkill_then_resume_loses_nothing_and_counts_right(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    db = run_dir / DB_FILENAME
    env = {**os.environ, "EVOFORGE_RECORDED_DELAY": "0.3", "RAY_DEDUP_LOGS": "0"}
    args = ("--llm", "recorded", "--model", str(RECORDED_BIN_PACKING), "--samples", str(BUDGET),
            "--samples-per-prompt", "2", "--run-dir", str(run_dir))
    process = subprocess.Popen(_evoforge("run", str(problem), *args), env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_evaluations(db, process, at_least=4, timeout=180)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with sqlite3.connect(db) as conn:
        evaluated_before = conn.execute("SELECT candidate_id, ok, score, error FROM evaluations").fetchall()
        samples_before = conn.execute("SELECT MAX(id), COUNT(*) FROM samples").fetchone()
    assert 0 < samples_before[1] < BUDGET

    resumed = subprocess.run(_evoforge("resume", str(run_dir)), env=env, capture_output=True,
                             text=True, timeout=600, start_new_session=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    with sqlite3.connect(db) as conn:
        evaluated_after = set(conn.execute("SELECT candidate_id, ok, score, error FROM evaluations"))
        samples_after = conn.execute("SELECT MIN(id), MAX(id), COUNT(*) FROM samples "
                                     "WHERE id > ?", (samples_before[0],)).fetchone()
        total_samples = conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        pending = conn.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0]
    assert set(evaluated_before) <= evaluated_after
    assert total_samples == BUDGET
    assert samples_after[2] == BUDGET - samples_before[1]
    assert samples_after[0] == samples_before[0] + 1
    assert pending == 0
