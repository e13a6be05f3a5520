"""The OOM killer (or `kill -9`) ends a run's driver alone: its llama-server must not outlive it.

The server runs in its own session so that Ctrl-C reaches only the driver,
which then stops it; after a SIGKILL nothing runs that code, and a server left
behind would hold every core. Through the CLI with the embedded model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.llm_fixtures import embedded_model_or_fail

pytestmark = pytest.mark.slow


def children_named(parent: int, name: str) -> list[int]:
    """Processes whose parent is `parent` and whose command line holds `name` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        if ppid == parent and name in command:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_the_driver_ends_its_llama_server(tmp_path: Path) -> None:
    embedded_model_or_fail()
    command = [sys.executable, "-m", "evoforge.cli", "run", "bin_packing", "--samples", "400",
               "--run-dir", str(tmp_path / "run")]
    driver = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    servers: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while not servers and time.monotonic() < deadline:
            assert driver.poll() is None, "the run ended before its server started"
            servers = children_named(driver.pid, "llama-server")
            time.sleep(0.5)
        assert servers, "no llama-server child appeared within 240 s"
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 30
        while alive(servers[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(servers[0]), "the llama-server outlived its run's driver"
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
        for pid in servers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
