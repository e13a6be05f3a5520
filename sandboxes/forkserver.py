"""The warm fork server: one process per sandbox that runs each trial in a fresh, confined child.

Started by the evaluator (`fork_client`) as a fresh interpreter with a
scrubbed environment, never forked from the evaluator itself (which may be a
multi-threaded Ray actor). It imports numpy and the modules candidates use
most, loads the spec and resolves its inputs once, enters its network
namespace and private filesystem view, then answers one JSON request per
trial on the pipes it was started with.

Per request it compiles the candidate (once per candidate, not per input),
makes a fresh empty directory (always the same path, so HOME and TMPDIR are
set once) and forks one child, the init of a new pid namespace. The child
already holds the compiled code and its input in its copy of the server's
memory; it drops the other inputs (they are not scrubbed from memory),
confines itself (own session, streams, rlimits, uid drop, parent-death
signal) and runs the trial. The server enforces the wall clock, caps output
and result, kills the child's namespace and group, maps the exit to one
clear error and removes the directory.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, NoReturn

from evoforge.records import Limits
from evoforge.sandboxes import framing
from evoforge.sandboxes.confine import (
    RESULT_FD,
    Rlimit,
    address_space_cap,
    confine_child,
    confine_process,
    hand_to_nobody,
    redirect_streams,
    remove_trial_directory,
    trial_rlimits,
)
from evoforge.sandboxes.framing import ChannelClosed
from evoforge.sandboxes.harness import (
    PreparedSpec,
    SpecProgram,
    compile_candidate,
    import_warm_modules,
    run_trial,
)
from evoforge.sandboxes.isolation import Isolation, isolate
from evoforge.sandboxes.probes import PROBE_KEY, capture_probe_calls
from evoforge.sandboxes.scores import child_message
from evoforge.sandboxes.supervise import close_all, watch_child

COMPILED_CACHE = 16


@dataclass
class ServerState:
    prepared: PreparedSpec
    inputs: dict[str, Any]
    limits: Limits
    isolation: Isolation
    rlimits: list[Rlimit]
    scratch: str  # where the trial directory is made
    owns_scratch: bool  # made by this server outside a private view: removed when it ends
    compiled: dict[str, CodeType | str] = field(default_factory=dict)


def start(setup: dict[str, Any]) -> ServerState:
    """Load everything a trial needs while the full filesystem is still visible, then isolate."""
    from evoforge.spec_inputs import resolve_inputs

    import_warm_modules()
    spec = setup["spec"]
    inputs = resolve_inputs(spec, setup["split"], setup["dataset"])
    prepared = SpecProgram(spec.source, str(spec.path), spec.evolve_name, spec.run_name).instantiate()
    if setup.get("probe"):  # record the seed's calls for fingerprint trials (trusted code, still unconfined)
        probe = capture_probe_calls(prepared, inputs, spec.seed_code)
        inputs = {**inputs, PROBE_KEY: probe} if probe is not None else inputs
    limits: Limits = setup["limits"]
    rlimits = trial_rlimits(limits, address_space_cap(limits))
    threads = len(os.listdir("/proc/self/task"))  # /proc is still visible here
    isolation = isolate(setup["private_root"], setup["pid_namespaces"])
    if threads > 1:  # a fork copies only the calling thread; a lock another one held stays held
        isolation.warnings.append(f"{spec.path}: loading the spec left {threads - 1} more thread(s) "
                                  "running; forked trials may hang on their locks: use --sandbox spawn")
    scratch, owned = isolation.scratch, False
    if scratch is None:
        scratch, owned = tempfile.mkdtemp(prefix="evoforge-trials-"), True
        os.chmod(scratch, 0o711)  # a trial that runs as nobody must reach its own directory inside
    # Set once: rewriting them per trial would copy shared pages in the child, and in the server
    # grow glibc's store of every value setenv has seen (about 140 bytes a trial, never freed).
    os.environ.update(HOME=trial_directory(scratch), TMPDIR=trial_directory(scratch))
    tempfile.tempdir = trial_directory(scratch)  # tempfile may have cached an earlier choice
    confine_process()  # inherited by every child; the server itself runs no untrusted code
    gc.freeze()  # the children's garbage collector then leaves what they share alone
    return ServerState(prepared, inputs, limits, isolation, rlimits, scratch, owned)


def trial_directory(scratch: str) -> str:
    """Where every trial runs: made fresh and empty before each fork, removed after each trial."""
    return f"{scratch}/trial"


def run_request(state: ServerState, request: dict[str, Any]) -> dict[str, Any]:
    """One trial, start to finish: its outcome with the seconds it took."""
    key, code = request["input_key"], request["code"]
    if key not in state.inputs:
        return {"error": f"unknown input {key!r}"}
    started = time.perf_counter()
    outcome = _trial(state, key, code)
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _trial(state: ServerState, key: str, code: str) -> dict[str, Any]:
    compiled = _compiled(state, code)
    if isinstance(compiled, str):
        return _failed(compiled)
    workdir = trial_directory(state.scratch)
    try:
        _make_fresh(workdir)
    except OSError as error:  # the scratch space is full or broken
        return _failed(f"sandbox: no directory for the trial ({error.strerror})")
    try:
        return _fork_and_watch(state, key, compiled, workdir)
    finally:
        remove_trial_directory(workdir)


def _make_fresh(workdir: str) -> None:
    try:
        os.mkdir(workdir, 0o700)
    except FileExistsError:  # an earlier trial's, which could not be removed then
        remove_trial_directory(workdir)
        os.mkdir(workdir, 0o700)
    hand_to_nobody(workdir)


def _failed(error: str) -> dict[str, Any]:
    return {"score": None, "error": error, "output_tail": ""}


def _compiled(state: ServerState, code: str) -> CodeType | str:
    """Checked and compiled once per candidate, not once per input; or why it may not run."""
    if code not in state.compiled:
        if len(state.compiled) >= COMPILED_CACHE:
            state.compiled.pop(next(iter(state.compiled)))
        state.compiled[code] = compile_candidate(code)
    return state.compiled[code]


def _fork_and_watch(state: ServerState, key: str, compiled: CodeType, workdir: str) -> dict[str, Any]:
    token = os.urandom(16).hex()
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    try:
        sys.stdout.flush()
        sys.stderr.flush()  # nothing of the server's may end up in the child's output
        try:
            state.isolation.before_fork()
            pid = os.fork()
        except OSError as error:  # out of memory or processes
            return _failed(f"sandbox: could not start the trial ({error})")
        if pid == 0:
            _child(state, key, compiled, workdir, token, (output_w, result_w))
        state.isolation.after_fork()
        close_all(result_w, output_w)
        return watch_child(pid, result_r, output_r, state.limits, token)
    finally:
        close_all(result_r, output_r, result_w, output_w)


def _child(state: ServerState, key: str, compiled: CodeType, workdir: str, token: str,
           fds: tuple[int, int]) -> NoReturn:
    """The forked trial: confine itself, run the candidate on its one input, report, exit."""
    status = 70
    try:
        os.setsid()
        redirect_streams(*fds)
        value = state.inputs[key]
        state.inputs.clear()
        os.chdir(workdir)
        confine_child(state.rlimits)
        outcome = run_trial(state.prepared, compiled, value)
        sys.stdout.flush()
        sys.stderr.flush()
        view = memoryview(child_message(outcome, token))
        while view:
            view = view[os.write(RESULT_FD, view) :]
        status = 0
    except BaseException:
        traceback.print_exc()  # into the child's capped output, where the record keeps its tail
    finally:
        os._exit(status)


def main() -> None:
    channel_in, channel_out = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    os.dup2(2, 1)  # stray prints from spec code must not corrupt the channel
    setup = framing.read_pickle(channel_in)
    try:
        state = start(setup)
    except Exception as error:  # a broken spec or inputs module: the user's to fix, reported once
        framing.write_json(channel_out, {"error": str(error), "kind": type(error).__name__})
        return
    del setup
    try:
        ready = {"input_keys": [key for key in state.inputs if key != PROBE_KEY],
                 "probe": PROBE_KEY in state.inputs, "warnings": state.isolation.warnings}
        framing.write_json(channel_out, ready)
        while True:
            try:
                request = framing.read_json(channel_in)
            except ChannelClosed:
                return
            framing.write_json(channel_out, run_request(state, request))
    finally:
        if state.owns_scratch:
            remove_trial_directory(state.scratch)


if __name__ == "__main__":
    main()
