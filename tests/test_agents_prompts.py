"""FunSearch's best-shot prompt and the chat form, built from real specs."""

from __future__ import annotations

import ast
from pathlib import Path

from evoforge.agents.prompts import build_prompt, preface
from evoforge.records import Prompt
from evoforge.spec import load_problem
from tests.llm_fixtures import bin_packing_spec

SPEC = bin_packing_spec()
WORST = "def priority(item, bins):\n    return bins\n"
BEST = 'def priority(item, bins):\n    """Best fit."""\n    return -(bins - item)\n'
MIDDLE = "def priority(item, bins):\n    return -bins + priority(item, bins[:0]).sum()\n"
PROMPT = Prompt(island_id=0, parent_ids=(1, 2, 3), parent_codes=(BEST, WORST, MIDDLE),
                parent_scores=(-0.04, -0.5, -0.1), version_generated=3)  # fmt: skip

FUNSEARCH_SPEC = '''"""Cap set, as DeepMind's notebooks write specs."""
import itertools

import numpy as np

import funsearch


@funsearch.run
def evaluate(n: int) -> int:
  return len(solve(n))


def solve(n: int) -> np.ndarray:
  return np.array([priority(tuple(v), n) for v in itertools.product((0, 1, 2), repeat=n)])


# @funsearch.evolve
def priority(el: tuple[int, ...], n: int) -> float:
  """Returns the priority with which we want to add `element` to the cap set."""
  return 0.0
'''


def function_names(text: str) -> list[str]:
    return [n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]


def test_completion_prompt_lists_parents_worst_first_as_versions() -> None:
    text = build_prompt(SPEC, PROMPT, "completion").text
    assert function_names(text)[-4:] == ["priority_v0", "priority_v1", "priority_v2", "priority_v3"]
    assert text.index("return bins\n") < text.index("return -bins + ") < text.index("return -(bins - item)")


def test_completion_prompt_ends_with_the_next_versions_header() -> None:
    rendered = build_prompt(SPEC, PROMPT, "completion")
    assert rendered.versioned_name == "priority_v3"
    assert rendered.header == 'def priority_v3(item, bins):\n    """Improved version of `priority_v2`."""\n'
    assert rendered.text.endswith(rendered.header)


def test_later_versions_get_the_improved_version_docstring() -> None:
    text = build_prompt(SPEC, PROMPT, "completion").text
    assert '"""Improved version of `priority_v0`."""' in text
    assert '"""Improved version of `priority_v1`."""' in text
    assert "Best fit." not in text  # v2's own docstring is replaced, as in FunSearch


def test_recursive_calls_are_renamed_with_their_version() -> None:
    text = build_prompt(SPEC, PROMPT, "completion").text
    assert "priority_v1(item, bins[:0])" in text


def test_preface_keeps_helpers_and_drops_the_run_function_and_marks() -> None:
    text = preface(SPEC)
    assert "def get_valid_bin_indices" in text and "def online_binpack" in text
    assert "def evaluate" not in text and "@run" not in text and "@evolve" not in text
    assert "from evoforge import" not in text
    assert "import numpy as np" in text


def test_funsearch_spec_with_commented_marks_builds_a_two_space_prompt(tmp_path: Path) -> None:
    path = tmp_path / "capset_spec.py"
    path.write_text(FUNSEARCH_SPEC)
    spec = load_problem(path, inputs_json="[3]")
    prompt = Prompt(0, (1,), (spec.seed_code,), (0.0,), 1)
    rendered = build_prompt(spec, prompt, "completion")
    assert function_names(rendered.text) == ["solve", "priority_v0", "priority_v1"]
    assert "import funsearch" not in rendered.text and "# @funsearch.evolve" not in rendered.text
    assert rendered.header == (
        'def priority_v1(el: tuple[int, ...], n: int) -> float:\n  """Improved version of `priority_v0`."""\n'
    )


def test_completion_prompt_is_valid_python_once_a_body_is_added() -> None:
    text = build_prompt(SPEC, PROMPT, "completion").text + "    return -bins\n"
    ast.parse(text)


def test_chat_prompt_asks_for_one_function_named_like_the_evolved_one() -> None:
    rendered = build_prompt(SPEC, PROMPT, "chat")
    assert rendered.header is None and rendered.messages is not None
    (system_role, system), (user_role, user) = rendered.messages
    assert (system_role, user_role) == ("system", "user")
    assert "```python" in system
    assert "name it `priority`" in user
    assert "scores better than `priority_v2`" in user


def test_chat_prompt_carries_the_problem_description_and_notes() -> None:
    _, (_, user) = build_prompt(SPEC, PROMPT, "chat").messages or ()
    assert SPEC.prompt_notes.strip()[:40] in user
    assert SPEC.description.strip()[:40] in user
    assert "def priority_v2(item, bins):" in user


def test_chat_prompt_text_records_both_messages() -> None:
    rendered = build_prompt(SPEC, PROMPT, "chat")
    assert rendered.text.startswith("[system]\n") and "\n\n[user]\n" in rendered.text
