"""`evoforge verify-lean` and `evoforge run lean_core` as users run them (subprocesses).

The checks go through a REPLAY of real Lean REPL answers (plus labelled
constructed ones), never real Lean: these tests check the pool, the output file,
resuming and the messages, not proofs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.data_paths import needs_published
from tests.lean_fixtures import REPO, logged_commands, replay_repl

pytestmark = needs_published("lean")  # the REPL transcripts and core_theorems.json

CASES = [
    {
        "statement": "theorem demo (a b: Nat): a + b = b + a",
        "proof": "by rw [Nat.add_comm]",
        "preamble": "def f : Nat := 1",
    },
    {"statement": "theorem ex : False", "proof": "by exact?"},
    {"statement": "theorem thm1 : 1 = 1", "proof": "sorry"},
    {"statement": "@[simp] theorem f_def : f = 37", "proof": "by rfl", "preamble": "def f := 37"},
    {"statement": "theorem uses_magic : 1 = 2", "proof": "magic", "preamble": "axiom magic : 1 = 2"},
]


def evoforge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evoforge.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def fifty_items(tmp_path: Path) -> Path:
    path = tmp_path / "items.jsonl"
    lines = [json.dumps({"id": f"item{k:02d}", **CASES[k % len(CASES)]}) for k in range(50)]
    path.write_text("\n".join(lines) + "\n")
    return path


def statuses(out: Path) -> dict[str, str]:
    return {row["id"]: row["status"] for row in map(json.loads, out.read_text().splitlines())}


def test_replay_verify_lean_fifty_items_complete_and_resumable(tmp_path: Path) -> None:
    items, out, log = fifty_items(tmp_path), tmp_path / "out.jsonl", tmp_path / "commands.log"
    repl = replay_repl(tmp_path, constructed=True, log=log)
    first = evoforge("verify-lean", str(items), "--out", str(out), "--workers", "2", "--lean-repl", str(repl))
    assert first.returncode == 0, first.stderr
    done = statuses(out)
    assert len(done) == 50 and set(done) == {f"item{k:02d}" for k in range(50)}
    assert sorted(set(done.values())) == ["REJECTED", "VERIFIED"]
    assert sum(v == "VERIFIED" for v in done.values()) == 20  # demo and f_def: constructed final answers
    assert "VERIFIED" in first.stdout and "20" in first.stdout and "30" in first.stdout
    row = json.loads(out.read_text().splitlines()[0])
    assert {"id", "status", "messages", "seconds", "backend"} <= set(row)

    kept = out.read_text().splitlines()[:30]
    out.write_text("\n".join(kept) + "\n" + kept[-1][:15])  # a kill mid-write leaves half a line
    log.unlink()
    second = evoforge("verify-lean", str(items), "--out", str(out), "--lean-repl", str(repl))
    assert second.returncode == 0, second.stderr
    assert "30 already in" in second.stderr and statuses(out) == done
    assert len(out.read_text().splitlines()) == 50
    redone = set(done) - {json.loads(line)["id"] for line in kept}
    exact_items = [i for i in redone if int(i[4:]) % len(CASES) == 1]  # `by exact?`: one command each
    assert sum("exact?" in c["cmd"] for c in logged_commands(log)) == len(exact_items)


def test_verify_lean_without_lean_stops_with_install_steps(tmp_path: Path) -> None:
    items, out = fifty_items(tmp_path), tmp_path / "out.jsonl"
    result = evoforge(
        "verify-lean",
        str(items),
        "--out",
        str(out),
        env={"PATH": "/usr/bin:/bin", "EVOFORGE_LEAN_REPL": "", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "BACKEND_UNAVAILABLE" in result.stderr and "elan" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_run_lean_core_without_lean_stops_at_once(tmp_path: Path) -> None:
    result = evoforge(
        "run",
        "lean_core",
        "--theorem",
        "nat_add_comm",
        "--run-dir",
        str(tmp_path / "run"),
        env={"PATH": "/usr/bin:/bin", "EVOFORGE_LEAN_REPL": "", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "BACKEND_UNAVAILABLE" in result.stderr and "elan" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


def test_run_all_without_lean_stops_at_the_first_statement(tmp_path: Path) -> None:
    result = evoforge(
        "run",
        "lean_core",
        "--all",
        "--run-dir",
        str(tmp_path / "runs"),
        env={"PATH": "/usr/bin:/bin", "EVOFORGE_LEAN_REPL": "", "HOME": str(tmp_path)},
    )
    assert (
        result.returncode == 2 and "BACKEND_UNAVAILABLE" in result.stderr and "Traceback" not in result.stderr
    )
    assert "and_comm_core" in result.stderr  # the first statement's search was the one that stopped


def test_leandojo_backend_absence_is_one_clear_message(tmp_path: Path) -> None:
    result = evoforge(
        "verify-lean", str(fifty_items(tmp_path)), "--out", str(tmp_path / "o.jsonl"), "--backend", "leandojo"
    )
    assert (
        result.returncode == 2 and "evoforge[leandojo]" in result.stderr and "Traceback" not in result.stderr
    )


def test_bad_input_line_names_the_line_and_checks_nothing(tmp_path: Path) -> None:
    items = tmp_path / "bad.jsonl"
    items.write_text(json.dumps(CASES[0]) + "\n{not json\n")
    result = evoforge(
        "verify-lean",
        str(items),
        "--out",
        str(tmp_path / "o.jsonl"),
        "--lean-repl",
        str(replay_repl(tmp_path)),
    )
    assert result.returncode == 2 and "bad.jsonl:2" in result.stderr and not (tmp_path / "o.jsonl").exists()


def test_replay_whole_lean_file_items(tmp_path: Path) -> None:
    lean_file = tmp_path / "demo.lean"
    lean_file.write_text(
        "def f : Nat := 1\n\ntheorem demo (a b: Nat): a + b = b + a := by rw [Nat.add_comm]\n"
    )
    items = tmp_path / "files.jsonl"
    items.write_text(
        json.dumps({"id": "file", "file": str(lean_file), "preamble": "def f : Nat := 1"}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = evoforge(
        "verify-lean",
        str(items),
        "--out",
        str(out),
        "--lean-repl",
        str(replay_repl(tmp_path, constructed=True)),
    )
    assert result.returncode == 0, result.stderr
    assert statuses(out) == {"file": "VERIFIED"}  # constructed final answer: tests the file path, not Lean


def test_replay_folder_of_lean_files(tmp_path: Path) -> None:
    folder = tmp_path / "proofs"
    folder.mkdir()
    (folder / "ex.lean").write_text("theorem ex : False := by exact?\n")
    (folder / "thm.lean").write_text("theorem thm1 : 1 = 1 := sorry\n")
    out = tmp_path / "out.jsonl"
    result = evoforge(
        "verify-lean", str(folder), "--out", str(out), "--lean-repl", str(replay_repl(tmp_path))
    )
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"ex.lean", "thm.lean"}
    assert rows["ex.lean"]["status"] == "REJECTED" and "exact?" in rows["ex.lean"]["messages"][0]["data"]
    assert rows["thm.lean"]["status"] == "REJECTED" and rows["thm.lean"]["rule"] == "sorry"


def test_bad_inputs_are_one_sentence_and_exit_2(tmp_path: Path) -> None:
    """An unknown backend, a line that is JSON but no object, an OUT file with a broken line."""
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "a", **CASES[0]}) + "\n")
    unknown = evoforge("verify-lean", str(items), "--out", str(tmp_path / "o.jsonl"), "--backend", "foo")
    assert unknown.returncode == 2 and "--backend foo: use one of repl, leandojo" in unknown.stderr

    not_object = tmp_path / "list.jsonl"
    not_object.write_text("[1, 2]\n")
    listed = evoforge("verify-lean", str(not_object), "--out", str(tmp_path / "o.jsonl"))
    assert listed.returncode == 2 and "list.jsonl:1: each line must be a JSON object" in listed.stderr

    broken_out = tmp_path / "broken.jsonl"
    broken_out.write_text('{"id": "a", "status": "VERIFIED"}\nnot json\n')
    broken = evoforge("verify-lean", str(items), "--out", str(broken_out))
    assert broken.returncode == 2 and "broken.jsonl:2: not a verify-lean result line" in broken.stderr
    for result in (unknown, listed, broken):
        assert "Traceback" not in result.stderr
