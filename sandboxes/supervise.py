"""The parent's side of one sandboxed child: clock, caps, kill, reap, and one clear verdict.

The child is untrusted from the moment the candidate starts, so everything
here is decided from outside it: the wall clock by the parent, the output and
result sizes by counting bytes as they arrive, the cause of death from the
exit status and the kernel's CPU accounting.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import time
from dataclasses import dataclass, field

from evoforge.records import Limits
from evoforge.sandboxes.scores import MAX_RESULT_BYTES, ChildResult, decode_child_result

TAIL_BYTES = 2000
_READ = select.POLLIN | select.POLLHUP | select.POLLERR


@dataclass
class _Streams:
    """What the child wrote, counted and capped while it runs."""

    result_fd: int
    output_fd: int
    max_output: int
    result: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    output_total: int = 0
    overflow: str | None = None

    def read(self, fd: int) -> bool:
        """Read what is there; False at end of stream."""
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        if fd == self.result_fd:
            self.result += chunk
            if len(self.result) > MAX_RESULT_BYTES:
                self.overflow = f"result too large: more than {MAX_RESULT_BYTES} bytes on the result channel"
        else:
            self.output_total += len(chunk)
            self.tail = (self.tail + chunk)[-TAIL_BYTES:]
            if self.output_total > self.max_output:
                self.overflow = f"output too large: more than {self.max_output} bytes on stdout/stderr"
        return True


def kill_tree(pid: int) -> None:
    """SIGKILL the child and its process group (with a pid namespace, everything it started)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone: what we want
            kill(pid, signal.SIGKILL)


def close_all(*fds: int) -> None:
    """Close pipe ends, some of which the normal path closed already."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def watch_child(pid: int, result_fd: int, output_fd: int, limits: Limits, token: str,
                deadline: float | None = None, reap_later: bool = False) -> tuple[dict[str, object], bool]:
    """Wait for the child under the wall clock and caps.

    Returns ({"score", "error", "output_tail", "imported", "data"}, still_to_reap). With
    `reap_later`, a child that closed its pipes after a complete result is
    not waited for: its exit (tearing down a numpy-sized address space)
    overlaps with the reply instead of delaying it; it has been SIGKILLed
    and the caller reaps it with `reap`.
    """
    streams = _Streams(result_fd, output_fd, limits.max_output_bytes)
    pidfd = os.pidfd_open(pid)
    try:
        ending = _run_until_exit(pid, pidfd, streams, deadline or time.monotonic() + limits.wall_seconds,
                                 stop_on_close=reap_later)
    finally:
        os.close(pidfd)
    kill_tree(pid)  # strays that left the group but not the namespace are gone with its init
    tail = streams.tail.decode("utf-8", errors="replace")
    if ending == "closed" and reap_later:
        result = decode_child_result(bytes(streams.result), token)
        return _outcome(result, tail), True
    _, status, usage = os.wait4(pid, 0)
    _drain(streams)
    cpu = usage.ru_utime + usage.ru_stime
    result = _verdict(status, cpu, ending == "timeout", streams, limits, token)
    return _outcome(result, streams.tail.decode("utf-8", errors="replace")), False


def _outcome(result: ChildResult, tail: str) -> dict[str, object]:
    return {"score": result.score, "error": result.error, "output_tail": tail, "imported": result.imported,
            "data": result.data}


def reap(pid: int, block: bool) -> bool:
    """Collect a child left by `watch_child(reap_later=True)`; True once it is gone."""
    try:
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _run_until_exit(pid: int, pidfd: int, streams: _Streams, deadline: float, stop_on_close: bool) -> str:
    """Pump the pipes until the child exits (or, with `stop_on_close`, closes them after a result)."""
    poller = select.poll()
    open_fds = {streams.result_fd, streams.output_fd}
    for fd in open_fds:
        os.set_blocking(fd, False)
        poller.register(fd, _READ)
    poller.register(pidfd, _READ)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            kill_tree(pid)
            return "timeout"
        for fd, _event in poller.poll(left * 1000):
            if fd == pidfd:
                return "exited"
            if not streams.read(fd):
                poller.unregister(fd)
                open_fds.discard(fd)
            if streams.overflow:
                kill_tree(pid)
                return "overflow"
        if stop_on_close and not open_fds and streams.result:
            return "closed"


def _drain(streams: _Streams) -> None:
    """Collect what the dead child left in its pipes, within the caps."""
    for fd in (streams.result_fd, streams.output_fd):
        for _ in range(64):
            if streams.overflow or not streams.read(fd):
                break


def _verdict(
    status: int, cpu: float, timed_out: bool, streams: _Streams, limits: Limits, token: str
) -> ChildResult:
    if timed_out:
        return ChildResult(None, f"timeout: still running after {limits.wall_seconds:g} s of wall clock")
    if streams.overflow:
        return ChildResult(None, streams.overflow)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        # Our own kills (timeout, overflow) are ruled out above; the kernel's CPU accounting is
        # sampled, so "at the limit" is taken loosely.
        at_cpu_limit = cpu >= 0.9 * math.ceil(limits.cpu_seconds)
        if number == signal.SIGXCPU or (number == signal.SIGKILL and at_cpu_limit):
            used = f"used {cpu:.1f} s of CPU time (limit {limits.cpu_seconds:g} s)"
            return ChildResult(None, f"cpu limit: {used}")
        return ChildResult(None, f"crash: killed by {signal.Signals(number).name}")
    code = os.WEXITSTATUS(status)
    if code == 0 and streams.result:
        return decode_child_result(bytes(streams.result), token)
    return ChildResult(None, f"exited with status {code} before returning a result "
                             "(the candidate called os._exit/sys.exit or broke the harness)")
