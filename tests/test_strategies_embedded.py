"""A real short run per instruction-style strategy on the embedded model: its answers must parse.

The chat and diff arms are only worth comparing if a small model's answers to
their prompts become programs; these runs are the check, through the
`evoforge` command a user runs (real llama-server, real sandbox, real file).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evoforge.storage import DB_FILENAME
from tests.llm_fixtures import embedded_model_or_fail
from tests.run_fixtures import REPO

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("strategy", ["chat", "diff"])
def test_a_short_embedded_run_parses_the_strategys_answers(tmp_path: Path, strategy: str) -> None:
    embedded_model_or_fail()
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "evoforge.cli", "run", "bin_packing", "--strategy", strategy,
         "--samples", "8", "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=1800, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        rows = conn.execute(
            "SELECT s.strategy, c.code IS NOT NULL FROM samples s JOIN candidates c ON c.sample_id = s.id"
        ).fetchall()
    assert len(rows) == 8 and {name for name, _ in rows} == {strategy}
    assert sum(parsed for _, parsed in rows) >= 2, "fewer than 2 of 8 answers parsed into a program"
