"""The evaluator's handle on a warm fork-server (the default sandbox mode).

The server is a fresh interpreter started with a scrubbed environment, so no
API key or token of the evaluator's ever reaches a candidate. If the server
itself dies, the trial in flight is recorded as an error and a new server is
started: the run goes on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from evoforge.records import Limits, TrialResult
from evoforge.sandboxes.base import Sandbox, warn_once
from evoforge.sandboxes.confine import scrubbed_environment
from evoforge.sandboxes.framing import ChannelClosed, read_json, write_json, write_pickle
from evoforge.sandboxes.probes import PROBE_KEY
from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError

STARTUP_SECONDS = 120.0
REPLY_MARGIN_SECONDS = 15.0
SERVER_COMMAND = [sys.executable, "-P", "-m", "evoforge.sandboxes.forkserver"]


class ForkSandbox(Sandbox):
    """Trials forked from one warm server per sandbox; a few milliseconds of overhead each.

    `private_root` and `pid_namespaces` can be turned off to test what the
    sandbox does where a machine lacks them.
    """

    def __init__(self, spec: ProblemSpec, split: str, dataset: Path | None, limits: Limits,
                 private_root: bool = True, pid_namespaces: bool = True, probe: bool = False) -> None:
        self._spec = spec
        self._limits = limits
        self._setup = {"spec": spec, "split": split, "dataset": dataset, "limits": limits,
                       "private_root": private_root, "pid_namespaces": pid_namespaces, "probe": probe}
        self.can_probe = False
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.restarts = 0
        self._start()

    @property
    def server_pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the server's life)
        self._process = subprocess.Popen(
            SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=scrubbed_environment(), close_fds=True, start_new_session=True, cwd="/",
        )
        try:
            write_pickle(self._stdin, self._setup)
            ready = read_json(self._stdout, deadline=time.monotonic() + STARTUP_SECONDS)
        except (ChannelClosed, ValueError) as error:
            self._stop()
            raise RuntimeError(f"the sandbox server did not start ({error}): {self._stderr_tail()}") from None
        if "error" in ready:
            self._stop()
            if ready.get("kind") == "SpecError":
                raise SpecError(ready["error"])
            raise SpecError(f"{self._spec.path}: the spec failed to load ({ready.get('kind')}: "
                            f"{ready['error']}); fix it so it runs as a plain Python module.")
        for warning in ready["warnings"]:
            warn_once(warning)
        self.input_keys = tuple(ready["input_keys"])
        self.can_probe = bool(ready.get("probe"))

    @property
    def _stdin(self) -> int:
        assert self._process and self._process.stdin
        return self._process.stdin.fileno()

    @property
    def _stdout(self) -> int:
        assert self._process and self._process.stdout
        return self._process.stdout.fileno()

    def run(self, code: str, input_key: str) -> TrialResult:
        self._check_key(input_key)
        return self._run(code, input_key)

    def probe(self, code: str) -> TrialResult:
        """A fingerprint trial (see probes.py): the candidate on the seed's recorded calls."""
        if not self.can_probe:
            raise RuntimeError("this sandbox recorded no probe calls; open it with probe=True")
        return self._run(code, PROBE_KEY)

    def _run(self, code: str, input_key: str) -> TrialResult:
        with self._lock:
            try:
                write_json(self._stdin, {"code": code, "input_key": input_key})
                deadline = time.monotonic() + self._limits.wall_seconds + REPLY_MARGIN_SECONDS
                reply = read_json(self._stdout, deadline=deadline)
            except (ChannelClosed, ValueError) as error:
                return self._restart_after(input_key, error)
        return _trial(input_key, reply)

    def _restart_after(self, input_key: str, error: Exception) -> TrialResult:
        tail = self._stderr_tail()
        self._stop()
        self._start()
        self.restarts += 1
        return TrialResult(input_key, None, error=f"sandbox server died ({error}); restarted it",
                           output_tail=tail)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 2000))
        return self._stderr.read().decode("utf-8", errors="replace")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if self._stderr:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _trial(input_key: str, reply: dict[str, Any]) -> TrialResult:
    return TrialResult(input_key, score=reply.get("score"), error=reply.get("error"),
                       seconds=float(reply.get("seconds", 0.0)), output_tail=reply.get("output_tail", ""),
                       data=reply.get("data"))

