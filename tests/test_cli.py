"""The `evoforge` command as a user runs it: real processes, real sandbox, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.run_fixtures import RECORDED_BIN_PACKING, REPO, make_small_bin_packing

BEST_FIT = "def priority(item, bins):\n    return -(bins - item)\n"


def evoforge(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evoforge.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def test_problems_lists_the_builtins() -> None:
    result = evoforge("problems")
    assert result.returncode == 0, result.stderr
    for name in ("bin_packing", "cap_set", "circle_packing"):
        assert name in result.stdout


def test_evaluate_best_fit_reproduces_published_or3_and_weibull(binpack_dir: Path, tmp_path: Path) -> None:
    candidate = tmp_path / "best_fit.py"
    candidate.write_text(BEST_FIT)
    result = evoforge("evaluate", "bin_packing", str(candidate), "--dataset", str(binpack_dir / "or3.json"),
                      "--dataset", str(binpack_dir / "weibull_5k.json"), "--json")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert round(-100 * results["or3"]["score"], 2) == 5.37
    assert round(-100 * results["weibull_5k"]["score"], 2) == 3.98


def test_evaluate_without_dataset_uses_the_held_out_test_inputs(tmp_path: Path) -> None:
    candidate = tmp_path / "best_fit.py"
    candidate.write_text(BEST_FIT)
    result = evoforge("evaluate", "bin_packing", str(candidate), "--json")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert results and all(r["error"] is None and r["score"] < 0 for r in results.values())


def test_broken_spec_fails_with_one_clear_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.py"
    spec.write_text("import numpy as np\n\n@evolve\ndef f(x):\n    return x +\n")
    result = evoforge("run", str(spec), "--inputs", "[1]")
    assert result.returncode == 2
    assert f"{spec}:5" in result.stderr and "syntax error" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_show_and_plot_on_a_small_problem(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    result = evoforge("run", str(problem), "--llm", "recorded", "--model", str(RECORDED_BIN_PACKING),
                      "--samples", "8", "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "def priority" in result.stdout and "best" in result.stdout
    plot = tmp_path / "history.png"
    shown = evoforge("show", str(run_dir), "--json", "--plot", str(plot))
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["samples"] == 8 and summary["best_code"].startswith("def priority")
    assert summary["history"] and plot.stat().st_size > 1000


def test_funsearch_spec_file_runs_unchanged(tmp_path: Path) -> None:
    spec = REPO / "tests" / "fixtures" / "funsearch_bin_packing_commented.py"
    original = spec.read_text()
    items = [50, 60, 40, 30, 20, 70]
    inputs = json.dumps({"tiny": {"a": {"capacity": 100, "num_items": len(items), "items": items}}})
    result = evoforge("run", str(spec), "--inputs", inputs, "--llm", "recorded", "--model",
                      str(RECORDED_BIN_PACKING), "--samples", "4", "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "best" in result.stdout
    assert spec.read_text() == original
