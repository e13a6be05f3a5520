"""Behaviour fingerprints: a candidate's outputs on a few real calls of the evolved function, hashed.

Two candidates whose code differs only in names or layout (the LLM renames a
variable, reorders a sum) pass normalized-code dedup and would each get the
full evaluation. A fingerprint catches them cheaply: the calls the spec's
`@run` makes to the evolved function while it scores the seed program are
recorded once, in the sandbox server (trusted code: the spec and its own
seed), `CALLS_PER_INPUT` of them per training input spread over the whole
run of that input (reservoir sampling, a fixed random stream). A probe trial
then calls a candidate on each recorded call, in a forked child like any
trial, and hashes its exact outputs.

Equal fingerprints mean equal outputs on every probe call, so a genuinely
different program is merged only if it differs on none of them: outputs are
compared exactly (dtype family, shape and every value; only -0.0 and 0.0,
and integers and floats of the same value, are taken as equal), never by the
decision the spec takes from them. A candidate that raises on a probe, or a
spec whose seed cannot be recorded, gets no fingerprint and the full evaluation.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
import random
from dataclasses import dataclass
from typing import Any

PROBE_KEY = "__evoforge_probe__"
CALLS_PER_INPUT = 256
_DIGEST_NUMBERS = 4  # the 128-bit digest crosses the result channel as four 32-bit ints (exact data)
_EXACT_FLOAT_INTS = 1 << 53


@dataclass(frozen=True)
class ProbeCalls:
    """Recorded (args, kwargs) of the evolved function, and a digest that names this probe set."""

    calls: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]
    digest: str

    def outcome(self, function: Any) -> dict[str, Any]:
        """A trial outcome: the number of calls as the score, the fingerprint's digest as data."""
        hasher = hashlib.blake2b(self.digest.encode(), digest_size=16)
        for args, kwargs in self.calls:
            _feed(hasher, function(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
            hasher.update(b";")
        digest = hasher.digest()
        numbers = [int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4)]
        return {"score": float(len(self.calls)), "data": numbers}


def fingerprint_text(data: list[Any] | None) -> str | None:
    """A probe trial's data as the hex fingerprint stored with the candidate."""
    if not isinstance(data, list) or len(data) != _DIGEST_NUMBERS:
        return None
    return "".join(f"{int(n):08x}" for n in data)


class _Recorder:
    """Stands in for the evolved function while the seed is scored: calls through, keeps a sample."""

    def __init__(self, function: Any, stream: int, keep: int) -> None:
        self.function, self.keep, self.seen = function, keep, 0
        self.random = random.Random(stream)
        self.kept: list[tuple[int, tuple[tuple[Any, ...], dict[str, Any]]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        slot = len(self.kept) if len(self.kept) < self.keep else self.random.randrange(self.seen + 1)
        if slot < self.keep:
            call = (self.seen, (copy.deepcopy(args), copy.deepcopy(kwargs)))
            if slot == len(self.kept):
                self.kept.append(call)
            else:
                self.kept[slot] = call
        self.seen += 1
        return self.function(*args, **kwargs)

    def in_call_order(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [call for _, call in sorted(self.kept, key=lambda kept: kept[0])]


def capture_probe_calls(prepared: Any, inputs: dict[str, Any], seed_code: str,
                        calls_per_input: int = CALLS_PER_INPUT) -> ProbeCalls | None:
    """Score the seed on (copies of) every input, recording calls; None if that is not possible here."""
    seed_globals = prepared.candidate_globals()
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    try:
        exec(compile(seed_code, "<seed>", "exec"), seed_globals)
        seed = seed_globals[prepared.program.evolve_name]
        for stream, value in enumerate(inputs.values()):
            recorder = _Recorder(seed, stream, calls_per_input)
            prepared.guard.bind_evolved(recorder)
            prepared.run_function(copy.deepcopy(value))
            calls.extend(recorder.in_call_order())
        digest = hashlib.blake2b(pickle.dumps(calls, protocol=4), digest_size=16).hexdigest()
    except Exception:  # a seed that does not run or args that do not copy: no fingerprints, full evaluations
        return None
    return ProbeCalls(tuple(calls), digest) if calls else None


def _feed(hasher: Any, value: Any) -> None:
    """Hash a value by its content; a type it does not know is hashed by type and repr."""
    import numpy as np

    if isinstance(value, np.ndarray | np.generic):
        _feed_array(hasher, np.asarray(value))
    elif isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        hasher.update(repr((type(value).__name__, value)).encode())
    elif isinstance(value, int | float):
        _feed_array(hasher, np.asarray(value))
    elif isinstance(value, list | tuple):
        hasher.update(f"[{len(value)}".encode())
        for item in value:
            _feed(hasher, item)
        hasher.update(b"]")
    elif isinstance(value, dict):
        hasher.update(f"{{{len(value)}".encode())
        for key in sorted(value, key=repr):
            _feed(hasher, key)
            _feed(hasher, value[key])
        hasher.update(b"}")
    else:
        hasher.update(repr((type(value).__qualname__, repr(value))).encode())


def _feed_array(hasher: Any, array: Any) -> None:
    """Numbers by value: ints and floats that are equal hash alike, and -0.0 like 0.0."""
    import numpy as np

    if array.dtype.kind in "iub" and (array.size == 0 or np.abs(array).max() < _EXACT_FLOAT_INTS):
        array = array.astype(np.float64)
    elif array.dtype.kind == "f":
        array = array.astype(np.float64) + 0.0
    hasher.update(f"{array.dtype.str}{array.shape}".encode())
    hasher.update(np.ascontiguousarray(array).tobytes())
