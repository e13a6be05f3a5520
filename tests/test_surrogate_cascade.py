"""The surrogate cascade in real searches: real sandbox, real solver, real SQLite file, a recorded LLM.

The completions are replayed from tests/data/recorded_burgers_control.jsonl
(a synthetic stream written like the model's output, so named); the surrogate
is a real FNO checkpoint in a private cache, deliberately left untrained so its
estimates are wrong. The run must still report only exactly solved scores,
and a kill -9 must lose neither the surrogate's version nor any exact score.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from evoforge.storage import DB_FILENAME
from evoforge.surrogates import store
from evoforge.surrogates.data import problem_physics
from evoforge.surrogates.model import Surrogate
from tests.run_fixtures import REPO, count_rows

RECORDED = REPO / "tests" / "data" / "recorded_burgers_control.jsonl"
PROBLEM = "burgers_control"


def _wrong_surrogate(cache: Path) -> None:
    """An untrained FNO whose outputs are scaled up: estimates unrelated to the truth."""
    physics = problem_physics(PROBLEM)
    designs = physics.random_designs(np.random.default_rng(0), 4)
    surrogate = Surrogate.fresh(physics.dims, designs, designs, seed=3)
    surrogate.scale["out_std"] = 3.0
    surrogate.meta["settings"] = physics.settings
    os.environ["EVOFORGE_SURROGATES"] = str(cache)
    try:
        surrogate.save(store.model_path(PROBLEM))
    finally:
        del os.environ["EVOFORGE_SURROGATES"]


def _cascade_settings(run_dir: Path, **settings: float) -> None:
    (run_dir / "surrogate").mkdir(parents=True)
    base = {"screen": "surrogate", "top_fraction": 0.3, "calibration": 0.0, "warmup": 2,
            "finetune_every": 1000, "finetune_epochs": 1, "base_pairs": 0}
    (run_dir / "surrogate" / "cascade.json").write_text(json.dumps({**base, **settings}))


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "evoforge.cli", *args]


def _run_args(run_dir: Path, samples: int) -> tuple[str, ...]:
    return ("run", PROBLEM, "--llm", "recorded", "--model", str(RECORDED), "--samples", str(samples),
            "--samples-per-prompt", "2", "--run-dir", str(run_dir))


def _evaluations(db: Path) -> list[tuple[int, int, float | None, str | None, dict]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT candidate_id, ok, score, error, details FROM evaluations ORDER BY candidate_id")
        return [(c, ok, s, e, json.loads(d)) for c, ok, s, e, d in rows]


def test_a_wrong_surrogate_never_makes_an_unsolved_candidate_the_best(tmp_path: Path) -> None:
    cache, run_dir = tmp_path / "cache", tmp_path / "run"
    _wrong_surrogate(cache)
    _cascade_settings(run_dir)
    env = {**os.environ, "EVOFORGE_SURROGATES": str(cache), "RAY_DEDUP_LOGS": "0"}
    done = subprocess.run(_command(*_run_args(run_dir, 24)), env=env, capture_output=True, text=True,
                          timeout=600, start_new_session=True)
    assert done.returncode == 0, done.stderr[-3000:]

    rows = _evaluations(run_dir / DB_FILENAME)
    screened = [r for r in rows if r[4].get("screen") and not r[4]["exact"]]
    solved = [r for r in rows if r[4].get("exact")]
    assert screened and len(solved) >= 3
    for _, ok, score, error, details in screened:
        assert not ok and score is None and "not exactly solved" in error
        assert details["estimate"] is not None
    assert all(r[4].get("exact") for r in rows if r[1])  # every scored candidate was solved exactly

    shown = subprocess.run(_command("show", str(run_dir), "--json"), env=env, capture_output=True,
                           text=True, timeout=120)
    summary = json.loads(shown.stdout)
    best = next(r for r in rows if r[0] == summary["best_candidate_id"])
    assert best[4]["exact"] and summary["best_score"] == min(r[2] for r in solved)
    physics = problem_physics(PROBLEM)
    design = np.asarray(best[4]["design"])
    assert abs(float(physics.scores(design[None], physics.solve(design[None]))[0]) - best[2]) < 1e-6
    fidelity = summary["fidelity"]
    cascaded = [r for r in solved if r[4].get("screen")]  # the seed is solved exactly when the run is made
    assert fidelity["exact_solves"] == len(cascaded)
    assert fidelity["candidates"] == len(screened) + len(cascaded)
    assert fidelity["mae"] > 0.1  # the surrogate really was wrong


def _wait_for_version(db: Path, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    query = "SELECT COUNT(*) FROM evaluations WHERE json_extract(details, '$.surrogate_version') >= 1"
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        if count_rows(db, query) >= 2:
            return
        time.sleep(0.2)
    raise AssertionError("the surrogate was never fine-tuned before the kill")


@pytest.mark.slow
def test_kill_9_keeps_the_surrogate_version_and_every_exact_score(tmp_path: Path) -> None:
    cache, run_dir = tmp_path / "cache", tmp_path / "run"
    _wrong_surrogate(cache)
    _cascade_settings(run_dir, top_fraction=0.6, finetune_every=2)
    env = {**os.environ, "EVOFORGE_SURROGATES": str(cache), "RAY_DEDUP_LOGS": "0",
           "EVOFORGE_RECORDED_DELAY": "0.4"}
    db = run_dir / DB_FILENAME
    process = subprocess.Popen(_command(*_run_args(run_dir, 24)), env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_version(db, process, timeout=400)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = _evaluations(db)
    exact_before = {c: s for c, _, s, _, d in before if d.get("exact")}
    version_before = max(d["surrogate_version"] for *_, d in before if "surrogate_version" in d)
    saved = Surrogate.load(run_dir / "surrogate" / "surrogate.pt")
    assert saved.version >= version_before >= 1

    resumed = subprocess.run(_command("resume", str(run_dir)), env=env, capture_output=True, text=True,
                             timeout=600, start_new_session=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _evaluations(db)
    exact_after = {c: s for c, _, s, _, d in after if d.get("exact")}
    assert all(exact_after[c] == s for c, s in exact_before.items())
    new = [d for c, *_, d in after if c not in {b[0] for b in before} and "surrogate_version" in d]
    assert new and min(d["surrogate_version"] for d in new) >= version_before
    assert count_rows(db, "SELECT COUNT(*) FROM candidates WHERE status='pending'") == 0
