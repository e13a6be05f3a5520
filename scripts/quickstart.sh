#!/usr/bin/env bash
# The main job: set everything up, then run a real evolutionary search on
# bin_packing with the embedded LLM (Qwen2.5-Coder-0.5B via llama.cpp's server).
# Override the budget with SAMPLES=... MINUTES=...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${EVOFORGE_VENV:-.venv}
run_dir="runs/bin_packing-$(date +%Y%m%d-%H%M%S)"
"$VENV/bin/evoforge" run bin_packing --samples "${SAMPLES:-400}" --minutes "${MINUTES:-15}" --run-dir "$run_dir"
"$VENV/bin/evoforge" show "$run_dir" --plot "$run_dir/best_score.png"
