#!/usr/bin/env bash
# Run the test suite: set up (idempotent), lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${EVOFORGE_VENV:-.venv}
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" -ra "$@"
# The real-vLLM tests, where the optional vLLM venv exists (scripts/setup-vllm-cpu.sh).
VLLM_VENV=${EVOFORGE_VLLM_VENV:-.venv-vllm}
if [ -x "$VLLM_VENV/bin/pytest" ] && "$VLLM_VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
    "$VLLM_VENV/bin/pytest" -ra -m vllm tests/test_vllm_engine.py tests/test_vllm_run.py
fi
