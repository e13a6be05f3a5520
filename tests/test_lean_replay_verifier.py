"""The verifier against a REPLAY of real Lean answers: pooling, timeouts, crashes, acceptance rules.

Nothing here is verification: answers come from recorded REPL transcripts, and
the few marked `constructed` from tests/data/lean_constructed_answers.jsonl
(written in the same wire format where the transcripts lack a case). Rules that
the candidate's text decides are checked with no Lean call at all (the replay's
command log stays empty).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.evaluators.lean.discovery import LeanSettings
from evoforge.evaluators.lean.outcome import Status
from evoforge.evaluators.lean.repl_verifier import ReplVerifier
from evoforge.evaluators.lean.rules import axioms_used, judge_response
from evoforge.evaluators.lean.task import ProofTask
from tests.data_paths import needs_published
from tests.lean_fixtures import logged_commands, recorded_session, replay_repl

pytestmark = needs_published("lean")  # the REPL transcripts and core_theorems.json

DEMO = ProofTask(
    "demo", "theorem demo (a b: Nat): a + b = b + a", "by rw [Nat.add_comm]", preamble="def f : Nat := 1"
)
F_DEF = ProofTask("f_def", "@[simp] theorem f_def : f = 37", "by rfl", preamble="def f := 37")
EXACT = ProofTask("ex", "theorem ex : False", "by exact?")


def verifier(
    tmp_path: Path, *flags: str, timeout: float = 20, processes: int = 1, constructed: bool = False
) -> tuple[ReplVerifier, Path]:
    log = tmp_path / "commands.log"
    repl = replay_repl(tmp_path, *flags, constructed=constructed, log=log)
    settings = LeanSettings(repl=str(repl), timeout_seconds=timeout, processes=processes, memory_mb=4096)
    return ReplVerifier(settings), log


def test_replay_rejection_carries_leans_message(tmp_path: Path) -> None:
    with verifier(tmp_path)[0] as lean:
        result = lean.verify(EXACT)
    assert result.status is Status.REJECTED
    assert result.first_error().startswith("`exact?` could not close the goal")
    assert (result.errors[0].line, result.errors[0].column) == (1, 25)


def test_replay_header_is_elaborated_once_per_process(tmp_path: Path) -> None:
    lean, log = verifier(tmp_path, constructed=True)
    with lean:
        results = [lean.verify(F_DEF) for _ in range(3)]
    commands = [c["cmd"] for c in logged_commands(log)]
    assert [r.status for r in results] == [Status.VERIFIED] * 3  # constructed final answer: not verification
    assert commands.count("def f := 37") == 1 and lean.pool.started == 1
    in_env = [c for c in logged_commands(log) if c["cmd"].startswith("@[simp]")]
    assert len(in_env) == 3 and all(c["env"] == 0 for c in in_env)


def test_replay_constructed_axiom_outside_the_standard_three_is_rejected(tmp_path: Path) -> None:
    task = ProofTask("uses_magic", "theorem uses_magic : 1 = 2", "magic", preamble="axiom magic : 1 = 2")
    with verifier(tmp_path, constructed=True)[0] as lean:
        result = lean.verify(task)
    assert result.status is Status.REJECTED and result.axioms == ("magic",)
    assert "magic" in result.reason


def test_replay_stall_times_out_and_the_next_check_gets_a_fresh_process(tmp_path: Path) -> None:
    lean, _ = verifier(tmp_path, "--stall-on", "exact?", timeout=1.5)
    with lean:
        stalled = lean.verify(EXACT)
        after = lean.verify(DEMO)
    assert stalled.status is Status.TIMEOUT and "1.5" in stalled.reason
    assert after.status is Status.INTERNAL_ERROR and "no recorded answer" in after.reason  # reached the REPL
    assert lean.pool.started == 2


def test_replay_crash_once_is_retried_on_a_restarted_process(tmp_path: Path) -> None:
    lean, _ = verifier(tmp_path, "--exit-on", "exact?", "--once-flag", str(tmp_path / "crashed"))
    with lean:
        result = lean.verify(EXACT)
    assert result.status is Status.REJECTED and "exact?" in result.first_error()
    assert lean.pool.started == 2 and (tmp_path / "crashed").exists()


def test_replay_crashing_item_does_not_lose_the_queue(tmp_path: Path) -> None:
    lean, _ = verifier(tmp_path, "--exit-on", "exact?", processes=2, constructed=True)
    with lean:
        streamed = dict(lean.verify_stream([F_DEF, EXACT, DEMO, EXACT, F_DEF], workers=2))
    results = [streamed[k] for k in range(5)]
    statuses = [r.status for r in results]
    assert statuses == [
        Status.VERIFIED,
        Status.INTERNAL_ERROR,
        Status.VERIFIED,
        Status.INTERNAL_ERROR,
        Status.VERIFIED,
    ]
    assert "exited" in results[1].reason


REJECTED_WITHOUT_LEAN = {
    "sorry": "by\n  intro n\n  sorry",
    "admit": "by admit",
    "sorry_spelled_otherwise": "by exact sorryAx _ false",
    "new_axiom": "by exact cheat\naxiom cheat : ∀ n : Nat, n % 2 = 0 ∨ n % 2 = 1",
    "native_decide": "by intro n; native_decide",
    "decide_native": "by intro n; decide +native",
    "skip_kernel": "by\n  set_option debug.skipKernelTC true in\n  omega",
    "redefines_name": "by omega\n\ntheorem nat_mod_two_cases : True := trivial",
    "changed_statement": "theorem nat_mod_two_cases : ∀ n : Nat, n % 2 = 0 ∨ n % 2 = 1 ∨ True := by omega",
    "unsafe": "by omega\nunsafe def x : Nat := 1",
    "implemented_by": "by omega\n@[implemented_by id] def y (n : Nat) : Nat := n",
    "eval": "by omega\n#eval IO.println 1",
}


@pytest.mark.parametrize("case", sorted(REJECTED_WITHOUT_LEAN))
def test_static_rules_reject_without_asking_lean(case: str, tmp_path: Path) -> None:
    asked = ProofTask("nat_mod_two_cases", "theorem nat_mod_two_cases : ∀ n : Nat, n % 2 = 0 ∨ n % 2 = 1", "")
    lean, log = verifier(tmp_path)
    with lean:
        result = lean.verify(asked.with_candidate(REJECTED_WITHOUT_LEAN[case]))
    assert result.status is Status.REJECTED, result
    assert logged_commands(log) == []
    assert result.reason


def test_native_decide_passes_the_static_rules_when_allowed(tmp_path: Path) -> None:
    asked = ProofTask("pow_ten", "theorem pow_ten : 2 ^ 10 = 1024", "", allow_native_decide=True)
    lean, log = verifier(tmp_path)
    with lean:
        result = lean.verify(asked.with_candidate("by native_decide"))
    assert "native_decide" not in result.reason and logged_commands(log)  # it went on to Lean


def test_same_statement_written_differently_is_accepted_by_the_rules(tmp_path: Path) -> None:
    lean, _ = verifier(tmp_path, constructed=True)
    written = (
        "def f : Nat := 1\n\n-- restated\n"
        "theorem demo (a : Nat) (b : Nat) : (a + b = b + a) := by rw [Nat.add_comm]"
    )
    with lean:
        result = lean.verify(DEMO.with_candidate(written))
    assert result.status is Status.VERIFIED  # constructed final answer: tests the rules, not Lean


def test_recorded_sorry_answers_are_rejected_by_the_lean_side_rules() -> None:
    for name in ("term_sorry", "tactic_sorry", "dup_sorries", "have_by_sorry"):
        _, answers = recorded_session(name)
        judged = judge_response(answers[0])
        assert judged.sorry and not judged.accepted, name


def test_recorded_unsolved_goals_become_the_goals_left() -> None:
    _, answers = recorded_session("incomplete")
    judged = judge_response(answers[1])
    assert judged.goals == (
        "case pos\nx : Bool\nh✝ : x = true\n⊢ Nat",
        "case neg\nx : Bool\nh✝ : ¬x = true\n⊢ Nat",
    )


def test_axiom_lines_as_lean_prints_them() -> None:
    from evoforge.evaluators.lean.outcome import LeanMessage

    printed = (LeanMessage("info", "'t' depends on axioms: [propext, Classical.choice, Quot.sound]"),)
    assert axioms_used(printed, "t") == ("propext", "Classical.choice", "Quot.sound")
    assert axioms_used((LeanMessage("info", "'t' does not depend on any axioms"),), "t") == ()
    assert axioms_used(printed, "other") is None


def test_replay_process_is_recycled_after_many_commands(tmp_path: Path) -> None:
    lean, _log = verifier(tmp_path)
    lean.pool.recycle_after = 3  # header + 2 checks, then a fresh process
    with lean:
        results = [lean.verify(EXACT) for _ in range(4)]
    assert all(r.status is Status.REJECTED for r in results)
    assert lean.pool.started == 2


@pytest.mark.parametrize(
    ("offered", "same"),
    [
        ("theorem t (a b : Nat) (h : a ≤ b) : b - a + a = b", True),
        ("theorem t (a : Nat) (b : Nat) (h : a <= b) : (b - a + a = b)", True),
        ("theorem t {a b : Nat} (h : a ≤ b) : b - a + a = b", False),  # implicit is not explicit
        ("theorem t (a b : Nat) (h : a < b) : b - a + a = b", False),
        ("theorem t (a b : Int) (h : a ≤ b) : b - a + a = b", False),
        ("theorem t (a b : Nat) : b - a + a = b", False),
        ("theorem t (a b : Nat) (h : a ≤ b) : b - a + a = b + 0", False),
        ("theorem u (a b : Nat) (h : a ≤ b) : b - a + a = b", False),
    ],
)
def test_statements_are_compared_after_parsing(offered: str, same: bool) -> None:
    from evoforge.evaluators.lean.lean_text import same_statement

    assert same_statement("theorem t (a b : Nat) (h : a ≤ b) : b - a + a = b", offered)[0] is same


def test_constructed_axiom_lookalike_printed_by_the_proof_does_not_count(tmp_path: Path) -> None:
    """A proof that traces "'t' does not depend on any axioms" itself: only the #print axioms line counts."""
    from evoforge.evaluators.lean.outcome import LeanMessage
    from evoforge.evaluators.lean.repl_verifier import _final_verdict

    task = ProofTask("t", "theorem t : 1 = 2", "magic", preamble="axiom magic : 1 = 2")
    fake = {"severity": "info", "pos": {"line": 3, "column": 0}, "data": "'t' does not depend on any axioms"}
    real = {
        "severity": "info",
        "pos": {"line": task.axioms_line, "column": 0},
        "data": "'t' depends on axioms: [magic]",
    }
    verdict = _final_verdict({"messages": [fake, real], "env": 0}, "t", task.axioms_line)
    assert verdict.status is Status.REJECTED and verdict.axioms == ("magic",)
    assert LeanMessage.from_repl(fake).line == 3
