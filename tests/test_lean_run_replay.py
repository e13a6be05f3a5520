"""`evoforge run` on a lean_proof problem, end to end: recorded LLM completions, REPLAY Lean answers.

No model and no Lean run: completions come from a recorded file and Lean's
answers from the replay (its VERIFIED relies on a labelled constructed answer).
What is tested is the loop: the seed is scored, its feedback reaches the repair
prompt through the run's database, and a proof that passes ends the run's best.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.data_paths import needs_published
from tests.lean_fixtures import REPO, demo_problem_toml, replay_repl

pytestmark = needs_published("lean")  # the REPL transcripts and core_theorems.json

PROBLEM = demo_problem_toml("lean_demo")
COMPLETIONS = [
    "```lean\ntheorem demo (a b: Nat): a + b = b + a := by\n  simp [sorry]\n```",
    "Fixed:\n```lean\ntheorem demo (a b: Nat): a + b = b + a := by rw [Nat.add_comm]\n```",
]


def test_replay_run_repairs_from_feedback_and_reaches_a_passing_proof(tmp_path: Path) -> None:
    folder = tmp_path / "lean_demo"
    folder.mkdir()
    (folder / "problem.toml").write_text(PROBLEM)
    recorded = tmp_path / "completions.jsonl"
    recorded.write_text("\n".join(json.dumps({"text": t}) for t in COMPLETIONS) + "\n")
    env = {**os.environ, "EVOFORGE_LEAN_REPL": str(replay_repl(tmp_path, constructed=True))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "evoforge.cli",
            "run",
            str(folder),
            "--llm",
            "recorded",
            "--model",
            str(recorded),
            "--samples",
            "4",
            "--samplers",
            "1",
            "--samples-per-prompt",
            "2",
            "--mode",
            "chat",
            "--run-dir",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(tmp_path / "run" / "evoforge.db") as db:
        prompts = [row[0] for row in db.execute("SELECT text FROM prompts ORDER BY id")]
        scores = [row[0] for row in db.execute("SELECT score FROM evaluations ORDER BY candidate_id")]
    assert "Lean said:\nREJECTED: [sorry] the proof contains `sorry`" in prompts[0]  # the seed's feedback
    assert scores[0] == 0.0 and max(scores) == 1.0
