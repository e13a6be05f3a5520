"""Does the live page slow a run down, and does it keep up? Run throughput with and without the page open.

A real `evoforge run` (recorded completions, so the LLM is never the limit;
real sandbox and SQLite) draws samples at a set pace (default 100 samples/s:
4 samplers x 8 completions per prompt, 40 ms per completion) and, in a second
series, as fast as it can. Each run is made twice, once alone and once with
`evoforge serve` running and the page open in headless Chromium (polling every
second), in alternating order so that load from other processes on a shared
machine hits both alike. Printed: samples/s of each run (from the database's
own timestamps, first to last sample), the ratio with/without the page, how
far behind the database the page was while the run wrote (samples and
seconds), and what one poll costs the server at the final size.

    nice -n 10 python bench/report_live.py [--samples 3000] [--rate 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.report_fixtures import EVOFORGE, evoforge_run, headless_chromium, make_problem, write_completions  # noqa: E402

SAMPLERS, PER_PROMPT = 4, 8
RAY_ADDRESS: list[str] = []  # --address: every run joins this Ray cluster instead of starting its own


def _db_samples(run_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{run_dir / 'evoforge.db'}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _samples_span(run_dir: Path) -> tuple[int, float]:
    with sqlite3.connect(f"file:{run_dir / 'evoforge.db'}?mode=ro", uri=True) as conn:
        n, first, last = conn.execute("SELECT COUNT(*), MIN(created), MAX(created) FROM samples").fetchone()
    return n, last - first


def _rate(run_dir: Path) -> float:
    n, seconds = _samples_span(run_dir)
    return (n - 1) / seconds


def _sampling_seconds(run_dir: Path) -> float:
    return _samples_span(run_dir)[1]


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _page_cpu(serve: subprocess.Popen, driver) -> tuple[float, float]:
    return _tree_cpu_seconds(serve.pid), _tree_cpu_seconds(driver.service.process.pid)


def _page_samples(driver) -> int:
    return int(driver.execute_script(
        "const r = document.getElementById('run-0'); return r ? Number(r.dataset.samples || 0) : 0;"))


def _start_page(run_dir: Path) -> tuple[subprocess.Popen, object, str]:
    serve = subprocess.Popen([*EVOFORGE, "serve", str(run_dir), "--port", "0"], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (run_dir / "serve.json").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("evoforge serve did not start")
        time.sleep(0.2)
    time.sleep(0.2)
    url = json.loads((run_dir / "serve.json").read_text())["url"]
    driver = headless_chromium()
    driver.get(url)
    return serve, driver, url


def one_run(root: Path, name: str, samples: int, delay: float, with_page: bool) -> dict:
    """One run; with the page, also the page's lag behind the database while the run wrote."""
    run_dir = root / name
    problem, completions = root / "problem", root / "recorded.jsonl"
    serve = driver = url = None
    if with_page:
        serve, driver, url = _start_page(run_dir)
    lags: list[int] = []
    cpu_before = _page_cpu(serve, driver) if with_page else (0.0, 0.0)
    try:
        run = evoforge_run(problem, run_dir, completions, samples, delay=delay,
                           extra=("--samplers", str(SAMPLERS), "--samples-per-prompt", str(PER_PROMPT),
                                  *(("--address", RAY_ADDRESS[0]) if RAY_ADDRESS else ())))
        while run.poll() is None:
            if driver is not None:
                in_db = _db_samples(run_dir)
                if 0 < in_db < samples:
                    lags.append(max(in_db - _page_samples(driver), 0))
            time.sleep(1.0)
        log = run.communicate()[0]
        if run.returncode != 0:
            raise RuntimeError(log[-2000:])
        # Per second of sampling (first to last sample), not of the run's Ray start-up, when the page idles.
        sampling = _sampling_seconds(run_dir)
        cpu_after = _page_cpu(serve, driver) if with_page else (0.0, 0.0)
        cpu = {"server_core": (cpu_after[0] - cpu_before[0]) / sampling,
               "browser_core": (cpu_after[1] - cpu_before[1]) / sampling}
        poll_ms = _poll_cost(url) if url else {}
    finally:
        if driver is not None:
            driver.quit()
        if serve is not None:
            serve.send_signal(signal.SIGINT)
            serve.wait(timeout=30)
    return {"rate": _rate(run_dir), "lags": lags, **cpu, **poll_ms}


def _poll_cost(url: str) -> dict:
    """Milliseconds per /api/runs: a full rebuild (no token) and an unchanged poll (current token)."""
    full, same = [], []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(5):
            start = time.perf_counter()
            token = client.get("api/runs").json()["runs"][0]["view"]["token"]
            full.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.get("api/runs", params={"tokens": token})
            same.append(time.perf_counter() - start)
    return {"full_ms": 1000 * statistics.median(full), "unchanged_ms": 1000 * statistics.median(same)}


def series(root: Path, label: str, samples: int, delay: float, rounds: int) -> None:
    results: dict[bool, list[dict]] = {False: [], True: []}
    for r in range(rounds):
        for with_page in ((False, True) if r % 2 == 0 else (True, False)):
            name = f"{label}-{r}-{'page' if with_page else 'alone'}"
            try:
                result = one_run(root, name, samples, delay, with_page)
            except RuntimeError as error:  # Ray on an over-subscribed host now and then loses an actor
                why = str(error).strip().splitlines()[-1][:120]
                print(f"  {name}: run failed ({why}); once more", flush=True)
                shutil.rmtree(root / name, ignore_errors=True)
                result = one_run(root, name, samples, delay, with_page)
            results[with_page].append(result)
            print(f"  {name}: {results[with_page][-1]['rate']:.1f} samples/s", flush=True)
    alone = statistics.median(x["rate"] for x in results[False])
    paged = statistics.median(x["rate"] for x in results[True])
    lags = sorted(lag for x in results[True] for lag in x["lags"])
    lag_median = statistics.median(lags) if lags else float("nan")
    lag_p95 = lags[int(0.95 * (len(lags) - 1))] if lags else float("nan")
    server = statistics.median(x["server_core"] for x in results[True])
    browser = statistics.median(x["browser_core"] for x in results[True])
    full = statistics.median(x["full_ms"] for x in results[True])
    unchanged = statistics.median(x["unchanged_ms"] for x in results[True])
    print(f"{label}: {alone:.1f} samples/s alone, {paged:.1f} with the live page open: "
          f"ratio {paged / alone:.3f}")
    print(f"{label}: page behind the database by {lag_median:.0f} samples median, {lag_p95:.0f} p95 "
          f"({lag_median / paged:.2f} s / {lag_p95 / paged:.2f} s at that rate)")
    print(f"{label}: CPU of the page per second of sampling: server {100 * server:.1f}% of a core, "
          f"headless Chromium {100 * browser:.1f}% of a core")
    print(f"{label}: one poll at {samples} samples: {full:.0f} ms rebuilding the view, "
          f"{unchanged:.1f} ms when nothing changed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100.0, help="paced samples/s for the first series")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--address", help="a running Ray cluster for every run (saves its start-up; on an "
                        "over-subscribed machine a fresh Ray can time out while starting)")
    args = parser.parse_args()
    if args.address:
        RAY_ADDRESS.append(args.address)
    root = Path(tempfile.mkdtemp(prefix="evoforge-bench-live-"))
    try:
        make_problem(root / "problem")
        write_completions(root / "recorded.jsonl", 60)
        print(f"{SAMPLERS} samplers x {PER_PROMPT} per prompt, {args.samples} samples per run, "
              f"{args.rounds} rounds; the page polls every second")
        series(root, f"paced {args.rate:.0f}/s", args.samples, SAMPLERS / args.rate, args.rounds)
        series(root, "unpaced", args.samples, 0.0, max(1, args.rounds // 2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
