"""Turning what crossed the sandbox boundary into a score (and data) the database can trust.

A spec's `@run` returns a number, or `{"score": number, "data": [...]}` when
a later stage needs more than the score (the design field a candidate
produced, for a surrogate). A score is accepted only as an exact int, float,
bool or numpy number type: no subclasses and no `__float__` of a foreign
object, because a candidate controls those methods. Data is held to the
same rule, number by number: exact lists (at most `MAX_DATA_DEPTH` deep) of
exact, finite numbers, at most `MAX_DATA_NUMBERS` of them. The parent
re-checks the child's JSON the same way, since the child's whole process is
the candidate's to corrupt.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any, NamedTuple

MAX_ERROR_CHARS = 500
MAX_DATA_NUMBERS = 1 << 18
MAX_DATA_LISTS = 1 << 18  # empty lists carry no number but still cost the parent memory
MAX_DATA_DEPTH = 4
DATA_INT_BOUND = 1 << 63  # ints in data fit a signed 64-bit integer (and so a short JSON number)
# A full data list as JSON: at most 26 bytes a number ("-2.2250738585072014e-308, "), 4 a list ("[], "),
# plus room for an error message and the token.
MAX_RESULT_BYTES = 26 * MAX_DATA_NUMBERS + 4 * MAX_DATA_LISTS + (64 << 10)
_PLAIN_TYPES = (int, float, bool)
_RESULT_KEYS = frozenset({"score", "data"})


class ChildResult(NamedTuple):
    """What a trial's one message says: a score or an error, and the data beside the score."""

    score: float | None
    error: str | None
    data: list[Any] | None = None


def checked_outcome(value: Any) -> dict[str, Any]:
    """What the spec's `@run` returned, as a trial's outcome: {"score"}, {"score", "data"} or {"error"}.

    A dict must be an exact dict with exact str keys `score` and (optionally)
    `data`. It is meant to be built by the spec's own (trusted) code: a spec
    that returns a candidate's value unchanged lets the candidate choose its
    score, and so its data, though both still pass these checks.
    """
    if type(value) is not dict:
        score, problem = checked_score(value)
        return {"score": score} if problem is None else {"error": problem}
    if not all(type(key) is str for key in value) or "score" not in value or not set(value) <= _RESULT_KEYS:
        return {"error": "invalid result: a dict result has the keys 'score' and (optionally) 'data' only"}
    score, problem = checked_score(value["score"])
    if problem is not None:
        return {"error": problem}
    if "data" not in value:
        return {"score": score}
    data, problem = checked_data(value["data"])
    return {"score": score, "data": data} if problem is None else {"error": problem}


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


class _BadData(Exception):
    """Why a data value is not a plain, bounded, finite list of numbers."""


def checked_data(value: Any, from_json: bool = False) -> tuple[list[Any] | None, str | None]:
    """(a plain copy of `value`, None) for a valid data list, else (None, why it is not one).

    The copy holds only Python ints and floats (numpy numbers and bools are
    converted), so it crosses JSON unchanged. `from_json`: the parent's check
    of what the child sent, where anything but an int or a float is forged.
    """
    counts = [0, 0]  # numbers, lists
    try:
        return _plain_list(value, 1, counts, from_json), None
    except _BadData as why:
        return None, f"invalid result: data {why}"


def _plain_list(value: Any, depth: int, counts: list[int], from_json: bool) -> list[Any]:
    if type(value) is not list:
        raise _BadData(f"must be a list, got {_type_name(type(value))}")
    if depth > MAX_DATA_DEPTH:
        raise _BadData(f"nests lists more than {MAX_DATA_DEPTH} deep")
    counts[1] += 1
    if counts[1] > MAX_DATA_LISTS:
        raise _BadData(f"is too large: more than {MAX_DATA_LISTS} lists")
    plain: list[Any] = []
    for item in value:
        kind = type(item)
        if kind is list:
            plain.append(_plain_list(item, depth + 1, counts, from_json))
            continue
        counts[0] += 1
        if counts[0] > MAX_DATA_NUMBERS:
            raise _BadData(f"is too large: more than {MAX_DATA_NUMBERS} numbers")
        if kind is float:
            if not math.isfinite(item):
                raise _BadData(f"holds the non-finite number {item}")
            plain.append(item)
        elif from_json and kind is not int:
            raise _BadData(f"holds a {_type_name(kind)}, not a number")
        else:
            plain.append(_plain_number(item, kind))
    return plain


def _plain_number(item: Any, kind: type) -> int | float:
    """An exact int, bool or numpy number as a plain, finite int or float."""
    if kind is not int and kind is not bool and not _is_numpy_number_type(kind):
        raise _BadData(f"holds a {_type_name(kind)}, not a number")
    if kind is bool or kind is int or issubclass(kind, _numpy_integer_types()):
        number: int | float = int(item)
        if not -DATA_INT_BOUND <= number < DATA_INT_BOUND:
            raise _BadData("holds an integer outside the signed 64-bit range")
        return number
    number = float(item)
    if not math.isfinite(number):
        raise _BadData(f"holds the non-finite number {number}")
    return number


@functools.cache
def _numpy_integer_types() -> tuple[type, ...]:
    import numpy as np

    return (np.integer, np.bool_)


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


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


# Made once, before any fork: json.dumps/loads with options build a new encoder or decoder per
# call, whose fresh objects a forked trial (or the server, while the trial lives) pays for in
# copied pages (10-30 page faults a trial).
_ENCODER = json.JSONEncoder(allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def child_message(outcome: dict[str, Any], token: str) -> bytes:
    """A trial's one JSON message for the result channel (its numbers were checked finite)."""
    return _ENCODER.encode({**outcome, "token": token}).encode()


def decode_child_result(raw: bytes, token: str) -> ChildResult:
    """Read the child's one JSON message; anything malformed is the candidate's doing."""
    try:
        message = _DECODER.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # "[[[[..." must not crash the server
        return _invalid("the result channel held something other than one JSON message")
    if not isinstance(message, dict) or message.get("token") != token:
        return _invalid("the result channel was written by the candidate, not the harness")
    score, error = message.get("score"), message.get("error")
    if error is not None:
        return ChildResult(None, short(error)) if isinstance(error, str) else _invalid("bad error")
    if type(score) not in (int, float) or not math.isfinite(score):
        return _invalid("malformed score")
    if "data" not in message:
        return ChildResult(float(score), None)
    data, problem = checked_data(message["data"], from_json=True)
    if problem is not None:
        return _invalid(f"malformed data ({problem.removeprefix('invalid result: ')})")
    return ChildResult(float(score), None, data)


def _invalid(why: str) -> ChildResult:
    return ChildResult(None, f"invalid result: {why}")

