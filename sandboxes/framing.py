"""Length-prefixed messages over pipes: JSON for requests and results, pickle only for trusted setup.

Pickle crosses only from the evaluator to a sandbox process it starts, before
any candidate code exists there; nothing a candidate could have touched is
ever unpickled.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import struct
import time
from typing import Any

HEADER = struct.Struct(">I")
MAX_MESSAGE = 1 << 30


class ChannelClosed(Exception):
    """The other end went away (EOF, broken pipe) or did not answer in time."""


def write_frame(fd: int, payload: bytes) -> None:
    """The payload after its length, in one write where the pipe takes it."""
    data = memoryview(HEADER.pack(len(payload)) + payload)
    try:
        while data:
            data = data[os.write(fd, data) :]
    except (BrokenPipeError, OSError) as error:
        raise ChannelClosed(f"write failed: {error}") from None


def read_frame(fd: int, deadline: float | None = None) -> bytes:
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise ChannelClosed(f"message of {size} bytes is larger than allowed")
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ChannelClosed("no answer before the deadline")
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise ChannelClosed("end of stream")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def write_json(fd: int, message: Any) -> None:
    write_frame(fd, json.dumps(message).encode())


def read_json(fd: int, deadline: float | None = None) -> Any:
    return json.loads(read_frame(fd, deadline))


def write_pickle(fd: int, value: Any) -> None:
    write_frame(fd, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def read_pickle(fd: int, deadline: float | None = None) -> Any:
    return pickle.loads(read_frame(fd, deadline))
