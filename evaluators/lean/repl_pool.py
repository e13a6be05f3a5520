"""A pool of REPL processes keyed by header (imports + preamble).

A header is elaborated once per process and every later check runs in its
environment through `env`, so `import Mathlib` is paid once per process, not
once per proof. A process that timed out or crashed is never reused: it is
killed and the next lease starts a fresh one, so the queue of checks goes on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from evoforge.evaluators.lean.discovery import ReplCommand
from evoforge.evaluators.lean.outcome import LeanMessage
from evoforge.evaluators.lean.repl_process import ReplProcess
from evoforge.evaluators.lean.rules import judge_response


class HeaderFailed(RuntimeError):
    """The header (imports / preamble) does not elaborate: no proof can be checked under it."""


class ReplPool:
    """At most `max_processes` REPLs; idle ones are kept per header and lent one thread at a time."""

    def __init__(
        self,
        command: ReplCommand,
        max_processes: int = 2,
        memory_mb: int | None = None,
        header_timeout: float = 600.0,
        recycle_after: int = 500,
    ) -> None:
        self.command, self.max_processes = command, max(1, max_processes)
        self.memory_mb, self.header_timeout = memory_mb, header_timeout
        # The REPL keeps every environment it made; a process is replaced after this many commands.
        self.recycle_after = recycle_after
        self.started = 0  # processes started so far (each elaborated its header once)
        self._idle: dict[str, list[ReplProcess]] = {}
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    @contextlib.contextmanager
    def lease(self, header: str) -> Iterator[ReplProcess]:
        """A process whose `header_env` holds `header`; broken ones are discarded on return."""
        process = self._acquire(header)
        healthy = False
        try:
            yield process
            healthy = True
        finally:
            self._release(process, header, healthy and process.alive)

    def _acquire(self, header: str) -> ReplProcess:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the REPL pool is closed")
                if self._idle.get(header):
                    return self._idle[header].pop()
                if self._count < self.max_processes:
                    self._count += 1
                    break
                victim = self._any_idle()
                if victim is not None:
                    victim.close()
                    break
                self._cond.wait()
        try:
            return self._start(header)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _any_idle(self) -> ReplProcess | None:
        for processes in self._idle.values():
            if processes:
                return processes.pop(0)
        return None

    def _start(self, header: str) -> ReplProcess:
        process = ReplProcess(self.command, self.memory_mb)
        with self._cond:
            self.started += 1
        if header.strip():
            try:
                answer = process.command(header, timeout=self.header_timeout)
            except BaseException:
                process.kill()
                raise
            judged = judge_response(answer)
            if judged.errors or judged.repl_error or "env" not in answer:
                process.close()
                first = judged.errors[0] if judged.errors else LeanMessage.evoforge(str(judged.repl_error))
                raise HeaderFailed(f"the header does not elaborate: {first.one_line()}")
            process.header_env = int(answer["env"])
        return process

    def _release(self, process: ReplProcess, header: str, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and process.commands_sent < self.recycle_after:
                self._idle.setdefault(header, []).append(process)
            else:
                process.kill()
                self._count -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle = [p for processes in self._idle.values() for p in processes]
            self._idle.clear()
            self._count -= len(idle)
            self._cond.notify_all()
        for process in idle:
            process.close()
