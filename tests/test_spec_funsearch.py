"""FunSearch specification files load unchanged and run, live or commented decorators.

They run through the evaluator users run (in-process mode: the sandbox's own
harness), which binds `funsearch` for specs that use it without importing it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evoforge.spec import load_problem
from evoforge.spec_errors import SpecError
from evoforge.spec_inputs import resolve_inputs
from tests.spec_scoring import score_on, trials

FIXTURES = Path(__file__).parent / "fixtures"
LIVE = FIXTURES / "funsearch_cap_set_live.txt"
COMMENTED = FIXTURES / "funsearch_bin_packing_commented.py"


def test_live_decorator_spec_finds_evolve_and_run():
    spec = load_problem(LIVE, inputs_json="[3, 4]")
    assert (spec.evolve_name, spec.run_name) == ("priority", "evaluate")


def test_commented_decorator_spec_finds_evolve_and_run():
    spec = load_problem(COMMENTED, inputs_json='[{"a": {"capacity": 10, "num_items": 2, "items": [5, 5]}}]')
    assert (spec.evolve_name, spec.run_name) == ("priority", "evaluate")


def test_spec_source_is_kept_unchanged():
    spec = load_problem(LIVE, inputs_json="[3]")
    assert spec.source == LIVE.read_text()


def test_seed_code_is_the_evolved_function_without_its_decorator():
    spec = load_problem(LIVE, inputs_json="[3]")
    assert spec.seed_code.startswith("def priority(") and "funsearch" not in spec.seed_code


def test_spec_name_is_the_file_stem():
    assert load_problem(LIVE, inputs_json="[3]").name == "funsearch_cap_set_live"


def test_inputs_json_list_becomes_train_and_test_inputs():
    spec = load_problem(LIVE, inputs_json="[3, 4]")
    assert resolve_inputs(spec, "train") == {"3": 3, "4": 4} == resolve_inputs(spec, "test")


def test_inputs_json_object_keeps_its_names():
    spec = load_problem(LIVE, inputs_json='{"small": 3}')
    assert resolve_inputs(spec, "train") == {"small": 3}


def test_inputs_json_list_of_structures_is_named_by_position():
    spec = load_problem(LIVE, inputs_json="[[12, 7], [6, 3]]")
    assert resolve_inputs(spec, "train") == {"input0": [12, 7], "input1": [6, 3]}


def test_live_decorator_spec_runs_without_importing_funsearch():
    spec = load_problem(LIVE, inputs_json="[3, 4]")
    assert {key: trial.score for key, trial in trials(spec).items()} == {"3": 8.0, "4": 16.0}


def test_commented_decorator_spec_runs_and_packs_like_best_fit():
    instances = {"a": {"capacity": 10, "num_items": 4, "items": [5, 7, 3, 5]}}
    spec = load_problem(COMMENTED, inputs_json=json.dumps([instances]))
    assert score_on(spec, instances) == -2


def test_commented_decorator_spec_gives_the_notebooks_212_bins_on_or3(binpack_dir):
    or3 = json.loads((binpack_dir / "or3.json").read_text())
    notebook = {
        name: {"capacity": or3["capacity"], "num_items": len(items), "items": items}
        for name, items in or3["instances"].items()
    }
    spec = load_problem(COMMENTED, inputs_json=json.dumps({"OR3": notebook}))
    assert trials(spec)["OR3"].score == -212.0


def test_commented_spec_with_a_candidate_changes_the_result():
    instances = {"a": {"capacity": 10, "num_items": 4, "items": [5, 7, 3, 5]}}
    spec = load_problem(COMMENTED, inputs_json=json.dumps([instances]))
    first_fit = "def priority(item, bins):\n  return np.zeros_like(bins)\n"
    assert score_on(spec, instances, first_fit) == -3


def test_spec_given_as_a_str_path_loads_too():
    spec = load_problem(str(LIVE), inputs_json="[3]")
    assert spec.path == LIVE.resolve()


def test_evolve_decorator_from_evoforge_is_recognised(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from evoforge import evolve, run\nimport numpy as np\n\n\n"
        "@run\ndef score(x):\n    return f(x)\n\n\n@evolve\ndef f(x):\n    return np.float64(x)\n"
    )
    spec = load_problem(path, inputs_json="[2]")
    assert score_on(spec, 2) == 2.0 and spec.evolve_name == "f"


def test_comment_mark_separated_by_a_blank_line_does_not_count(tmp_path):
    path = tmp_path / "loose.py"
    path.write_text(
        "# @funsearch.run\n\ndef evaluate(x):\n    return x\n\n\n@funsearch.evolve\ndef f(x):\n    return x\n"
    )
    with pytest.raises(SpecError, match="no function is marked @run"):
        load_problem(path, inputs_json="[1]")


def test_comment_mark_above_a_live_decorator_counts(tmp_path):
    path = tmp_path / "stacked.py"
    path.write_text(
        "import functools\n\n\n# @funsearch.run\n@functools.cache\ndef evaluate(x):\n    return f(x)\n\n\n"
        "# @funsearch.evolve\ndef f(x):\n    return x\n"
    )
    assert load_problem(path, inputs_json="[1]").run_name == "evaluate"


def test_evolved_function_gets_numpy_arrays_in_fixture():
    instances = {"a": {"capacity": 10, "num_items": 2, "items": [3, 5]}}
    spec = load_problem(COMMENTED, inputs_json=json.dumps([instances]))
    arrays_only = (
        "def priority(item, bins):\n  if not isinstance(bins, np.ndarray):\n    raise TypeError(type(bins))\n"
        "  return -(bins - item)\n"
    )
    assert score_on(spec, instances, arrays_only) == -1


def test_commented_mark_followed_by_a_remark_counts(tmp_path):
    path = tmp_path / "remark.py"
    path.write_text(
        "#@funsearch.run  # entry point\ndef evaluate(x):\n    return f(x)\n\n\n"
        "# @funsearch.evolve\ndef f(x):\n    return x\n"
    )
    assert load_problem(path, inputs_json="[1]").run_name == "evaluate"


def test_called_decorator_is_rejected_with_the_fix(tmp_path):
    path = tmp_path / "called.py"
    path.write_text(
        "@funsearch.run()\ndef evaluate(x):\n    return f(x)\n\n\n"
        "@funsearch.evolve\ndef f(x):\n    return x\n"
    )
    with pytest.raises(SpecError) as caught:
        load_problem(path, inputs_json="[1]")
    assert (
        str(caught.value)
        == f"{path}:1: @funsearch.run() takes no arguments; write @funsearch.run without parentheses."
    )
