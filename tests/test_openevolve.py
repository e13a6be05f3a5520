"""OpenEvolve problem folders (initial_program.py + evaluator.py) as a user runs them: through the CLI.

Everything goes through typer's CliRunner in-process, the real fork sandbox,
the real SQLite file and Ray (conftest's `ray_session`). Completions come from
recorded answers (no model runs), so these tests are about what evoforge does
with the folder: the block evolves, evaluator.py scores the full program in a
trial's private directory, its metrics are stored, a run resumes with the
files it started with, and broken evaluators cost one clear sentence.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.storage import DB_FILENAME
from tests.run_fixtures import REPO

EXAMPLES = REPO / "examples" / "openevolve"
RECORDED_CIRCLES = REPO / "tests" / "data" / "recorded_openevolve_circle_packing.jsonl"
RECORDED_METRICS = REPO / "tests" / "data" / "recorded_openevolve_metrics.jsonl"
ONE_AT_A_TIME = ("--samplers", "1", "--samples-per-prompt", "1", "--evaluators", "1")


def evoforge(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def succeeds(*args: object) -> str:
    code, stdout, stderr = evoforge(*args)
    assert code == 0, f"exit {code}: {stderr[-3000:]}"
    return stdout


def rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return conn.execute(sql).fetchall()


def folder(tmp_path: Path, program: str, evaluator: str, name: str = "problem") -> Path:
    target = tmp_path / name
    target.mkdir()
    (target / "initial_program.py").write_text(program)
    (target / "evaluator.py").write_text(evaluator)
    return target


def direct_metrics(example: Path) -> dict:
    """The example's evaluator called in this process, as OpenEvolve would call it (for comparison)."""
    module_spec = importlib.util.spec_from_file_location(f"direct_{example.name}", example / "evaluator.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.evaluate(str(example / "initial_program.py"))


# -- evaluating a program ------------------------------------------------------------------------------
@pytest.mark.parametrize("example", ["function_minimization", "circle_packing"])
def test_evaluate_scores_an_examples_initial_program_in_the_sandbox(example: str) -> None:
    path = EXAMPLES / example
    code, stdout, stderr = evoforge("evaluate", path, path / "initial_program.py", "--json")
    assert code == 0, stderr
    result = json.loads(stdout)["results"]["evaluate"]
    expected = direct_metrics(path)
    assert result["error"] is None and result["score"] == expected["combined_score"]
    assert result["details"]["metrics"] == expected  # every metric, stored as the evaluator returned it
    assert "no held-out inputs: scored on its training inputs (not held-out)" in stderr


WHERE_PROGRAM = '''
import os

# EVOLVE-BLOCK-START
def answer():
    return 1.0
# EVOLVE-BLOCK-END
'''
WHERE_EVALUATOR = '''
import importlib.util
import os


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"combined_score": module.answer(), "program_path": program_path, "pid": os.getpid()}
'''


def test_the_evaluator_runs_in_a_sandboxed_trial_on_the_full_program(tmp_path: Path) -> None:
    problem = folder(tmp_path, WHERE_PROGRAM, WHERE_EVALUATOR)
    candidate = tmp_path / "candidate.py"  # a whole program: its block is the candidate
    candidate.write_text(WHERE_PROGRAM.replace("return 1.0", "return 2.5"))
    code, stdout, stderr = evoforge("evaluate", problem, candidate, "--json")
    assert code == 0, stderr
    result = json.loads(stdout)["results"]["evaluate"]
    metrics = result["details"]["metrics"]
    assert result["score"] == metrics["combined_score"] == 2.5
    program_path = Path(metrics["program_path"])
    # written in the trial's own directory (the sandbox's private scratch), not beside the problem
    assert program_path.name == "program.py" and program_path.parent.name.startswith("trial")
    assert not (Path(problem) / "program.py").exists() and not (tmp_path / "program.py").exists()
    assert metrics["pid"] != os.getpid()  # not in the driver's process


# -- a run, resumed -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("ray_session")
def test_a_run_evolves_the_block_resumes_with_its_stored_files_and_shows_the_metrics(tmp_path: Path) -> None:
    problem = tmp_path / "circle_packing"
    shutil.copytree(EXAMPLES / "circle_packing", problem)
    run_dir = tmp_path / "run"
    succeeds("run", problem, "--llm", "recorded", "--model", RECORDED_CIRCLES, "--strategy", "chat",
             "--samples", "2", "--run-dir", run_dir, *ONE_AT_A_TIME)
    assert rows(run_dir, "SELECT COUNT(*) FROM samples") == [(2,)]
    # The files change on disk; the run goes on with the copies it stored.
    evaluator = problem / "evaluator.py"
    evaluator.write_text(evaluator.read_text().replace('"validity": 1.0,', '"validity": 1.0, "edited": 1,'))
    succeeds("resume", run_dir, "--samples", "7")  # replays the answers from the first

    summary = json.loads(succeeds("show", run_dir, "--json"))
    assert summary["samples"] == 7
    assert summary["best_score"] > summary["seed_score"] == 1.5  # the grid's 12 radii of 1/8
    assert summary["best_details"]["metrics"]["combined_score"] == summary["best_score"]
    assert summary["best_details"]["metrics"]["sum_radii"] == summary["best_score"]
    assert "def construct_packing" in summary["best_code"] and "EVOLVE-BLOCK" not in summary["best_code"]
    stored = [json.loads(d) for (d,) in rows(run_dir, "SELECT details FROM evaluations")]
    assert len(stored) >= 4 and all("edited" not in d.get("metrics", {}) for d in stored)
    overlap = [d["metrics"] for d in stored if d.get("metrics", {}).get("validity") == 0.0]
    assert overlap and overlap[0]["error"] == "circle 0 leaves the unit square"  # radii 1.5x too large:
    assert overlap[0]["combined_score"] == 0.0  # a valid program that the evaluator scores 0, saying why
    errors = dict(summary["top_errors"])
    assert errors["EvaluatorFailed: evaluator.py's evaluate() raised ZeroDivisionError: "
                  "integer division or modulo by zero"] == 1
    assert errors["the block must still define construct_packing (the program or its evaluator uses it)"] == 1


METRICS_PROGRAM = '''
"""The evaluator reports whatever metrics() returns, so the candidates choose their own metrics."""

# EVOLVE-BLOCK-START
def metrics():
    return {"combined_score": 1.0, "note": "seed"}
# EVOLVE-BLOCK-END
'''
METRICS_EVALUATOR = '''
import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.metrics()
'''


@pytest.mark.usefixtures("ray_session")
def test_a_candidate_without_a_numeric_combined_score_is_an_error_that_says_why(tmp_path: Path) -> None:
    """The recorded answers continue the funsearch completion prompt (each ends at the block's end)."""
    problem = folder(tmp_path, METRICS_PROGRAM, METRICS_EVALUATOR)
    run_dir = tmp_path / "run"
    succeeds("run", problem, "--llm", "recorded", "--model", RECORDED_METRICS, "--strategy", "funsearch",
             "--samples", "5", "--run-dir", run_dir, *ONE_AT_A_TIME)
    errors = dict(json.loads(succeeds("show", run_dir, "--json"))["top_errors"])
    assert set(errors) == {
        "EvaluatorResultError: evaluate() returned no 'combined_score' (its metrics: score, note)",
        "EvaluatorResultError: evaluate() returned combined_score = 'high', not a finite number",
        "EvaluatorResultError: evaluate() returned combined_score = nan, not a finite number",
        "EvaluatorFailed: evaluator.py's evaluate() raised KeyError: 'missing'",
    }
    summary = json.loads(succeeds("show", run_dir, "--json"))
    assert summary["best_score"] == 2.0  # an OpenEvolve EvaluationResult object, with its artifacts
    assert summary["best_details"]["metrics"] == {"combined_score": 2.0, "artifacts": {"stdout": "packed"}}
    kept = [json.loads(d) for (d,) in rows(run_dir, "SELECT details FROM evaluations WHERE ok = 0")]
    assert {"score": 3.0, "note": "no combined"} in [d.get("metrics") for d in kept]  # failed, still stored


# -- mistakes at load: one sentence, exit 2 ---------------------------------------------------------------
@pytest.mark.parametrize(("evaluator", "said"), [
    ("def evaluate(program_path):\n    return {'combined_score': 1.0\n",
     "evaluator.py:2: syntax error: '{' was never closed"),
    ("import no_such_module_here\n\ndef evaluate(program_path):\n    return {}\n",
     "evaluator.py:1: importing evaluator.py raised ModuleNotFoundError: No module named 'no_such_module"),
    ("def score(program_path):\n    return {'combined_score': 1.0}\n",
     "evaluator.py:1: evaluator.py defines no evaluate(program_path)"),
    ("def evaluate(program_path):\n    return {'score': 1.0}\n",
     "the seed program (the initial EVOLVE-BLOCK) does not score on the training inputs (EvaluatorResult"
     "Error: evaluate() returned no 'combined_score' (its metrics: score)); fix initial_program.py or "
     "evaluator.py"),
    ("def evaluate(program_path):\n    raise RuntimeError('no data')\n",
     "(EvaluatorFailed: evaluator.py's evaluate() raised RuntimeError: no data)"),
])  # fmt: skip
def test_a_broken_evaluator_stops_the_run_at_load_with_one_sentence(
    tmp_path: Path, evaluator: str, said: str
) -> None:
    problem = folder(tmp_path, WHERE_PROGRAM, evaluator)
    code, _, stderr = evoforge("run", problem, "--llm", "recorded", "--model", RECORDED_METRICS,
                               "--run-dir", tmp_path / "run")
    assert code == 2 and said in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run" / DB_FILENAME).exists()


def test_a_program_without_markers_is_refused_naming_the_fix(tmp_path: Path) -> None:
    problem = folder(tmp_path, "def answer():\n    return 1.0\n", METRICS_EVALUATOR)
    code, _, stderr = evoforge("evaluate", problem, problem / "initial_program.py")
    assert code == 2
    assert "initial_program.py:1: needs exactly one `# EVOLVE-BLOCK-START` line" in stderr
    assert "mark the code to evolve with `# EVOLVE-BLOCK-START` and `# EVOLVE-BLOCK-END`" in stderr


def test_an_evaluate_test_hook_is_the_held_out_split(tmp_path: Path) -> None:
    evaluator = WHERE_EVALUATOR + '''

def evaluate_test(program_path):
    return {"combined_score": 10 * evaluate(program_path)["combined_score"], "split": "test"}
'''
    problem = folder(tmp_path, WHERE_PROGRAM, evaluator)
    code, stdout, stderr = evoforge("evaluate", problem, problem / "initial_program.py", "--json")
    assert code == 0, stderr
    results = json.loads(stdout)["results"]
    assert list(results) == ["evaluate_test"] and results["evaluate_test"]["score"] == 10.0
    assert results["evaluate_test"]["details"]["metrics"]["split"] == "test"
    assert "not held-out" not in stderr
