"""`--address` joins a Ray cluster that is already running instead of starting one.

The head is started on loopback in its own process group and joined by its
address; the test then stops that group only (`ray stop` would stop every Ray
on the machine, other users' included, and `--address auto` may find theirs).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.run_fixtures import RECORDED_BIN_PACKING, make_small_bin_packing

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_head(temp_dir: str, timeout: float = 240) -> str:
    """The address `ray start` records once the head is up (under its --temp-dir)."""
    recorded = Path(temp_dir) / "ray_current_cluster"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if recorded.is_file() and recorded.read_text().strip():
            return recorded.read_text().strip()
        time.sleep(0.5)
    raise AssertionError("the Ray head did not come up")


def _stop_group(process: subprocess.Popen) -> None:
    """SIGKILL the head's whole process group (its GCS, raylet, monitors): a test cluster keeps nothing."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def _head_logs(temp_dir: str, lines: int = 15) -> str:
    """The last lines of the head's GCS and raylet logs: why an actor of the run died, when one does."""
    logs = Path(temp_dir, "session_latest", "logs")
    tails = []
    for name in ("gcs_server.out", "raylet.out", "raylet.err"):
        path = logs / name
        if path.is_file():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {name}\n" + "\n".join(tail))
    return "\n".join(tails)


def _processes_using(temp_dir: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", temp_dir], capture_output=True, text=True)
    return found.stdout.split()


def test_run_joins_an_existing_cluster(tmp_path: Path) -> None:
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    head = [RAY, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
            "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"]
    # Its own process group, stopped by killing that group: `ray stop` would stop every Ray on the machine.
    # Token auth off, for the head and every driver that joins it alike: a driver joining by address
    # otherwise reads the auth mode of the newest local session (on a shared machine, maybe another
    # user's), or RAY_AUTH_MODE=token left in this process's environment by an earlier in-process Ray:
    # with that mismatch the run's actors "never ran" (two CI runs failed so).
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    cluster = subprocess.Popen(head, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, env=env)
    try:
        address = _wait_for_head(temp_dir)  # not "auto": it may find another user's Ray on this machine
        problem = make_small_bin_packing(tmp_path / "problem")
        run_dir = tmp_path / "run"
        run = subprocess.run(
            [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--address", address,
             "--llm", "recorded", "--model", str(RECORDED_BIN_PACKING), "--samples", "6",
             "--run-dir", str(run_dir)],
            capture_output=True, text=True, timeout=600, env=env,
        )
        assert run.returncode == 0, run.stderr[-3000:] + "\n" + _head_logs(temp_dir)
        probe = (
            f"import ray, json; ray.init(address='{address}', logging_level='ERROR');"
            "from ray._private import state; print(json.dumps(len(state.jobs())))"
        )
        jobs = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                              env=env)
        # The cluster outlived the run, and saw two drivers: the run's and this probe's.
        assert json.loads(jobs.stdout.strip().splitlines()[-1]) == 2, jobs.stderr[-2000:]
    finally:
        _stop_group(cluster)
        shutil.rmtree(temp_dir, ignore_errors=True)
    assert not _processes_using(temp_dir), "the head left processes behind"
    summary = subprocess.run([sys.executable, "-m", "evoforge.cli", "show", str(run_dir), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert json.loads(summary.stdout)["samples"] == 6
