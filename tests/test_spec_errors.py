"""A broken spec fails at load with one message naming the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge.spec import load_problem
from evoforge.spec_errors import SpecError
from evoforge.spec_inputs import resolve_inputs

GOOD = """import numpy as np


@funsearch.run
def evaluate(n: int) -> float:
    return float(priority(n))


@funsearch.evolve
def priority(n: int) -> float:
    return 0.0
"""
GOOD_TOML = 'name = "toy"\n\n[inputs]\ntrain = [1, 2]\n\n[limits]\nwall_seconds = 5\n'


def write_spec(tmp_path: Path, text: str, name: str = "spec.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def write_folder(tmp_path: Path, toml: str, spec: str = GOOD) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "spec.py").write_text(spec)
    (folder / "problem.toml").write_text(toml)
    return folder


def load_error(target: Path | str, inputs_json: str | None = "[1]") -> str:
    with pytest.raises(SpecError) as caught:
        load_problem(target, inputs_json=inputs_json)
    return str(caught.value)


def test_good_spec_and_folder_load(tmp_path):
    assert load_problem(write_folder(tmp_path, GOOD_TOML)).name == "toy"


def test_syntax_error_names_file_line_and_fix(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("return 0.0", "return 0.0 +"))
    message = load_error(path)
    assert message.startswith(f"{path}:11: syntax error") and "Fix the spec" in message


def test_missing_evolve_names_file_line_and_fix(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("@funsearch.evolve\n", ""))
    message = load_error(path)
    assert message.startswith(f"{path}:9: no function is marked @evolve")
    assert "Put @evolve (or @funsearch.evolve) on the line above" in message


def test_missing_evolve_lists_the_functions_there_are(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("@funsearch.evolve\n", ""))
    assert "evaluate (line 5), priority (line 9)" in load_error(path)


def test_missing_run_names_file_line_and_fix(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("@funsearch.run\n", ""))
    message = load_error(path)
    assert message.startswith(f"{path}:") and "no function is marked @run" in message
    assert "Put @run (or @funsearch.run) on the line above the function that scores one input" in message


def test_two_evolve_functions_name_the_second_and_the_fix(tmp_path):
    path = write_spec(tmp_path, GOOD + "\n\n@funsearch.evolve\ndef other(n: int) -> float:\n    return 1.0\n")
    message = load_error(path)
    assert message.startswith(f"{path}:15: more than one function is marked @evolve")
    assert "priority (line 10), other (line 15)" in message and "Keep the mark on exactly one" in message


def test_run_without_argument_names_file_line_and_fix(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("def evaluate(n: int)", "def evaluate()"))
    message = load_error(path)
    assert message.startswith(f"{path}:5: @run function evaluate() takes no argument")
    assert "must take the input to score" in message


def test_run_with_two_required_arguments_names_file_line_and_fix(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("def evaluate(n: int)", "def evaluate(n, m)"))
    message = load_error(path)
    assert message.startswith(f"{path}:5: @run function evaluate() requires 2 arguments")
    assert "exactly one input" in message


def test_run_with_one_input_and_optional_arguments_loads(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("def evaluate(n: int)", "def evaluate(n, verbose=False)"))
    assert load_problem(path, inputs_json="[1]").run_name == "evaluate"


def test_one_function_marked_both_ways_names_file_line_and_fix(tmp_path):
    text = "@funsearch.run\n@funsearch.evolve\ndef both(n):\n    return n\n"
    path = write_spec(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}:3: both() is marked both @evolve and @run")
    assert "must be a separate function" in message


def test_unknown_toml_key_names_file_line_and_fix(tmp_path):
    folder = write_folder(
        tmp_path, GOOD_TOML.replace('name = "toy"\n', 'name = "toy"\ndirecton = "minimize"\n')
    )
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:2: unknown key 'directon'")
    assert "use one of" in message and "'direction'" in message


def test_unknown_limits_key_names_its_line_in_the_table(tmp_path):
    folder = write_folder(tmp_path, GOOD_TOML + "wall_secs = 3\n")
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:8: unknown key [limits] 'wall_secs'")
    assert "'wall_seconds'" in message


def test_bad_limit_value_names_file_line_and_fix(tmp_path):
    folder = write_folder(tmp_path, GOOD_TOML.replace("wall_seconds = 5", 'wall_seconds = "five"'))
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:7: [limits] wall_seconds = 'five'")
    assert "give a positive number" in message


def test_fractional_memory_limit_is_rejected(tmp_path):
    folder = write_folder(tmp_path, GOOD_TOML + "memory_mb = 1.5\n")
    assert "give a positive whole number" in load_error(folder, inputs_json=None)


def test_bad_direction_names_file_line_and_fix(tmp_path):
    folder = write_folder(tmp_path, 'direction = "up"\n' + GOOD_TOML)
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:1: direction = 'up'")
    assert 'use "maximize" or "minimize"' in message


def test_bad_kind_names_file_line_and_fix(tmp_path):
    folder = write_folder(tmp_path, GOOD_TOML + '\n[prompt]\nnotes = "x"\n').parent
    toml = folder / "toy" / "problem.toml"
    toml.write_text('kind = "lean"\n' + toml.read_text())
    message = load_error(folder / "toy", inputs_json=None)
    assert message.startswith(f"{toml}:1: kind = 'lean' is not supported; use one of [")
    assert "'expression'" in message and "'program'" in message


def test_invalid_toml_names_file_line_and_fix(tmp_path):
    folder = write_folder(tmp_path, GOOD_TOML.replace("wall_seconds = 5", "wall_seconds = = 5"))
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:7: invalid TOML")
    assert "fix the syntax on that line" in message


def test_table_given_as_a_value_names_the_fix(tmp_path):
    folder = write_folder(tmp_path, "limits = 3\n[inputs]\ntrain = [1]\n")
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:1: limits must be a table")


def test_missing_inputs_module_names_toml_line_and_fix(tmp_path):
    folder = write_folder(tmp_path, '[inputs]\nmodule = "nowhere.py"\n')
    message = load_error(folder, inputs_json=None)
    assert message.startswith(f"{folder / 'problem.toml'}:2: [inputs] module = 'nowhere.py' does not exist")
    assert "create it" in message


def test_spec_without_inputs_names_the_run_line_and_the_fix(tmp_path):
    path = write_spec(tmp_path, GOOD)
    message = load_error(path, inputs_json=None)
    assert message.startswith(f"{path.resolve()}:5: evaluate() has no inputs to score")
    assert "Pass --inputs JSON" in message


def test_bad_inputs_json_names_the_option_position_and_fix(tmp_path):
    message = load_error(write_spec(tmp_path, GOOD), inputs_json="[8, 9")
    assert message.startswith("--inputs:1: not valid JSON")
    assert "column 6" in message and "give a list like '[8, 9]'" in message


def test_empty_inputs_json_names_the_fix(tmp_path):
    message = load_error(write_spec(tmp_path, GOOD), inputs_json="[]")
    assert message.startswith("--inputs:1: the list of inputs is empty")


def test_unknown_problem_name_lists_the_built_ins():
    message = load_error("no_such_problem")
    assert message.startswith("no_such_problem: no such problem")
    assert ("bin_packing, burgers_control, cap_set, circle_packing, expression, feynman, heat_spreader, "
            "integration, lean_core") in message


def test_folder_without_spec_names_the_fix(tmp_path):
    message = load_error(tmp_path)
    assert message.startswith(f"{tmp_path}: a problem folder needs a spec.py")


def test_spec_that_is_not_utf8_names_the_fix(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes(b"# caf\xe9\n" + GOOD.encode())
    assert load_error(path).startswith(f"{path}:1: not UTF-8 text")


def test_spec_that_is_not_utf8_further_down_names_that_line(tmp_path):
    path = tmp_path / "latin_later.py"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    assert load_error(path).startswith(f"{path}:{GOOD.count(chr(10)) + 1}: not UTF-8 text (byte 0xe9")


def test_spec_with_a_nul_byte_names_its_line(tmp_path):
    path = write_spec(tmp_path, GOOD.replace("return 0.0", "return 0.0\0"))
    assert load_error(path) == (
        f"{path}:11: a NUL byte in the text; the spec must be Python source, not binary data."
    )


def test_inputs_module_that_raises_names_its_line(tmp_path):
    folder = write_folder(tmp_path, '[inputs]\nmodule = "inputs.py"\n')
    (folder / "inputs.py").write_text(
        "def train():\n    return {'a': 1 / 0}\n\n\ndef test():\n    return {}\n"
    )
    spec = load_problem(folder)
    with pytest.raises(SpecError) as caught:
        resolve_inputs(spec, "train")
    message = str(caught.value)
    assert message.startswith(f"{folder.resolve() / 'inputs.py'}:2: train() raised ZeroDivisionError")
    assert "fix the inputs module" in message


def test_inputs_module_with_a_syntax_error_names_its_line(tmp_path):
    folder = write_folder(tmp_path, '[inputs]\nmodule = "inputs.py"\n')
    (folder / "inputs.py").write_text("def train(:\n    return {}\n")
    spec = load_problem(folder)
    with pytest.raises(SpecError, match=r"inputs.py:1: syntax error"):
        resolve_inputs(spec, "train")


def test_inputs_split_returning_nothing_names_the_fix(tmp_path):
    folder = write_folder(tmp_path, '[inputs]\nmodule = "inputs.py"\n')
    (folder / "inputs.py").write_text("def train():\n    return {'a': 1}\n\n\ndef test():\n    return {}\n")
    with pytest.raises(SpecError, match=r"test\(\) must return a non-empty dict"):
        resolve_inputs(load_problem(folder), "test")


def test_inputs_module_without_the_split_names_the_fix(tmp_path):
    folder = write_folder(tmp_path, '[inputs]\nmodule = "inputs.py"\n')
    (folder / "inputs.py").write_text("def train():\n    return {'a': 1}\n")
    with pytest.raises(SpecError, match=r"define test\(\) returning"):
        resolve_inputs(load_problem(folder), "test")


def test_missing_dataset_file_names_the_fix(tmp_path):
    spec = load_problem("bin_packing")
    with pytest.raises(SpecError, match="no such file; give the path of a dataset file"):
        resolve_inputs(spec, "test", tmp_path / "absent.json")


def test_dataset_for_a_problem_without_inputs_module_names_the_fix(tmp_path):
    spec = load_problem(write_spec(tmp_path, GOOD), inputs_json="[1]")
    data = write_spec(tmp_path, "[1]", name="data.json")
    with pytest.raises(SpecError, match="does not read datasets"):
        resolve_inputs(spec, "test", data)


def test_broken_dataset_file_names_the_inputs_module_line(tmp_path):
    data = write_spec(tmp_path, "{not json", name="broken.json")
    with pytest.raises(SpecError, match=r"inputs.py:\d+: dataset\(.*broken.json\) raised JSONDecodeError"):
        resolve_inputs(load_problem("bin_packing"), "test", data)
