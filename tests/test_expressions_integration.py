"""Antiderivatives verified by sympy differentiation, through `evoforge evaluate integration`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.expressions import integrals
from tests.data_paths import needs_published, published_data_dir

DATA = published_data_dir()
INTEGRALS = DATA / "integration" / "integrals.json"

pytestmark = needs_published("integration/integrals.json")


def verify(tmp_path: Path, integral: str, body: str) -> tuple[int, dict]:
    candidate = tmp_path / "candidate.py"
    candidate.write_text(f"import numpy as np\n\n\ndef antiderivative(x):\n    return {body}\n")
    result = CliRunner().invoke(app, ["evaluate", "integration", str(candidate), "--equation", integral,
                                      "--dataset", str(INTEGRALS), "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["results"]["verify"]


def test_the_set_is_read_by_path_with_all_sixty_pairs() -> None:
    items = integrals.load(INTEGRALS)
    assert len(items) == 60 and sum(i.sympy_solves is False for i in items) == 5


@pytest.mark.parametrize(("integral", "body"), [
    ("classic_12", "-np.log(np.cos(x))"),
    ("classic_29", "np.tanh(x)"),  # one sympy.integrate does not solve
    ("ibp_08", "np.cos(x) * np.arctan(x) + 7.0"),  # any additive constant
])
def test_a_correct_antiderivative_is_verified(tmp_path, integral, body) -> None:
    code, result = verify(tmp_path, integral, body)
    assert code == 0 and result["details"]["verified"] is True
    assert result["details"]["verified_how"] in ("symbolic", "numeric")


def test_a_wrong_antiderivative_is_not_verified_and_bad_code_is_one_error(tmp_path) -> None:
    _, wrong = verify(tmp_path, "classic_12", "np.log(np.cos(x))")  # sign flipped
    assert wrong["details"]["verified"] is False
    code, overflow = verify(tmp_path, "classic_12", "np.exp(np.exp(np.exp(1e3 * x)))")
    assert code == 1 and "not finite" in overflow["error"]
    candidate = tmp_path / "broken.py"
    candidate.write_text("def antiderivative(x):\n    return np.log(np.cos(x)) +\n")
    result = CliRunner().invoke(app, ["evaluate", "integration", str(candidate), "--equation", "classic_12",
                                      "--dataset", str(INTEGRALS)])
    assert result.exit_code == 2 and "syntax error" in result.output
