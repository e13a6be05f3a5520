"""The child of SPAWN mode: a fresh interpreter that confines itself and runs one trial.

For specs that are not fork-safe (threads, GPU contexts, open handles at
import). The evaluator writes a pickled job to this process's stdin, a file
it created; the job is read before anything untrusted exists here. Then the
same isolation and limits as a forked child apply, and the result goes out on
fd 3 as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

from evoforge.sandboxes.confine import RESULT_FD, address_space_cap, confine_child
from evoforge.sandboxes.harness import compile_candidate, preload, run_trial
from evoforge.sandboxes.isolation import isolate


def main() -> None:
    status = 70
    try:
        import pickle

        with os.fdopen(0, "rb") as job_file:
            job = pickle.load(job_file)  # written by the trusted evaluator; nothing untrusted yet
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the job (and its token) must not stay readable
        preload()
        prepared = job["program"].instantiate()
        value, limits = job["value"], job["limits"]
        address_space = address_space_cap(limits)
        isolation = isolate(job["private_root"], pid_namespaces=False, extra_read_only=job["read_only"])
        workdir = Path(tempfile.mkdtemp(prefix="trial-", dir=isolation.scratch or job["workdir"]))
        os.environ.update(HOME=str(workdir), TMPDIR=str(workdir))
        compiled = compile_candidate(job["code"])
        confine_child(limits, workdir, address_space)
        outcome = {"error": compiled} if isinstance(compiled, str) else run_trial(prepared, compiled, value)
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["token"] = job["token"]
        view = memoryview(json.dumps(outcome).encode())
        while view:
            view = view[os.write(RESULT_FD, view) :]
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


if __name__ == "__main__":
    main()
