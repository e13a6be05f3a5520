"""`evoforge run feynman --equation`, `show --json` and the run database, with a recorded LLM.

The completions are replayed from tests/data/recorded_feynman_I_10_7.jsonl
(a linear guess, a complex-valued one, the true law, a Taylor approximation):
no model runs, but Ray, the sandbox, scipy, sympy and SQLite are all real.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

RECORDED = Path(__file__).parent / "data" / "recorded_feynman_I_10_7.jsonl"
EVOFORGE = str(Path(sys.executable).with_name("evoforge"))


def evoforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EVOFORGE, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("feynman") / "run"
    result = evoforge("run", "feynman", "--equation", "I.10.7", "--llm", "recorded", "--model", str(RECORDED),
                      "--samples", "8", "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_the_run_finds_the_law_and_show_json_gives_its_formula_and_latex(finished_run) -> None:
    shown = evoforge("show", str(finished_run), "--json")
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert "np.sqrt(1 - v**2 / params[0]**2)" in summary["best_code"]
    best = summary["best_details"]
    assert best["skeleton"] == "m_0/sqrt(1 - v**2/c0**2)" and "sqrt" in best["latex"]
    assert abs(best["constants"]["c0"] / 2.99792458e8 - 1) < 1e-9
    ood = summary["held_out"]["out_of_domain"]["details"]
    assert ood["recovered"] is True and ood["recovered_how"] == "symbolic"
    assert ood["nmse_out_of_domain"] < 1e-12


def test_every_evaluation_keeps_its_details_and_malformed_ones_their_error(finished_run) -> None:
    with sqlite3.connect(finished_run / "evoforge.db") as db:
        rows = db.execute("SELECT ok, details, error FROM evaluations").fetchall()
    details = [json.loads(d) for _, d, _ in rows]
    assert any("complex values" in (error or "") for _, _, error in rows)
    fitted = [d for ok, d in zip((r[0] for r in rows), details, strict=True) if ok]
    assert fitted and all("nmse_valid" in d and "constants" in d for d in fitted)


def test_the_problem_folder_is_kept_in_the_run_so_resume_needs_nothing_else(finished_run) -> None:
    spec = (finished_run / "problem" / "spec.py").read_text()
    assert "def equation(m_0: np.ndarray, v: np.ndarray, params: np.ndarray)" in spec
    resumed = evoforge("resume", str(finished_run), "--samples", "12")
    assert resumed.returncode == 0, resumed.stderr[-2000:]


@pytest.mark.slow
def test_all_on_a_published_file_runs_each_equation_and_sums_up(tmp_path) -> None:
    """Two equations of feynman.json read by path; the replayed law c0 * product of variables is
    I.12.1 exactly and not II.27.16 (c * eps * Ef**2). Slow: one Ray session per equation."""
    from tests.test_expressions_feynman import FEYNMAN_JSON

    if not FEYNMAN_JSON.is_file():
        pytest.skip(f"no {FEYNMAN_JSON} (set EVOFORGE_DATA)")
    records = json.loads(FEYNMAN_JSON.read_text())
    records["equations"] = [e for e in records["equations"] if e["id"] in ("I.12.1", "II.27.16")]
    small = tmp_path / "two.json"
    small.write_text(json.dumps(records))
    result = evoforge("run", "feynman", "--all", "--dataset", str(small), "--llm", "recorded", "--model",
                      str(RECORDED.with_name("recorded_feynman_product.jsonl")), "--samples", "2",
                      "--run-dir", str(tmp_path / "suite"))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("I.12.1") and "recovered True  (symbolic)" in line for line in lines)
    assert any(line.startswith("II.27.16") and "recovered False" in line for line in lines)
    assert "recovered 1 of 2 (easy 1/2)" in result.stdout
    assert (tmp_path / "suite" / "I.12.1" / "evoforge.db").is_file()
