"""Each prompt strategy through the sampler a run uses: the prompt it builds, how it reads answers.

Answers come from the recorded-completions backend (no model runs), written
per test, so each test states the exact text a model returned.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evoforge.agents.recorded_backend import RecordedCompletionsBackend
from evoforge.agents.sampler import SampleBatch, Sampler
from evoforge.records import Prompt
from tests.llm_fixtures import bin_packing_spec

SPEC = bin_packing_spec()
WORST = "def priority(item, bins):\n    return bins - 2 * item\n"
BEST = 'def priority(item, bins):\n    """Tightest bin first."""\n    return -(bins - item)\n'
PROMPT = Prompt(island_id=0, parent_ids=(4, 7), parent_codes=(BEST, WORST), parent_scores=(-0.04, -0.5),
                version_generated=2, recent_errors=("ZeroDivisionError: division by zero",))  # fmt: skip
EDIT = "<<<<<<< SEARCH\n    return -(bins - item)\n=======\n    return -(bins - item) ** 2\n>>>>>>> REPLACE\n"


def sample(tmp_path: Path, strategy: str, *answers: str, prompt: Prompt = PROMPT) -> SampleBatch:
    """What the sampler makes of these model answers to a prompt of this strategy."""
    recorded = tmp_path / "answers.jsonl"
    recorded.write_text("".join(json.dumps({"text": text}) + "\n" for text in answers))
    with Sampler(RecordedCompletionsBackend(recorded), SPEC, len(answers), mode="completion") as sampler:
        return sampler.sample(replace(prompt, strategy=strategy))


def errors(batch: SampleBatch) -> list[str | None]:
    return [c.parse_error for c in batch.candidates]


def test_funsearch_keeps_the_completion_prompt_and_reads_a_continuation(tmp_path: Path) -> None:
    batch = sample(tmp_path, "funsearch", "    return -(bins - item) ** 3\n")
    header = 'def priority_v2(item, bins):\n    """Improved version of `priority_v1`."""\n'
    assert batch.prompt_text.endswith(header)
    assert batch.candidates[0].code.endswith("`priority_v1`.\"\"\"\n    return -(bins - item) ** 3\n")


def test_chat_shows_parents_with_scores_and_the_errors_of_failed_children(tmp_path: Path) -> None:
    text = sample(tmp_path, "chat", "ok").prompt_text
    assert "[system]" in text and "plan" in text
    assert text.index("score -0.5") < text.index("return bins - 2 * item") < text.index("score -0.04")
    assert text.index("score -0.04") < text.index("return -(bins - item)")
    assert "ZeroDivisionError: division by zero" in text and "differs from the versions above" in text


def test_chat_reads_the_last_python_block_after_a_plan(tmp_path: Path) -> None:
    answer = ("Plan: penalise waste quadratically.\n"
              "```python\ndef priority(item, bins):\n    return bins\n```\n"
              "Better:\n```python\ndef priority(item, bins):\n    return -(bins - item) ** 2\n```\n")
    batch = sample(tmp_path, "chat", answer)
    assert batch.candidates[0].code == "def priority(item, bins):\n    return -(bins - item) ** 2\n"


def test_diff_applies_an_edit_to_the_best_parent(tmp_path: Path) -> None:
    batch = sample(tmp_path, "diff", "I square the waste.\n" + EDIT)
    assert "return bins - 2 * item" not in batch.prompt_text  # only the best parent is edited
    assert "Tightest bin first." in batch.prompt_text and "scores -0.04" in batch.prompt_text
    assert f"Notes: {SPEC.prompt_notes.strip()}" in batch.prompt_text  # the spec author's notes, as chat gets
    edited = 'def priority(item, bins):\n    """Tightest bin first."""\n    return -(bins - item) ** 2\n'
    assert batch.candidates[0].code == edited


def test_diff_forgives_an_edit_opened_with_the_closing_arrows(tmp_path: Path) -> None:
    batch = sample(tmp_path, "diff", EDIT.replace("<<<<<<< SEARCH", ">>>>>>> SEARCH"), EDIT)
    assert batch.candidates[0].code == batch.candidates[1].code is not None


@pytest.mark.parametrize(("answer", "reason"), [
    ("def priority(item, bins):\n    return bins\n", "diff: no <<<<<<< SEARCH ... >>>>>>> REPLACE block"),
    (EDIT.replace("-(bins - item)\n=", "(bins + item)\n="), "diff: edit block 1: its SEARCH"),
    (EDIT.replace(">>>>>>> REPLACE\n", ""), "diff: an edit block is not closed"),
    (EDIT + EDIT, "diff: edit block 2: its SEARCH lines are not in the function"),
    (EDIT.replace("** 2", "** (2"), "diff: the edited function does not parse: '(' was never closed"),
    (EDIT.replace("    return -(bins - item)\n=", "\n="), "diff: edit block 1 has an empty SEARCH part"),
])  # fmt: skip
def test_a_malformed_or_unmatched_diff_is_a_parse_error_with_its_reason(
    tmp_path: Path, answer: str, reason: str
) -> None:
    candidate = sample(tmp_path, "diff", answer).candidates[0]
    assert candidate.code is None and candidate.parse_error.startswith(reason), candidate.parse_error


def test_diff_ignores_trailing_spaces_but_nothing_else(tmp_path: Path) -> None:
    spaced = EDIT.replace("item)\n=", "item)   \n=")
    indented = EDIT.replace("    return -(bins - item)\n=", "  return -(bins - item)\n=")
    batch = sample(tmp_path, "diff", spaced, indented)
    assert batch.candidates[0].code is not None
    assert errors(batch)[1] == "diff: edit block 1: its SEARCH lines are not in the function"


def test_random_shows_only_the_seed_program(tmp_path: Path) -> None:
    batch = sample(tmp_path, "random", "    return -(bins - item) ** 3\n")
    assert "Tightest bin first." not in batch.prompt_text
    assert "return bins - 2 * item" not in batch.prompt_text
    assert SPEC.seed_code.strip().split("\n", 1)[1] in batch.prompt_text  # the seed's body, renamed _v0
    assert batch.prompt_text.rstrip().endswith('"""Improved version of `priority_v0`."""')
    assert batch.candidates[0].code is not None


def test_an_unknown_strategy_is_refused_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no prompt strategy 'mutate'"):
        sample(tmp_path, "mutate", "ok")
