"""The embedded model: assembled from its PyPI chunks, checked, and what it says it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.agents.embedded import EMBEDDED_SHA256, EMBEDDED_SIZE, assemble_embedded_model, verify_file
from evoforge.agents.gguf_info import read_gguf_metadata, summary
from tests.llm_fixtures import embedded_model_or_fail

pytestmark = pytest.mark.slow


def test_embedded_gguf_describes_itself_as_qwen_coder_half_b() -> None:
    info = summary(read_gguf_metadata(embedded_model_or_fail()))
    assert info["name"] == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert info["architecture"] == "qwen2"
    assert info["context_length"] == 32768
    assert info["file_type"] == "Q4_K_M"
    assert info["quantization"] == "Q5_0"  # most tensors; Q4_K/Q6_K/Q8_0 for the rest


def test_assembled_model_matches_the_recorded_sha256(tmp_path: Path) -> None:
    embedded_model_or_fail()
    path = assemble_embedded_model(tmp_path)
    assert path.stat().st_size == EMBEDDED_SIZE
    assert verify_file(path) == EMBEDDED_SHA256


def test_tampered_cached_copy_is_assembled_again(tmp_path: Path) -> None:
    embedded_model_or_fail()
    path = assemble_embedded_model(tmp_path)
    with open(path, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"tampered")
    assert verify_file(path) != EMBEDDED_SHA256
    assert assemble_embedded_model(tmp_path) == path
    assert verify_file(path) == EMBEDDED_SHA256


def test_non_gguf_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ValueError, match="not a GGUF file"):
        read_gguf_metadata(path)
