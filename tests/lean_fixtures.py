"""Shared pieces for the Lean tests: the REPLAY of real REPL transcripts, never real Lean.

`replay_repl(tmp_path, *flags)` writes a one-line executable that starts
tests/lean_replay_repl.py with the given flags, which is what `--lean-repl` /
EVOFORGE_LEAN_REPL point at in these tests. Answers come from the REPL's recorded
transcripts, plus (only where a test asks for it) tests/data/lean_constructed_answers.jsonl,
whose entries are labelled as constructed, not recorded.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from tests.data_paths import published_data_dir, require_published

REPO = Path(__file__).resolve().parents[1]
REPLAY_SCRIPT = REPO / "tests" / "lean_replay_repl.py"
CONSTRUCTED = REPO / "tests" / "data" / "lean_constructed_answers.jsonl"


def transcripts_dir() -> Path:
    """The real Lean REPL transcripts the replay answers from (skip where absent; fail under CI=true)."""
    require_published("lean/repl_transcripts/readme.in")
    return published_data_dir() / "lean" / "repl_transcripts"


def replay_repl(tmp_path: Path, *flags: str, constructed: bool = False, log: Path | None = None) -> Path:
    """An executable that runs the replay with `flags`; `log` records every command it receives."""
    args = [sys.executable, str(REPLAY_SCRIPT), "--transcripts", str(transcripts_dir()), *flags]
    if constructed:
        args += ["--constructed", str(CONSTRUCTED)]
    if log is not None:
        args += ["--log", str(log)]
    script = tmp_path / f"replay_repl_{len(list(tmp_path.glob('replay_repl_*')))}"
    script.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(a) for a in args) + "\n")
    script.chmod(0o755)
    return script


def logged_commands(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def recorded_session(name: str) -> tuple[list[dict], list[dict]]:
    """The commands and real Lean answers of one transcript."""
    folder = transcripts_dir()

    def blocks(path: Path) -> list[dict]:
        return [json.loads(b) for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]

    return blocks(folder / f"{name}.in"), blocks(folder / f"{name}.expected.out")


# One lean_proof problem whose Lean answers the replay holds: "demo" (a + b = b + a, with a preamble).
DEMO_THEOREM = """
[limits]
wall_seconds = 20

[lean]
default = "demo"

[[lean.theorems]]
name = "demo"
preamble = "def f : Nat := 1"
statement = "theorem demo (a b: Nat): a + b = b + a"
"""


def demo_problem_toml(name: str, extra: str = "") -> str:
    """problem.toml text for the demo statement (plus `extra` theorem tables)."""
    header = f'name = "{name}"\nkind = "lean_proof"\ndescription = "statements the replay answers"\n'
    return header + DEMO_THEOREM + extra
