"""`evoforge run --also-llm`: one run, two real OpenAI-compatible servers on loopback, and the bandit
choosing the backend of each prompt (with the strategy, under `mix`).

The servers are scripted (tests/llm_fixtures.py), so the test knows which
server wrote which answer: each names its model in its programs. The run is the
user's command in-process (typer's CliRunner, the real sandbox, Ray and SQLite).
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evoforge.agents.strategies import MIX, MIX_ARMS
from evoforge.cli import app
from evoforge.records import Candidate, Completion, Evaluation, Prompt, TrialResult
from evoforge.run_config import RunConfig, parse_llm_changes
from evoforge.storage import DB_FILENAME, RunStorage
from evoforge.strategy_bandit import StrategyChooser, thompson_choice
from tests.llm_fixtures import ScriptedServer, completion_body
from tests.run_fixtures import make_small_bin_packing

pytestmark = pytest.mark.usefixtures("ray_session")  # conftest's: Ray as `evoforge run` starts it


def answering_as(label: str):
    """A server whose completion answers are distinct programs that name it; chat answers never parse."""
    counter = itertools.count(1)

    def script(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        n = int(body.get("n", 1))
        if "messages" in body:
            return 200, completion_body(body, ["I cannot help with that."] * n)
        texts = [f"    return -(bins - item) * {next(counter)}  # {label}\n" for _ in range(n)]
        return 200, completion_body(body, texts)

    return script


def evoforge(*args: object) -> CliRunner:
    return CliRunner().invoke(app, [str(a) for a in args])


def samples(run_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return conn.execute("SELECT strategy, llm, raw_text FROM samples ORDER BY id").fetchall()


def test_mix_chooses_strategy_and_backend_per_prompt_and_resumes_its_choice(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    with ScriptedServer(answering_as("small")) as small, ScriptedServer(answering_as("big")) as big:
        result = evoforge("run", problem, "--llm", "openai", "--base-url", small.base_url, "--model", "small",
                          "--also-llm", f"base_url={big.base_url},model=big,temperature=0.2",
                          "--strategy", MIX, "--run-dir", run_dir, "--samples", "32", "--samples-per-prompt",
                          "4", "--samplers", "1", "--seed", "3", "--mode", "completion")
        assert result.exit_code == 0, result.stderr[-3000:]
        stored = samples(run_dir)
        assert len(stored) == 32
        assert {llm for _, llm, _ in stored} == {"small", "big"}
        assert {strategy for strategy, _, _ in stored} <= set(MIX_ARMS)
        for strategy, llm, text in stored:  # each answer came from the server its label names
            chat = strategy != "funsearch"
            assert text == "I cannot help with that." if chat else text.endswith(f"# {llm}\n")
        for server, label, base in ((small, "small", 1.0), (big, "big", 0.2)):
            asked = [body for _, body in server.requests]
            assert asked and {body["model"] for body in asked} == {label}
            assert sum(int(body.get("n", 1)) for body in asked) == sum(1 for s in stored if s[1] == label)
            # each backend's own base temperature, raised towards the openai ceiling (1.2) on repeats
            assert min(body["temperature"] for body in asked) == base
            assert all(base <= body["temperature"] <= 1.2 for body in asked)

        config = json.loads(_config(run_dir))
        assert config["also_llms"][0]["model"] == "big" and config["llm"]["model"] == "small"
        storage = RunStorage.open_run(run_dir)
        try:
            expected = StrategyChooser(MIX, storage, +1.0, 3, ("small", "big")).choose()
        finally:
            storage.close()
        pairs = [(strategy, llm) for strategy in MIX_ARMS for llm in ("small", "big")]
        forgotten = thompson_choice({}, pairs, random.Random("3:8"))  # 9th draw, state forgotten
        assert expected != forgotten, "pick a --seed where a restarted bandit would choose otherwise"
        resumed = evoforge("resume", run_dir, "--samples", "36")
        assert resumed.exit_code == 0, resumed.stderr[-3000:]
    assert [(s, llm) for s, llm, _ in samples(run_dir)[32:]] == [expected] * 4
    shown = json.loads(evoforge("show", run_dir, "--json").stdout)["strategies"]
    assert sum(row["samples"] for row in shown.values()) == 36
    assert {name.rsplit(" on ", 1)[1] for name in shown} == {"small", "big"}


def _config(run_dir: Path) -> str:
    with sqlite3.connect(run_dir / DB_FILENAME) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0]


@pytest.mark.parametrize(("also", "sentence"), [
    ("model=small", "two backends are both called 'small'; give each its own model= or base_url=."),
    ("modle=big", "--also-llm 'modle=big': 'modle=big' is not KEY=VALUE with KEY one of"),
    ("big", "--also-llm 'big': 'big' is not KEY=VALUE"),
    ("temperature=hot,model=big", "temperature=hot,model=big': temperature takes a number, not 'hot'."),
    ("backend=nope", "--also-llm backend=nope: --llm 'nope' is neither a backend"),
])
def test_a_wrong_also_llm_is_one_sentence_and_makes_no_run(tmp_path: Path, also: str, sentence: str) -> None:
    run_dir = tmp_path / "run"
    result = evoforge("run", make_small_bin_packing(tmp_path / "problem"), "--llm", "openai",
                      "--base-url", "http://127.0.0.1:9/v1", "--model", "small", "--also-llm", also,
                      "--run-dir", run_dir)
    assert result.exit_code == 2
    assert sentence in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert not (run_dir / DB_FILENAME).exists()


def test_the_bandit_leans_to_the_backend_whose_children_improve(tmp_path: Path) -> None:
    """Real tallies from a real run file: 'big' improved on its parent 6 times in 8, 'small' never."""
    storage = RunStorage(tmp_path / DB_FILENAME)
    seed = storage.add_seed_candidate("def f(x):\n    return x\n", "seed")
    storage.record_evaluation(seed, Evaluation(trials=(TrialResult("a", 1.0),)), 1.0)
    for llm, scores in (("small", [0.5] * 8), ("big", [2.0] * 6 + [0.5] * 2)):
        prompt = Prompt(0, (seed,), ("def f(x):\n    return x\n",), (1.0,), 1, llm=llm)
        codes = [f"def f(x):\n    return {llm!r} * {i}\n" for i in range(len(scores))]
        ids = storage.record_batch(prompt, "text", [Completion(c, llm) for c in codes],
                                   [Candidate(c, f"{llm}{i}") for i, c in enumerate(codes)], [False] * 8)
        for candidate_id, score in zip(ids, scores, strict=True):
            storage.record_evaluation(candidate_id, Evaluation(trials=(TrialResult("a", score),)), score)
    assert storage.arm_tallies(+1.0)[("funsearch", "big")].improvements == 6
    chooser = StrategyChooser("funsearch", storage, +1.0, 7, ("small", "big"))
    choices = [chooser.choose() for _ in range(200)]
    assert {strategy for strategy, _ in choices} == {"funsearch"}
    assert sum(llm == "big" for _, llm in choices) > 180
    assert StrategyChooser("funsearch", storage, +1.0, 0, ("small",)).choose() == ("funsearch", None)


def test_resume_with_a_new_base_url_moves_every_backend_that_was_on_that_server(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    run_dir = tmp_path / "run"
    with ScriptedServer(answering_as("old")) as old, ScriptedServer(answering_as("new")) as new:
        result = evoforge("run", problem, "--llm", "openai", "--base-url", old.base_url, "--model", "small",
                          "--also-llm", "model=big", "--run-dir", run_dir, "--samples", "16",
                          "--samples-per-prompt", "4", "--samplers", "1", "--mode", "completion")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert {body["model"] for _, body in old.requests} == {"small", "big"}  # one server, two models
        asked_before = len(old.requests)
        resumed = evoforge("resume", run_dir, "--base-url", new.base_url, "--samples", "32")
        assert resumed.exit_code == 0, resumed.stderr[-3000:]
        assert len(old.requests) == asked_before and new.requests
    config = json.loads(_config(run_dir))
    assert config["llm"]["base_url"] == config["also_llms"][0]["base_url"] == new.base_url
    assert {llm for _, llm, _ in samples(run_dir)[16:]} <= {"small", "big"}


def test_one_model_on_two_servers_is_two_backends_named_by_host() -> None:
    llm = {"backend": "openai", "base_url": "http://gpu-a:8000/v1", "model": "Qwen/Qwen2.5-Coder-7B"}
    config = RunConfig.from_options("bin_packing", Path("run"), llm,
                                    also_llms=[parse_llm_changes("base_url=http://gpu-b:8000/v1")])
    assert list(config.llm_arms()) == ["Qwen/Qwen2.5-Coder-7B", "Qwen/Qwen2.5-Coder-7B@gpu-b:8000"]
