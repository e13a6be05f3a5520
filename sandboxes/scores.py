"""Turning what crossed the sandbox boundary into a score the database can trust.

A score is accepted only as an exact int, float, bool or numpy number type:
no subclasses and no `__float__` of a foreign object, because a candidate
controls those methods. The parent re-checks the child's JSON the same way,
since the child's whole process is the candidate's to corrupt.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any, NamedTuple

MAX_ERROR_CHARS = 500
MAX_REPORTED_IMPORTS = 32
_PLAIN_TYPES = (int, float, bool)


class ChildResult(NamedTuple):
    """What a trial's one message says: a score or an error, and the modules the trial imported
    (a hint for the server's preloading, never trusted beyond its allow-list)."""

    score: float | None
    error: str | None
    imported: tuple[str, ...] = ()


def checked_score(value: Any) -> tuple[float | None, str | None]:
    """(score, None) for a finite real number, else (None, why it is not one)."""
    kind = type(value)
    if kind not in _PLAIN_TYPES and not _is_numpy_number_type(kind):
        return None, f"invalid result: expected a number, got {_type_name(kind)}"
    try:
        number = float(value)
    except OverflowError:
        return None, "invalid result: integer too large for a float score"
    if not math.isfinite(number):
        return None, f"invalid result: score is {number}"
    return number, None


@functools.cache
def _numpy_number_types() -> frozenset[type]:
    """numpy's own scalar number types, by identity: a subclass (even one claiming
    `__module__ = "numpy"`) could override `__float__`."""
    import numpy as np

    return frozenset(
        kind for kind in np.sctypeDict.values()
        if issubclass(kind, np.integer | np.floating | np.bool_) and not issubclass(kind, np.timedelta64)
    )


def _is_numpy_number_type(kind: type) -> bool:
    return kind in _numpy_number_types()


def _type_name(kind: type) -> str:
    name = getattr(kind, "__name__", "?")
    return name if isinstance(name, str) else "?"


def short(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """One line, at most `limit` characters: errors are stored per trial."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def child_message(outcome: dict[str, Any], token: str) -> bytes:
    """A trial's one JSON message for the result channel.

    The common case, a bare score, is formatted by hand: in a forked child,
    json's encoder machinery copies about a dozen pages more. A float that
    `checked_score` let through is finite, and its repr is a JSON number.
    """
    score = outcome.get("score")
    if type(score) is float and len(outcome) == 1:
        return b'{"score": %s, "token": "%s"}' % (repr(score).encode(), token.encode())
    return json.dumps({**outcome, "token": token}).encode()


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def decode_child_result(raw: bytes, token: str) -> ChildResult:
    """Read the child's one JSON message; anything malformed is the candidate's doing."""
    try:
        message = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # "[[[[..." must not crash the server
        return _invalid("the result channel held something other than one JSON message")
    if not isinstance(message, dict) or message.get("token") != token:
        return _invalid("the result channel was written by the candidate, not the harness")
    score, error, imported = message.get("score"), message.get("error"), _names(message.get("imported"))
    if error is not None:
        return ChildResult(None, short(error), imported) if isinstance(error, str) else _invalid("bad error")
    if type(score) not in (int, float) or not math.isfinite(score):
        return _invalid("malformed score")
    return ChildResult(float(score), None, imported)


def _invalid(why: str) -> ChildResult:
    return ChildResult(None, f"invalid result: {why}")


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(name for name in value[:MAX_REPORTED_IMPORTS] if isinstance(name, str) and len(name) < 100)
