"""Has a dict been written to since a given moment? Read from CPython's dict version tag (PEP 509).

Why: the tamper guard's final check compared every builtin and every
spec-level binding by identity, and in a forked child each comparison
increfs an object and so copies its page: about 80 page copies, a fifth of
a millisecond every trial. CPython keeps a version tag in each dict that
changes whenever one of its entries does; reading it touches nothing.
Where the tag is missing or does not behave as probed below (another
implementation or layout), `version` returns None and callers compare by
identity as before.
"""

from __future__ import annotations

import ctypes
import sys
import sysconfig
from typing import Any

_OFFSET = 3 * ctypes.sizeof(ctypes.c_ssize_t)  # after ob_refcnt, ob_type and ma_used


def _read(mapping: dict[Any, Any]) -> int:
    return ctypes.c_uint64.from_address(id(mapping) + _OFFSET).value


def _behaves() -> bool:
    """The word changes on every write (same size, new value) and on nothing else."""
    if sys.implementation.name != "cpython" or sysconfig.get_config_var("Py_GIL_DISABLED"):
        return False
    probe: dict[str, object] = {"a": 0}
    seen = []
    for value in (object(), object(), object()):
        probe["a"] = value
        seen.append(_read(probe))
        _ = probe["a"], probe.get("b"), len(probe)
        seen.append(_read(probe))
    return seen[0] == seen[1] < seen[2] == seen[3] < seen[4] == seen[5]


SUPPORTED = _behaves()


def version(mapping: dict[Any, Any]) -> int | None:
    """A number that changes whenever `mapping` is written to; None where that cannot be read."""
    return _read(mapping) if SUPPORTED else None
