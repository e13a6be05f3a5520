"""The prompt strategies on an OpenEvolve problem: the whole EVOLVE-BLOCK is shown and read back.

The real Sampler with a recorded-completions backend (no model runs) on the
circle-packing example, whose block holds three functions: what each
strategy sends, and what each parses out of answers in its own format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evoforge.agents.recorded_backend import RecordedCompletionsBackend
from evoforge.agents.sampler import Sampler
from evoforge.records import Prompt
from evoforge.spec import load_problem
from tests.run_fixtures import REPO

EXAMPLE = REPO / "examples" / "openevolve" / "circle_packing"


@pytest.fixture(scope="module")
def spec():
    return load_problem(str(EXAMPLE))


def sample(spec, tmp_path: Path, strategy: str, answers: list[str], mode: str = "completion"):
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"text": a}) + "\n" for a in answers))
    worse = spec.seed_code.replace("    return radii\n", "    return radii * 0.9\n")
    prompt = Prompt(0, (1, 2), (worse, spec.seed_code), (1.35, 1.5), 2, strategy=strategy)
    with Sampler(RecordedCompletionsBackend(recorded), spec, len(answers), mode=mode) as sampler:
        return sampler.sample(prompt)


def test_the_seed_is_the_block_and_the_program_around_it_is_kept(spec) -> None:
    assert spec.kind == "openevolve" and spec.seed_code.startswith("def place_centres(n: int)")
    assert "def construct_packing()" in spec.seed_code and "EVOLVE-BLOCK" not in spec.seed_code
    assert "def run_packing()" not in spec.seed_code  # outside the block: it stays as it is


def test_funsearch_shows_versions_as_marked_blocks_and_reads_the_continuation(spec, tmp_path: Path) -> None:
    improved = spec.seed_code.replace("max(limit, 0.0)", "max(limit, 0.0) * 0.99")
    batch = sample(spec, tmp_path, "funsearch", [improved + "# EVOLVE-BLOCK-END\n\n\ndef run_packing():\n"])
    assert batch.prompt_text.count("# EVOLVE-BLOCK-START") == 4  # the program, versions 0 and 1, the open one
    assert batch.prompt_text.rstrip().endswith("# Version 2 (improved over version 1)\n# EVOLVE-BLOCK-START")
    assert "radii * 0.9" in batch.prompt_text.split("# Version 1")[0]  # worst first
    assert batch.candidates[0].code == improved  # read up to the block's end, every function kept


def test_chat_funsearch_and_chat_ask_for_the_whole_block_naming_what_to_keep(spec, tmp_path: Path) -> None:
    answer = f"Shrink a little.\n```python\n{spec.seed_code.replace('0.5) / rows', '0.45) / rows')}```"
    for strategy in ("funsearch", "chat"):
        batch = sample(spec, tmp_path, strategy, [answer], mode="chat")
        assert "Keep defining `N_CIRCLES`" not in batch.prompt_text  # defined outside the block
        assert "Keep defining `construct_packing`: the rest of the program uses it." in batch.prompt_text
        assert "def run_packing()" in batch.prompt_text  # the program around the block is shown
        assert batch.candidates[0].code is not None and "0.45) / rows" in batch.candidates[0].code


def test_diff_edits_the_best_block_and_a_broken_or_lossy_edit_says_why(spec, tmp_path: Path) -> None:
    edit = "<<<<<<< SEARCH\n        radii[i] = max(limit, 0.0)\n=======\n" \
           "        radii[i] = max(limit, 0.0) * 0.5\n>>>>>>> REPLACE\n"
    drop = "<<<<<<< SEARCH\ndef construct_packing() -> tuple[np.ndarray, np.ndarray]:\n=======\n" \
           "def build() -> tuple[np.ndarray, np.ndarray]:\n>>>>>>> REPLACE\n"
    batch = sample(spec, tmp_path, "diff", [edit, drop, "no edit at all"])
    assert "The current block scores 1.5" in batch.prompt_text
    first, lost, none = batch.candidates
    assert first.code == spec.seed_code.replace("max(limit, 0.0)", "max(limit, 0.0) * 0.5")
    assert lost.parse_error == ("diff: the block must still define construct_packing "
                                "(the program or its evaluator uses it)")
    assert none.parse_error.startswith("diff: no <<<<<<< SEARCH")


def test_random_shows_only_the_seed_block(spec, tmp_path: Path) -> None:
    batch = sample(spec, tmp_path, "random", [spec.seed_code])
    assert "radii * 0.9" not in batch.prompt_text and "# Version 1" in batch.prompt_text
