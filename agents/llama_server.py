"""llama.cpp's `llama-server` as a child process on loopback.

It is the fastest way to serve a GGUF on a CPU here (see agents/README.md):
one static binary, OpenAI-compatible, with `n` samples per request sharing
one prompt evaluation. `LlamaServer` is the one owner of such a child: it
alone starts it, restarts it when it dies (its watchdog thread) and stops it;
the OpenAI backend talks to it like to any other server.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from evoforge.agents.base import LLMUnavailable

log = logging.getLogger("evoforge.agents")

INSTALL_COMMAND = "python -m evoforge.agents.install"
BINARY_ENV = "EVOFORGE_LLAMA_SERVER"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def cache_root() -> Path:
    """Where evoforge keeps the built server and the assembled model."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evoforge"


def default_binary_path() -> Path:
    return cache_root() / "bin" / "llama-server"


def find_llama_server() -> Path:
    """$EVOFORGE_LLAMA_SERVER, else the one the installer built, else PATH."""
    configured = os.environ.get(BINARY_ENV)
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise LLMUnavailable(f"{BINARY_ENV}={configured} is not an executable file; fix or unset it.")
        return path
    built = default_binary_path()
    if os.access(built, os.X_OK):
        return built
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    raise LLMUnavailable(
        f"llama-server was not found ({built}, PATH); run `{INSTALL_COMMAND}` to build it "
        f"(about 5 minutes), or set {BINARY_ENV} to an existing binary."
    )


def usable_cores() -> int:
    """The cores this process may run on (its affinity, which a container or `taskset` narrows)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ended_with_its_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGTERM the child when the thread that started it ends.

    The server runs in its own session (Ctrl-C must not reach it), so nothing
    else ends it when its owner dies without running `stop`: a SIGKILL or
    the OOM killer would leave it holding every core. Only the main thread
    (at start) and the watchdog (at a restart) start servers, and both live
    until `stop`. None where there is no prctl (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    owner = os.getpid()

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != owner:  # the owner died before the request took hold
            os._exit(1)

    return die_with_parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """One llama-server child: start, wait until it answers, stop, kill, restart.

    The port stays fixed across restarts, so clients pointed at `base_url`
    reconnect by themselves once it is back. With `keep_alive`, a watchdog
    restarts it if it exits (crash, OOM kill) until `stop`. It runs in its own
    session, so the Ctrl-C meant for the run does not kill it under the
    samplers still talking to it; `stop` ends it, and the kernel does if the
    owner dies without calling it (`ended_with_its_parent`).
    """

    def __init__(
        self,
        model_path: Path,
        *,
        slots: int = 8,
        threads: int | None = None,
        context_per_slot: int = 4096,
        port: int | None = None,
        host: str = "127.0.0.1",
        binary: Path | None = None,
        log_path: Path | None = None,
        start_timeout: float = 120.0,
        keep_alive: bool = False,
    ) -> None:
        self.model_path = Path(model_path)
        self.slots, self.context_per_slot = slots, context_per_slot
        self.threads = threads or usable_cores()
        self.host, self.port = host, port or free_port(host)
        self.binary = binary or find_llama_server()
        self.log_path = log_path or cache_root() / "logs" / f"llama-server-{self.port}.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._restart_lock = threading.Lock()
        self.keep_alive = keep_alive
        self._watchdog: _Watchdog | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            str(self.binary), "-m", str(self.model_path),
            "--host", self.host, "--port", str(self.port),
            "-np", str(self.slots), "-t", str(self.threads), "-tb", str(self.threads),
            "-c", str(self.context_per_slot * self.slots),
            "--no-webui", "--jinja",
        ]  # fmt: skip

    def start(self) -> LlamaServer:
        if not self.model_path.is_file():
            raise LLMUnavailable(f"model file {self.model_path} does not exist; give a path to a .gguf file.")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=ended_with_its_parent(),
            )
        self._wait_healthy()
        if self.keep_alive and (self._watchdog is None or not self._watchdog.is_alive()):
            self._watchdog = _Watchdog(self)
            self._watchdog.start()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                if self.process is not None and self.process.returncode == -signal.SIGILL:
                    raise LLMUnavailable(
                        f"{self.binary} was built for instructions this CPU lacks (SIGILL); rebuild it "
                        "with `python -m evoforge.agents.install` (see agents/README.md)."
                    )
                raise LLMUnavailable(
                    f"llama-server exited while starting ({self._log_tail()}); see {self.log_path}."
                )
            if self.healthy():
                return
            time.sleep(0.1)
        self.kill()
        raise LLMUnavailable(
            f"llama-server did not answer within {self.start_timeout:.0f} s; see {self.log_path}."
        )

    def healthy(self) -> bool:
        url = f"http://{self.host}:{self.port}/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the watchdog, then SIGTERM, then SIGKILL if it does not exit in `timeout` seconds."""
        if self._watchdog is not None:
            self._watchdog.stop()
        self._terminate(timeout)

    def _terminate(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: what a crash or the OOM killer looks like to clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> LlamaServer:
        self._terminate()
        return self.start()

    def restart_if_exited(self) -> bool:
        """Start it again if it died (crash, OOM kill); thread-safe, so several callers may ask."""
        with self._restart_lock:
            process = self.process
            if process is None or process.poll() is None:
                return False
            log.warning("llama-server exited with code %s; restarting it", process.returncode)
            self.restart()
            return True

    def __enter__(self) -> LlamaServer:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _Watchdog(threading.Thread):
    """Restart the server if it exits, even while no client is calling it."""

    def __init__(self, server: LlamaServer, period: float = 2.0) -> None:
        super().__init__(name="llama-server-watchdog", daemon=True)
        self.server, self.period = server, period
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.period):
            try:
                self.server.restart_if_exited()
            except LLMUnavailable as error:  # it would not start again: clients report the outage
                log.warning("%s", error)

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout=5)
