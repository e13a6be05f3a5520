"""`evoforge serve`: the live page follows a run while it writes, in headless Chromium.

The server is started first (as a person would before launching a long run),
then a real `evoforge run` with recorded completions, slowed to a few samples
per second, writes the database; the page must show the samples and the
evaluations arriving, and the run's progress line must link to the page.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from evoforge.storage import DB_FILENAME
from tests.report_fixtures import (
    EVOFORGE,
    drawn_points,
    evoforge_run,
    full_page_screenshot,
    headless_chromium,
    make_problem,
    write_completions,
)
from tests.run_fixtures import REPO

SAMPLES = 48  # at 0.8 s per recorded completion and two samplers: about 20 s of sampling


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _serve_url(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "serve.json").read_text())["url"]
    except (OSError, ValueError, KeyError):
        return None


def _page_figures(driver) -> tuple[int, int]:
    """(samples, evaluations) as the page currently shows them (0 before the run exists)."""
    values = driver.execute_script(
        "const run = document.getElementById('run-0');"
        "return run ? [Number(run.dataset.samples || 0), Number(run.dataset.evaluations || 0)] : [0, 0];")
    return int(values[0]), int(values[1])


def test_live_page_follows_a_run_and_the_progress_line_links_to_it(tmp_path: Path) -> None:
    run_dir, other = tmp_path / "run", tmp_path / "not_started"
    serve = subprocess.Popen([*EVOFORGE, "serve", str(run_dir), str(other), "--port", "0"], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    driver = headless_chromium()
    run = None
    try:
        url = _wait_for(lambda: _serve_url(run_dir), 60, "serve.json")
        driver.get(url)
        assert "no evoforge run here" in driver.find_element(By.ID, "run-1").text
        run = evoforge_run(make_problem(tmp_path / "problem"), run_dir,
                           write_completions(tmp_path / "recorded.jsonl"), samples=SAMPLES, delay=0.8,
                           extra=("--samplers", "2"))  # rounds of 8 samples: several steps to follow
        seen = []
        while run.poll() is None:
            figures = _page_figures(driver)
            if not seen or figures != seen[-1]:
                seen.append(figures)
            if len(seen) == 4:
                full_page_screenshot(driver, tmp_path / "live-during-run.png")
            time.sleep(0.5)
        log = run.communicate()[0]
        assert run.returncode == 0, log
        # The page showed the run growing while it ran, several times, never going backwards.
        sample_counts = [s for s, _ in seen if s]
        assert sample_counts == sorted(sample_counts), seen
        draw_ms = driver.execute_script("return document.body.dataset.drawMs")
        assert len([s for s in sample_counts if s < SAMPLES]) >= 3, (seen, f"last drawing took {draw_ms} ms")
        assert f"page {url}" in log
        with sqlite3.connect(f"file:{run_dir / DB_FILENAME}?mode=ro", uri=True) as conn:
            evaluated = conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
        _wait_for(lambda: _page_figures(driver) == (SAMPLES, evaluated), 15, "the finished run on the page")
        chart = "#run-0 .score-vs-samples"
        markers = lambda: drawn_points(driver, chart, "valid") + drawn_points(driver, chart, "failed")  # noqa: E731
        _wait_for(lambda: markers() == evaluated, 15, "one marker per evaluation (charts redraw every 3 s)")
        full_page_screenshot(driver, tmp_path / "live-finished.png")
    finally:
        driver.quit()
        if run is not None and run.poll() is None:
            run.kill()
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    assert not (run_dir / "serve.json").exists()  # the progress line stops linking to a stopped server


def test_progress_line_ignores_a_server_that_is_gone(tmp_path: Path) -> None:
    from evoforge.viewer.serve_file import live_page_url

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "serve.json").write_text(json.dumps({"url": "http://127.0.0.1:1/", "pid": dead.pid}))
    assert live_page_url(tmp_path) is None
    (tmp_path / "serve.json").write_text(json.dumps({"url": "http://127.0.0.1:1/", "pid": os.getpid()}))
    assert live_page_url(tmp_path) == "http://127.0.0.1:1/"


def test_serve_on_a_busy_port_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*EVOFORGE, "serve", str(tmp_path), "--port", str(port)], cwd=REPO,
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "cannot listen on" in result.stderr and "Traceback" not in result.stderr

