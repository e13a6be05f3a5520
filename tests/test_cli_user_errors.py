"""Mistakes a user can make end in one sentence and exit 2, through the `evoforge` command.

Damaged run files are made from a real run (recorded LLM, real sandbox, real
SQLite file) by truncating or overwriting its `evoforge.db`; problem folders
are written by each test. Commands that fail before any Ray or sandbox work
run in-process through typer's CliRunner; the run itself is a subprocess.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from tests.run_fixtures import RECORDED_BIN_PACKING, REPO, make_small_bin_packing

SPEC = (
    "from evoforge import evolve, run\n\n\n"
    "@run\ndef score(x):\n    return f(x)\n\n\n"
    "@evolve\ndef f(x):\n    return x\n"
)
CANDIDATE = "def f(x):\n    return 2 * x\n"


def evoforge(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exit_code not in (0, 2):
        raise AssertionError(f"exit {result.exit_code}: {result.stderr}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_one_sentence(code: int, stderr: str, *expected: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for text in expected:
        assert text in stderr, stderr


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 8-sample run of a small bin-packing problem."""
    folder = tmp_path_factory.mktemp("finished")
    problem = make_small_bin_packing(folder / "problem")
    run_dir = folder / "run"
    result = subprocess.run(
        [sys.executable, "-m", "evoforge.cli", "run", str(problem), "--llm", "recorded", "--model",
         str(RECORDED_BIN_PACKING), "--samples", "8", "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def copy_run(run_dir: Path, to: Path) -> Path:
    shutil.copytree(run_dir, to)
    return to / "evoforge.db"


def problem_folder(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "spec.py").write_text(SPEC)
    (folder / "problem.toml").write_text(toml)
    (tmp_path / "candidate.py").write_text(CANDIDATE)
    return folder


# -- problem.toml: wrong types -------------------------------------------------

WRONG_TYPES = [
    ('name = ["a", "b"]\n[inputs]\ntrain = [1]\n', 1, "name = ['a', 'b'] is not a string"),
    ('description = 3\n[inputs]\ntrain = [1]\n', 1, "description = 3 is not a string"),
    ('direction = 1\n[inputs]\ntrain = [1]\n', 1, "direction = 1 is not a string"),
    ('kind = true\n[inputs]\ntrain = [1]\n', 1, "kind = true is not a string"),
    ('[inputs]\ntrain = [1]\n\n[report]\nlabel = 7\n', 5, "[report] label = 7 is not a string"),
    ('[inputs]\ntrain = [1]\n\n[report]\nunit = 1\n', 5, "[report] unit = 1 is not a string"),
    ('[inputs]\ntrain = [1]\n\n[prompt]\nnotes = ["x"]\n', 5, "[prompt] notes = ['x'] is not a string"),
    ('[inputs]\nmodule = 5\n', 2, "[inputs] module = 5 is not a string"),
    ('report = {label = 7}\n[inputs]\ntrain = [1]\n', 1, "[report] label = 7 is not a string"),
]


@pytest.mark.parametrize(("toml", "line", "message"), WRONG_TYPES)
def test_wrong_type_in_problem_toml_names_file_line_and_fix(
    tmp_path: Path, toml: str, line: int, message: str
) -> None:
    folder = problem_folder(tmp_path, toml)
    code, _, stderr = evoforge("evaluate", str(folder), str(tmp_path / "candidate.py"))
    assert_one_sentence(code, stderr, f"{folder / 'problem.toml'}:{line}: {message}", "write it in quotes")


@pytest.mark.parametrize("table", ["inputs", "limits", "prompt", "report"])
def test_table_given_as_a_value_keeps_its_bracketed_fix(tmp_path: Path, table: str) -> None:
    folder = problem_folder(tmp_path, f'{table} = "x"\n')
    code, _, stderr = evoforge("evaluate", str(folder), str(tmp_path / "candidate.py"))
    assert_one_sentence(code, stderr, f"{table} must be a table: write [{table}] on its own line.")


def test_strings_of_the_right_type_still_load_and_score(tmp_path: Path) -> None:
    folder = problem_folder(
        tmp_path, 'name = "toy"\ndescription = "d"\n[inputs]\ntrain = [1]\ntest = [3]\n'
        '[report]\nlabel = "twice [x]"\nunit = " [u]"\n[prompt]\nnotes = "n"\n',
    )
    code, stdout, stderr = evoforge("evaluate", str(folder), str(tmp_path / "candidate.py"), "--json")
    assert code == 0, stderr
    payload = json.loads(stdout)
    assert payload["metric"] == "twice [x]" and payload["results"]["3"]["shown"] == "6 [u]"


def test_bracketed_label_and_candidate_error_survive_in_the_table(tmp_path: Path) -> None:
    folder = problem_folder(tmp_path, '[inputs]\ntrain = [1]\n[report]\nlabel = "gap [bins]"\n')
    candidate = tmp_path / "raising.py"
    candidate.write_text("def f(x):\n    raise ValueError('index [k] out of range')\n")
    result = CliRunner().invoke(app, ["evaluate", str(folder), str(candidate), "--unsafe-in-process"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "[bins]" in result.stdout and "[k]" in result.stdout


# -- damaged run files ---------------------------------------------------------

def test_truncated_run_file_is_named_on_show_and_resume(finished_run: Path, tmp_path: Path) -> None:
    db = copy_run(finished_run, tmp_path / "run")
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    for command in ("show", "resume"):
        code, _, stderr = evoforge(command, str(tmp_path / "run"))
        assert_one_sentence(code, stderr, f"{db} cannot be read as a run", "damaged, truncated")


def test_run_file_that_lost_its_last_page_is_named(finished_run: Path, tmp_path: Path) -> None:
    db = copy_run(finished_run, tmp_path / "run")
    db.write_bytes(db.read_bytes()[:-4096])
    code, _, stderr = evoforge("show", str(tmp_path / "run"))
    assert_one_sentence(code, stderr, f"{db} cannot be read as a run")


def test_run_file_that_is_not_sqlite_is_named_on_show_and_resume(tmp_path: Path) -> None:
    db = tmp_path / "run" / "evoforge.db"
    db.parent.mkdir()
    db.write_text("this is not a database\n" * 200)
    for command in ("show", "resume"):
        code, _, stderr = evoforge(command, str(db.parent))
        assert_one_sentence(code, stderr, f"{db} cannot be read as a run (file is not a database)")


def test_empty_run_file_says_it_holds_no_run(tmp_path: Path) -> None:
    db = tmp_path / "run" / "evoforge.db"
    db.parent.mkdir()
    db.write_bytes(b"")
    for command in ("show", "resume"):
        code, _, stderr = evoforge(command, str(db.parent))
        assert_one_sentence(code, stderr, f"{db} holds no evoforge run")


# -- show ----------------------------------------------------------------------

def test_show_plot_into_a_missing_folder_creates_it(finished_run: Path, tmp_path: Path) -> None:
    plot = tmp_path / "new" / "folder" / "history.png"
    code, stdout, stderr = evoforge("show", str(finished_run), "--plot", str(plot))
    assert code == 0, stderr
    assert plot.stat().st_size > 1000 and f"plot written to {plot}" in stdout


def test_show_plot_with_an_unknown_ending_says_which_endings_work(finished_run: Path, tmp_path: Path) -> None:
    code, _, stderr = evoforge("show", str(finished_run), "--plot", str(tmp_path / "history.xyz"))
    assert_one_sentence(code, stderr, "history.xyz: cannot tell the image format", ".png")


def test_show_plot_onto_a_file_used_as_folder_is_one_sentence(finished_run: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, _, stderr = evoforge("show", str(finished_run), "--plot", str(tmp_path / "file" / "h.png"))
    assert_one_sentence(code, stderr, str(tmp_path / "file"))


def remove_meta(db: Path, *keys: str) -> None:
    """Leave a run as a disk that filled while it was created leaves it."""
    with sqlite3.connect(db) as conn:
        conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in keys])


def test_show_without_direction_names_what_is_missing_and_shows_no_scores(
    finished_run: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    remove_meta(copy_run(finished_run, run_dir), "direction", "report")
    code, stdout, stderr = evoforge("show", str(run_dir))
    assert code == 0, stderr
    assert "lacks its stored direction, report" in stderr and f"evoforge resume {run_dir}" in stderr
    assert "samples" in stdout and "raw" not in stdout and "best" not in stdout
    code, stdout, _ = evoforge("show", str(run_dir), "--json")
    summary = json.loads(stdout)
    assert summary["missing"] == ["direction", "report"] and summary["samples"] == 8
    assert summary["best_score"] is None and summary["history"] == [] and summary["best_code"] is None


def test_show_without_report_format_shows_raw_scores_in_the_right_direction(
    finished_run: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    remove_meta(copy_run(finished_run, run_dir), "report")
    whole = json.loads(evoforge("show", str(finished_run), "--json")[1])
    code, stdout, stderr = evoforge("show", str(run_dir), "--json")
    assert code == 0 and "scores are shown raw" in stderr
    assert json.loads(stdout)["best_score"] == whole["best_score"] is not None


def test_sqlite_file_of_another_program_says_it_holds_no_run(tmp_path: Path) -> None:
    db = tmp_path / "run" / "evoforge.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    code, _, stderr = evoforge("show", str(db.parent))
    assert_one_sentence(code, stderr, f"{db} holds no evoforge run (it has no prompts, samples")


@pytest.mark.parametrize("budget", [["--samples", "0"], ["--samples", "-3"], ["--minutes", "0"]])
def test_a_budget_that_allows_nothing_is_refused_before_anything_starts(tmp_path, budget) -> None:
    result = CliRunner().invoke(app, ["run", "bin_packing", "--run-dir", str(tmp_path / "run"), *budget])
    assert result.exit_code == 2 and budget[0] in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("option", "value", "sentence"), [
    ("--max-temperature", "0", "--max-temperature 0.0: give a temperature above 0."),
    ("--temperature", "-1", "--temperature -1.0: give a temperature of 0 (greedy) or above."),
    ("--xtc-probability", "1.5", "--xtc-probability 1.5: give one from 0 (off) to 1."),
])
def test_a_sampler_setting_out_of_range_is_refused_before_anything_starts(
    tmp_path, option: str, value: str, sentence: str
) -> None:
    run_dir = tmp_path / "run"
    code, _, stderr = evoforge("run", "bin_packing", "--run-dir", str(run_dir), option, value)
    assert_one_sentence(code, stderr, sentence)
    assert not run_dir.exists()


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_a_thread_count_below_one_is_refused_before_anything_starts(tmp_path, threads: str) -> None:
    run_dir = tmp_path / "run"
    code, _, stderr = evoforge("run", "bin_packing", "--run-dir", str(run_dir), "--threads", threads)
    assert_one_sentence(code, stderr, f"--threads {threads}: give 1 or more, or leave it out for every core.")
    assert not run_dir.exists()
