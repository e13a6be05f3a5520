"""`bench/server_threads.py`'s slow copy of bin_packing is a loadable problem whose scoring is slow
enough that a run leaves its evaluator a core, which is the case the bench is there to show."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from evoforge.agents.llama_server import usable_cores
from evoforge.run_config import RunConfig
from evoforge.runtime.run_files import score_seed
from evoforge.runtime.session import HEAVY_EVALUATION_SECONDS, server_threads
from evoforge.spec import load_problem

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench():
    sys.path.insert(0, str(BENCH))  # the bench imports its sibling search_quality, as when run
    try:
        spec = importlib.util.spec_from_file_location("server_threads", BENCH / "server_threads.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_the_slow_copy_scores_slowly_and_a_run_on_it_leaves_a_core(tmp_path: Path) -> None:
    folder = load_bench().slow_bin_packing(tmp_path)
    slow, original = load_problem(str(folder)), load_problem("bin_packing")
    assert slow.name == "slow_bin_packing"
    assert slow.seed_code == original.seed_code and slow.prompt_notes == original.prompt_notes
    evaluation = score_seed(slow, "fork")
    assert evaluation.seconds > HEAVY_EVALUATION_SECONDS
    config = RunConfig(problem=str(folder), run_dir=tmp_path / "run")
    assert server_threads(config, evaluation.seconds) == max(1, usable_cores() - config.evaluators)
