"""`bench/search_quality.py` refuses a misspelt arm or problem before it starts any run.

Run as a user runs it: the script in a subprocess, with the project's own checks
(`check_strategy`, `load_problem`) behind its options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "search_quality.py"


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("option", "value", "sentence"), [
    ("--arms", "funsearch,bogus", "argument --arms: --strategy 'bogus': use one of"),
    ("--problems", "cap_set,bogus", "argument --problems: bogus: no such problem."),
])
def test_a_misspelt_arm_or_problem_is_a_usage_line_and_starts_no_run(
    tmp_path, option: str, value: str, sentence: str
) -> None:
    out = tmp_path / "out"
    result = bench("--out", str(out), "--seeds", "1", "--samples", "4", option, value)
    assert result.returncode == 2, result.stderr
    assert sentence in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_known_arms_and_problems_pass_to_the_report(tmp_path) -> None:
    result = bench("--out", str(tmp_path), "--seeds", "1", "--arms", "funsearch,random",
                   "--problems", "cap_set", "--report-only")
    assert result.returncode == 0, result.stderr
    assert "cap_set: 0 of 2 runs finished their 400 samples" in result.stdout
