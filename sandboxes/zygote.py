"""The forking half of a fork-server: a warm process that does nothing but clone trial children.

Why a process of its own: after a fork, every page the forking process
writes is copied while a child still shares it, and on the small VMs this
is built on a copied page costs 3-5 µs (a page the child copies, about
2.3 µs). When the server forked the children itself, its bookkeeping per
trial (JSON, pipes, polling, reaping) copied 125-265 pages; the zygote's
loop, which only receives a request, clones and answers, copies about 4 in
C (`_zygote.c`, where it could be built) and about 45 in Python.

Children are cloned with CLONE_PARENT, so they are the server's children,
not the zygote's: the server waits for them and reads their exit status and
CPU time with wait4, as before, and the zygote never reaps anything. With
CLONE_NEWPID in the same call each child is the init of a fresh pid
namespace.

The clone is the raw system call, not os.fork: os.fork runs CPython's
after-fork machinery in the child (lock re-creation, at-fork hooks), about
200 page copies that a single-threaded process has no use for; the one
effect that matters, reseeding `random`, the child does itself. glibc's fork
wrapper is skipped too, so glibc's cached thread id in the child is still
the zygote's; only recursive-mutex ownership reads it (consistently, within
the child), and raise() asks the kernel for the real one.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import gc
import importlib
import importlib.util
import os
import platform
import select
import signal
import socket
import struct
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import NoReturn

from evoforge.forkserver_launch import NATIVE_MODULE
from evoforge.sandboxes.confine import PR_SET_PDEATHSIG, libc_call

CLONE_PARENT = 0x00008000
SYS_CLONE3 = 435  # the same number on every architecture
# clone(2) for kernels or seccomp filters without clone3: flags first on these architectures.
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
FDS_PER_CHILD = 3
CLONE, IMPORT = b"C", b"I"  # what a request to the zygote starts with
MAX_MESSAGE_BYTES = 4096
_FDS = struct.Struct(f"{FDS_PER_CHILD}i")
_FD_SPACE = socket.CMSG_SPACE(_FDS.size)
_pylibc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: the GIL stays held across the clone

ChildMain = Callable[[list[int]], NoReturn]


class ZygoteGone(RuntimeError):
    """The forking process exited: the server cannot make children any more."""


@dataclass
class Zygote:
    """The server's handle: ask for children, then learn their pids in the same order."""

    pid: int
    channel: socket.socket

    def ask(self, fds: list[int]) -> None:
        """Request one child that starts with `fds` (request in, output out, result out)."""
        self._send(CLONE, fds)

    def preload(self, modules: list[str]) -> None:
        """Have the zygote import `modules` (trusted names), so that children cloned later have them."""
        self._send(IMPORT + " ".join(modules).encode(), [])

    def _send(self, message: bytes, fds: list[int]) -> None:
        try:
            socket.send_fds(self.channel, [message], fds)
        except OSError as error:
            raise ZygoteGone(f"the sandbox's forking process is gone ({error})") from None

    def next_pid(self, timeout: float) -> int:
        """The pid of the oldest child asked for; OSError if the clone itself failed."""
        try:
            reply = self.channel.recv(64, socket.MSG_DONTWAIT)  # usually there since the last trial
        except BlockingIOError:
            if not select.select([self.channel], [], [], timeout)[0]:
                raise ZygoteGone(f"the sandbox's forking process did not answer in {timeout:g} s") from None
            reply = self.channel.recv(64)
        if not reply:
            raise ZygoteGone("the sandbox's forking process exited")
        if reply.startswith(b"E"):
            number = int(reply[1:])
            raise OSError(number, f"clone: {os.strerror(number)}")
        return int(reply[1:])

    def close(self) -> None:
        """End the zygote (it exits when its channel closes) and collect it."""
        self.channel.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def native_path() -> str | None:
    """Where the C module was built, for the server's launcher; None where it was not."""
    spec = importlib.util.find_spec(NATIVE_MODULE)
    return spec.origin if spec is not None else None


def native_module() -> ModuleType | None:
    """The C versions of the clone loop and the child's confinement, where they were built."""
    try:
        from evoforge.sandboxes import _zygote
    except ImportError:
        return None
    return _zygote


def start_zygote(child_main: ChildMain, clone_flags: int, native: ModuleType | None,
                 prepare: Callable[[], object] = lambda: None) -> Zygote:
    """Fork the zygote from this (single-threaded) server; each clone runs `child_main(fds)`.

    `prepare` runs in the zygote before its first clone (huge pages: see hugepages.py).
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()  # once per server: os.fork's after-fork work is no cost here
    if pid == 0:
        status = 70
        try:
            ours.close()
            keep = theirs.fileno()
            os.closerange(3, keep)  # the server's own channels must not reach any child
            os.closerange(keep + 1, 1 << 16)
            libc_call("prctl", PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # gone with the server
            gc.freeze()  # what the server loaded stays untouched by any collector
            prepare()
            flags = clone_flags | CLONE_PARENT
            child_main(_serve_natively(native, theirs, flags) if native else _serve_clones(theirs, flags))
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    theirs.close()
    return Zygote(pid, ours)


def _serve_clones(channel: socket.socket, flags: int) -> list[int]:
    """Clone one child per request; returns only in a child, with the descriptors it was sent.

    Written to touch as few objects as it can: everything it writes between
    two clones is a page copied while the last child still shares it.
    """
    receive, send, close, clone = channel.recvmsg, channel.send, os.close, _cloner(flags)
    while True:
        message, ancillary, _flags, _address = receive(MAX_MESSAGE_BYTES, _FD_SPACE)
        if not message:
            os._exit(0)  # the server closed the channel: shut down
        data = ancillary[0][2] if ancillary else b""
        fds = list(_FDS.unpack(data)) if len(data) == _FDS.size else _all_fds(data)
        if message.startswith(IMPORT):
            _import_all(message[1:].decode().split())
        elif len(fds) == FDS_PER_CHILD:
            pid = clone()
            if pid == 0:
                return fds
            send(b"P%d" % pid if pid > 0 else b"E%d" % ctypes.get_errno())
        else:
            send(b"E%d" % errno.EBADF)
        for fd in fds:
            close(fd)


def _serve_natively(native: ModuleType, channel: socket.socket, flags: int) -> list[int]:
    """`_serve_clones`, with the loop in C (`_zygote.c`): it comes back here only in a new child,
    for a preload request, or at the end."""
    while True:
        kind, payload = native.serve(channel.fileno(), flags)
        if kind == "child":
            return list(payload)
        if kind == "eof":
            os._exit(0)
        _import_all(payload.decode().split())


def _import_all(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # a trial's hint, not a requirement: children import it themselves
            print(f"evoforge sandbox: could not preload {name}: {error}", file=sys.stderr)
    gc.freeze()


def _all_fds(data: bytes) -> list[int]:
    """Descriptors of a malformed request, so that they can be closed rather than leaked."""
    return list(array.array("i", data[: len(data) - len(data) % 4]))


def _cloner(flags: int) -> Callable[[], int]:
    """A no-argument clone: clone3 where the kernel allows it, else clone(2) on known machines."""
    syscall = _pylibc.syscall
    # struct clone_args up to tls: flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls.
    # With CLONE_PARENT the exit signal must be 0: the child signals the server as the zygote would.
    arguments = ctypes.create_string_buffer(struct.pack("8Q", flags, 0, 0, 0, 0, 0, 0, 0), 64)
    number, size = ctypes.c_long(SYS_CLONE3), ctypes.c_size_t(64)
    legacy = SYS_CLONE.get(platform.machine())

    def clone() -> int:
        pid = syscall(number, arguments, size)
        if pid == -1 and ctypes.get_errno() == errno.ENOSYS and legacy is not None:
            pid = syscall(ctypes.c_long(legacy), ctypes.c_ulong(flags | signal.SIGCHLD), 0, 0, 0, 0)
        return pid

    return clone
