"""The REPL client's protocol, against a REPLAY of real Lean REPL transcripts (no Lean here).

The replay answers with what real Lean (v4.33.0-rc2) answered to the same
commands in leanprover-community/repl's own tests; these tests check that the
client frames commands, reads pretty-printed answers, and follows env /
proofState ids exactly as the real REPL numbers them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.evaluators.lean.discovery import ReplCommand
from evoforge.evaluators.lean.repl_process import ReplProcess
from tests.data_paths import published_data_dir
from tests.lean_fixtures import recorded_session, replay_repl

# Where the transcripts are missing, one placeholder session makes the test skip (or fail under
# CI=true) through transcripts_dir() instead of silently collecting nothing.
SESSIONS = sorted(
    p.stem
    for p in (published_data_dir() / "lean" / "repl_transcripts").glob("*.in")
    if p.with_suffix(".expected.out").is_file() and p.stem not in {"invalid_line_break", "line_breaks"}
) or ["readme"]  # these two send invalid JSON on purpose


@pytest.fixture()
def replay(tmp_path: Path):
    process = ReplProcess(ReplCommand((str(replay_repl(tmp_path)),), cwd=str(tmp_path)), memory_mb=2048)
    yield process
    process.close()


@pytest.mark.parametrize("name", SESSIONS)
def test_replay_client_reads_every_recorded_answer(name: str, tmp_path: Path) -> None:
    commands, answers = recorded_session(name)
    process = ReplProcess(ReplCommand((str(replay_repl(tmp_path)),), cwd=str(tmp_path)))
    try:
        got = [process.send(command, timeout=20) for command in commands]
    finally:
        process.close()
    assert got == answers[: len(got)]


def test_replay_tactic_mode_follows_proof_states(replay: ReplProcess) -> None:
    first = replay.command("def f (x : Unit) : Nat := by sorry", timeout=20)
    assert first["sorries"][0]["goal"] == "x : Unit\n⊢ Nat"
    state = first["sorries"][0]["proofState"]
    step = replay.tactic("apply Int.natAbs", state, timeout=20)
    assert step["goals"] == ["x : Unit\n⊢ Int"] and step["proofStatus"].startswith("Incomplete")
    done = replay.tactic("exact -37", step["proofState"], timeout=20)
    assert done == {"proofStatus": "Completed", "proofState": 2, "goals": []}


def test_replay_env_reuse_and_pickled_environment(replay: ReplProcess) -> None:
    base = replay.command("def f := 42", timeout=20)["env"]
    assert replay.pickle_env(base, "test/a.olean", timeout=20) == {"env": base}
    restored = replay.unpickle_env("test/a.olean", timeout=20)["env"]
    assert restored != base
    assert replay.command("example : f = 42 := by rfl", env=restored, timeout=20) == {"env": restored + 1}


def test_replay_unknown_ids_answer_with_a_message(replay: ReplProcess) -> None:
    assert replay.command("def f : Nat := by sorry", env=5, timeout=20) == {"message": "Unknown environment."}
    assert replay.tactic("exact 42", 7, timeout=20) == {"message": "Unknown proof state."}


def test_replay_messages_carry_severity_and_positions(replay: ReplProcess) -> None:
    answer = replay.command("def f : Nat := by apply Nat.succ", timeout=20)
    message = answer["messages"][0]
    assert message["severity"] == "error" and message["data"] == "unsolved goals\n⊢ Nat"
    assert message["pos"] == {"line": 1, "column": 15} and message["endPos"] == {"line": 1, "column": 32}


def test_memory_limit_is_set_on_the_repl_process(replay: ReplProcess) -> None:
    limits = Path(f"/proc/{replay._proc.pid}/limits").read_text()
    line = next(row for row in limits.splitlines() if row.startswith("Max address space"))
    assert str(2048 * 1024 * 1024) in line
