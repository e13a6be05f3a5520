"""`evoforge report`: the self-contained HTML file, opened in headless Chromium.

Two real runs (recorded completions, real sandbox and SQLite, through the
`evoforge run` command): one that improves on a weak seed, one whose seed
fails so that no candidate is valid. The checks are what a person sees in the
browser: drawn chart markers, the genealogy table, the explanation.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.storage import DB_FILENAME
from evoforge.viewer.held_out import HeldOutScores
from evoforge.viewer.run_data import load_run_view
from tests.report_fixtures import (
    drawn_points,
    finished_run,
    full_page_screenshot,
    headless_chromium,
    make_problem,
    write_completions,
)

BROKEN_SEED = "    return undefined_name * bins\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A run that improves on its seed and a run with zero valid candidates (one after the other:
    two Ray clusters starting at once on a loaded two-core machine can time out)."""
    root = tmp_path_factory.mktemp("report")
    completions = write_completions(root / "recorded.jsonl")
    good_rc, good_log = finished_run(make_problem(root / "problem"), root / "good", completions, samples=48)
    assert good_rc == 0, good_log
    broken_rc, broken_log = finished_run(make_problem(root / "broken_problem", BROKEN_SEED), root / "refused",
                                         completions, samples=48)
    assert broken_rc == 2 and "does not score on the training inputs" in broken_log, broken_log
    broken = _run_with_no_valid_program(root / "broken_problem", root / "broken")
    return {"good": root / "good", "broken": broken}


def _run_with_no_valid_program(problem: Path, run_dir: Path) -> Path:
    """A run whose only program failed, as runs made before seeds were checked at creation hold:
    the real creation metadata and the real sandbox's verdict on the broken seed, stored by RunStorage."""
    from evoforge.code_text import code_hash
    from evoforge.evaluators import open_evaluator
    from evoforge.run_config import RunConfig
    from evoforge.runtime.run_files import creation_meta
    from evoforge.spec import load_problem
    from evoforge.storage import RunStorage

    spec = load_problem(str(problem))
    with open_evaluator(spec, mode="in-process") as evaluator:
        evaluation = evaluator.evaluate(spec.seed_code)
    assert not evaluation.ok
    storage = RunStorage(run_dir / DB_FILENAME)
    storage.create_run(creation_meta(RunConfig(problem=str(problem), run_dir=run_dir, samples=48), spec))
    seed_id = storage.add_seed_candidate(spec.seed_code, code_hash(spec.seed_code))
    storage.record_evaluation(seed_id, evaluation, None)
    storage.close()
    return run_dir


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium with the network cut off: a self-contained report must not need it."""
    driver = headless_chromium()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def good_report(runs, tmp_path_factory) -> Path:
    return _report(runs["good"], tmp_path_factory.mktemp("pages") / "report.html")


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{run_dir / DB_FILENAME}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def _report(run_dir: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def _open(browser, page: Path) -> None:
    """Load the page and wait until its script has drawn every run (a loaded machine can be slow)."""
    if browser.current_url != page.as_uri():
        browser.get(page.as_uri())
    WebDriverWait(browser, 60).until(
        lambda b: b.execute_script("return document.body && document.body.dataset.ready") == "1")


def test_report_is_one_file_drawn_with_the_network_cut_off(good_report, browser) -> None:
    assert "<script src=" not in good_report.read_text()
    _open(browser, good_report)
    assert browser.execute_script("return document.body.dataset.ready") == "1"
    assert browser.find_elements(By.CSS_SELECTOR, "#run-0 .score-vs-samples .main-svg")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_score_chart_has_one_marker_per_evaluation(runs, good_report, browser, tmp_path: Path) -> None:
    _open(browser, good_report)
    valid, evaluated = _rows(runs["good"], "SELECT SUM(ok), COUNT(*) FROM evaluations")[0]
    chart = "#run-0 .score-vs-samples"
    assert drawn_points(browser, chart, "valid") == valid
    assert drawn_points(browser, chart, "valid") + drawn_points(browser, chart, "failed") == evaluated
    assert drawn_points(browser, "#run-0 .score-vs-time", "valid") == valid
    full_page_screenshot(browser, tmp_path / "report-static.png")


def test_genealogy_runs_from_the_best_program_to_the_seed(runs, good_report, browser) -> None:
    _open(browser, good_report)
    rows = browser.find_elements(By.CSS_SELECTOR, "#run-0 .lineage-table tbody tr")
    best_id = _rows(runs["good"], "SELECT candidate_id FROM evaluations WHERE ok = 1"
                                  " ORDER BY score DESC, created LIMIT 1")[0][0]
    assert len(rows) >= 2  # the first-fit seed is beaten, so the best program has at least one parent
    assert f"#{best_id}" in rows[0].text
    assert "seed" in rows[-1].text and "seed" not in rows[0].text
    assert rows[0].find_element(By.CSS_SELECTOR, ".strategy").text == "funsearch"  # the run's default
    assert "recorded:" in rows[0].text  # the model that wrote it


def test_held_out_curve_ends_at_the_runs_own_held_out_score(runs, good_report, browser) -> None:
    view = load_run_view(runs["good"], HeldOutScores())
    final = view.held_out_history["points"][-1]
    assert final["candidate_id"] == view.best_so_far[-1]["candidate_id"]
    assert final["held_out_raw"] == pytest.approx(view.held_out["held_out"]["score"])
    _open(browser, good_report)
    drawn = drawn_points(browser, "#run-0 .score-vs-samples", "heldout")
    assert drawn == len(view.held_out_history["points"]) >= 1


def test_run_with_no_valid_candidate_explains_itself(runs, browser, tmp_path: Path) -> None:
    page = _report(runs["broken"], tmp_path / "report-broken.html")
    _open(browser, page)
    note = browser.find_element(By.CSS_SELECTOR, "#run-0 .explanation").text
    assert "No valid candidate" in note and "undefined_name" in note
    assert browser.execute_script("return document.body.dataset.ready") == "1"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert not browser.find_elements(By.CSS_SELECTOR, "#run-0 .score-vs-samples")  # no empty chart
    full_page_screenshot(browser, tmp_path / "report-no-valid.png")


def test_a_kind_registers_a_panel_and_the_page_shows_its_data(runs, browser, tmp_path, monkeypatch) -> None:
    from evoforge.viewer import panels

    def fastest_trial(conn, view):
        row = conn.execute("SELECT input_key, MIN(seconds) FROM trials").fetchone()
        best = view.best_so_far[-1]["candidate_id"]
        return {"input": row[0], "seconds": round(row[1], 6), "best candidate": best}

    monkeypatch.setattr(panels, "PANELS", {})
    panels.register_panel("program", "fastest-trial", "Fastest trial", fastest_trial)
    page = _report(runs["good"], tmp_path / "report-panel.html", "--no-held-out")
    _open(browser, page)
    panel = browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-fastest-trial")
    assert "Fastest trial" in panel.text and "best candidate" in panel.text
    row = _rows(runs["good"], "SELECT input_key FROM trials ORDER BY seconds LIMIT 1")[0][0]
    assert row in panel.text


def test_report_agrees_with_evoforge_show(runs) -> None:
    from evoforge.run_report import summarize_run

    summary, view = summarize_run(runs["good"]), load_run_view(runs["good"])
    assert view.best_so_far[-1]["raw"] == summary.best_score
    assert [(p["samples"], p["raw"]) for p in view.best_so_far] == [tuple(p) for p in summary.history]
    assert (view.counts["samples"], view.counts["valid"], view.counts["duplicates"]) == (
        summary.samples, summary.valid, summary.duplicates)
    shares = [sum(b[k] for k in ("valid", "duplicate", "error", "pending")) for b in view.rates]
    assert shares and all(abs(s - 1) < 1e-3 for s in shares)


def test_report_of_a_missing_run_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "no evoforge run here" in " ".join(result.output.split())


def test_genealogy_shows_the_strategy_a_run_records_per_sample(runs, browser, tmp_path) -> None:
    """Each step shows the prompt strategy its sample records (samples.strategy); a copy of the real
    run gets two strategies, alternating, as a `--strategy mix` run stores them."""
    import shutil

    copy = tmp_path / "with_strategy"
    shutil.copytree(runs["good"], copy)
    with sqlite3.connect(copy / DB_FILENAME) as conn:
        conn.execute("UPDATE samples SET strategy = CASE WHEN id % 2 THEN 'diff' ELSE 'funsearch' END")
    page = _report(copy, tmp_path / "report-strategy.html", "--no-held-out")
    _open(browser, page)
    rows = browser.find_elements(By.CSS_SELECTOR, "#run-0 .lineage-table tbody tr")
    sample = int(rows[0].find_elements(By.CSS_SELECTOR, "td")[2].text)
    assert rows[0].find_element(By.CSS_SELECTOR, ".strategy").text == ("diff" if sample % 2 else "funsearch")
    assert rows[-1].find_element(By.CSS_SELECTOR, ".strategy").text == "seed"


def test_a_live_poll_rebuilds_nothing_while_only_held_out_scores_arrive(runs) -> None:
    """The finished run does not change: polls while its held-out scores come in refresh only them."""
    from evoforge.viewer.server import LiveRuns

    live = LiveRuns([runs["good"]], held_out=True)
    try:
        first = live.entry(0)["view"]
        deadline = time.monotonic() + 120
        while live.entry(0)["view"]["held_out_history"]["pending"]:
            assert time.monotonic() < deadline, "held-out scoring did not finish"
            time.sleep(0.05)
        last = live.entry(0)["view"]
    finally:
        live.close()
    assert live.rebuilds == 1
    assert last["token"] != first["token"]  # so the page fetches the new held-out points
    assert len(last["held_out_history"]["points"]) > len(first["held_out_history"]["points"])
