"""Candidate parsing on the kinds of text small and large models really write."""

from __future__ import annotations

import numpy as np
import pytest

from evoforge.agents.parsing import parse_candidate
from evoforge.agents.prompts import build_prompt
from evoforge.code_text import code_hash
from evoforge.records import Candidate
from tests.llm_fixtures import bin_packing_spec, seed_prompt

SPEC = bin_packing_spec()
HEADER = build_prompt(SPEC, seed_prompt(SPEC), "completion").header
FENCE = "```"


def completion(text: str, truncated: bool = False) -> Candidate:
    return parse_candidate(text, SPEC, "completion", HEADER, truncated)


def chat(text: str) -> Candidate:
    return parse_candidate(text, SPEC, "chat", None)


def run(candidate: Candidate) -> np.ndarray:
    """Execute the parsed function the way the spec would call it."""
    assert candidate.code is not None, candidate.parse_error
    namespace: dict = {"np": np}
    exec(candidate.code, namespace)
    return namespace["priority"](3.0, np.array([10.0, 5.0, 3.0]))


def test_body_only_continuation_completes_the_header() -> None:
    candidate = completion("    return -(bins - item) ** 2\n\n\n")
    assert candidate.code is not None and candidate.code.startswith("def priority(item: float")
    assert list(run(candidate)) == [-49.0, -4.0, -0.0]


def test_continuation_indented_differently_from_the_header_is_reindented() -> None:
    candidate = completion("  gap = bins - item\n  return -gap\n")
    assert list(run(candidate)) == [-7.0, -2.0, -0.0]


def test_code_hash_is_the_normalized_hash_of_the_code() -> None:
    candidate = completion("    return -(bins - item)\n")
    assert candidate.code_hash == code_hash(candidate.code or "")


def test_truncated_output_drops_its_incomplete_last_line() -> None:
    candidate = completion("    gap = bins - item\n    return -gap\n    score = np.lo", truncated=True)
    assert candidate.code is not None and "np.lo" not in candidate.code
    assert list(run(candidate)) == [-7.0, -2.0, -0.0]


def test_output_cut_mid_statement_keeps_the_lines_that_parse() -> None:
    candidate = completion("    gap = bins - item\n    return -gap\n    extra = (gap +")
    assert "extra" not in (candidate.code or "")
    assert list(run(candidate)) == [-7.0, -2.0, -0.0]


def test_fenced_function_with_chatter_around_it() -> None:
    text = (f"Sure! Here is an improved version:\n\n{FENCE}python\ndef priority(item, bins):\n"
            f"    return -np.abs(bins - item)\n{FENCE}\n\nThis prefers tight fits.")  # fmt: skip
    assert list(run(chat(text))) == [-7.0, -2.0, -0.0]


def test_last_fenced_block_wins_when_the_model_corrects_itself() -> None:
    first = f"{FENCE}python\ndef priority(item, bins):\n    return bins\n{FENCE}\n"
    second = f"Wait, better:\n{FENCE}python\ndef priority(item, bins):\n    return -bins\n{FENCE}"
    text = first + second
    assert list(run(chat(text))) == [-10.0, -5.0, -3.0]


def test_unterminated_fence_is_still_read() -> None:
    text = f"{FENCE}python\ndef priority(item, bins):\n    return -bins\n"
    assert list(run(chat(text))) == [-10.0, -5.0, -3.0]


def test_unfenced_code_after_chatter_on_the_same_line() -> None:
    text = "Sure! def priority(item, bins):\n    return -bins\nHope this helps."
    assert list(run(chat(text))) == [-10.0, -5.0, -3.0]


def test_whole_file_picks_the_versioned_function_and_keeps_its_helpers() -> None:
    text = (
        "import numpy as np\nimport math\n\nEPS = 1e-9\n\n\n"
        "def helper(gap):\n    return math.sqrt(1.0) * gap + EPS\n\n\n"
        "def priority_v0(item, bins):\n    return bins\n\n\n"
        'def priority_v1(item: float, bins: np.ndarray) -> np.ndarray:\n    """Better."""\n'
        "    return -helper(bins - item)\n\n\nprint(priority_v1(1, np.ones(3)))\n"
    )
    candidate = chat(text)
    assert candidate.code is not None
    assert candidate.code.startswith("def priority(item: float")
    assert "import math" in candidate.code and "def helper" in candidate.code
    assert np.allclose(run(candidate), [-7.0, -2.0, 0.0], atol=1e-6)


def test_model_writing_its_own_header_in_completion_mode() -> None:
    text = "def priority_v1(item: float, bins: np.ndarray) -> np.ndarray:\n    return -bins\n"
    assert list(run(completion(text))) == [-10.0, -5.0, -3.0]


def test_recursive_calls_follow_the_rename() -> None:
    text = (f"{FENCE}python\ndef priority_v2(item, bins):\n    if len(bins) > 3:\n"
            f"        return priority_v2(item, bins[:3])\n    return -bins\n{FENCE}")  # fmt: skip
    candidate = chat(text)
    assert "priority(item, bins[:3])" in (candidate.code or "")
    assert "priority_v2" not in (candidate.code or "")


def test_decorators_are_dropped() -> None:
    text = f"{FENCE}python\n@funsearch.evolve\ndef priority(item, bins):\n    return -bins\n{FENCE}"
    candidate = chat(text)
    assert candidate.code is not None and "@" not in candidate.code


def test_wrong_signature_is_rejected_with_the_expected_arguments() -> None:
    candidate = chat(f"{FENCE}python\ndef priority(item):\n    return item\n{FENCE}")
    assert candidate.code is None
    assert candidate.parse_error == "wrong signature: `priority(item)`, expected (item, bins)"


def test_extra_arguments_with_defaults_are_accepted() -> None:
    candidate = chat(
        f"{FENCE}python\ndef priority(item, bins, scale=2.0):\n    return -bins * scale\n{FENCE}"
    )
    assert list(run(candidate)) == [-20.0, -10.0, -6.0]


def test_unrelated_functions_are_rejected_naming_what_was_found() -> None:
    text = f"{FENCE}python\ndef foo(a, b):\n    return a\n\ndef bar(a, b):\n    return b\n{FENCE}"
    candidate = chat(text)
    assert candidate.parse_error == "no function named `priority` among foo, bar"


def test_a_single_function_under_another_name_is_renamed() -> None:
    candidate = chat(f"{FENCE}python\ndef best_fit(item, bins):\n    return -(bins - item)\n{FENCE}")
    assert candidate.code is not None and candidate.code.startswith("def priority(")


@pytest.mark.parametrize("text", ["", "   \n\n"])
def test_empty_output_is_rejected(text: str) -> None:
    assert completion(text).parse_error == "empty output"


def test_prose_only_is_rejected() -> None:
    candidate = chat("I am sorry, I cannot help with bin packing today.")
    assert candidate.code is None
    assert candidate.parse_error == "no Python code in the output"


def test_body_of_only_pass_is_rejected_as_empty() -> None:
    candidate = completion("    pass\n")
    assert candidate.code is None
    assert candidate.parse_error == "function `priority_v1` has an empty body"


def test_syntax_error_reason_names_the_line() -> None:
    candidate = chat(f"{FENCE}python\ndef priority(item, bins)\n    return bins\n{FENCE}")
    assert candidate.code is None
    assert (candidate.parse_error or "").startswith("syntax error: ")
    assert "line 1" in (candidate.parse_error or "")


def test_non_python_fences_are_ignored() -> None:
    shell = f"{FENCE}bash\npip install numpy\n{FENCE}\n"
    text = shell + f"{FENCE}python\ndef priority(item, bins):\n    return -bins\n{FENCE}"
    assert list(run(chat(text))) == [-10.0, -5.0, -3.0]


def test_think_block_before_the_answer_is_skipped() -> None:
    text = (f"<think>maybe def priority(x): is wrong</think>\n{FENCE}python\n"
            f"def priority(item, bins):\n    return -bins\n{FENCE}")  # fmt: skip
    assert list(run(chat(text))) == [-10.0, -5.0, -3.0]


def test_recursive_rename_leaves_comments_and_strings_alone() -> None:
    text = (f"{FENCE}python\ndef priority_v2(item, bins):\n    # priority_v2(item, bins) recurses once\n"
            f"    if len(bins) > 3:\n        return priority_v2(item, bins[:3])\n"
            f"    label = 'priority_v2(x)'\n    return -bins\n{FENCE}")  # fmt: skip
    code = chat(text).code or ""
    assert "# priority_v2(item, bins) recurses once" in code and "'priority_v2(x)'" in code
    assert "return priority(item, bins[:3])" in code


def test_a_sample_calling_an_earlier_version_is_rejected_before_any_trial() -> None:
    text = f"{FENCE}python\ndef priority_v1(item, bins):\n    return priority_v0(item, bins) * 2\n{FENCE}"
    candidate = chat(text)
    assert candidate.code is None
    assert candidate.parse_error == (
        "calls an earlier version: `priority_v0()` will not exist when the candidate runs"
    )


def test_a_completion_calling_the_previous_version_is_rejected() -> None:
    candidate = completion("    return priority_v0(item, bins) - 1e-3\n")
    assert candidate.parse_error is not None and "`priority_v0()`" in candidate.parse_error


def test_a_nul_byte_in_the_output_is_a_syntax_error_without_line_none() -> None:
    candidate = chat(f"{FENCE}python\ndef priority(item, bins):\n    return -bins\0\n{FENCE}")
    assert candidate.code is None and "None" not in (candidate.parse_error or "")
    assert (candidate.parse_error or "").startswith("syntax error: source code string cannot contain null")
