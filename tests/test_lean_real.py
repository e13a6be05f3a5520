"""Against REAL Lean (marked `lean`): skipped where no Lean REPL is found, as on the build machine.

Run on a machine with Lean (README, "Lean proofs"):
    EVOFORGE_LEAN_REPL=~/repl/.lake/build/bin/repl .venv/bin/pytest -m lean tests/test_lean_real.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evoforge.evaluators.lean.discovery import LeanSettings, find_repl
from evoforge.evaluators.lean.outcome import BackendUnavailable, Status
from evoforge.evaluators.lean.problem import data_root
from evoforge.evaluators.lean.repl_verifier import ReplVerifier
from evoforge.evaluators.lean.task import ProofTask
from tests.lean_fixtures import REPO

pytestmark = pytest.mark.lean


def _real_lean() -> bool:
    try:
        command = find_repl(LeanSettings.from_environment())
    except BackendUnavailable:
        return False
    return "lean_replay_repl" not in " ".join(command.argv) and "replay" not in command.argv[0]


needs_lean = pytest.mark.skipif(not _real_lean(), reason="no Lean REPL found (see README: Lean proofs)")
ASKED = ProofTask("nat_mod_two_cases", "theorem nat_mod_two_cases : ∀ n : Nat, n % 2 = 0 ∨ n % 2 = 1", "")


@needs_lean
@pytest.mark.parametrize(
    ("proof", "status"),
    [
        ("by intro n; omega", Status.VERIFIED),
        ("by intro n; sorry", Status.REJECTED),
        ("by intro n; rfl", Status.REJECTED),
        ("by intro n; native_decide", Status.REJECTED),
        ("by\n  set_option debug.skipKernelTC true in\n  intro n; omega", Status.REJECTED),
    ],
)
def test_real_lean_verdicts(proof: str, status: Status) -> None:
    with ReplVerifier(LeanSettings.from_environment(timeout_seconds=120)) as lean:
        assert lean.verify(ASKED.with_candidate(proof)).status is status


@needs_lean
def test_real_lean_rejects_a_proof_using_a_preamble_axiom() -> None:
    task = ProofTask("uses_magic", "theorem uses_magic : 1 = 2", "magic", preamble="axiom magic : 1 = 2")
    with ReplVerifier(LeanSettings.from_environment(timeout_seconds=120)) as lean:
        result = lean.verify(task)
    assert result.status is Status.REJECTED and result.axioms == ("magic",)


@needs_lean
def test_real_lean_verify_lean_on_the_fifty_core_theorems(tmp_path: Path) -> None:
    items = json.loads((data_root() / "lean" / "core_theorems.json").read_text())["items"]
    lines = [
        json.dumps(
            {
                "id": t["name"],
                "statement": t["statement"],
                "proof": t["proof"] or "by sorry",
                "preamble": t.get("preamble") or "",
            }
        )
        for t in items
    ]
    source, out = tmp_path / "core.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "evoforge.cli",
            "verify-lean",
            str(source),
            "--out",
            str(out),
            "--workers",
            "2",
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 50
    by_id = {row["id"]: row["status"] for row in rows}
    assert by_id["rev_custom_involutive"] == "REJECTED"  # no reference proof: `by sorry`
    assert all(by_id[t["name"]] == "VERIFIED" for t in items if t["proof_status"] == "verified_upstream")
