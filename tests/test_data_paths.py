"""The one lookup of published data: EVOFORGE_DATA, skip when absent, fail under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data_paths import REPO, published_data_dir, require_published


def test_default_is_shared_data_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVOFORGE_DATA", raising=False)
    assert published_data_dir() == (REPO.parent / "shared" / "data").resolve()


def test_a_relative_setting_is_taken_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOFORGE_DATA", "tests/data")
    assert published_data_dir() == REPO / "tests" / "data"


def test_a_present_set_is_returned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "binpack").mkdir()
    (tmp_path / "binpack" / "or3.json").write_text("{}")
    monkeypatch.setenv("EVOFORGE_DATA", str(tmp_path))
    assert require_published("binpack/or3.json") == tmp_path / "binpack" / "or3.json"


def test_a_missing_set_skips_saying_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVOFORGE_DATA", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=str(tmp_path / "binpack" / "or3.json")):
        require_published("binpack/or3.json")


def test_a_missing_set_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVOFORGE_DATA", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="set EVOFORGE_DATA"):
        require_published("binpack/or3.json")
