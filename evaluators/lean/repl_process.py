"""One leanprover-community/repl process: JSON commands in, JSON answers out.

The protocol (the REPL's README): each command is one JSON object followed by a
blank line; each answer is one JSON object (pretty-printed over several lines)
followed by a blank line. Commands: `{"cmd", "env"?}` (a new environment
without `env`), `{"tactic", "proofState"}`, `{"path"}`, `{"pickleTo", "env" |
"proofState"}`, `{"unpickleEnvFrom"}`, `{"unpickleProofStateFrom"}`. A wrong id
answers `{"message": ...}`. A command that runs past its time kills the process
(Lean cannot be interrupted mid-elaboration over this protocol); a memory limit
(RLIMIT_AS) is set on the process, so a runaway proof dies instead of the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import selectors
import subprocess
import tempfile
import time
from typing import Any

from evoforge.evaluators.lean.discovery import ReplCommand


class ReplTimeout(TimeoutError):
    """The REPL did not answer in time; the process has been killed."""


class ReplCrashed(RuntimeError):
    """The REPL process ended (crash, out of memory, killed) or answered with something not JSON."""


class ReplProcess:
    """A running REPL. Not thread-safe: the pool lends each process to one thread at a time."""

    def __init__(self, command: ReplCommand, memory_mb: int | None = None) -> None:
        self.launch = command
        self.memory_mb = memory_mb
        self.header_env: int | None = None
        self.commands_sent = 0
        # a file, not a pipe: a chatty REPL never blocks on it; closed in kill()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            list(command.argv),
            cwd=command.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=self._limit_memory,
            start_new_session=True,
        )
        self._buffer = b""

    def _limit_memory(self) -> None:
        if self.memory_mb:
            limit = self.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def send(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one command and wait for its answer, at most `timeout` seconds."""
        if not self.alive:
            raise ReplCrashed(self._death())
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(command, ensure_ascii=False).encode() + b"\n\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ReplCrashed(self._death()) from None
        self.commands_sent += 1
        return self._read_answer(time.monotonic() + timeout, timeout)

    def command(
        self, cmd: str, env: int | None = None, timeout: float = 60.0, **extra: Any
    ) -> dict[str, Any]:
        """Command mode: elaborate `cmd` in environment `env` (a fresh one when None)."""
        return self.send({"cmd": cmd, **({"env": env} if env is not None else {}), **extra}, timeout)

    def tactic(self, tactic: str, proof_state: int, timeout: float = 60.0) -> dict[str, Any]:
        """Tactic mode: run `tactic` on the goal of `proof_state` (from a `sorry`)."""
        return self.send({"tactic": tactic, "proofState": proof_state}, timeout)

    def pickle_env(self, env: int, path: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.send({"pickleTo": path, "env": env}, timeout)

    def unpickle_env(self, path: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.send({"unpickleEnvFrom": path}, timeout)

    def _read_answer(self, deadline: float, timeout: float) -> dict[str, Any]:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                answer = self._take_answer()
                if answer is not None:
                    return answer
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    raise ReplTimeout(f"no answer from the Lean REPL within {timeout:g} s")
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise ReplCrashed(self._death())
                self._buffer += chunk

    def _take_answer(self) -> dict[str, Any] | None:
        """One complete answer from the buffer: a JSON object ended by a blank line.

        JSON escapes newlines inside strings, so a blank line only ever ends an answer.
        """
        while b"\n\n" in self._buffer:
            text, self._buffer = self._buffer.split(b"\n\n", 1)
            if not text.strip():
                continue
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                self.kill()
                raise ReplCrashed(f"the REPL wrote something that is not JSON: {text[:200]!r}") from None
        return None

    def _death(self) -> str:
        code = self._proc.poll()
        stderr = b""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            stderr = self._stderr.read()
        tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        limit = f"; memory limit {self.memory_mb} MB" if self.memory_mb else ""
        return f"the Lean REPL exited (code {code}{limit})" + (f": {' | '.join(tail)}" if tail else "")

    def kill(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, 9)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)
        for stream in (self._proc.stdin, self._proc.stdout, self._stderr):
            with contextlib.suppress(OSError, ValueError):
                stream and stream.close()

    def close(self) -> None:
        """End the REPL: closing stdin ends its loop; kill it if it lingers."""
        with contextlib.suppress(OSError, ValueError):
            self._proc.stdin and self._proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=2)
        self.kill()
