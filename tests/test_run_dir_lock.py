"""One driver per run directory: a second `evoforge resume` refuses at once, and the budget is exact.

Before the lock, two resumes of one run both sampled: 64 samples stored for a
budget of 40 and the same code evaluated twice. Completions are replayed
from a recorded file (no model runs), slowed so the first run is still going
when the second one starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evoforge.runtime.run_lock import LOCK_FILENAME
from evoforge.storage import DB_FILENAME
from tests.run_fixtures import RECORDED_BIN_PACKING, count_rows, make_small_bin_packing

BUDGET = 24


def _evoforge(*args: str) -> list[str]:
    return [sys.executable, "-m", "evoforge.cli", *args]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-sample run, made with the CLI."""
    root = tmp_path_factory.mktemp("locked")
    run_dir = root / "run"
    made = subprocess.run(
        _evoforge("run", str(make_small_bin_packing(root / "problem")), "--llm", "recorded", "--model",
                  str(RECORDED_BIN_PACKING), "--samples", "4", "--samples-per-prompt", "2",
                  "--run-dir", str(run_dir)),
        capture_output=True, text=True, timeout=300,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    return run_dir


def test_second_resume_refuses_naming_the_holder_and_the_budget_holds(small_run: Path) -> None:
    run_dir, db = small_run, small_run / DB_FILENAME
    # slow enough that the holder is still sampling when the second resume starts, with any sampler count
    env = {**os.environ, "EVOFORGE_RECORDED_DELAY": "1.5"}
    holder = subprocess.Popen(_evoforge("resume", str(run_dir), "--samples", str(BUDGET)), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while count_rows(db, "SELECT COUNT(*) FROM samples") <= 4:  # the holder is sampling
            assert holder.poll() is None and time.monotonic() < deadline, "the first resume never sampled"
            time.sleep(0.2)
        started = time.monotonic()
        second = subprocess.run(_evoforge("resume", str(run_dir), "--samples", str(BUDGET)), env=env,
                                capture_output=True, text=True, timeout=120)
        refused_in = time.monotonic() - started
        assert holder.poll() is None, "the holder ended before the second resume was refused"
    finally:
        _, holder_stderr = holder.communicate(timeout=600)
    assert second.returncode == 2, second.stderr
    message = " ".join(second.stderr.split())
    assert f"is in use by evoforge pid {holder.pid}" in message
    assert "Traceback" not in second.stderr
    assert refused_in < 30  # at once: it starts no Ray, no sandbox (a loose bound, not a benchmark)
    assert holder.returncode == 0, holder_stderr[-3000:]
    assert count_rows(db, "SELECT COUNT(*) FROM samples") == BUDGET
    assert count_rows(db, "SELECT COUNT(*) FROM (SELECT c.code_hash FROM evaluations e JOIN candidates c"
                          " ON c.id = e.candidate_id GROUP BY c.code_hash HAVING COUNT(*) > 1)") == 0
    assert str(holder.pid) in (run_dir / LOCK_FILENAME).read_text()


def test_resume_of_a_finished_run_says_the_budget_is_spent(small_run: Path) -> None:
    again = subprocess.run(_evoforge("resume", str(small_run)), capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    message = " ".join(again.stderr.split())
    assert re.search(r"has spent its budget \((\d+) of \1 samples\)", message), message
    assert f"evoforge resume {small_run} --samples N" in message
    assert "Traceback" not in again.stderr
