"""The `lean_proof` kind: the lean_core problem, Lean prompts and parsing, the repair loop, partial scores.

Scores come from the verifier over a REPLAY of real Lean answers (and labelled
constructed ones), not from Lean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.agents.lean_prompts import (
    MAX_REPAIR_DEPTH,
    build_lean_prompt,
    parse_lean_completion,
    repair_depth,
)
from evoforge.evaluators import open_evaluator
from evoforge.records import Prompt
from evoforge.spec import builtin_problem_names, load_problem
from evoforge.spec_errors import SpecError
from tests.data_paths import needs_published
from tests.lean_fixtures import demo_problem_toml, replay_repl, transcripts_dir

pytestmark = needs_published("lean")  # the REPL transcripts and core_theorems.json

LEAN_PROBLEM = demo_problem_toml("lean_replay", """
[[lean.theorems]]
name = "ex"
statement = "theorem ex : False"
""")


def test_lean_core_is_built_in_with_the_shared_statements() -> None:
    transcripts_dir()  # fails clearly when EVOFORGE_DATA is not set up
    assert "lean_core" in builtin_problem_names()
    spec = load_problem("lean_core")
    assert spec.kind == "lean_proof"
    assert list(spec.inline_inputs["train"]) == ["and_comm_core"]
    chosen = load_problem("lean_core", '{"theorems": ["double_eq"]}')
    assert (
        chosen.evolve_name == "double_eq"
        and "def double" in chosen.inline_inputs["train"]["double_eq"]["preamble"]
    )
    from evoforge.evaluators.lean.problem import theorem_names

    assert len(theorem_names("lean_core")) == 53
    with pytest.raises(SpecError, match="no statement named 'nope'"):
        load_problem("lean_core", '["nope"]')


def prompt(codes: list[str], scores: list[float], feedback: list[str]) -> Prompt:
    return Prompt(0, tuple(range(len(codes))), tuple(codes), tuple(scores), 0, tuple(feedback))


def test_rejected_parent_gets_a_repair_prompt_with_leans_error() -> None:
    spec = load_problem("lean_core", '["nat_add_comm"]')
    rendered = build_lean_prompt(
        spec, prompt(["by simp"], [0.125], ["REJECTED: unsolved goals\n⊢ a + b = b + a"]), "chat"
    )
    assert "rejected" in rendered.text and "unsolved goals" in rendered.text
    assert "theorem nat_add_comm (a b : Nat) : a + b = b + a :=" in rendered.text
    answer = "Here:\n```lean\ntheorem nat_add_comm (a b : Nat) : a + b = b + a := by omega\n```"
    candidate = parse_lean_completion(answer, spec, "chat", rendered.header)
    assert candidate.code is not None and repair_depth(candidate.code) == 1
    assert candidate.code.endswith("by omega\n")


def test_repair_depth_is_bounded() -> None:
    spec = load_problem("lean_core", '["nat_add_comm"]')
    deep = f"-- repair depth {MAX_REPAIR_DEPTH}\nby simp"
    rendered = build_lean_prompt(spec, prompt([deep], [0.1], ["REJECTED: simp failed"]), "chat")
    assert "rejected" not in rendered.text.split("[user]")[1].splitlines()[0]
    assert rendered.header == "repair depth 0"


def test_completion_mode_continues_after_the_statement() -> None:
    spec = load_problem("lean_core", '["nat_add_comm"]')
    rendered = build_lean_prompt(spec, prompt(["by\n  sorry"], [0.0], [""]), "completion")
    assert rendered.text.rstrip().endswith(":=") and rendered.stops
    candidate = parse_lean_completion("  by omega\n", spec, "completion", rendered.header)
    assert candidate.code == "by omega\n"


def test_replay_partial_scores_order_verified_above_rejected_above_static(
    tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "lean_replay"
    folder.mkdir()
    (folder / "problem.toml").write_text(LEAN_PROBLEM)
    monkeypatch.setenv("EVOFORGE_LEAN_REPL", str(replay_repl(tmp_path, constructed=True)))
    demo, ex = load_problem(str(folder)), load_problem(str(folder), '["ex"]')
    with open_evaluator(demo) as evaluator:
        verified = evaluator.evaluate("by rw [Nat.add_comm]")
        static = evaluator.evaluate("by sorry")
    with open_evaluator(ex) as evaluator:
        rejected = evaluator.evaluate("by exact?")
    assert verified.score == 1.0  # constructed final answer
    assert static.score == 0.0 and "sorry" in static.details["feedback"]
    assert 0.0 < rejected.score < 1.0
    assert "exact?" in rejected.details["feedback"] and rejected.details["ex"]["status"] == "REJECTED"


def test_parent_feedback_reaches_the_prompt_from_the_run_database(tmp_path: Path) -> None:
    from evoforge.records import Evaluation, TrialResult
    from evoforge.search_state import SearchState

    spec = load_problem("lean_core", '["nat_add_comm"]')
    state = SearchState(tmp_path, spec, {"num_islands": 1}, seed=0)
    seed = state.seed_if_new()
    assert seed is not None
    state.record_evaluation(
        seed,
        Evaluation(
            (TrialResult("nat_add_comm", 0.0),), details={"feedback": "REJECTED: the proof contains `sorry`"}
        ),
    )
    assert state.next_prompt().parent_feedback == ("REJECTED: the proof contains `sorry`",)
    state.close()


def test_feedback_from_a_recorded_unsolved_goals_answer() -> None:
    from evoforge.evaluators.lean.proof_evaluator import feedback, partial_score
    from evoforge.evaluators.lean.repl_verifier import _rejection
    from tests.lean_fixtures import recorded_session

    _, answers = recorded_session("incomplete")
    result = _rejection(answers[1], "")
    assert result is not None
    note = feedback(result)
    assert note.startswith("REJECTED: unsolved goals\ngoals left:\ncase pos")
    assert note.count("case pos") == 1 and "case neg" in note
    assert partial_score(result) == 0.5 / (3 * 3)  # two errors, two goals left


def test_the_evaluator_streams_every_statement_and_stop_on_error_starts_no_further_check(
    tmp_path: Path, monkeypatch
) -> None:
    """The REPLAY exits on `exact?`: no score (INTERNAL_ERROR) for either statement."""
    from tests.lean_fixtures import logged_commands

    folder = tmp_path / "lean_replay"
    folder.mkdir()
    (folder / "problem.toml").write_text(LEAN_PROBLEM)
    log = tmp_path / "commands.jsonl"
    monkeypatch.setenv("EVOFORGE_LEAN_REPL", str(replay_repl(tmp_path, "--exit-on", "exact?", log=log)))
    both = load_problem(str(folder), '["demo", "ex"]')

    def checked_statements() -> list[str]:
        return [name for c in logged_commands(log) for name in ("demo", "ex")
                if f"theorem {name}" in c.get("cmd", "") and "exact?" in c.get("cmd", "")]

    with open_evaluator(both, stop_on_error=True) as evaluator:
        evaluator.workers = 1  # one check at a time: "demo" is first
        stopped = evaluator.evaluate("by exact?")
    assert [t.input_key for t in stopped.trials] == ["demo"] and stopped.score is None
    assert "INTERNAL_ERROR" in stopped.trials[0].error
    assert set(checked_statements()) == {"demo"}  # "ex" was never sent to Lean
    log.unlink()
    with open_evaluator(both) as evaluator:
        every = evaluator.evaluate("by exact?")
    assert [t.input_key for t in every.trials] == ["demo", "ex"]
    assert all(t.score is None for t in every.trials) and set(checked_statements()) == {"demo", "ex"}
