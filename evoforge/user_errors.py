"""Which exceptions a user caused, and the one sentence that tells them what to do.

Every CLI command hands what it raised to `user_error_sentence`: a sentence
means "print it, exit 2"; None means a bug, which keeps its traceback. An
error raised inside a Ray actor arrives wrapped in Ray's task error; the
wrapper is looked through, so a full disk in the database actor reads the
same as one in the driver. Classes from heavy modules (Ray, the agents) are
only matched when their module is already loaded: an error cannot be an
instance of a class nobody imported, and `evoforge show` stays light.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import sys
from pathlib import Path

from evoforge.spec_errors import UserError
from evoforge.storage import DB_FILENAME, RunFileError, damaged_file_sentence, is_damaged_file_error

# Errors whose own message is already the sentence (raised by evoforge with a fix in it).
SENTENCE_ERRORS: tuple[type[BaseException], ...] = (UserError,)
# Loaded lazily, by module and class name, for the reason in the module docstring.
SENTENCE_ERRORS_ELSEWHERE = (("evoforge.agents.base", "LLMUnavailable"),
                             ("evoforge.runtime.loop", "SearchStopped"))
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
FILE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG}
NEARLY_FULL_BYTES = 1 << 20


def user_error_sentence(error: BaseException, run_dir: Path | None = None) -> str | None:
    """One sentence for an error the user can fix, or None for a bug.

    `run_dir` is the run the command works on: SQLite errors carry no file
    name, and a full disk's sentence says how to continue that run.
    """
    error = _unwrapped(error)
    if _is_disk_full(error, run_dir):
        return _disk_full_sentence(error, run_dir)
    if isinstance(error, sqlite3.DatabaseError):
        return _database_sentence(error, run_dir)
    if isinstance(error, SENTENCE_ERRORS + _loaded_classes(SENTENCE_ERRORS_ELSEWHERE)):
        return str(error)
    if isinstance(error, FileNotFoundError | FileExistsError):
        # evoforge raises these with a sentence; the OS raises them with errno and file name.
        return f"{error.filename}: {error.strerror}." if error.filename else str(error)
    if isinstance(error, OSError) and error.errno in FILE_ERRNOS:
        return f"cannot use {error.filename}: {error.strerror}; choose a path you can write to."
    return None


def _unwrapped(error: BaseException) -> BaseException:
    """The exception an actor raised, out of Ray's wrapper (which keeps it as `.cause`)."""
    exceptions = sys.modules.get("ray.exceptions")
    while exceptions is not None and isinstance(error, exceptions.RayTaskError):
        cause = getattr(error, "cause", None)
        if not isinstance(cause, BaseException):
            break
        error = cause
    return error


def _loaded_classes(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    modules = ((sys.modules.get(module), name) for module, name in names)
    return tuple(getattr(module, name) for module, name in modules if module is not None)


def _is_disk_full(error: BaseException, run_dir: Path | None) -> bool:
    if isinstance(error, OSError):
        return error.errno in DISK_FULL_ERRNOS
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    name = getattr(error, "sqlite_errorname", "")
    # SQLite reports a full disk as SQLITE_FULL when a write comes up short, but as an I/O
    # error when growing its shared-memory index fails: then the free space decides.
    return name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and _nearly_full(run_dir))


def _nearly_full(run_dir: Path | None) -> bool:
    folder = Path(run_dir) if run_dir else Path.cwd()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES


def _disk_full_sentence(error: BaseException, run_dir: Path | None) -> str:
    where = getattr(error, "filename", None) or (Path(run_dir) / DB_FILENAME if run_dir else None)
    place = f"the disk holding {where} is full" if where else "the disk is full"
    return f"{place}; free some space, then {_next_step(run_dir)}."


def _next_step(run_dir: Path | None) -> str:
    """How to go on: resume if the run got as far as storing its settings, else start again."""
    from evoforge.storage import RunStorage

    if run_dir is None:
        return "try again"
    try:
        storage = RunStorage.open_run(run_dir)
        try:
            stored = storage.meta("config") is not None
        finally:
            storage.close()
    except (OSError, RunFileError, sqlite3.Error):
        stored = False
    if stored:
        return f"continue with `evoforge resume {run_dir}` (everything stored so far is kept)"
    return f"start the run again (it had not stored its settings yet; remove {run_dir} first)"


def _database_sentence(error: sqlite3.DatabaseError, run_dir: Path | None) -> str | None:
    path = Path(run_dir) / DB_FILENAME if run_dir else Path(DB_FILENAME)
    name = getattr(error, "sqlite_errorname", "")
    if is_damaged_file_error(error):
        return damaged_file_sentence(path, str(error))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"{path} is busy in another process ({error}); wait for it to finish, then try again."
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return f"cannot write {path} ({error}); make its folder writable, or copy the run somewhere that is."
    if name.startswith("SQLITE_IOERR"):
        return f"reading or writing {path} failed ({error}); check the disk it is on, then try again."
    return None
