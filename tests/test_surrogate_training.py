"""Surrogate data and training through the CLI users run, on a small budget in a private cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.surrogates import burgers, data, store
from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.physics import BurgersPhysics


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVOFORGE_SURROGATES", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.slow  # ~65 s of CPU: 64 exact solves on 1024 points, then 20 epochs
def test_a_minute_of_training_beats_the_constant_predictor_on_held_out_fields(cache: Path) -> None:
    args = ["surrogate", "train", "burgers_control", "--pairs", "64", "--epochs", "20"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    meta = Surrogate.load(store.model_path("burgers_control")).meta
    assert meta["pairs"] == 64 and meta["epochs"] == 20 and len(meta["data_hash"]) == 16
    assert meta["settings"]["grid"] == 1024 and meta["grid"] == [256]
    # held-out fields (validation split) and the shifted set, against always predicting their own mean
    assert meta["val_field_error"] < 0.6 * meta["val_constant_field_error"]
    assert meta["val_score_mae"] < meta["val_constant_mae"]
    assert meta["shifted_field_error"] < meta["shifted_constant_field_error"]
    saved = data.load(store.data_path("burgers_control"))
    assert saved.seed == 0 and saved.settings == meta["settings"]


def test_data_generation_resumes_to_the_same_pairs(tmp_path: Path) -> None:
    setting = burgers.BurgersSetting(horizon=0.3, grid=256)
    physics = BurgersPhysics(setting, np.zeros(setting.design_grid))

    def interrupt(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        data.generate(physics, tmp_path / "a.npz", count=48, seed=5, shifted=16, tick=interrupt)
    assert not (tmp_path / "a.npz").exists() and len(list((tmp_path / "a.parts").glob("*.npz"))) == 2
    resumed = data.generate(physics, tmp_path / "a.npz", count=48, seed=5, shifted=16)
    whole = data.generate(physics, tmp_path / "b.npz", count=48, seed=5, shifted=16)
    assert np.array_equal(resumed.designs, whole.designs)
    assert np.array_equal(resumed.solutions, whole.solutions)
    assert resumed.designs.shape == (48, 256) and resumed.shifted_designs.shape == (16, 256)
    assert json.loads(json.dumps(resumed.settings)) == physics.settings


def test_bad_problem_or_screen_is_one_sentence_and_exit_2(cache: Path, tmp_path: Path) -> None:
    for args, words in ((["bin_packing", "--screen", "coarse"], "applies to surrogate-backed problems"),
                        (["heat_spreader", "--screen", "fast"], "use one of surrogate, coarse, none")):
        result = CliRunner().invoke(app, ["run", *args, "--run-dir", str(tmp_path / "run")])
        assert result.exit_code == 2 and words in result.output
        assert not (tmp_path / "run").exists()
    result = CliRunner().invoke(app, ["surrogate", "data", "bin_packing"])
    assert result.exit_code == 2
    assert "not a surrogate-backed problem" in result.output
    result = CliRunner().invoke(app, ["surrogate", "train", "heat_spreader", "--pairs", "3"])
    assert result.exit_code == 2 and "--pairs must be at least 16" in result.output


def test_an_interrupted_generation_is_not_reused_under_another_seed(tmp_path: Path) -> None:
    setting = burgers.BurgersSetting(horizon=0.3, grid=256)
    physics = BurgersPhysics(setting, np.zeros(setting.design_grid))

    def interrupt(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        data.generate(physics, tmp_path / "a.npz", count=16, seed=5, shifted=16, tick=interrupt)
    other_seed = data.generate(physics, tmp_path / "a.npz", count=16, seed=6, shifted=16)
    fresh = data.generate(physics, tmp_path / "b.npz", count=16, seed=6, shifted=16)
    assert other_seed.seed == 6 and np.array_equal(other_seed.designs, fresh.designs)
