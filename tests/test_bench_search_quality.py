"""`bench/search_quality.py` as a user runs it: the script in a subprocess.

It refuses a misspelt arm or problem before it starts any run (the project's
own checks, `check_strategy` and `load_problem`, are behind its options), and
its report covers every arm in the folder, whichever arms a call ran. The runs
are real `evoforge run`s (Ray, the sandbox, SQLite) with recorded completions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run_fixtures import RECORDED_BIN_PACKING, make_small_bin_packing

BENCH = Path(__file__).resolve().parents[1] / "bench" / "search_quality.py"


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True,
                          timeout=timeout)


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
    assert "cap_set: 0 of 0 runs finished their 400 samples" in result.stdout


def test_a_negative_count_is_a_usage_line(tmp_path) -> None:
    result = bench("--out", str(tmp_path), "--seeds", "-2", "--problems", "cap_set", "--report-only")
    assert result.returncode == 2
    assert "argument --seeds: '-2': give a whole number, 0 or more" in result.stderr


def test_a_call_for_one_arm_reports_every_arm_in_the_folder(tmp_path) -> None:
    """A folder gains arms session by session; each call's JSON and plot must still hold them all,
    and a call with fewer seeds than the folder's report must not write over it."""
    problem = make_small_bin_packing(tmp_path / "small_bin_packing")
    out = tmp_path / "out"
    recorded = f"--llm recorded --model {RECORDED_BIN_PACKING} --samples-per-prompt 4"

    def report(seeds: int) -> Path:
        return out / f"small_bin_packing-compare-{seeds}-seeds.json"

    def arms_in_report(seeds: int) -> list[str]:
        return sorted(json.loads(report(seeds).read_text())["arms"])

    for arm, reported in (("random", ["random"]), ("funsearch", ["funsearch", "random"])):
        result = bench("--out", str(out), "--seeds", "1", "--samples", "4", "--arms", arm,
                       "--problems", str(problem), "--extra", recorded, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert f"small_bin_packing {arm} seed 0: done in" in result.stdout
        assert arms_in_report(1) == reported
    assert report(1).with_suffix(".png").stat().st_size > 0

    result = bench("--out", str(out), "--samples", "4", "--arms", "random", "--problems", str(problem),
                   "--report-only")
    assert result.returncode == 0, result.stderr
    assert "small_bin_packing: 2 of 2 runs finished their 4 samples" in result.stdout
    assert arms_in_report(5) == ["funsearch", "random"]

    five_seeds = report(5).stat().st_mtime_ns
    report(1).unlink()
    one_seed = bench("--out", str(out), "--seeds", "1", "--samples", "4", "--problems", str(problem),
                     "--report-only")
    assert one_seed.returncode == 0, one_seed.stderr
    assert arms_in_report(1) == ["funsearch", "random"]
    assert report(5).stat().st_mtime_ns == five_seeds

    no_seeds = bench("--out", str(out), "--samples", "4", "--problems", str(problem), "--report-only",
                     "--seeds", "0")  # seeds 0 .. -1: none, so the report writes no file
    assert "small_bin_packing: 0 of 0 runs finished their 4 samples" in no_seeds.stdout
    assert not report(0).exists()
