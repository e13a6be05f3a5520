"""The warm server: one process per sandbox that forks a confined child per trial.

Started by the evaluator with `python -m evoforge.sandboxes.forkserver` and a
scrubbed environment, never forked from the evaluator itself (which may be a
multi-threaded Ray actor). It loads the spec, resolves its own inputs,
imports numpy, enters its namespaces once, then answers one JSON request
per trial on the pipes it was started with. A child gets the one input it is
scored on; the server keeps the rest, and clears them from the child's copy
of its memory before the candidate runs.
"""

from __future__ import annotations

import contextlib
import gc
import json
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any, NoReturn

from evoforge.records import Limits
from evoforge.sandboxes import framing
from evoforge.sandboxes.confine import (
    RESULT_FD,
    address_space_cap,
    confine_child,
    confine_process,
    redirect_streams,
)
from evoforge.sandboxes.framing import ChannelClosed, read_frame, write_frame
from evoforge.sandboxes.harness import PreparedSpec, SpecProgram, compile_candidate, preload, run_trial
from evoforge.sandboxes.isolation import Isolation, isolate
from evoforge.sandboxes.supervise import close_all, kill_tree, reap, watch_child

COMPILED_CACHE = 16


@dataclass
class ReadyChild:
    """A child already forked and confined, blocked on its request pipe (stdin)."""

    pid: int
    request_w: int
    result_r: int
    output_r: int
    workdir: str


@dataclass
class ServerState:
    prepared: PreparedSpec
    inputs: dict[str, Any]
    limits: Limits
    isolation: Isolation
    address_space: int
    ready: ReadyChild | None = None
    finished: list[ReadyChild] = field(default_factory=list)
    compiled: dict[str, bytes | str] = field(default_factory=dict)
    trials: int = 0


def start(setup: dict[str, Any]) -> ServerState:
    """Load everything a trial needs while the full filesystem is still visible."""
    from evoforge.spec_inputs import resolve_inputs

    preload()
    spec = setup["spec"]
    inputs = resolve_inputs(spec, setup["split"], setup["dataset"])
    program = SpecProgram(spec.source, str(spec.path), spec.evolve_name, spec.run_name)
    prepared = program.instantiate()
    limits: Limits = setup["limits"]
    address_space = address_space_cap(limits)
    isolation = isolate(setup["private_root"], setup["pid_namespaces"])
    confine_process()  # inherited by every child; the server itself runs no untrusted code
    gc.freeze()  # the children's garbage collector then leaves the shared pages alone
    return ServerState(prepared, inputs, limits, isolation, address_space)


def prefork(state: ServerState) -> ReadyChild:
    """Fork and confine the next trial's child ahead of its request.

    The fork and the child's set-up then overlap with the previous trial and
    the evaluator's turnaround instead of adding to each trial's latency.
    """
    workdir = _new_workdir(state)
    os.environ.update(HOME=workdir, TMPDIR=workdir)  # inherited by the child; the rest is already scrubbed
    request_r, request_w = os.pipe()
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    try:
        state.isolation.before_fork()
        pid = os.fork()
    except OSError:
        close_all(request_r, request_w, result_r, result_w, output_r, output_w)
        _remove(workdir)
        raise
    if pid == 0:
        _child(state, Path(workdir), request_r, output_w, result_w)
    close_all(request_r, result_w, output_w)
    return ReadyChild(pid, request_w, result_r, output_r, workdir)


def run_request(state: ServerState, request: dict[str, Any]) -> dict[str, Any]:
    """Hand one trial to the ready child, prepare the next one, and report the outcome."""
    key, code = request["input_key"], request["code"]
    if key not in state.inputs:
        return {"error": f"unknown input {key!r}"}
    started = time.perf_counter()
    compiled = _compiled(state, code)
    if isinstance(compiled, str):
        return {"score": None, "error": compiled, "output_tail": "", "seconds": time.perf_counter() - started}
    token = os.urandom(16).hex()  # what secrets.token_hex does, without its module's code per trial
    child = _hand_over(state, [key.encode(), token.encode(), compiled])
    deadline = time.monotonic() + state.limits.wall_seconds
    try:
        state.ready = prefork(state)
    except OSError as error:  # e.g. the candidate filled the scratch space: retried after cleanup
        print(f"evoforge sandbox: could not prepare the next child: {error}", file=sys.stderr)
    try:
        outcome, to_reap = watch_child(child.pid, child.result_r, child.output_r, state.limits, token,
                                       deadline, reap_later=True)
    finally:
        close_all(child.result_r, child.output_r)
    if to_reap:
        state.finished.append(child)
    else:
        _remove(child.workdir)
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _compiled(state: ServerState, code: str) -> bytes | str:
    """Checked, compiled and marshalled once per candidate, not once per input; or why not."""
    if code not in state.compiled:
        if len(state.compiled) >= COMPILED_CACHE:
            state.compiled.pop(next(iter(state.compiled)))
        state.compiled[code] = _marshalled(compile_candidate(code))
    return state.compiled[code]


def _marshalled(compiled: CodeType | str) -> bytes | str:
    if isinstance(compiled, str):
        return compiled
    try:
        return marshal.dumps(compiled)
    except ValueError:  # a thousand nested lambdas compile but cannot be marshalled
        return "rejected: the candidate's code is nested too deeply"


def _hand_over(state: ServerState, frames: list[bytes]) -> ReadyChild:
    """Give the request to the ready child; a child that died waiting is replaced once."""
    for _attempt in range(2):
        child = state.ready or prefork(state)
        state.ready = None
        try:
            for frame in frames:
                write_frame(child.request_w, frame)
            return child
        except ChannelClosed:
            _retire(child)
        finally:
            close_all(child.request_w)
    raise RuntimeError("two freshly forked sandbox children died before their request")


def _retire(child: ReadyChild) -> None:
    close_all(child.request_w, child.result_r, child.output_r)
    kill_tree(child.pid)
    reap(child.pid, block=True)
    _remove(child.workdir)


def collect_finished(state: ServerState, block: bool) -> None:
    """Reap children whose result was already sent, and remove their directories."""
    waiting = []
    for child in state.finished:
        if reap(child.pid, block):
            _remove(child.workdir)
        else:
            waiting.append(child)
    state.finished = waiting


def _child(state: ServerState, workdir: Path, request_r: int, output_w: int, result_w: int) -> NoReturn:
    status = 70
    try:
        os.setsid()
        redirect_streams(request_r, output_w, result_w)
        confine_child(state.limits, workdir, state.address_space)
        key, token = read_frame(0).decode(), read_frame(0).decode()
        code = marshal.loads(read_frame(0))  # compiled by the server, which checked it first
        value = state.inputs[key]
        state.inputs.clear()
        outcome = run_trial(state.prepared, code, value)
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["token"] = token
        view = memoryview(json.dumps(outcome).encode())
        while view:
            view = view[os.write(RESULT_FD, view) :]
        os.closerange(1, RESULT_FD + 1)  # end of stream: the server need not wait for this exit
        status = 0
    except ChannelClosed:
        status = 0  # the server shut down before giving this child a trial
    except BaseException:
        traceback.print_exc()  # into the child's capped output, where the record keeps its tail
    finally:
        os._exit(status)


def _new_workdir(state: ServerState) -> str:
    """An empty directory of root's, 0700, that no earlier trial has used.

    In the private scratch area (root's, mode 0711) nobody else can create
    entries, so a counter names it and mkdir alone makes it: far less code
    per trial than mkdtemp, whose writes to the server's memory each cost a
    copy-on-write fault while a forked child shares it. Without that area
    the directory lies in a shared /tmp, where mkdtemp's random name is kept.
    """
    if state.isolation.scratch is None:
        return tempfile.mkdtemp(prefix="trial-")
    while True:
        state.trials += 1
        path = f"{state.isolation.scratch}/trial-{state.trials}"
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # left behind by a removal that failed: skipped, never reused
            continue
        return path


def _remove(workdir: str) -> None:
    """Delete a finished trial's directory, however deep the candidate nested it."""
    with contextlib.suppress(OSError):
        os.rmdir(workdir)  # most candidates write no files: one syscall instead of rmtree's walk
        return
    try:
        shutil.rmtree(workdir)
    except RecursionError:  # thousands of nested directories: rm walks them without recursion
        subprocess.run(["rm", "-rf", "--one-file-system", workdir], check=False,
                       env={"PATH": "/usr/bin:/bin"})
    except OSError as error:
        print(f"evoforge sandbox: could not remove {workdir}: {error}", file=sys.stderr)


def main() -> None:
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints from spec code must not corrupt the channel
    setup = framing.read_pickle(channel_in)
    try:
        state = start(setup)
    except Exception as error:  # a broken spec or inputs module: the user's to fix, reported once
        framing.write_json(channel_out, {"error": str(error), "kind": type(error).__name__})
        return
    del setup
    framing.write_json(channel_out, {"input_keys": list(state.inputs), "warnings": state.isolation.warnings})
    try:
        serve(state, channel_in, channel_out)
    finally:
        if state.ready:
            _retire(state.ready)
        collect_finished(state, block=True)


def serve(state: ServerState, channel_in: int, channel_out: int) -> None:
    state.ready = prefork(state)
    while True:
        try:
            request = framing.read_json(channel_in)
        except ChannelClosed:
            return
        framing.write_json(channel_out, run_request(state, request))
        collect_finished(state, block=False)


if __name__ == "__main__":
    main()
