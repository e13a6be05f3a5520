"""Runs for the report and live-page tests: real `evoforge run`s with recorded completions.

The problem is the small bin-packing problem of run_fixtures with a weak seed
(first fit), so that recorded best-fit-like completions improve on it and the
best program has a genealogy. Completions come from a recorded JSONL file (no
model runs); sandbox, storage and CLI are the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.run_fixtures import REPO, make_small_bin_packing

EVOFORGE = [sys.executable, "-m", "evoforge.cli"]
SEED_BODY = "    return -(bins - item)\n"
SCREENSHOTS = Path("/tmp/evoforge-screenshots")

BODIES = [
    "    return -(bins - item)\n",
    "    return bins - item\n",
    "    return -(bins - item) ** 2\n",
    "    return -(bins - item) + 10.0 * (bins == item)\n",
    "    return 1.0 / (bins - item + 1e-9)\n",
    "    return -(bins - item) / bins\n",
    "    return -np.log(bins - item + 1.0)\n",
    "    return np.where(bins - item < 5, 100.0, -(bins - item))\n",
    "    return np.cos(bins)\n",
    "    return -(bins - item\n",  # syntax error
    "    return undefined_name * bins\n",  # NameError
    "    while True:\n        pass\n",  # timeout
]


def make_problem(folder: Path, seed_body: str = "    return -np.arange(len(bins), dtype=float)\n") -> Path:
    """Small bin packing whose seed is `seed_body` (first fit by default: easy to beat)."""
    make_small_bin_packing(folder)
    spec = folder / "spec.py"
    spec.write_text(spec.read_text().replace(SEED_BODY, seed_body))
    return folder


def write_completions(path: Path, count: int = 60) -> Path:
    """`count` recorded completions: good, bad and broken bodies, most of them distinct."""
    lines = []
    for k in range(count):
        body = BODIES[k % len(BODIES)]
        if k >= len(BODIES) and "return" in body and "undefined" not in body and "(bins - item\n" not in body:
            body = body.rstrip("\n") + f" + {k * 1e-9:.1e} * bins\n"
        text = ("Here is an improved version:\n```python\n"
                "def priority(item: float, bins: np.ndarray) -> np.ndarray:\n" + body + "```\n")
        lines.append(json.dumps({"text": text}))
    path.write_text("\n".join(lines) + "\n")
    return path


def evoforge_run(problem: Path, run_dir: Path, completions: Path, samples: int,
                 delay: float = 0.0, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """`evoforge run` in a subprocess, as a user starts it (recorded completions, `delay` s each)."""
    env = {**os.environ, "EVOFORGE_RECORDED_DELAY": str(delay), "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONPATH": str(REPO)}
    args = [*EVOFORGE, "run", str(problem), "--llm", "recorded", "--model", str(completions),
            "--samples", str(samples), "--run-dir", str(run_dir), "--seed", "1", *extra]
    return subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finished_run(problem: Path, run_dir: Path, completions: Path, samples: int) -> tuple[int, str]:
    """`evoforge run` to its end: (exit code, log)."""
    run = evoforge_run(problem, run_dir, completions, samples)
    log = run.communicate(timeout=300)[0]
    return run.returncode, log


def run_to_end(args: list[str], run_dir: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`evoforge ARGS` to its end: (exit code, stderr)."""
    done = subprocess.run([*EVOFORGE, *args], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})})
    return done.returncode, done.stderr


def headless_chromium(width: int = 1400, height: int = 2400) -> webdriver.Chrome:
    """Debian's chromium through its chromedriver, headless."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver_path), options=options)


def full_page_screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    """The whole page as a PNG at `path`, also copied to /tmp/evoforge-screenshots/ for reviewers."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height, 800), 8000))
    driver.save_screenshot(str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)
    print(f"screenshot: {path} (copy: {SCREENSHOTS / path.name})")
    return path


def drawn_points(driver: webdriver.Chrome, chart_selector: str, trace_uid: str) -> int:
    """Markers drawn in the SVG of one trace of a plotly chart (viewer.js names traces by uid)."""
    return driver.execute_script(
        "return document.querySelectorAll(arguments[0] + ' .trace' + arguments[1] + ' .points path.point')"
        "  .length;",
        chart_selector, trace_uid,
    )
