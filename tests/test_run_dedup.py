"""No wasted samples, through whole runs: per-request seeds, hotter retries, behavioural duplicates.

The LLM is a scripted OpenAI-compatible server on loopback (tests/llm_fixtures.py)
that records every request it gets (seed, n, temperature) and answers with the
texts a test chooses; Ray, the real fork sandbox and the run's SQLite file do
the rest, as in `evoforge run` (the config is built by the CLI's `from_options`).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.duplicate_report import one_line
from evoforge.run_config import RunConfig
from evoforge.runtime.session import resume_search, run_search
from evoforge.sample_variety import VARIATION_HINTS, request_seed
from evoforge.storage import DB_FILENAME
from tests.llm_fixtures import ScriptedServer, completion_body, word_tokens
from tests.run_fixtures import make_small_bin_packing

SEED_BODY = "    return -(bins - item)\n"
RENAMED_BODY = "    gap = bins - item\n    return -gap\n"
REORDERED_BODY = "    return item - bins\n"
WORST_FIT_BODY = "    return +(bins - item)\n"


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_small_bin_packing(tmp_path_factory.mktemp("problem"))


def _config(problem: Path, run_dir: Path, url: str, max_temperature: float | None = None,
            **options: Any) -> RunConfig:
    llm = {"backend": "openai", "base_url": url, "model": "scripted", "mode": "completion",
           "max_temperature": max_temperature}
    return RunConfig.from_options(str(problem), run_dir, llm, **options)


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return conn.execute(sql).fetchall()


def _stored_seed(run_dir: Path) -> int:
    return json.loads(_rows(run_dir, "SELECT value FROM meta WHERE key = 'config'")[0][0])["seed"]


def test_every_completion_has_its_own_seed_across_samplers_and_resume(ray_session, problem, tmp_path) -> None:
    counter = itertools.count()

    def fresh_code(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        texts = [f"    return -(bins - item) * {next(counter) + 2}\n" for _ in range(body.get("n", 1))]
        return 200, completion_body(body, texts)

    run_dir = tmp_path / "run"
    with ScriptedServer(fresh_code) as server:
        run_search(_config(problem, run_dir, server.base_url, samples=16, samples_per_prompt=4, samplers=2))
        seed = _stored_seed(run_dir)  # none was given: a fresh one, stored with the run
        resume_search(run_dir, samples=24)
    assert _stored_seed(run_dir) == seed
    asked = [body["seed"] for path, body in server.requests if path.endswith("/completions")]
    assert sorted(asked) == sorted(request_seed(seed, number) for number in range(6))
    stored = [row[0] for row in _rows(run_dir, "SELECT seed FROM samples ORDER BY id")]
    assert len(stored) == 24 and len(set(stored)) == 24
    assert set(stored) == {s + choice for s in asked for choice in range(4)}


def test_a_run_seed_given_by_the_user_fixes_the_request_seeds(ray_session, problem, tmp_path) -> None:
    def fresh_code(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body)

    with ScriptedServer(fresh_code) as server:
        run_search(_config(problem, tmp_path / "run", server.base_url, samples=4, samples_per_prompt=4,
                           seed=7))
    asked = [body["seed"] for path, body in server.requests if path.endswith("/completions")]
    assert asked == [request_seed(7, 0)]


def test_a_prompt_answered_with_known_code_is_asked_again_hotter(ray_session, problem, tmp_path) -> None:
    def known_code(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body, [SEED_BODY] * body.get("n", 1))

    run_dir = tmp_path / "run"
    with ScriptedServer(known_code) as server:
        run_search(_config(problem, run_dir, server.base_url, samples=24, samples_per_prompt=4, samplers=1,
                           max_temperature=1.4))
    asked = [body["temperature"] for path, body in server.requests if path.endswith("/completions")]
    assert asked == [1.0, 1.1, 1.2, 1.3, 1.4, 1.4]  # the default 1.0, a quarter of the way per batch, capped
    stored = [row[0] for row in _rows(run_dir, "SELECT temperature FROM samples ORDER BY id")]
    assert stored == [t for t in asked for _ in range(4)]
    assert _rows(run_dir, "SELECT COUNT(*) FROM candidates WHERE duplicate_reason = 'code'") == [(24,)]
    prompts = [body["prompt"] for path, body in server.requests if path.endswith("/completions")]
    hints = [next((hint for hint in VARIATION_HINTS if hint in prompt), None) for prompt in prompts]
    assert hints[0] is None and None not in hints[1:]  # every raised prompt carries a hint
    assert len(set(hints[1:])) == 5  # and each asks another way


@pytest.mark.parametrize("options", [{"max_temperature": 1.0}, {"strategy": "random"}],
                         ids=["ceiling-at-the-base", "random-arm-by-default"])
def test_a_repeating_prompt_may_get_a_hint_but_no_heat(ray_session, problem, tmp_path, options) -> None:
    def known_code(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body, [SEED_BODY] * body.get("n", 1))

    with ScriptedServer(known_code) as server:
        run_search(_config(problem, tmp_path / "run", server.base_url, samples=16, samples_per_prompt=4,
                           samplers=1, **options))
    asked = [body for path, body in server.requests if path.endswith("/completions")]
    assert [body["temperature"] for body in asked] == [1.0] * 4
    hints = [next((hint for hint in VARIATION_HINTS if hint in body["prompt"]), None) for body in asked]
    assert hints[0] is None and None not in hints[1:]


def test_behavioural_copies_are_recorded_as_duplicates_not_evaluated(ray_session, problem, tmp_path) -> None:
    texts = [RENAMED_BODY, WORST_FIT_BODY, SEED_BODY, REORDERED_BODY]

    def one_batch(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, completion_body(body, texts[: body.get("n", 1)])

    run_dir = tmp_path / "run"
    with ScriptedServer(one_batch) as server:
        run_search(_config(problem, run_dir, server.base_url, samples=4, samples_per_prompt=4, samplers=1))
    rows = _rows(run_dir, "SELECT c.status, c.duplicate_reason, c.duplicate_of, e.candidate_id IS NOT NULL"
                          " FROM candidates c LEFT JOIN evaluations e ON e.candidate_id = c.id"
                          " WHERE c.sample_id IS NOT NULL ORDER BY c.id")
    assert rows == [("duplicate", "behaviour", 1, 0), ("evaluated", None, None, 1),
                    ("duplicate", "code", 1, 0), ("duplicate", "behaviour", 1, 0)]
    shown = CliRunner().invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    words = [len(word_tokens(text)) for text in texts]  # the scripted server's token counts
    share = 100 * (sum(words) - words[1]) / sum(words)  # all but the worst-fit program are duplicates
    flat = " ".join(shown.output.split())
    assert (f"duplicates 3 of 4 samples (75.0 %; {share:.1f} % of the generated tokens): behaviour 2, code 1"
            in flat)
    assert "given again most often: 3 × the seed: return -(bins - item)" in flat  # all three copy the seed


@pytest.mark.parametrize(("code", "shown"), [
    ('def priority(item, bins):\n    """Docstring."""\n    gap = bins - item\n    return -gap\n',
     "gap = bins - item; return -gap"),
    ("def priority(item, bins):\n    if item > 1:\n        return bins\n    return -bins\n",
     "if item > 1: return bins; return -bins"),
    ("theorem t : 1 + 1 = 2 := by\n  norm_num\n", "theorem t : 1 + 1 = 2 := by norm_num"),
    ("def priority(item, bins):\n    return " + " + ".join(["bins"] * 30) + "\n",
     "return " + " + ".join(["bins"] * 30)[:72] + "…"),
])
def test_a_repeated_program_is_shown_as_one_short_line(code: str, shown: str) -> None:
    assert one_line(code) == shown
