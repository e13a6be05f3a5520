"""Read a GGUF file's header: what model a file really is, without loading it.

The embedded weights come from a third-party re-upload, so evoforge checks
what the file says about itself (name, architecture, context, quantization)
and shows it. A few dozen lines of struct reading keep this free of any
dependency.
"""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9
# ggml tensor type ids -> names (the ones a llama.cpp quantization produces).
TENSOR_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 30: "BF16",
}  # fmt: skip
# llama.cpp's `general.file_type` ids (the name a quantization run was given).
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
}  # fmt: skip


def read_gguf_metadata(path: Path) -> dict[str, Any]:
    """The header's key/values (long arrays summarised by length) plus a summary.

    Adds `evoforge.tensor_types` (count per quantization type) and
    `evoforge.quantization` (the type holding most tensors, e.g. "Q5_0").
    """
    with open(path, "rb") as handle:
        if handle.read(4) != MAGIC:
            raise ValueError(f"{path} is not a GGUF file (bad magic)")
        version, tensor_count, kv_count = struct.unpack("<IQQ", handle.read(20))
        meta: dict[str, Any] = {"gguf.version": version}
        for _ in range(kv_count):
            key = _read_string(handle)
            meta[key] = _read_value(handle, struct.unpack("<I", handle.read(4))[0])
        types = Counter(_read_tensor_type(handle) for _ in range(tensor_count))
    meta["evoforge.tensor_types"] = dict(types)
    meta["evoforge.quantization"] = types.most_common(1)[0][0] if types else "none"
    return meta


def summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The handful of fields a person checks: name, architecture, context, quantization."""
    arch = meta.get("general.architecture", "?")
    return {
        "name": meta.get("general.name", "?"),
        "architecture": arch,
        "context_length": meta.get(f"{arch}.context_length"),
        "file_type": FILE_TYPES.get(meta.get("general.file_type", -1), meta.get("general.file_type")),
        "quantization": meta.get("evoforge.quantization"),
        "tensor_types": meta.get("evoforge.tensor_types"),
    }


def _read_string(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", handle.read(8))
    return handle.read(length).decode("utf-8", errors="replace")


def _read_value(handle: BinaryIO, kind: int) -> Any:
    if kind == _STRING:
        return _read_string(handle)
    if kind == _ARRAY:
        item_kind, length = struct.unpack("<IQ", handle.read(12))
        items = [_read_value(handle, item_kind) for _ in range(length)]
        return items if length <= 16 else f"<array of {length}>"
    fmt = _SCALARS.get(kind)
    if fmt is None:
        raise ValueError(f"unknown GGUF value type {kind}")
    return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]


def _read_tensor_type(handle: BinaryIO) -> str:
    _read_string(handle)
    (n_dims,) = struct.unpack("<I", handle.read(4))
    handle.read(8 * n_dims)
    kind, _offset = struct.unpack("<IQ", handle.read(12))
    return TENSOR_TYPES.get(kind, f"type{kind}")
