"""`--address` joins a Ray cluster that is already running instead of starting one.

The head is started on loopback and joined with `--address auto` (the
cluster `ray start` recorded on this machine): Ray rewrites an explicit
127.0.0.1 address to the machine's outward address, which tests must not use.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.run_fixtures import RECORDED_BIN_PACKING, make_small_bin_packing

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_joins_an_existing_cluster(tmp_path: Path) -> None:
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    head = [RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
            "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={temp_dir}"]
    subprocess.run(head, check=True, capture_output=True, timeout=180)
    try:
        problem = make_small_bin_packing(tmp_path / "problem")
        run_dir = tmp_path / "run"
        run = subprocess.run(
            [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--address", "auto",
             "--llm", "recorded", "--model", str(RECORDED_BIN_PACKING), "--samples", "6",
             "--run-dir", str(run_dir)],
            capture_output=True, text=True, timeout=600,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        probe = (
            "import ray, json; ray.init(address='auto', logging_level='ERROR');"
            "from ray._private import state; print(json.dumps(len(state.jobs())))"
        )
        jobs = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
        # The cluster outlived the run, and saw two drivers: the run's and this probe's.
        assert json.loads(jobs.stdout.strip().splitlines()[-1]) == 2, jobs.stderr[-2000:]
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)
    summary = subprocess.run([sys.executable, "-m", "evoforge.cli", "show", str(run_dir), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert json.loads(summary.stdout)["samples"] == 6
