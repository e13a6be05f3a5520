"""Hand-written equations scored through `evoforge evaluate feynman --equation`, in the real sandbox.

Constants are fitted by scipy inside the sandboxed child; recovery is decided
there by sympy (symbolic) or by the out-of-domain error (numeric).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.evaluators import open_evaluator
from evoforge.expressions import feynman
from evoforge.spec import load_problem

CORRECT = {
    "I.12.1": "def equation(mu, Nn, params):\n    return params[0] * mu * Nn\n",
    "I.10.7": "def equation(m_0, v, params):\n    return m_0 / np.sqrt(1 - v**2 / params[0]**2)\n",
    "II.15.4": "def equation(mom, B, theta, params):\n    return -params[0] * mom * B * np.cos(theta)\n",
    "I.6.20a": "def equation(theta, params):\n    return np.exp(-theta**2 / 2) / np.sqrt(2 * np.pi)\n",
    "I.18.4": "def equation(m1, r1, m2, r2, params):\n    return (m1 * r1 + m2 * r2) / (m1 + m2)\n",
}
WRONG = {
    "III.15.27": "def equation(alpha, n, d, params):\n    return np.pi * alpha / (n * d)\n",  # no 2
    "II.15.4": "def equation(mom, B, theta, params):\n    return -mom * B * np.sin(theta)\n",  # sin for cos
}


def evaluate(tmp_path: Path, equation: str, code: str) -> dict:
    candidate = tmp_path / f"{equation.replace('.', '_')}.py"
    candidate.write_text("import numpy as np\n\n\n" + code)
    arguments = ["evaluate", "feynman", str(candidate), "--equation", equation, "--json"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["results"]


@pytest.mark.parametrize("equation", sorted(CORRECT))
def test_a_correct_equation_is_recovered_symbolically_with_tiny_error_out_of_domain(tmp_path, equation):
    results = evaluate(tmp_path, equation, CORRECT[equation])
    details, inside = results["out_of_domain"]["details"], results["in_domain"]["details"]
    assert results["out_of_domain"]["error"] is None
    assert details["recovered"] is True and details["recovered_how"] == "symbolic"
    assert details["nmse_out_of_domain"] < 1e-12 and inside["nmse_in_domain"] < 1e-12
    assert details["formula"] and details["latex"] and inside["formula"] == details["formula"]
    # each input shows its own figures: the verdict is about the out-of-domain points only
    assert "nmse_out_of_domain" not in inside and "recovered" not in inside
    assert "nmse_in_domain" not in details


@pytest.mark.parametrize("equation", sorted(WRONG))
def test_a_subtly_wrong_equation_is_not_recovered(tmp_path, equation):
    details = evaluate(tmp_path, equation, WRONG[equation])["out_of_domain"]["details"]
    assert details["recovered"] is False
    assert details["nmse_out_of_domain"] > 1e-6


def test_a_lookup_table_of_the_training_targets_fails_out_of_domain(tmp_path):
    (equation,) = feynman.select(feynman.core30(), equation="I.12.1")
    train = feynman.inputs(equation, "train")["fit"]["train"]
    table = np.column_stack([train["x"], train["y"]]).tolist()
    code = (
        "def equation(mu, Nn, params):\n"
        f"    table = np.array({table!r})\n"
        "    points = np.stack([mu, Nn], axis=1)\n"
        "    nearest = np.argmin(((points[:, None, :] - table[None, :, :2]) ** 2).sum(-1), axis=1)\n"
        "    return table[nearest, 2]\n"
    )
    details = evaluate(tmp_path, "I.12.1", code)["out_of_domain"]["details"]
    assert details["nmse_train"] == 0.0  # it reproduces what it memorised exactly
    assert details["recovered"] is False
    assert details["nmse_out_of_domain"] > 0.1
    assert "formula" not in details and "not" in details["formula_error"]


def test_an_error_that_is_not_finite_out_of_domain_keeps_the_formula_and_the_verdict(tmp_path):
    """NaN beyond mu = 1.2 (outside the sampled range only): one sentence, and the details stay."""
    code = "def equation(mu, Nn, params):\n    return params[0] * mu * Nn + 0 * np.sqrt(1.2 - mu)\n"
    results = evaluate(tmp_path, "I.12.1", code)
    assert results["in_domain"]["error"] is None and results["in_domain"]["details"]["nmse_in_domain"] < 1e-12
    ood = results["out_of_domain"]
    assert ood["score"] is None and ood["error"] == (
        "ExpressionError: the fitted equation's error is not finite (overflow or NaN)")
    assert ood["details"]["nmse_out_of_domain"] is None and ood["details"]["recovered"] is False
    assert ood["details"]["formula"]


def test_the_plain_evaluate_table_is_followed_by_the_fitted_formula_and_the_verdict(tmp_path):
    candidate = tmp_path / "friction.py"
    candidate.write_text("import numpy as np\n\n\n" + CORRECT["I.12.1"])
    result = CliRunner().invoke(app, ["evaluate", "feynman", str(candidate), "--equation", "I.12.1"])
    assert result.exit_code == 0, result.output
    assert "formula (fitted constants): Nn*mu" in result.stdout
    assert "recovered: True (symbolic)" in result.stdout


MALFORMED = {
    "unparsable": ("def equation(mu, Nn, params)\n    return mu\n", "syntax error"),
    "wrong arity": ("def equation(mu, params):\n    return mu * params[0]\n", "cannot be called with 2"),
    "overflow": ("def equation(mu, Nn, params):\n    return np.exp(1e5 * mu) * params[0]\n",
                 "NaN or infinite"),
    "complex": ("def equation(mu, Nn, params):\n    return mu * (1 + 1j) * params[0]\n", "complex values"),
    "nan": ("def equation(mu, Nn, params):\n    return np.log(-mu) * params[0]\n", "NaN or infinite"),
    "not numbers": ("def equation(mu, Nn, params):\n    return 'mu * Nn'\n", "not real numbers"),
}


def test_malformed_expressions_each_give_one_clear_error_and_the_evaluator_goes_on() -> None:
    spec = load_problem("feynman")
    with open_evaluator(spec, split="train") as evaluator:
        for name, (code, expected) in MALFORMED.items():
            evaluation = evaluator.evaluate("import numpy as np\n\n\n" + code)
            assert evaluation.score is None, name
            assert expected in evaluation.first_error, (name, evaluation.first_error)
            assert "\n" not in evaluation.first_error
        good = evaluator.evaluate("def equation(mu, Nn, params):\n    return params[0] * mu * Nn\n")
        branching = evaluator.evaluate("def equation(mu, Nn, params):\n"
                                       "    return np.where(mu > 0.5, mu * Nn, Nn * mu) * params[0]\n")
    assert good.ok and good.details["formula"] == "Nn*mu"
    assert branching.ok and "formula" not in branching.details  # the same values, but no formula:
    assert branching.score < good.score - 1.5  # it pays the complexity of 100 nodes


def test_a_skeleton_that_shows_sympy_another_formula_is_not_recovered_symbolically(tmp_path):
    """It returns the true law when called with symbols and 2x the law on numbers."""
    code = ("def equation(mu, Nn, params):\n"
            "    if isinstance(mu, np.ndarray):\n"
            "        return 2 * mu * Nn\n"
            "    return mu * Nn\n")
    details = evaluate(tmp_path, "I.12.1", code)["out_of_domain"]["details"]
    assert details["recovered"] is False
    assert details["formula_error"] == "the sympy formula disagrees with the function"
