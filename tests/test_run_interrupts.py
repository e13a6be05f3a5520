"""Ctrl-C and SIGTERM stop a run in seconds, with one resume hint and nothing lost.

The run serves a local model as `--llm MODEL.gguf` does, through the real
`LlamaServer` owner, but the binary is tests/replay_llama_server.py: it
replays recorded completions (no model runs) and, like llama-server, dies of
the Ctrl-C sent to the terminal's process group. The exit-time bound is loose
(a behaviour, not a benchmark): before the fix the samplers kept retrying the
dead server and Ctrl-C took about a minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evoforge.storage import DB_FILENAME
from tests.run_fixtures import REPO, count_rows, make_small_bin_packing

STOP_WITHIN_SECONDS = 20


def replay_server_env(folder: Path) -> tuple[dict[str, str], Path]:
    """The environment that makes `--llm MODEL.gguf` start the replay server; and that model path."""
    binary = folder / "llama-server"
    binary.write_text(f'#!/bin/sh\nexec {sys.executable} {REPO / "tests" / "replay_llama_server.py"} "$@"\n')
    binary.chmod(0o755)
    model = folder / "replay.gguf"
    model.write_bytes(b"GGUF")
    env = {**os.environ, "EVOFORGE_LLAMA_SERVER": str(binary), "XDG_CACHE_HOME": str(folder / "cache"),
           "REPLAY_DELAY": "0.5", "REPLAY_PID_FILE": str(folder / "server.pid")}
    return env, model


def start_run(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    env, model = replay_server_env(tmp_path)
    run_dir = tmp_path / "run"
    problem = make_small_bin_packing(tmp_path / "problem")
    command = [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--llm", str(model),
               "--samples", "400", "--samples-per-prompt", "2", "--run-dir", str(run_dir)]
    # Its own process group with Ctrl-C not ignored, as a terminal's foreground job: a test session
    # started in the background by a shell without job control inherits SIGINT ignored.
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while count_rows(run_dir / DB_FILENAME, "SELECT COUNT(*) FROM samples") < 4:
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the run never sampled: {process.communicate()[1][-2000:]}")
        time.sleep(0.3)
    return process, run_dir


def stop_and_wait(process: subprocess.Popen[str], send: object) -> tuple[float, str]:
    started = time.monotonic()
    send()  # type: ignore[operator]
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return time.monotonic() - started, stderr


def assert_stopped_cleanly(tmp_path: Path, run_dir: Path, seconds: float, stderr: str) -> None:
    assert seconds < STOP_WITHIN_SECONDS, f"took {seconds:.0f} s to stop: {stderr[-2000:]}"
    assert f"continue with: evoforge resume {run_dir}" in " ".join(stderr.split())
    assert "Traceback" not in stderr and "ActorDiedError" not in stderr, stderr[-3000:]
    server_pid = int((tmp_path / "server.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)  # the run stopped the server it started
    assert count_rows(run_dir / DB_FILENAME, "SELECT COUNT(*) FROM samples") >= 4


def test_ctrl_c_stops_a_run_with_a_local_server_in_seconds(tmp_path: Path) -> None:
    process, run_dir = start_run(tmp_path)
    seconds, stderr = stop_and_wait(process, lambda: os.killpg(process.pid, signal.SIGINT))
    assert process.returncode == 130, stderr[-3000:]
    assert_stopped_cleanly(tmp_path, run_dir, seconds, stderr)


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path: Path) -> None:
    process, run_dir = start_run(tmp_path)
    seconds, stderr = stop_and_wait(process, lambda: os.kill(process.pid, signal.SIGTERM))
    assert process.returncode == 143, stderr[-3000:]
    assert_stopped_cleanly(tmp_path, run_dir, seconds, stderr)
