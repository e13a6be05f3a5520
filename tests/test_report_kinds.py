"""The kinds' own panels in the report and the live page, in headless Chromium, from real runs.

Three real `evoforge run`s, each with a recorded backend: `feynman --equation
I.10.7` (recorded completions; real sandbox, scipy fit and sympy), a Lean proof
problem checked by the REPLAY of real Lean answers (tests/lean_replay_repl.py),
and `burgers_control` screened by a deliberately wrong (untrained) surrogate
with the real solver. What is checked is what a person sees: the formula and
its constants, the proof status counts, the fidelity chart's points, and two
runs side by side on one live page served over IPv6 loopback.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.storage import DB_FILENAME
from tests.report_fixtures import EVOFORGE, drawn_points, full_page_screenshot, headless_chromium, run_to_end
from tests.run_fixtures import REPO

FEYNMAN_RECORDED = REPO / "tests" / "data" / "recorded_feynman_I_10_7.jsonl"


def _run(args: list[str], run_dir: Path, env: dict[str, str] | None = None) -> None:
    code, log = run_to_end(args, run_dir, env)
    assert code == 0, log[-3000:]


@pytest.fixture(scope="module")
def feynman_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("feynman") / "run"
    _run(["run", "feynman", "--equation", "I.10.7", "--llm", "recorded", "--model", str(FEYNMAN_RECORDED),
          "--samples", "8", "--run-dir", str(run_dir)], run_dir)
    return run_dir


@pytest.fixture(scope="module")
def lean_run(tmp_path_factory) -> Path:
    from tests.lean_fixtures import demo_problem_toml, replay_repl
    from tests.test_lean_run_replay import COMPLETIONS

    root = tmp_path_factory.mktemp("lean")
    folder = root / "lean_demo"
    folder.mkdir()
    (folder / "problem.toml").write_text(demo_problem_toml("lean_demo"))
    recorded = root / "completions.jsonl"
    recorded.write_text("\n".join(json.dumps({"text": t}) for t in COMPLETIONS) + "\n")
    _run(["run", str(folder), "--llm", "recorded", "--model", str(recorded), "--samples", "6",
          "--samplers", "1", "--samples-per-prompt", "2", "--mode", "chat", "--run-dir", str(root / "run")],
         root / "run", env={"EVOFORGE_LEAN_REPL": str(replay_repl(root, constructed=True))})
    return root / "run"


@pytest.fixture(scope="module")
def burgers_run(tmp_path_factory) -> Path:
    from tests.test_surrogate_cascade import _cascade_settings, _run_args, _wrong_surrogate

    root = tmp_path_factory.mktemp("burgers")
    cache, run_dir = root / "cache", root / "run"
    _wrong_surrogate(cache)
    _cascade_settings(run_dir)
    env = {"EVOFORGE_SURROGATES": str(cache), "RAY_DEDUP_LOGS": "0"}
    _run(list(_run_args(run_dir, 12)), run_dir, env=env)
    return run_dir


@pytest.fixture(scope="module")
def browser():
    driver = headless_chromium()
    yield driver
    driver.quit()


def _report(run_dir: Path, out: Path) -> Path:
    result = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(out), "--no-held-out"])
    assert result.exit_code == 0, result.output
    return out


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{run_dir / DB_FILENAME}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def _show_json(run_dir: Path) -> dict:
    result = CliRunner().invoke(app, ["show", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_expression_run_shows_its_formula_constants_and_held_out_verdict(feynman_run, browser,
                                                                         tmp_path) -> None:
    browser.get(_report(feynman_run, tmp_path / "report-feynman.html").as_uri())
    panel = browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-formula")
    summary = _show_json(feynman_run)
    best = summary["best_details"]
    assert best["formula"] in panel.find_element(By.CSS_SELECTOR, ".formula-text").text
    constant = browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-formula table.constants").text
    assert "c0" in constant and f"{best['constants']['c0']:.9g}"[:9] in constant.replace(" ", "")
    image = panel.find_element(By.CSS_SELECTOR, "img.latex")  # the LaTeX, drawn
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 50
    assert image.get_attribute("alt") == best["latex"]
    verdict = summary["held_out"]["out_of_domain"]["details"]
    assert verdict["recovered"] and f"recovered ({verdict['recovered_how']})" in panel.text
    assert f"{verdict['nmse_out_of_domain']:.3e}" in panel.text and "NMSE in domain" in panel.text
    full_page_screenshot(browser, tmp_path / "report-feynman.png")


def test_lean_run_shows_proof_status_counts_over_the_run_and_per_theorem(lean_run, browser,
                                                                        tmp_path) -> None:
    browser.get(_report(lean_run, tmp_path / "report-lean.html").as_uri())
    panel = browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-proof-status")
    stored = _rows(lean_run, "SELECT json_extract(details, '$.demo.status'), COUNT(*) FROM evaluations"
                             " GROUP BY 1")
    assert {"VERIFIED", "REJECTED"} <= {status for status, _ in stored}
    for status, count in stored:
        shown = panel.find_element(By.CSS_SELECTOR, f'.status-count[data-status="{status}"] b').text
        assert shown == str(count), (status, shown, count)
    row = panel.find_element(By.CSS_SELECTOR, "tr.theorem")
    assert row.text.startswith("demo")
    bars = browser.execute_script(
        "return document.querySelectorAll('#run-0 .proof-chart .trace.bars path').length")
    assert bars >= len(stored)
    full_page_screenshot(browser, tmp_path / "report-lean.png")


@pytest.mark.slow  # the exact solves and the FNO screen: about 3 minutes on a loaded two-core machine
def test_surrogate_run_shows_fidelity_over_time(burgers_run, browser, tmp_path) -> None:
    browser.get(_report(burgers_run, tmp_path / "report-burgers.html").as_uri())
    panel = browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-fidelity")
    fidelity = _show_json(burgers_run)["fidelity"]  # surrogates/report.run_fidelity, as `show` prints it
    screened = _rows(burgers_run, "SELECT COUNT(*) FROM evaluations"
                                  " WHERE json_extract(details, '$.screen') IS NOT NULL")[0][0]
    assert screened == fidelity["candidates"] >= 3
    assert f"{fidelity['solves_saved']} of {fidelity['candidates']}" in panel.text
    assert f"{fidelity['mae']:.3g}" in panel.text
    chart = "#run-0 .fidelity-chart"
    assert drawn_points(browser, chart, "solves_saved") == screened  # one point per screened candidate
    assert drawn_points(browser, chart, "mae") == screened - _unchecked_until_first_pair(burgers_run)
    full_page_screenshot(browser, tmp_path / "report-burgers.png")


def _unchecked_until_first_pair(run_dir: Path) -> int:
    """Screened candidates before the first one the exact solver re-checked (no MAE yet)."""
    rows = _rows(run_dir, "SELECT json_extract(details, '$.exact') FROM evaluations e JOIN candidates c"
                          " ON c.id = e.candidate_id WHERE json_extract(details, '$.screen') IS NOT NULL"
                          " ORDER BY e.created, c.id")
    return next((i for i, (exact,) in enumerate(rows) if exact), len(rows))


def test_two_runs_side_by_side_on_a_live_page_served_on_ipv6(feynman_run, lean_run, browser,
                                                              tmp_path) -> None:
    command = [*EVOFORGE, "serve", str(feynman_run), str(lean_run), "--port", "0", "--host", "::1",
               "--no-held-out"]
    serve = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (lean_run / "serve.json").exists():
            assert serve.poll() is None and time.monotonic() < deadline, "evoforge serve did not start"
            time.sleep(0.2)
        url = json.loads((lean_run / "serve.json").read_text())["url"]
        assert url.startswith("http://[::1]:")
        browser.get(url)
        assert browser.find_element(By.CSS_SELECTOR, "#run-0 .panel-formula .formula-text").text
        assert browser.find_element(By.CSS_SELECTOR, "#run-1 .panel-proof-status .status-count")
        left, right = (browser.find_element(By.ID, f"run-{i}").rect for i in (0, 1))
        assert right["x"] >= left["x"] + left["width"] - 1  # side by side, not one under the other
        traces = browser.execute_script(
            "return document.querySelectorAll('.compare-chart .trace.scatter').length")
        assert traces == 2
        full_page_screenshot(browser, tmp_path / "live-two-runs.png")
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    assert not (lean_run / "serve.json").exists()


def test_serve_refuses_an_unknown_host_in_one_sentence(tmp_path) -> None:
    command = [*EVOFORGE, "serve", str(tmp_path), "--host", "no.such.host.invalid", "--port", "0"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "cannot listen on no.such.host.invalid" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "serve.json").exists()

