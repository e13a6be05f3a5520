#!/usr/bin/env bash
# Run the test suite: set up (idempotent), lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${EVOFORGE_VENV:-.venv}
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" -ra "$@"
