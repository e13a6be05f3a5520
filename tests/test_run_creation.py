"""A run is created whole or not at all, and `resume` reopens it with the spec it was started with.

Through the `evoforge` command (typer's CliRunner, one Ray for the module),
the real sandbox and the real SQLite file; completions are replayed from a
recorded file, no model runs.
"""

from __future__ import annotations

import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.storage import DB_FILENAME
from tests.run_fixtures import RECORDED_BIN_PACKING, count_rows, make_small_bin_packing

REPAIRED = "key IN ('direction', 'report')"
RECORDED = ["--llm", "recorded", "--model", str(RECORDED_BIN_PACKING), "--samples-per-prompt", "2"]


def evoforge(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_spec_that_fails_at_import_leaves_no_run(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    spec = problem / "spec.py"
    spec.write_text("import no_such_module_here\n" + spec.read_text())
    code, output = evoforge("run", str(problem), *RECORDED, "--run-dir", str(tmp_path / "run"))
    assert code == 2, output
    assert "no_such_module_here" in output and "Traceback" not in output
    assert not (tmp_path / "run").exists()


def test_seed_that_does_not_score_ends_in_one_sentence_and_leaves_no_run(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    spec = problem / "spec.py"
    source = spec.read_text()
    assert source.rstrip().endswith("    return -(bins - item)")
    spec.write_text(source.rstrip().removesuffix("-(bins - item)") + "bins / 0 + undefined_name\n")
    code, output = evoforge("run", str(problem), *RECORDED, "--run-dir", str(tmp_path / "run"))
    assert code == 2, output
    assert "the seed program priority() does not score on the training inputs" in output
    assert "Traceback" not in output
    assert not (tmp_path / "run").exists()


@pytest.fixture()
def small_run(ray_session: None, tmp_path: Path) -> tuple[Path, Path]:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    code, output = evoforge("run", str(problem), *RECORDED, "--samples", "4", "--run-dir", str(run_dir))
    assert code == 0, output
    return problem, run_dir


def test_resume_runs_the_spec_stored_in_the_run_and_says_the_file_changed(
    small_run: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    problem, run_dir = small_run
    spec = problem / "spec.py"
    spec.write_text("raise RuntimeError('edited after the run started')\n" + spec.read_text())
    code, output = evoforge("resume", str(run_dir), "--samples", "8")
    assert code == 0, output
    warnings = [r.getMessage() for r in caplog.records if "changed since this run started" in r.getMessage()]
    assert len(warnings) == 1 and str(spec) in warnings[0]
    assert count_rows(run_dir / DB_FILENAME, "SELECT COUNT(*) FROM samples") == 8
    assert count_rows(run_dir / DB_FILENAME, "SELECT COUNT(*) FROM evaluations WHERE ok = 1") > 1


def test_resume_restores_metadata_an_interrupted_creation_left_out(
    small_run: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    _, run_dir = small_run
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        expected = dict(conn.execute(f"SELECT key, value FROM meta WHERE {REPAIRED}"))
        conn.execute(f"DELETE FROM meta WHERE {REPAIRED}")
    code, output = evoforge("resume", str(run_dir), "--samples", "6")
    assert code == 0, output
    assert any("lacked its direction, report" in r.getMessage() for r in caplog.records)
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        assert dict(conn.execute(f"SELECT key, value FROM meta WHERE {REPAIRED}")) == expected


def test_resume_of_a_run_without_settings_refuses_in_one_sentence(small_run: tuple[Path, Path]) -> None:
    _, run_dir = small_run
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'config'")
    code, output = evoforge("resume", str(run_dir), "--samples", "6")
    assert code == 2, output
    assert f"{run_dir} holds no run settings" in output and "start the run again" in output


def test_run_refuses_a_folder_that_holds_a_run(small_run: tuple[Path, Path]) -> None:
    problem, run_dir = small_run
    before = shutil.copy(run_dir / DB_FILENAME, run_dir.parent / "before.db")
    code, output = evoforge("run", str(problem), *RECORDED, "--run-dir", str(run_dir))
    assert code == 2 and "already holds a run" in output
    assert count_rows(Path(before), "SELECT COUNT(*) FROM samples") == 4


def _small_disk() -> None:
    """In the child: files may grow to 40 kB (RLIMIT_FSIZE), as on a nearly full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))


def test_a_disk_that_fills_while_a_run_is_created_leaves_no_half_run(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    made = subprocess.run([sys.executable, "-m", "evoforge.cli", "run", str(problem), *RECORDED,
                           "--run-dir", str(run_dir)], preexec_fn=_small_disk,
                          capture_output=True, text=True, timeout=300)
    message = " ".join(made.stderr.split())
    assert made.returncode == 2, made.stderr[-3000:]
    # a file-size limit stands in for the full disk: SQLite reports it as an I/O error on the run file
    assert f"{run_dir / DB_FILENAME}" in message and "check the disk it is on" in message
    assert "Traceback" not in made.stderr
    assert not (run_dir / DB_FILENAME).exists()
    code, output = evoforge("resume", str(run_dir))
    assert code == 2 and "no evoforge run here" in output
