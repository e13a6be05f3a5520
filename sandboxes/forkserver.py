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

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any, NoReturn

from evoforge.records import Limits
from evoforge.sandboxes.confine import RESULT_FD, address_space_cap, confine_child, redirect_streams
from evoforge.sandboxes.framing import ChannelClosed, read_json, read_pickle, write_json
from evoforge.sandboxes.harness import PreparedSpec, SpecProgram, compile_candidate, preload, run_trial
from evoforge.sandboxes.isolation import Isolation, isolate
from evoforge.sandboxes.supervise import close_all, watch_child


@dataclass
class ServerState:
    prepared: PreparedSpec
    inputs: dict[str, Any]
    limits: Limits
    isolation: Isolation
    address_space: int


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
    isolation = isolate(setup["private_root"], setup["pid_namespaces"], setup["read_only"])
    return ServerState(prepared, inputs, limits, isolation, address_space)


def run_request(state: ServerState, request: dict[str, Any]) -> dict[str, Any]:
    """Fork one child for one trial and report what became of it."""
    key, code = request["input_key"], request["code"]
    if key not in state.inputs:
        return {"error": f"unknown input {key!r}"}
    started = time.perf_counter()
    compiled = compile_candidate(code)
    if isinstance(compiled, str):
        return {"score": None, "error": compiled, "output_tail": "", "seconds": time.perf_counter() - started}
    workdir = tempfile.mkdtemp(prefix="trial-", dir=state.isolation.scratch)
    os.environ.update(HOME=workdir, TMPDIR=workdir)  # inherited by the child; the rest is already scrubbed
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    token = secrets.token_hex(16)
    try:
        state.isolation.before_fork()
        pid = os.fork()
        if pid == 0:
            _child(state, key, compiled, token, Path(workdir), output_w, result_w)
        os.close(result_w)
        os.close(output_w)
        outcome = watch_child(pid, result_r, output_r, state.limits, token)
    finally:
        close_all(result_r, output_r, result_w, output_w)
        _remove(workdir)
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _child(state: ServerState, key: str, code: CodeType, token: str, workdir: Path,
           output_w: int, result_w: int) -> NoReturn:
    status = 70
    try:
        os.setsid()
        redirect_streams(output_w, result_w)
        value = state.inputs[key]
        state.inputs.clear()
        confine_child(state.limits, workdir, state.address_space)
        outcome = run_trial(state.prepared, code, value)
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["token"] = token
        view = memoryview(json.dumps(outcome).encode())
        while view:
            view = view[os.write(RESULT_FD, view) :]
        status = 0
    except BaseException:
        traceback.print_exc()  # into the child's capped output, where the record keeps its tail
    finally:
        os._exit(status)


def _remove(workdir: str) -> None:
    try:
        shutil.rmtree(workdir)
    except OSError as error:
        print(f"evoforge sandbox: could not remove {workdir}: {error}", file=sys.stderr)


def main() -> None:
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints from spec code must not corrupt the channel
    setup = read_pickle(channel_in)
    try:
        state = start(setup)
    except Exception as error:  # a broken spec or inputs module: the user's to fix, reported once
        write_json(channel_out, {"error": f"{type(error).__name__}: {error}"})
        return
    del setup
    write_json(channel_out, {"input_keys": list(state.inputs), "warnings": state.isolation.warnings})
    while True:
        try:
            request = read_json(channel_in)
        except ChannelClosed:
            return
        write_json(channel_out, run_request(state, request))


if __name__ == "__main__":
    main()
