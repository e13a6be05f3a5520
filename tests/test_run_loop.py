"""The run loop end to end with Ray, the real sandbox and the real SQLite file.

Completions come from the recorded-completions backend (no model runs), so
these tests are about the loop's logic: budget, dedup, errors, storage.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
import ray

from evoforge.agents.llama_server import usable_cores
from evoforge.run_config import RunConfig, llm_settings
from evoforge.runtime.actors import EvaluatorActor, SamplerActor
from evoforge.runtime.loop import Pools, RunLoop, SearchStopped
from evoforge.runtime.session import HEAVY_EVALUATION_SECONDS, resume_search, run_search, server_threads
from evoforge.search_state import SearchState
from evoforge.spec import load_problem
from evoforge.storage import DB_FILENAME, RunStorage
from tests.run_fixtures import make_small_bin_packing, recorded_llm


@pytest.fixture(scope="module")
def finished_run(ray_session, tmp_path_factory) -> tuple[RunConfig, object]:
    root = tmp_path_factory.mktemp("loop")
    problem = make_small_bin_packing(root / "problem")
    # Each sampler replays the recorded stream from its start: two samplers reach its infinite loop
    # within the budget, more would spend it on the stream's first answers.
    config = RunConfig(problem=str(problem), run_dir=root / "run", samples=20, samples_per_prompt=4,
                       samplers=2, llm=recorded_llm(), seed=1)
    return config, run_search(config)


def _rows(config: RunConfig, sql: str) -> list[tuple]:
    with sqlite3.connect(config.run_dir / DB_FILENAME) as conn:
        return conn.execute(sql).fetchall()


def test_run_stops_exactly_at_the_sample_budget(finished_run) -> None:
    config, outcome = finished_run
    assert outcome.counters.samples == 20
    assert _rows(config, "SELECT COUNT(*) FROM samples") == [(20,)]


def test_every_parsed_unique_candidate_is_evaluated(finished_run) -> None:
    config, _ = finished_run
    assert _rows(config, "SELECT COUNT(*) FROM candidates WHERE status='pending'") == [(0,)]
    evaluated = _rows(config, "SELECT COUNT(*) FROM candidates WHERE status='evaluated'")[0][0]
    assert evaluated == _rows(config, "SELECT COUNT(*) FROM evaluations")[0][0] > 1


def test_duplicates_and_unparsable_samples_are_recorded_not_evaluated(finished_run) -> None:
    config, _ = finished_run
    statuses = dict(_rows(config, "SELECT status, COUNT(*) FROM candidates GROUP BY status"))
    assert statuses["duplicate"] >= 1
    assert statuses["unparsed"] >= 2  # the syntax error and the chatter
    reasons = [r[0] for r in _rows(config, "SELECT parse_error FROM candidates WHERE status='unparsed'")]
    assert all(reasons)


def test_failing_candidates_get_their_error_and_the_run_goes_on(finished_run) -> None:
    config, outcome = finished_run
    errors = [r[0] for r in _rows(config, "SELECT error FROM evaluations WHERE ok = 0")]
    assert any("time" in e.lower() for e in errors), errors  # the infinite loop
    assert any("NameError" in e or "undefined_name" in e for e in errors), errors
    assert outcome.stopped_because is None


def test_reported_best_is_the_best_stored_evaluation(finished_run) -> None:
    config, outcome = finished_run
    stored = _rows(config, "SELECT c.code, e.score FROM evaluations e JOIN candidates c"
                           " ON c.id = e.candidate_id WHERE e.ok = 1 ORDER BY e.score DESC, c.id LIMIT 1")
    assert (outcome.best_code, outcome.best_score) == stored[0]


def test_samples_keep_prompt_model_tokens_and_parent_links(finished_run) -> None:
    config, _ = finished_run
    rows = _rows(config, "SELECT s.model, s.completion_tokens, p.parent_ids, p.text FROM samples s"
                         " JOIN prompts p ON p.id = s.prompt_id")
    assert all(model.startswith("recorded:") for model, *_ in rows)
    assert all(tokens > 0 for _, tokens, _, _ in rows)
    assert all(parents != "[]" and "def priority" in text for _, _, parents, text in rows)


def test_held_out_report_scores_the_best_program(finished_run) -> None:
    _, outcome = finished_run
    assert set(outcome.held_out) == {"held_out"}
    assert outcome.held_out["held_out"]["error"] is None


def test_resume_with_a_larger_budget_continues_the_count(finished_run, tmp_path: Path) -> None:
    config, _ = finished_run
    before = _rows(config, "SELECT candidate_id, score FROM evaluations ORDER BY candidate_id")
    outcome = resume_search(config.run_dir, samples=28)
    assert outcome.counters.samples == 28
    after = _rows(config, "SELECT candidate_id, score FROM evaluations ORDER BY candidate_id")
    assert after[: len(before)] == before


def test_a_sampler_process_that_dies_stops_the_search_in_one_line(finished_run, tmp_path: Path) -> None:
    config, _ = finished_run
    spec = load_problem(config.problem)
    shutil.copytree(config.run_dir, tmp_path / "run")
    state = SearchState(tmp_path / "run", spec, config.database, config.seed)
    samples_before = state.counters.samples
    sampler = SamplerActor.remote({"recorded": llm_settings(recorded_llm())}, spec, 2)
    evaluator = EvaluatorActor.remote(spec, "fork")
    ray.kill(sampler)
    loop = RunLoop(replace(config, samples=40), state, Pools([sampler], [evaluator]))
    try:
        # why it died (here: ray.kill) is kept, the ids and the traceback are not
        died = r"^a sampler failed: ActorDiedError: [^\n]*killed by `ray.kill`[^\n]*$"
        with pytest.raises(SearchStopped, match=died):
            loop.run()
    finally:
        ray.kill(evaluator)
        state.close()
    assert state.counters.samples == samples_before  # nothing recorded, nothing lost


def test_the_model_server_takes_every_core_unless_scoring_is_slow(finished_run) -> None:
    """The run reads its own scoring time from the database: quick here, so the server is not narrowed;
    slow scoring leaves a core to each evaluator; a --threads the user gave always wins."""
    config, _ = finished_run
    mean = _rows(config, "SELECT AVG(seconds) FROM evaluations")[0][0]
    storage = RunStorage.open_run(config.run_dir)
    try:
        assert storage.mean_evaluation_seconds() == pytest.approx(mean)
    finally:
        storage.close()
    assert 0 < mean < HEAVY_EVALUATION_SECONDS
    assert server_threads(config, mean) is None  # LlamaServer's own default: every core
    slow = HEAVY_EVALUATION_SECONDS * 2
    assert server_threads(config, slow) == max(1, usable_cores() - config.evaluators)
    assert server_threads(replace(config, evaluators=usable_cores() + 1), slow) == 1
    given = replace(config, llm={**config.llm, "threads": 3})
    assert server_threads(given, slow) == server_threads(given, mean) == 3
