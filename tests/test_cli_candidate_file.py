"""`evoforge evaluate` on hand-written candidate files, as a user runs it (subprocess, fork sandbox).

A file's candidate goes through the same path as an LLM's sample: what the
function uses (imports, helpers, constants) is kept, so it scores exactly as
the inlined function does; unreadable files get one sentence and exit code 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run_fixtures import REPO

WITH_HELPER = '''"""Best fit, written with a helper and its own imports."""
import math

import numpy as np

SLACK_WEIGHT = 1.0


def _slack(item: float, bins: np.ndarray) -> np.ndarray:
    """Room left in each bin after the item goes in."""
    return SLACK_WEIGHT * (bins - item)


def priority(item: float, bins: np.ndarray) -> np.ndarray:
    return -_slack(item, bins) * math.cos(0.0)
'''
INLINED = "def priority(item, bins):\n    return -(bins - item)\n"


def evoforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evoforge.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


def scores(candidate: Path) -> dict:
    result = evoforge("evaluate", "bin_packing", str(candidate), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return {key: r["score"] for key, r in json.loads(result.stdout)["results"].items()}


def user_error(candidate: Path) -> str:
    """The one sentence `evaluate` prints for a file it cannot use (exit code 2, no traceback)."""
    result = evoforge("evaluate", "bin_packing", str(candidate))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and result.stdout == ""
    return " ".join(result.stderr.split())


def test_file_with_imports_and_a_helper_scores_like_the_inlined_function(tmp_path: Path) -> None:
    helper, inlined = tmp_path / "with_helper.py", tmp_path / "inlined.py"
    helper.write_text(WITH_HELPER)
    inlined.write_text(INLINED)
    from_helper = scores(helper)
    assert from_helper and all(score is not None for score in from_helper.values())
    assert from_helper == scores(inlined)


def test_file_whose_function_calls_an_earlier_version_is_refused(tmp_path: Path) -> None:
    candidate = tmp_path / "ancestor.py"
    candidate.write_text("def priority_v1(item, bins):\n    # better than priority_v0\n"
                         "    return priority_v0(item, bins) + 1\n")
    message = user_error(candidate)
    assert message.startswith(f"error: {candidate}:3: calls an earlier version: `priority_v0()`")


def test_a_versioned_name_is_renamed_with_its_recursive_calls_but_not_comments(tmp_path: Path) -> None:
    candidate = tmp_path / "recursive.py"
    candidate.write_text(
        "def priority_v2(item, bins, depth=0):\n"
        "    # priority_v2(...) recurses once\n"
        "    if depth == 0:\n        return priority_v2(item, bins, depth=1)\n"
        "    return -(bins - item)\n"
    )
    inlined = tmp_path / "inlined.py"
    inlined.write_text(INLINED)
    assert scores(candidate) == scores(inlined)


def test_binary_candidate_file_is_one_sentence_naming_its_line(tmp_path: Path) -> None:
    candidate = tmp_path / "compiled.py"
    candidate.write_bytes(b"def priority(item, bins):\n    return 0\n\x89PNG\r\n\x1a\n\xff\xfe")
    message = user_error(candidate)
    assert message == (f"error: {candidate}:3: not UTF-8 text (byte 0x89 cannot be decoded: invalid "
                       "start byte); the candidate must be text saved as UTF-8, not a binary file.")


@pytest.mark.parametrize("line", [1, 2])
def test_nul_byte_in_a_candidate_is_reported_at_its_line(tmp_path: Path, line: int) -> None:
    lines = ["def priority(item, bins):", "    return -(bins - item)"]
    lines[line - 1] += "\0"
    candidate = tmp_path / "nul.py"
    candidate.write_text("\n".join(lines) + "\n")
    message = user_error(candidate)
    assert message == (f"error: {candidate}:{line}: a NUL byte in the text; the candidate must be "
                       "Python source, not binary data.")


def test_a_candidate_that_draws_random_numbers_scores_the_same_each_time(tmp_path: Path) -> None:
    candidate = tmp_path / "dice.py"
    candidate.write_text("import random\n\nimport numpy as np\n\n\ndef priority(item, bins):\n"
                         "    return np.random.rand(len(bins)) + random.random()\n")
    first = scores(candidate)
    assert scores(candidate) == first  # held-out reports and `compare` re-score it alike
