"""problem.toml settings, report formatting and the built-in problem folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.records import Direction, Limits
from evoforge.spec import ReportFormat, builtin_problem_names, load_problem
from evoforge.spec_inputs import resolve_inputs

SPEC = (
    "from evoforge import evolve, run\n\n\n"
    "@run\ndef score(x):\n    return f(x)\n\n\n"
    "@evolve\ndef f(x):\n    return x\n"
)


def folder_with(tmp_path: Path, toml: str | None) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "spec.py").write_text(SPEC)
    if toml is not None:
        (folder / "problem.toml").write_text(toml)
    return folder


def test_builtin_problems_are_the_shipped_folders():
    assert builtin_problem_names() == ["bin_packing", "burgers_control", "cap_set", "circle_packing",
                                       "expression", "feynman", "heat_spreader", "integration", "lean_core"]


@pytest.mark.parametrize("name", ["bin_packing", "cap_set", "circle_packing"])
def test_each_builtin_problem_has_train_and_test_inputs(name):
    spec = load_problem(name)
    assert resolve_inputs(spec, "train") and resolve_inputs(spec, "test")


@pytest.mark.parametrize("name", ["bin_packing", "cap_set", "circle_packing"])
def test_each_builtin_problem_tells_the_llm_something(name):
    spec = load_problem(name)
    assert spec.description and spec.prompt_notes and spec.report.label != "score"


def test_builtin_limits_come_from_problem_toml():
    assert load_problem("cap_set").limits == Limits(wall_seconds=60, cpu_seconds=60, memory_mb=1024)


def test_folder_without_problem_toml_takes_the_defaults(tmp_path):
    spec = load_problem(folder_with(tmp_path, None), inputs_json="[1]")
    assert (spec.name, spec.direction, spec.limits) == ("toy", Direction.MAXIMIZE, Limits())


def test_inline_train_and_test_inputs_are_used_per_split(tmp_path):
    spec = load_problem(folder_with(tmp_path, "[inputs]\ntrain = [1, 2]\ntest = {big = 9}\n"))
    assert resolve_inputs(spec, "train") == {"1": 1, "2": 2} and resolve_inputs(spec, "test") == {"big": 9}


def test_inline_train_alone_serves_the_test_split_too(tmp_path):
    spec = load_problem(folder_with(tmp_path, "[inputs]\ntrain = [3]\n"))
    assert resolve_inputs(spec, "test") == {"3": 3}


def test_inputs_json_replaces_a_builtin_inputs_module():
    spec = load_problem("cap_set", inputs_json="[3]")
    assert spec.inputs_module is None and resolve_inputs(spec, "train") == {"3": 3}


def test_minimize_direction_turns_scores_so_higher_is_better(tmp_path):
    spec = load_problem(folder_with(tmp_path, 'direction = "minimize"\n[inputs]\ntrain = [1]\n'))
    assert spec.direction.oriented(2.0) == -2.0


def test_multiline_description_is_one_stripped_paragraph():
    description = load_problem("bin_packing").description
    assert description.startswith("Online 1-d bin packing") and "\n" not in description


def test_report_with_decimals_prints_fixed_digits_and_unit():
    assert ReportFormat(scale=-100, unit="%", decimals=2).show(-0.053678) == "5.37%"


def test_report_never_prints_minus_zero():
    assert ReportFormat(scale=-100, unit="%", decimals=2).show(0.0) == "0.00%"


def test_report_without_decimals_keeps_significant_digits():
    assert ReportFormat().show(2.635863) == "2.63586"


def test_report_of_a_missing_score_is_a_dash():
    assert ReportFormat(decimals=2).show(None) == "-"


def test_negative_report_decimals_are_rejected(tmp_path):
    folder = folder_with(tmp_path, "[inputs]\ntrain = [1]\n\n[report]\ndecimals = -1\n")
    with pytest.raises(ValueError, match=r"problem.toml:5: \[report\] decimals = -1"):
        load_problem(folder)


def test_zero_report_scale_is_rejected(tmp_path):
    folder = folder_with(tmp_path, "[inputs]\ntrain = [1]\n\n[report]\nscale = 0\n")
    with pytest.raises(ValueError, match=r"problem.toml:5: \[report\] scale = 0; give a non-zero number"):
        load_problem(folder)


def test_builtin_reports_show_the_published_units():
    assert load_problem("bin_packing").report.show(-0.0398) == "3.98%"
    assert load_problem("cap_set").report.show(512) == "512"
    assert load_problem("circle_packing").report.show(2.635863) == "2.63586"
