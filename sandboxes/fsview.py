"""A private view of the filesystem: only the interpreter, its libraries and a scratch area.

Dropping to nobody stops a candidate from reading root-only files, but not
files the host left readable by everyone, such as a run's SQLite database
or a model cache. So the warm server, once it has loaded the spec and its
inputs, moves into a new mount namespace whose root is an empty tmpfs with
read-only binds of what Python needs (/usr, /etc, the interpreter's prefix,
site-packages) and nothing else: no /work, no /home, no /tmp, no /proc, and
not the problem's own folder (its inputs module could regenerate the test
split): spec code gets data through its inputs, resolved before this view.
This is what bubblewrap would do; done here with four syscalls it costs
nothing per evaluation and needs no extra package.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
from pathlib import Path

from evoforge.sandboxes.confine import CLONE_NEWNS, libc_call, unshare

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
SCRATCH = "/scratch"
MOUNT_POINT_NAME = "evoforge-sandbox-root"


def python_paths() -> list[str]:
    """The interpreter's prefixes and every sys.path directory that lives under one."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found = set(prefixes)
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and "site-packages" in real:
            found.add(real)
    return sorted(found)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc_call(
        "mount",
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),  # type: ignore[arg-type]
        data.encode() if data else None,
    )


def _bind(root: Path, path: str, writable: bool = False) -> None:
    if not os.path.exists(path):
        return
    target = root / path.lstrip("/")
    if os.path.islink(path) and os.path.dirname(path) == "/":
        target.symlink_to(os.readlink(path))  # /bin -> usr/bin on merged-/usr systems
        return
    if os.path.isdir(path):
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    _mount(path, str(target), None, MS_BIND | MS_REC, None)
    if not writable:
        _mount(None, str(target), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)


def _mount_point() -> Path:
    """One fixed, empty directory on the host: every sandbox mounts its own tmpfs there, each in
    its own mount namespace, so none leaves a directory behind per server or per spawned trial."""
    point = Path(os.environ.get("TMPDIR") or "/tmp") / MOUNT_POINT_NAME
    point.mkdir(mode=0o700, exist_ok=True)
    info = point.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise OSError(errno.EPERM, f"{point} is not a directory owned by root; remove it")
    return point


def enter_private_root(scratch_mb: int) -> str:
    """Chroot this (root) process into a minimal view; return the writable scratch directory."""
    unshare(CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    root = _mount_point()
    _mount("tmpfs", str(root), "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_mb}m,mode=0755")
    bound: list[str] = []
    for path in (*SYSTEM_PATHS, *python_paths()):
        if not any(path == done or path.startswith(done + "/") for done in bound):
            _bind(root, path)
            bound.append(path)
    for device in DEVICES:
        _bind(root, device, writable=True)
    (root / SCRATCH.lstrip("/")).mkdir(mode=0o711)
    (root / "tmp").mkdir(mode=0o755, exist_ok=True)  # a venv under /tmp may have made it already
    os.chroot(root)
    os.chdir("/")
    return SCRATCH
