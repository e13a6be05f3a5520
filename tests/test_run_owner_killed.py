"""The OOM killer (or `kill -9`) ends a run's driver alone: its llama-server must not outlive it.

The server runs in its own session so that Ctrl-C reaches only the driver,
which then stops it; after a SIGKILL nothing runs that code, and a server left
behind would hold every core. Through the CLI with the embedded model.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.llm_fixtures import embedded_model_or_fail

pytestmark = pytest.mark.slow


def test_sigkill_of_the_driver_ends_its_llama_server(tmp_path: Path) -> None:
    embedded_model_or_fail()
    command = [sys.executable, "-m", "evoforge.cli", "run", "bin_packing", "--samples", "400",
               "--run-dir", str(tmp_path / "run")]
    driver = psutil.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    servers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 240
        while not servers and time.monotonic() < deadline:
            assert driver.poll() is None, "the run ended before its server started"
            servers = [child for child in driver.children() if "llama-server" in child.name()]
            time.sleep(0.5)
        assert servers, "no llama-server child appeared within 240 s"
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        _, outliving = psutil.wait_procs(servers, timeout=30)
        assert not outliving, "the llama-server outlived its run's driver"
    finally:
        for process in [driver, *servers]:
            if process.is_running():
                process.kill()
