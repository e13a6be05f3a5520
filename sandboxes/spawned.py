"""The child of SPAWN mode: a fresh interpreter that confines itself and runs one trial.

For specs that are not fork-safe (threads, GPU contexts, open handles at
import). The evaluator writes a pickled job to this process's stdin, a file
it created; the job is read before anything untrusted exists here. Then the
same isolation and limits as a forked child apply: this process forks once
so that the trial is the init of its own pid namespace (it can neither see
nor signal any other process), stays outside as root only to pass the
trial's exit status on, and the result goes out on fd 3 as JSON.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

from evoforge.sandboxes.confine import (
    RESULT_FD,
    address_space_cap,
    confine_child,
    confine_process,
    hand_to_nobody,
    trial_rlimits,
)
from evoforge.sandboxes.harness import compile_candidate, import_warm_modules, run_trial
from evoforge.sandboxes.isolation import isolate
from evoforge.sandboxes.scores import child_message


def main() -> None:
    status = 70
    try:
        import pickle

        with os.fdopen(0, "rb") as job_file:
            job = pickle.load(job_file)  # written by the trusted evaluator; nothing untrusted yet
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the job (and its token) must not stay readable
        import_warm_modules()
        prepared = job["program"].instantiate()
        value, limits = job["value"], job["limits"]
        address_space = address_space_cap(limits)
        isolation = isolate(job["private_root"], pid_namespaces=True)
        workdir = Path(tempfile.mkdtemp(prefix="trial-", dir=isolation.scratch or job["workdir"]))
        os.environ.update(HOME=str(workdir), TMPDIR=str(workdir))
        tempfile.tempdir = str(workdir)  # tempfile may have cached another choice already
        compiled = compile_candidate(job["code"])
        if isolation.pid_namespace_fd is not None:
            isolation.before_fork()
            if pid := os.fork():
                os.closerange(0, RESULT_FD + 1)  # the pipes' ends now belong to the trial alone
                _pass_exit_on(pid)
        confine_process()
        hand_to_nobody(workdir)
        os.chdir(workdir)
        confine_child(trial_rlimits(limits, address_space))
        outcome = {"error": compiled} if isinstance(compiled, str) else run_trial(prepared, compiled, value)
        sys.stdout.flush()
        sys.stderr.flush()
        view = memoryview(child_message(outcome, job["token"]))
        while view:
            view = view[os.write(RESULT_FD, view) :]
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


def _pass_exit_on(pid: int) -> NoReturn:
    """Die the way the trial (init of its own pid namespace) died, so the supervisor reads it."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if number != signal.SIGKILL:
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


if __name__ == "__main__":
    main()
