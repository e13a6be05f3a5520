"""`--llm` settings: what is accepted, and the one-sentence errors for what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.agents.base import LLAMA_CPP_XTC_PROBABILITY, GenerationRequest, LLMUnavailable
from evoforge.agents.config import LLMConfig, completion_xtc, make_backend, start_shared_server
from evoforge.agents.install import build_description, build_record, server_works
from evoforge.agents.llama_server import BINARY_ENV, LlamaServer, find_llama_server, free_port, usable_cores


def test_unknown_backend_name_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"neither a backend .*embedded, openai, vllm, transformers"):
        LLMConfig(backend="gpt5")


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="use one of auto, chat, completion"):
        LLMConfig(mode="fim")


def test_a_gguf_path_is_accepted_as_backend(tmp_path: Path) -> None:
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    assert LLMConfig(backend=str(model)).backend == str(model)


def test_openai_without_base_url_says_what_to_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMUnavailable, match="needs --base-url"):
        make_backend(LLMConfig(backend="openai"))


def test_api_key_is_read_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test-123")
    backend = make_backend(
        LLMConfig(backend="openai", base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY")
    )
    assert backend.client.api_key == "sk-test-123"  # type: ignore[attr-defined]
    backend.close()


def test_request_needs_exactly_one_of_prompt_and_messages() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GenerationRequest()
    with pytest.raises(ValueError, match="exactly one"):
        GenerationRequest(prompt="x", messages=(("user", "x"),))


def test_binary_named_by_the_environment_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "nope"))
    with pytest.raises(LLMUnavailable, match=f"{BINARY_ENV}=.* is not an executable"):
        find_llama_server()


def test_missing_server_binary_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(BINARY_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LLMUnavailable, match=r"python -m evoforge.agents.install"):
        find_llama_server()


def server_running(script: str, folder: Path) -> LlamaServer:
    """A LlamaServer whose binary is the shell `script`: how a broken build behaves at start."""
    fake = folder / "llama-server"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    model = folder / "m.gguf"
    model.write_bytes(b"GGUF")
    return LlamaServer(model, binary=fake, port=free_port(), log_path=folder / "log")


def test_server_that_exits_at_start_reports_its_log(tmp_path: Path) -> None:
    server = server_running("echo 'error: unknown model format' >&2\nexit 1", tmp_path)
    with pytest.raises(LLMUnavailable, match=r"exited while starting .*unknown model format"):
        server.start()


def test_server_built_for_another_cpu_says_to_rebuild(tmp_path: Path) -> None:
    """A VM that wakes on a host without the instructions the binary was built with: SIGILL."""
    with pytest.raises(LLMUnavailable, match=r"CPU lacks.*python -m evoforge.agents.install"):
        server_running("kill -ILL $$", tmp_path).start()


def test_installer_rebuilds_a_server_built_with_other_flags(tmp_path: Path) -> None:
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\necho 'version: 1 (test)'\n")
    binary.chmod(0o755)
    assert not server_works(binary)  # no record of how it was built: an older installer's
    build_record(binary).write_text(build_description().replace("AVX512=OFF", "AVX512=ON"))
    assert not server_works(binary)
    build_record(binary).write_text(build_description())
    assert server_works(binary)


def test_shared_server_leaves_remote_backends_unchanged() -> None:
    config = LLMConfig(backend="openai", base_url="http://127.0.0.1:9/v1")
    assert start_shared_server(config) == (None, config)


def test_a_local_server_runs_on_every_usable_core_unless_told(tmp_path: Path) -> None:
    binary = tmp_path / "llama-server"
    default = LlamaServer(tmp_path / "m.gguf", binary=binary).command()
    assert default[default.index("-t") + 1] == str(usable_cores()) == default[default.index("-tb") + 1]
    told = LlamaServer(tmp_path / "m.gguf", binary=binary, threads=1).command()
    assert told[told.index("-t") + 1] == "1"


def test_xtc_is_on_where_evoforge_serves_llama_cpp_and_elsewhere_only_if_given(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    remote = {"backend": "openai", "base_url": "http://127.0.0.1:9/v1"}
    assert completion_xtc(LLMConfig()) == LLAMA_CPP_XTC_PROBABILITY
    assert completion_xtc(LLMConfig(backend=str(gguf))) == LLAMA_CPP_XTC_PROBABILITY
    assert completion_xtc(LLMConfig(**remote)) is None  # another server may refuse llama.cpp's fields
    assert completion_xtc(LLMConfig(**remote, xtc_probability=0.3)) == 0.3  # the user's llama.cpp server
    assert completion_xtc(LLMConfig(xtc_probability=0)) == 0


def test_xtc_is_refused_for_backends_without_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"--xtc-probability is llama\.cpp's sampler; --llm vllm has none"):
        LLMConfig(backend="vllm", model="m", xtc_probability=0.5)
    with pytest.raises(ValueError, match=r"has none \(give it with the embedded model, a \.gguf file"):
        LLMConfig(backend=str(tmp_path), xtc_probability=0.5)  # a folder: transformers loads it
