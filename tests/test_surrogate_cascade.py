"""The surrogate cascade in real searches: real sandbox, real solver, real SQLite file, a recorded LLM.

The completions are replayed from tests/data/recorded_burgers_control.jsonl
(a synthetic stream written like the model's output, so named); the surrogate
is a real FNO checkpoint in a private cache, deliberately left untrained so its
estimates are wrong. The run must screen the candidates in batches and still
report only exactly solved scores; with two evaluators only one fine-tunes;
and a kill -9 must lose neither the surrogate's version (in the checkpoint and
in the run's meta table) nor any exact score.
"""

from __future__ import annotations

import contextlib
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
            "finetune_every": 1000, "finetune_epochs": 1, "base_pairs": 0, "batch": 16}
    (run_dir / "surrogate" / "cascade.json").write_text(json.dumps({**base, **settings}))


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "evoforge.cli", *args]


def _run_args(run_dir: Path, samples: int, evaluators: int = 1) -> tuple[str, ...]:
    # one sampler: the recorded stream is replayed per sampler, so a second would only add duplicates
    return ("run", PROBLEM, "--llm", "recorded", "--model", str(RECORDED), "--samples", str(samples),
            "--samplers", "1", "--samples-per-prompt", "4", "--evaluators", str(evaluators),
            "--run-dir", str(run_dir))


def _finished(args: tuple[str, ...], run_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A CLI session run to its end."""
    return subprocess.run(_command(*args), env=env, capture_output=True, text=True, timeout=600,
                          start_new_session=True)


def _evaluations(db: Path) -> list[tuple[int, int, float | None, str | None, dict]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT candidate_id, ok, score, error, details FROM evaluations ORDER BY candidate_id")
        return [(c, ok, s, e, json.loads(d)) for c, ok, s, e, d in rows]


def _meta_version(db: Path) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'surrogate_version'").fetchone()
    return json.loads(row[0]) if row else None


def _assert_screened_in_batches(rows: list, run_dir: Path) -> None:
    """Rows sharing a batch id were one forward pass, of the size they record; passes < candidates."""
    screened = [d for *_, d in rows if d.get("screen")]
    batches: dict[str, list[dict]] = {}
    for details in screened:
        batches.setdefault(details["screen_batch"], []).append(details)
    for members in batches.values():
        assert {d["screen_batch_size"] for d in members} == {len(members)}
        assert len({d["surrogate_version"] for d in members}) == 1
    assert len(batches) < len(screened) and max(len(m) for m in batches.values()) >= 2
    logged = (run_dir / "surrogate" / "estimates.txt").read_text().splitlines()
    assert len(logged) == len(screened)  # each batch's estimates written at once, none lost


def test_a_live_run_screens_in_batches_and_a_wrong_surrogate_never_makes_the_best(tmp_path: Path) -> None:
    cache, run_dir = tmp_path / "cache", tmp_path / "run"
    _wrong_surrogate(cache)
    _cascade_settings(run_dir)
    env = {**os.environ, "EVOFORGE_SURROGATES": str(cache), "RAY_DEDUP_LOGS": "0"}
    done = _finished(_run_args(run_dir, 24), run_dir, env)
    assert done.returncode == 0, done.stderr[-3000:]

    rows = _evaluations(run_dir / DB_FILENAME)
    _assert_screened_in_batches(rows, run_dir)
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


def _kill_the_rest(marker: str, timeout: float = 60) -> None:
    """SIGKILL every process still carrying this test's environment (a Ray worker outside the killed
    group would go on fine-tuning after the "kill -9" and race the checks), and wait until none is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            with contextlib.suppress(OSError):
                if marker.encode() in environ.read_bytes():
                    alive.append(int(environ.parent.name))
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    raise AssertionError(f"processes of the killed session outlived it: {alive}")


def _killed_after_a_fine_tune(args: tuple[str, ...], run_dir: Path, env: dict[str, str]) -> None:
    """Run until two evaluations were screened by a fine-tuned surrogate, then kill -9 the session."""
    db = run_dir / DB_FILENAME
    query = "SELECT COUNT(*) FROM evaluations WHERE json_extract(details, '$.surrogate_version') >= 1"
    process = subprocess.Popen(_command(*args), env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 400
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if db.exists() and count_rows(db, query) >= 2:
                return
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        _kill_the_rest(env["EVOFORGE_SURROGATES"])
    log = process.stderr.read()[-2000:]
    raise AssertionError(f"the surrogate was never fine-tuned before the kill: {log}")


def _finetunes(run_dir: Path) -> list[dict]:
    log = run_dir / "surrogate" / "finetunes.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
def test_one_owner_fine_tunes_and_kill_9_keeps_the_version_and_every_exact_score(tmp_path: Path) -> None:
    cache, run_dir = tmp_path / "cache", tmp_path / "run"
    _wrong_surrogate(cache)
    _cascade_settings(run_dir, top_fraction=0.6, finetune_every=2, batch=2)  # two evaluators share the work
    env = {**os.environ, "EVOFORGE_SURROGATES": str(cache), "RAY_DEDUP_LOGS": "0",
           "EVOFORGE_RECORDED_DELAY": "0.4"}
    db = run_dir / DB_FILENAME
    _killed_after_a_fine_tune(_run_args(run_dir, 24, evaluators=2), run_dir, env)
    before = _evaluations(db)
    exact_before = {c: s for c, _, s, _, d in before if d.get("exact")}
    version_before = max(d["surrogate_version"] for *_, d in before if "surrogate_version" in d)
    meta_before = _meta_version(db)
    saved = Surrogate.load(run_dir / "surrogate" / "surrogate.pt")
    assert saved.version >= meta_before >= version_before >= 1
    tuned_before = _finetunes(run_dir)
    assert len({r["pid"] for r in tuned_before}) == 1  # one process fine-tuned
    assert [r["version"] for r in tuned_before] == list(range(1, len(tuned_before) + 1))
    assert saved.version - len(tuned_before) in (0, 1)  # the log line follows the checkpoint

    # a larger budget: the killed session may have drawn all 24, and the resumed one must screen some
    resumed = _finished(("resume", str(run_dir), "--samples", "36"), run_dir, env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _evaluations(db)
    exact_after = {c: s for c, _, s, _, d in after if d.get("exact")}
    assert all(exact_after[c] == s for c, s in exact_before.items())
    new = [d for c, *_, d in after if c not in {b[0] for b in before} and "surrogate_version" in d]
    assert new and min(d["surrogate_version"] for d in new) >= meta_before
    assert count_rows(db, "SELECT COUNT(*) FROM candidates WHERE status='pending'") == 0

    tuned = _finetunes(run_dir)
    assert [r["version"] for r in tuned] == list(range(1, len(tuned) + 1))  # no version made twice
    assert len({r["pid"] for r in tuned[len(tuned_before):]}) <= 1  # one owner in the resumed session too
    reported = [max(d["surrogate_version"], d.get("finetuned_to", 0)) for *_, d in after if "screen" in d]
    final = Surrogate.load(run_dir / "surrogate" / "surrogate.pt")
    assert _meta_version(db) == max(reported) == final.version
    followers = [d for *_, d in after if d.get("screen") and not d["surrogate_owner"]]
    assert followers and max(d["surrogate_version"] for d in followers) >= 1  # they screened with its updates
