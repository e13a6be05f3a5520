"""`evoforge run --strategy X` as a user runs it: the real sandbox, the real SQLite file, Ray.

The commands run in-process through typer's CliRunner (one Ray for the module);
completions come from recorded answers (no model runs) written in each
strategy's own answer format, so these tests are about what the run does with
the strategy: which prompts it builds, what it records per sample, what
`show` reports, and that `mix` resumes with its bandit state.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evoforge.agents.strategies import MIX, MIX_ARMS
from evoforge.cli import app
from evoforge.storage import DB_FILENAME, RunStorage
from evoforge.strategy_bandit import StrategyChooser, thompson_choice
from tests.run_fixtures import RECORDED_BIN_PACKING, REPO, make_small_bin_packing

RECORDED = {
    "funsearch": RECORDED_BIN_PACKING, "random": RECORDED_BIN_PACKING,
    "chat": REPO / "tests" / "data" / "recorded_chat_bin_packing.jsonl",
    "diff": REPO / "tests" / "data" / "recorded_diff_bin_packing.jsonl",
}  # fmt: skip


pytestmark = pytest.mark.usefixtures("ray_session")  # conftest's: Ray as `evoforge run` starts it


@pytest.fixture(scope="module")
def problem(tmp_path_factory) -> Path:
    return make_small_bin_packing(tmp_path_factory.mktemp("strategies") / "problem")


def evoforge(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr[-3000:]}"
    return result.stdout


def run(problem: Path, run_dir: Path, strategy: str, *extra: str) -> None:
    evoforge("run", problem, "--llm", "recorded", "--model", RECORDED[strategy], "--strategy", strategy,
             "--run-dir", run_dir, "--samples-per-prompt", "4", *extra)


def rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return conn.execute(sql).fetchall()


def strategies_used(run_dir: Path) -> list[str]:
    return [r[0] for r in rows(run_dir, "SELECT strategy FROM samples ORDER BY id")]


@pytest.mark.parametrize("strategy", ["funsearch", "chat", "diff", "random"])
def test_a_run_records_its_strategy_per_sample_and_show_reports_it(
    problem: Path, tmp_path: Path, strategy: str
) -> None:
    run(problem, tmp_path / "run", strategy, "--samples", "8")
    assert strategies_used(tmp_path / "run") == [strategy] * 8
    summary = json.loads(evoforge("show", tmp_path / "run", "--json"))
    assert summary["strategy"] == strategy and list(summary["strategies"]) == [strategy]
    report = summary["strategies"][strategy]
    assert report["samples"] == 8 and report["valid_pct"] > 0
    assert report["valid_pct"] == round(100 * summary["valid"] / 8 - 100 / 8, 1)  # the seed is no sample


def test_diff_runs_evaluate_applied_edits_and_store_why_others_failed(problem: Path, tmp_path: Path) -> None:
    run(problem, tmp_path / "run", "diff", "--samples", "8", "--samplers", "1")
    reasons = [r[0] for r in rows(tmp_path / "run", "SELECT parse_error FROM candidates WHERE code IS NULL")]
    assert reasons and all(reason.startswith("diff: ") for reason in reasons)
    assert any("not closed" in reason for reason in reasons)
    edited = rows(tmp_path / "run", "SELECT code FROM candidates WHERE status = 'evaluated' AND sample_id")
    assert any("-(bins - item) ** 2" in code for (code,) in edited)


def test_random_prompts_show_only_the_seed_and_record_it_as_the_parent(problem: Path, tmp_path: Path) -> None:
    run(problem, tmp_path / "run", "random", "--samples", "16")
    seed_id = rows(tmp_path / "run", "SELECT id FROM candidates WHERE sample_id IS NULL")[0][0]
    prompts = rows(tmp_path / "run", "SELECT parent_ids, text FROM prompts")
    assert len(prompts) == 4 and all(json.loads(parents) == [seed_id] for parents, _ in prompts)
    assert all("def priority_v1(" in text and "priority_v2" not in text for _, text in prompts)


def test_chat_prompts_show_the_errors_of_failed_children(problem: Path, tmp_path: Path) -> None:
    run(problem, tmp_path / "run", "chat", "--samples", "16", "--samplers", "1")
    later = [text for (text,) in rows(tmp_path / "run", "SELECT text FROM prompts WHERE id > 1")]
    assert any("Recent attempts failed" in text and "syntax error" in text for text in later)


def test_mix_resumed_continues_its_bandit_from_the_run_file(problem: Path, tmp_path: Path) -> None:
    """Answers that never parse keep every choice independent of evaluation timing: the test is exact."""
    run_dir, refusals = tmp_path / "run", tmp_path / "refusals.jsonl"
    refusals.write_text(json.dumps({"text": "I cannot help with that."}) + "\n")
    evoforge("run", problem, "--llm", "recorded", "--model", refusals, "--strategy", MIX,
             "--run-dir", run_dir, "--samples", "12", "--samples-per-prompt", "4", "--samplers", "1",
             "--seed", "0")
    assert set(strategies_used(run_dir)) <= set(MIX_ARMS)
    storage = RunStorage.open_run(run_dir)
    try:
        expected, _ = StrategyChooser(MIX, storage, 1.0, 0).choose()  # what the stored state says next
    finally:
        storage.close()
    forgotten = thompson_choice({}, MIX_ARMS, random.Random("0:0"))  # a bandit that started over
    assert expected != forgotten, "pick a --seed where a restarted bandit would choose otherwise"
    evoforge("resume", run_dir, "--samples", "16")
    assert strategies_used(run_dir)[12:] == [expected] * 4
    summary = json.loads(evoforge("show", run_dir, "--json"))
    assert sum(row["samples"] for row in summary["strategies"].values()) == 16


def test_an_unknown_strategy_is_one_sentence(problem: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", str(problem), "--strategy", "evolve", "--run-dir",
                                      str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "--strategy 'evolve': use one of funsearch, chat, diff, random, mix." in result.stderr
    assert not (tmp_path / "run" / DB_FILENAME).exists()


def test_a_run_made_before_strategies_shows_and_resumes_as_funsearch(problem: Path, tmp_path: Path) -> None:
    run(problem, tmp_path / "run", "funsearch", "--samples", "4")
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "run", old)
    with sqlite3.connect(old / DB_FILENAME) as conn:
        conn.execute("ALTER TABLE samples DROP COLUMN strategy")
    assert json.loads(evoforge("show", old, "--json"))["strategies"]["funsearch"]["samples"] == 4
    evoforge("resume", old, "--samples", "8")
    assert strategies_used(old) == ["funsearch"] * 8
