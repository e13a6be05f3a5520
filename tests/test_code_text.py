"""The one path from written code to the function that runs: renaming, ancestors, hoisting."""

from __future__ import annotations

import ast

import pytest

from evoforge.code_text import CodeTextError, candidate_function, rename_calls
from tests.llm_fixtures import bin_packing_spec

SPEC = bin_packing_spec()


def function_of(source: str) -> str:
    return candidate_function(source, ast.parse(source), SPEC)


def test_rename_touches_the_definition_and_calls_only() -> None:
    code = (
        "def priority_v1(item, bins):\n"
        "    # priority_v1(item, bins) is called again below\n"
        "    note = 'priority_v1(x)'\n"
        "    other = helper.priority_v1(item)\n"
        "    return priority_v1 (item, bins[:1]) if len(bins) > 1 else -bins\n"
    )
    renamed = rename_calls(code, "priority_v1", "priority")
    assert renamed == (
        "def priority(item, bins):\n"
        "    # priority_v1(item, bins) is called again below\n"
        "    note = 'priority_v1(x)'\n"
        "    other = helper.priority_v1(item)\n"
        "    return priority (item, bins[:1]) if len(bins) > 1 else -bins\n"
    )


def test_rename_leaves_a_name_that_is_not_called() -> None:
    code = "def priority_v0(item, bins):\n    f = priority_v0\n    return f\n"
    assert rename_calls(code, "priority_v0", "priority").splitlines()[1] == "    f = priority_v0"


def test_a_call_to_an_earlier_version_is_rejected_with_its_line() -> None:
    source = "import math\n\n\ndef priority_v2(item, bins):\n    return priority_v1(item, bins) * 2\n"
    with pytest.raises(CodeTextError) as caught:
        function_of(source)
    assert caught.value.reason == (
        "calls an earlier version: `priority_v1()` will not exist when the candidate runs"
    )
    assert caught.value.line == 5


def test_a_helper_calling_an_earlier_version_is_rejected_too() -> None:
    source = ("def helper(item, bins):\n    return priority_v0(item, bins)\n\n\n"
              "def priority(item, bins):\n    return helper(item, bins)\n")
    with pytest.raises(CodeTextError, match="priority_v0"):
        function_of(source)


def test_an_earlier_version_named_in_a_comment_or_string_is_fine() -> None:
    source = "def priority(item, bins):\n    # unlike priority_v0(item, bins)\n    return -(bins - item)\n"
    assert "# unlike priority_v0(item, bins)" in function_of(source)


def test_imports_helpers_and_constants_used_are_moved_inside_in_order() -> None:
    source = (
        "import math\nimport numpy as np\nUNUSED = 3\nWEIGHT = 2.0\n\n\n"
        "def _gap(item, bins):\n    return WEIGHT * (bins - item)\n\n\n"
        "def priority(item, bins):\n    \"\"\"Tight fits first.\"\"\"\n"
        "    return -_gap(item, bins) / math.e\n"
    )
    code = function_of(source)
    body = [ast.unparse(node).splitlines()[0] for node in ast.parse(code).body[0].body]
    # numpy is the spec's own `np`; UNUSED is not needed.
    assert body == ["'Tight fits first.'", "import math", "WEIGHT = 2.0", "def _gap(item, bins):",
                    "return -_gap(item, bins) / math.e"]


def test_a_one_line_function_gets_its_helper_too() -> None:
    source = ("def _gap(item, bins):\n    return bins - item\n\n\n"
              "def priority(item, bins): return -_gap(item, bins)\n")
    namespace: dict = {}
    exec(function_of(source), namespace)
    assert namespace["priority"](2, 5) == -3
