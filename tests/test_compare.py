"""`evoforge compare` on real run directories made by short runs with recorded completions.

Three arms of three seeds each, on small bin packing whose seed is worst fit
(easy to beat): `good` replays one improving body per seed (different bodies,
so the arm has a spread), `good_twin` replays exactly the same bodies under
another file name, `bad` replays only broken code under `--strategy random`
(the baseline arm compare measures against), so its runs keep the seed.
The runs are real (Ray, the sandbox, SQLite); what the test checks against is
computed here straight from the runs' databases.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import ray
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.run_config import RunConfig
from evoforge.runtime.ray_session import start_ray
from evoforge.runtime.session import run_search
from evoforge.storage import DB_FILENAME
from tests.report_fixtures import make_problem

WORST_FIT = "    return bins - item\n"
GOOD_BODIES = ["    return -(bins - item)\n", "    return -np.abs(bins - item - 10.0)\n",
               "    return np.cos(bins)\n"]
BROKEN_BODIES = ["    return -(bins - item\n", "    return undefined_name * bins\n"]
STRATEGIES = {"good": "funsearch", "good_twin": "funsearch", "bad": "random"}  # bad: the baseline arm
SCALE = -100  # the small problem's [report] scale: scores are shown as % excess bins
SAMPLES = 4
RECORDED_DELAY = 0.05  # seconds per recorded completion: the requests take time, as a server's do
runner = CliRunner()


def _completions(path: Path, bodies: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "```python\ndef priority(item: float, bins: np.ndarray) -> np.ndarray:\n"
    path.write_text("".join(json.dumps({"text": header + body + "```\n"}) + "\n" for body in bodies))
    return path


def _run(problem: Path, run_dir: Path, completions: Path, seed: int, strategy: str = "funsearch") -> Path:
    config = RunConfig(problem=str(problem), run_dir=run_dir, samples=SAMPLES, samples_per_prompt=SAMPLES,
                       samplers=1, seed=seed, strategy=strategy,
                       llm={"backend": "recorded", "model": str(completions)})
    run_search(config)
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, list[Path]]:
    """arm -> its run directories (seeds 0, 1, 2), plus one run of another problem."""
    root = tmp_path_factory.mktemp("compare")
    problem = make_problem(root / "problem", seed_body=WORST_FIT)
    other = make_problem(root / "other", seed_body=WORST_FIT)
    (other / "problem.toml").write_text((other / "problem.toml").read_text().replace(
        'name = "small_bin_packing"', 'name = "other_bin_packing"'))
    os.environ["EVOFORGE_RECORDED_DELAY"] = str(RECORDED_DELAY)  # the sampler actors inherit it
    start_ray()
    try:
        made: dict[str, list[Path]] = {"good": [], "good_twin": [], "bad": []}
        for seed, body in enumerate(GOOD_BODIES):
            for arm, bodies in (("good", [body]), ("good_twin", [body]), ("bad", BROKEN_BODIES)):
                file = _completions(root / f"s{seed}" / f"{arm}.jsonl", bodies)
                made[arm].append(_run(problem, root / "runs" / f"{arm}-{seed}", file, seed, STRATEGIES[arm]))
        made["other"] = [_run(other, root / "runs" / "other", file, 0)]
    finally:
        ray.shutdown()
        os.environ.pop("EVOFORGE_RECORDED_DELAY")
    return made


def _arm(name: str) -> str:
    """The label compare gives: the run's stored strategy, and its model since the arms' models differ."""
    return f"{STRATEGIES[name]} · recorded:{name}.jsonl"


def _compare(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["compare", *args])
    return result.exit_code, result.output


def _best_training_shown(run_dir: Path, budget: int) -> float:
    """The best training score once `budget` samples were drawn, from the database, in % (lower is better)."""
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        row = conn.execute("SELECT MAX(e.score) FROM evaluations e JOIN candidates c ON c.id = e.candidate_id"
                           " WHERE e.ok = 1 AND COALESCE(c.sample_id, 0) <= ?", (budget,)).fetchone()
    return row[0] * SCALE


def _held_out_report_shown(run_dir: Path) -> float:
    """The run's own held-out report of its final best (mean over the test inputs), in %."""
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        report = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'held_out'").fetchone()[0])
    return float(np.mean([r["score"] for r in report.values()])) * SCALE


def _dirs(runs: dict[str, list[Path]], *arms: str) -> list[str]:
    return [str(d) for arm in arms for d in runs[arm]]


def test_training_medians_and_iqr_match_the_databases(runs) -> None:
    code, output = _compare(*_dirs(runs, "good", "bad", "good_twin"), "--training", "--json")
    assert code == 0, output
    result = json.loads(output)
    assert result["basis"] == "training" and result["budget"] == SAMPLES
    assert set(result["arms"]) == {_arm("good"), _arm("good_twin"), _arm("bad")}
    for arm in ("good", "bad", "good_twin"):
        final = result["arms"][_arm(arm)][-1]
        values = [_best_training_shown(d, SAMPLES) for d in runs[arm]]
        assert final["runs"] == final["scored"] == 3
        assert final["median"] == pytest.approx(np.median(values))
        assert final["q1"] == pytest.approx(np.percentile(values, 25))
        assert final["q3"] == pytest.approx(np.percentile(values, 75))
    assert len({round(v, 6) for v in (_best_training_shown(d, SAMPLES) for d in runs["good"])}) == 3


def test_held_out_final_scores_are_the_runs_own_held_out_reports(runs) -> None:
    code, output = _compare(*_dirs(runs, "good", "bad"), "--json")
    assert code == 0, output
    result = json.loads(output)
    assert result["basis"] == "held-out" and result["basis_note"] is None
    for run in result["runs"]:
        final = [score for samples, score in run["points"] if samples <= SAMPLES][-1]
        assert final == pytest.approx(_held_out_report_shown(Path(run["run_dir"])))


def test_an_earlier_best_without_a_held_out_score_leaves_its_run_unscored_only_until_the_next_best(
    runs, tmp_path: Path
) -> None:
    held_out_only_item = 95  # an item size the small problem's test inputs have and its training inputs lack
    first_fit_failing_on_test = (f"    if item == {held_out_only_item}:\n"
                                 "        raise ValueError('unseen size')\n"
                                 "    return -np.arange(len(bins), dtype=float)\n")
    completions = _completions(tmp_path / "flaky.jsonl", [first_fit_failing_on_test, GOOD_BODIES[0]])
    start_ray()
    try:
        flaky = _run(runs["good"][0].parent.parent / "problem", tmp_path / "flaky", completions, seed=0)
    finally:
        ray.shutdown()
    code, output = _compare(str(flaky), *_dirs(runs, "bad"), "--json")
    assert code == 0, output
    result = json.loads(output)
    assert result["basis"] == "held-out"  # before: the whole comparison fell back to training scores
    assert str(flaky) in result["basis_note"] and "unseen size" in result["basis_note"]
    [curve] = [run for run in result["runs"] if run["run_dir"] == str(flaky)]
    unscored = [samples for samples, score in curve["points"] if score is None]
    assert unscored and unscored[0] < curve["points"][-1][0]  # the first-fit best, then best fit after it
    assert curve["points"][-1][1] == pytest.approx(_held_out_report_shown(flaky))
    [flaky_arm] = [figures for figures in result["arms"].values() if figures[0]["runs"] == 1]
    assert flaky_arm[0]["scored"] == 0 and flaky_arm[-1]["scored"] == 1
    wide = runner.invoke(app, ["compare", str(flaky), *_dirs(runs, "bad")], env={"COLUMNS": "250"})
    assert wide.exit_code == 0 and "(0 of 1 runs)" in wide.output  # what the by-samples median is of


def test_interval_excludes_zero_when_arms_clearly_differ(runs) -> None:
    code, output = _compare(*_dirs(runs, "good", "bad"), "--json")  # the reference is `random` by default
    assert code == 0, output
    result = json.loads(output)
    assert result["reference"] == _arm("bad") and not result["higher_is_better"]
    (difference,) = result["differences"]
    assert difference["arm"] == _arm("good") and difference["verdict"] == "better"
    assert difference["high"] < 0  # lower % excess is better: good's median is clearly below bad's


def test_interval_holds_zero_for_identical_arms(runs) -> None:
    code, output = _compare(*_dirs(runs, "good", "good_twin"), "--reference", _arm("good"), "--json")
    assert code == 0, output
    (difference,) = json.loads(output)["differences"]
    assert difference["arm"] == _arm("good_twin") and difference["verdict"] == "no clear difference"
    assert difference["low"] <= 0 <= difference["high"] and difference["difference"] == 0


def test_each_run_is_paired_with_the_reference_run_of_its_seed(runs) -> None:
    """The tally by seed, checked against the databases; a seed only one arm ran is left out."""
    # good's three seeds score differently (the first test checks it), so only pairing by seed finds
    # the twin level in both seeds it ran: by position, good's seed 0 would meet the twin's seed 1.
    twin_1_2 = [str(d) for d in runs["good_twin"][1:]]
    code, output = _compare(*_dirs(runs, "good"), *twin_1_2, "--reference", _arm("good_twin"), "--training",
                            "--json")
    assert code == 0, output
    (difference,) = json.loads(output)["differences"]
    assert difference["seeds"] == {"ahead": 0, "level": 2, "behind": 0}

    bad_0_1 = [str(d) for d in runs["bad"][:2]]
    code, output = _compare(*_dirs(runs, "good"), *bad_0_1, "--training", "--json")
    assert code == 0, output
    (difference,) = json.loads(output)["differences"]
    good = [_best_training_shown(d, SAMPLES) for d in runs["good"][:2]]
    bad = [_best_training_shown(d, SAMPLES) for d in runs["bad"][:2]]
    assert all(g < b for g, b in zip(good, bad, strict=True))  # % excess bins: lower is ahead
    assert difference["seeds"] == {"ahead": 2, "level": 0, "behind": 0}

    code, output = _compare(*_dirs(runs, "good", "good_twin"), "--reference", _arm("good"), "--training")
    assert code == 0, output
    assert "0/3/0" in output and "ahead/level/behind" in output, output


def test_the_seed_tally_reads_the_problems_direction() -> None:
    from evoforge.comparison_stats import SeedTally, seed_tally

    pairs = [(219.0, 203.0), (203.0, 203.0), (216.0, 240.0)]
    assert seed_tally(pairs, higher_is_better=True) == SeedTally(ahead=1, level=1, behind=1)
    assert seed_tally(pairs[:1], higher_is_better=False) == SeedTally(ahead=0, level=0, behind=1)
    assert seed_tally([], higher_is_better=True) is None


def test_table_groups_runs_by_arm_and_the_plot_is_written(runs, tmp_path: Path) -> None:
    plot = tmp_path / "curves.svg"
    code, output = _compare(*_dirs(runs, "good", "bad"), "--training", "--plot", str(plot))
    assert code == 0, output
    assert "recorded:good.jsonl" in output and "recorded:bad.jsonl" in output and "3/3" in output
    assert "better" in output
    assert plot.read_text().lstrip().startswith("<?xml") and "<svg" in plot.read_text()


def _one_sentence(code: int, output: str) -> str:
    assert code == 2, output
    message = " ".join(output.split())
    assert message.startswith("error:") and "Traceback" not in output and message.count(". ") == 0, output
    return message


def test_a_missing_run_directory_is_one_sentence(runs, tmp_path: Path) -> None:
    message = _one_sentence(*_compare(*_dirs(runs, "good"), str(tmp_path / "nowhere")))
    assert "nowhere" in message and "no evoforge run here" in message


def test_a_corrupt_run_file_is_one_sentence(runs, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / DB_FILENAME).write_bytes(b"this is not a database at all" * 100)
    message = _one_sentence(*_compare(*_dirs(runs, "good"), str(broken)))
    assert "broken" in message and "cannot be read as a run" in message


def test_runs_of_different_problems_are_refused(runs) -> None:
    message = _one_sentence(*_compare(*_dirs(runs, "good", "other")))
    assert "different problems" in message and "other_bin_packing" in message


def test_a_plot_name_without_an_image_ending_is_refused_first(runs, tmp_path: Path) -> None:
    message = _one_sentence(*_compare(*_dirs(runs, "good"), "--plot", str(tmp_path / "curves.txt")))
    assert "image format" in message and not (tmp_path / "curves.txt").exists()


def test_show_reports_tokens_per_second_and_the_llm_busy_share(runs) -> None:
    run_dir = runs["good"][0]
    result = runner.invoke(app, ["show", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        elapsed = json.loads(meta["elapsed_seconds"])
        tokens, requests = conn.execute("SELECT SUM(completion_tokens), COUNT(DISTINCT created) FROM samples"
                                        " WHERE latency_seconds > 0").fetchone()
    assert summary["tokens_per_second"] == pytest.approx(tokens / elapsed)
    # one request of SAMPLES recorded completions; each completion reports the delay as its latency
    assert requests == 1 and summary["llm_busy"] == pytest.approx(RECORDED_DELAY / elapsed)
    assert "busy" in runner.invoke(app, ["show", str(run_dir)]).output


def test_one_run_per_arm_gets_no_verdict() -> None:
    """A bootstrap of single runs is a point: any gap would read as "better"."""
    from evoforge.comparison_stats import median_difference

    single = median_difference("diff", [216.5], "random", [192.0], higher_is_better=True)
    assert single.difference == 24.5 and single.verdict.startswith("too few runs (1 and 1")
    three = median_difference("diff", [216.5, 220.0, 218.0], "random", [192.0, 190.0, 191.0],
                              higher_is_better=True)
    assert three.verdict == "better"
