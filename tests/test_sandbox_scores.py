"""What counts as a score, on both sides of the sandbox boundary, and the pipe framing."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from evoforge.sandboxes.framing import ChannelClosed, read_json, write_json
from evoforge.sandboxes.scores import checked_score, decode_child_result

TOKEN = "0123abcd"


@pytest.mark.parametrize("value, expected", [
    (3, 3.0), (-2.5, -2.5), (True, 1.0), (np.float64(0.25), 0.25), (np.int32(7), 7.0),
    (np.float32(1.5), 1.5), (np.bool_(False), 0.0),
])
def test_real_numbers_are_scores(value: object, expected: float) -> None:
    assert checked_score(value) == (expected, None)


@pytest.mark.parametrize("value, reason", [
    (float("nan"), "invalid result: score is nan"),
    (np.float64("-inf"), "invalid result: score is -inf"),
    (10**400, "invalid result: integer too large for a float score"),
    ("1.0", "invalid result: expected a number, got str"),
    (None, "invalid result: expected a number, got NoneType"),
    (np.array(1.0), "invalid result: expected a number, got ndarray"),
    ([1.0], "invalid result: expected a number, got list"),
    (1 + 2j, "invalid result: expected a number, got complex"),
])
def test_everything_else_is_a_recorded_error(value: object, reason: str) -> None:
    assert checked_score(value) == (None, reason)


def test_subclasses_of_numbers_are_refused() -> None:
    class Inflated(int):
        def __float__(self) -> float:
            return 1e9

    assert checked_score(Inflated(1)) == (None, "invalid result: expected a number, got Inflated")


def test_child_result_needs_the_token() -> None:
    good = json.dumps({"score": 2.5, "token": TOKEN}).encode()
    forged = json.dumps({"score": 1e9, "token": "guess"}).encode()
    assert decode_child_result(good, TOKEN) == (2.5, None, (), None)
    forged_error = decode_child_result(forged, TOKEN).error
    assert forged_error.startswith("invalid result: the result channel was written")


@pytest.mark.parametrize("raw", [
    b'{"score": NaN, "token": "0123abcd"}', b'{"score": Infinity, "token": "0123abcd"}',
    b'{"score": "1", "token": "0123abcd"}', b'{"score": 1}{"score": 2}', b"\xff\xfe", b"[]",
    b"[" * 60_000,
])
def test_malformed_child_results_are_errors(raw: bytes) -> None:
    score, error = decode_child_result(raw, TOKEN)[:2]
    assert score is None and error.startswith("invalid result")


def test_child_error_is_kept_short_and_on_one_line() -> None:
    raw = json.dumps({"error": "Boom\n" + "x" * 5000, "token": TOKEN}).encode()
    score, error = decode_child_result(raw, TOKEN)[:2]
    assert score is None and "\n" not in error and len(error) <= 500 and error.startswith("Boom x")


def test_framed_messages_cross_a_pipe_intact() -> None:
    read_end, write_end = os.pipe()
    try:
        write_json(write_end, {"code": "def f():\n    return 'é'\n", "n": [1, 2]})
        assert read_json(read_end) == {"code": "def f():\n    return 'é'\n", "n": [1, 2]}
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_closed_pipe_is_channel_closed_not_a_hang() -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)
    with pytest.raises(ChannelClosed):
        read_json(read_end)
    os.close(read_end)


def test_a_numpy_subclass_claiming_to_be_numpy_is_refused() -> None:
    class Disguised(np.float64):
        __module__ = "numpy"

        def __float__(self) -> float:
            return 1e9

    assert checked_score(Disguised(1.0)) == (None, "invalid result: expected a number, got Disguised")
    assert checked_score(np.timedelta64(5)) == (None, "invalid result: expected a number, got timedelta64")
