"""The warm server: one process per sandbox that runs each trial in a fresh, confined child.

Started by the evaluator through `evoforge.forkserver_launch`, with a
scrubbed environment, never forked from the evaluator itself (which may be a
multi-threaded Ray actor). It loads the spec, resolves its own inputs,
imports numpy and enters its namespaces once, then forks its zygote
(`zygote.py`), which clones the trial children, and answers one JSON request
per trial on the pipes it was started with. A child gets the one input it is
scored on and clears the rest from its copy of the server's memory before
the candidate runs.

One child is always cloned and confined ahead of the next request, so a
trial's latency is the candidate's run plus a few pipe hops: the clone, the
confinement and the previous child's exit overlap with it.

Imports: everything this process has loaded when it forks the zygote is
mapped into every child, and each mapping costs about 4 µs per trial
(copied at the clone, torn down at the exit; a shared library is five
mappings). So modules only an unusual path needs (shutil, tempfile,
subprocess, which bring three compression libraries) are imported where
they are used, and what candidates import is preloaded only once a child
has shown it is wanted (`harness.PRELOADABLE`).
"""

from __future__ import annotations

import _random
import contextlib
import functools
import gc
import marshal
import os
import random
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from types import CodeType, ModuleType
from typing import Any, NoReturn

from evoforge.forkserver_launch import NATIVE_FLAG
from evoforge.records import Limits
from evoforge.sandboxes import framing, hugepages
from evoforge.sandboxes.confine import (
    RESULT_FD,
    Rlimit,
    address_space_cap,
    confine_clone,
    confine_process,
    trial_rlimits,
)
from evoforge.sandboxes.framing import ChannelClosed, read_frame, write_frames
from evoforge.sandboxes.harness import (
    PRELOADABLE,
    PreparedSpec,
    SpecProgram,
    compile_candidate,
    imported_preloadable,
    preload,
    run_trial,
)
from evoforge.sandboxes.isolation import Isolation, isolate
from evoforge.sandboxes.scores import child_message
from evoforge.sandboxes.supervise import close_all, kill_tree, reap, watch_child
from evoforge.sandboxes.trial_dirs import TrialDirs, remove
from evoforge.sandboxes.zygote import Zygote, ZygoteGone, native_module, start_zygote

COMPILED_CACHE = 16
ZYGOTE_SECONDS = 30.0  # a clone takes about a millisecond: no answer in this long means it is stuck


@dataclass
class Child:
    """The server's ends of one child's pipes; its pid once the zygote answered, and where its
    directory went once its trial was over."""

    request_w: int
    result_r: int
    output_r: int
    pid: int = 0
    workdir: str = ""


@dataclass
class ServerState:
    prepared: PreparedSpec
    inputs: dict[str, Any]
    limits: Limits
    isolation: Isolation
    rlimits: list[Rlimit]
    dirs: TrialDirs
    native: ModuleType | None
    huge_spans: list[hugepages.Span]
    zygote: Zygote | None = None
    asked: deque[Child] = field(default_factory=deque)  # asked of the zygote, oldest first
    finished: list[Child] = field(default_factory=list)
    compiled: dict[str, bytes | str] = field(default_factory=dict)
    preloaded: set[str] = field(default_factory=set)  # asked of the zygote already


def start(setup: dict[str, Any], native: ModuleType | None) -> ServerState:
    """Load everything a trial needs while the full filesystem is still visible."""
    from evoforge.spec_inputs import resolve_inputs

    preload()
    spec = setup["spec"]
    inputs = resolve_inputs(spec, setup["split"], setup["dataset"])
    program = SpecProgram(spec.source, str(spec.path), spec.evolve_name, spec.run_name)
    prepared = program.instantiate()
    limits: Limits = setup["limits"]
    huge_spans = hugepages.seal(native, hugepages.heap_start())  # before the address space is measured
    rlimits = trial_rlimits(limits, address_space_cap(limits))
    threads = len(os.listdir("/proc/self/task"))  # /proc is still visible here
    isolation = isolate(setup["private_root"], setup["pid_namespaces"])
    if threads > 1:  # a fork copies only the calling thread; a lock another one held stays held
        isolation.warnings.append(f"{spec.path}: loading the spec left {threads - 1} more thread(s) "
                                  "running; forked trials may hang on their locks: use --sandbox spawn")
    dirs = TrialDirs.under(isolation.scratch)
    os.environ.update(HOME=dirs.current, TMPDIR=dirs.current)  # the rest was scrubbed when it started
    confine_process()  # inherited by every child; the server itself runs no untrusted code
    gc.freeze()  # the children's garbage collector then leaves the shared pages alone
    return ServerState(prepared, inputs, limits, isolation, rlimits, dirs, native, huge_spans)


def ask_for_child(state: ServerState) -> None:
    """Have the zygote clone and confine the next trial's child ahead of its request.

    The clone and the child's set-up then overlap with the trial in flight
    and the evaluator's turnaround instead of adding to each trial's latency.
    """
    assert state.zygote is not None
    request_r, request_w = os.pipe()
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    try:
        state.zygote.ask([request_r, output_w, result_w])
    except ZygoteGone:
        close_all(request_w, result_r, output_r)
        raise
    finally:
        close_all(request_r, result_w, output_w)  # the zygote holds its own copies until it clones
    state.asked.append(Child(request_w, result_r, output_r))


def _next_child(state: ServerState) -> Child:
    """The oldest child asked for, once the zygote has cloned it (asking first if none is)."""
    assert state.zygote is not None
    if not state.asked:
        ask_for_child(state)
    child = state.asked.popleft()
    try:
        child.pid = state.zygote.next_pid(ZYGOTE_SECONDS)
    except (OSError, ZygoteGone):
        _discard(child)
        raise
    return child


def run_request(state: ServerState, request: dict[str, Any]) -> tuple[dict[str, Any], Child | None]:
    """Hand one trial to the waiting child, ask for the next one; the outcome, and the child whose
    clean-up (`after_trial`) can wait until the outcome has been sent."""
    key, code = request["input_key"], request["code"]
    if key not in state.inputs:
        return {"error": f"unknown input {key!r}"}, None
    started = time.perf_counter()
    compiled = _compiled(state, code)
    if isinstance(compiled, str):
        seconds = time.perf_counter() - started
        return {"score": None, "error": compiled, "output_tail": "", "seconds": seconds}, None
    token = os.urandom(16).hex()  # what secrets.token_hex does, without its module's code per trial
    try:
        state.dirs.make()  # made after the last trial's reply already, unless that failed
    except OSError as error:  # the scratch space is full: the finished trials' removal frees it
        collect_finished(state, block=True)
        return {"score": None, "error": f"sandbox: no directory for the trial ({error.strerror})",
                "output_tail": "", "seconds": time.perf_counter() - started}, None
    child = _hand_over(state, [key.encode(), token.encode(), compiled])
    deadline = time.monotonic() + state.limits.wall_seconds
    try:
        ask_for_child(state)
    except OSError as error:
        print(f"evoforge sandbox: could not prepare the next child: {error}", file=sys.stderr)
    try:
        outcome, to_reap = watch_child(child.pid, child.result_r, child.output_r, state.limits, token,
                                       deadline, reap_later=True)
    finally:
        close_all(child.result_r, child.output_r)
    if not to_reap:
        child.pid = 0  # reaped already
    outcome["seconds"] = time.perf_counter() - started
    return outcome, child


def after_trial(state: ServerState, child: Child, imported: tuple[str, ...]) -> None:
    """What a trial leaves to do once its outcome is sent: its directory moved out of the next
    trial's way and the next one made, the zygote told what to preload."""
    child.workdir = state.dirs.move_aside()  # before the next request: the path is the next trial's
    if child.pid:
        state.finished.append(child)  # SIGKILLed already; removed once reaped
    else:
        remove(child.workdir)
    _preload(state, imported)
    with contextlib.suppress(OSError):  # if this fails, the next request tries again and says why
        state.dirs.make()


def _preload(state: ServerState, reported: tuple[str, ...]) -> None:
    """Have the zygote import what a trial imported, if it is on the allow-list and new."""
    wanted = [name for name in reported if name in PRELOADABLE and name not in state.preloaded]
    if wanted and state.zygote is not None:
        state.zygote.preload(wanted)
        state.preloaded.update(wanted)


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


def _hand_over(state: ServerState, frames: list[bytes]) -> Child:
    """Give the request to the waiting child; a child that died waiting is replaced once."""
    for _attempt in range(2):
        child = _next_child(state)
        try:
            write_frames(child.request_w, frames)
            return child
        except ChannelClosed:
            _retire(child)
        finally:
            close_all(child.request_w)
    raise RuntimeError("two freshly cloned sandbox children died before their request")


def _retire(child: Child) -> None:
    kill_tree(child.pid)
    reap(child.pid, block=True)
    _discard(child)


def _discard(child: Child) -> None:
    """Close what the server holds of a child that will never run a trial."""
    close_all(child.request_w, child.result_r, child.output_r)


def collect_finished(state: ServerState, block: bool) -> None:
    """Reap children whose result was already sent, and remove their directories."""
    waiting = []
    for child in state.finished:
        if reap(child.pid, block):
            remove(child.workdir)
        else:
            waiting.append(child)
    state.finished = waiting


def _child(state: ServerState, fds: list[int]) -> NoReturn:
    """A clone of the zygote: confine itself, wait for its one request, run it, report, exit."""
    status = 70
    try:
        confine_clone(fds, state.rlimits, state.native)
        _random.Random.seed(random._inst)  # what os.fork's at-fork hook does (random.seed's C core)
        key, token = read_frame(0).decode(), read_frame(0).decode()
        os.chdir(state.dirs.current)  # made for this trial just before its request was sent
        code = marshal.loads(read_frame(0))  # compiled by the server, which checked it first
        value = state.inputs[key]
        state.inputs.clear()
        modules_before = len(sys.modules)
        outcome = run_trial(state.prepared, code, value)
        sys.stdout.flush()
        sys.stderr.flush()
        imported = imported_preloadable(modules_before)
        if imported:
            outcome["imported"] = imported
        view = memoryview(child_message(outcome, token))
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


def main() -> None:
    os.environ.pop("LD_BIND_NOW", None)  # read by the loader already; see fork_client
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints from spec code must not corrupt the channel
    native = native_module() if NATIVE_FLAG in sys.argv else None  # loaded and reserving arenas already
    setup = framing.read_pickle(channel_in)
    try:
        state = start(setup, native)
    except Exception as error:  # a broken spec or inputs module: the user's to fix, reported once
        framing.write_json(channel_out, {"error": str(error), "kind": type(error).__name__})
        return
    del setup
    try:
        state.zygote = start_zygote(functools.partial(_child, state), state.isolation.clone_flags,
                                    state.native, functools.partial(hugepages.back_shared_memory,
                                                                    state.native, state.huge_spans))
        ask_for_child(state)
        framing.write_json(channel_out, {
            "input_keys": list(state.inputs), "native": state.native is not None,
            "zygote_pid": state.zygote.pid, "warnings": state.isolation.warnings,
        })
        serve(state, channel_in, channel_out)
    finally:
        shut_down(state)


def serve(state: ServerState, channel_in: int, channel_out: int) -> None:
    while True:
        try:
            request = framing.read_json(channel_in)
        except ChannelClosed:
            return
        outcome, child = run_request(state, request)
        imported = outcome.pop("imported", ())
        framing.write_json(channel_out, outcome)
        if child is not None:
            after_trial(state, child, imported)
        collect_finished(state, block=False)


def shut_down(state: ServerState) -> None:
    """Retire the children asked for, end the zygote, and wait for every child still exiting."""
    if state.zygote is None:
        return
    while state.asked:
        try:
            _retire(_next_child(state))
        except (OSError, ZygoteGone):
            continue  # _next_child discarded it
    state.zygote.close()
    collect_finished(state, block=True)
    state.dirs.remove_all()


if __name__ == "__main__":
    main()
