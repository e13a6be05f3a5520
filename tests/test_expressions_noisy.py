"""Recovery from 1 %-noisy training points (`evoforge evaluate feynman --noise 0.01`), in the real sandbox.

The rule (evoforge/expressions/noisy.py): the skeleton's form must be the true
law's (sympy proves it once its constants are refitted to the law's exact
values) and the noisy data must not reject those constants (F-test, p >= 0.001).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.expressions import feynman
from evoforge.expressions.fitting import fit_constants
from evoforge.expressions.noisy import P_VALUE_FLOOR, noisy_recovery

CORRECT = {
    "I.12.1": "def equation(mu, Nn, params):\n    return params[0] * mu * Nn\n",
    "I.6.20a": "def equation(theta, params):\n    return params[0] * np.exp(-params[1] * theta**2)\n",
}
WRONG = {  # each has a free constant, so a fitted one cannot hide the mistake, only the form can
    "I.6.20a": "def equation(theta, params):\n    return params[0] * np.exp(-theta**2)\n",  # no factor 1/2
    "II.15.4": "def equation(mom, B, theta, params):\n    return -params[0] * mom * B * np.sin(theta)\n",
}


def evaluate_noisy(tmp_path: Path, equation: str, code: str) -> dict:
    candidate = tmp_path / "candidate.py"
    candidate.write_text("import numpy as np\n\n\n" + code)
    arguments = ["evaluate", "feynman", str(candidate), "--equation", equation, "--noise", "0.01", "--json"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["results"]["out_of_domain"]["details"]


@pytest.mark.parametrize("equation", sorted(CORRECT))
def test_a_correct_skeleton_fitted_on_noisy_points_is_recovered(tmp_path, equation):
    details = evaluate_noisy(tmp_path, equation, CORRECT[equation])
    assert 1e-7 < details["nmse_train"] < 1e-3  # the noise is there: no exact fit
    assert details["recovered"] is True and details["recovered_how"] == "symbolic"
    assert details["constants_p_value"] >= P_VALUE_FLOOR and details["recovery_rule"].startswith("noisy")


@pytest.mark.parametrize("equation", sorted(WRONG))
def test_a_subtly_wrong_skeleton_fitted_on_noisy_points_is_not_recovered(tmp_path, equation):
    details = evaluate_noisy(tmp_path, equation, WRONG[equation])
    assert details["recovered"] is False and details["recovered_how"] is None


def test_the_right_form_with_constants_the_noise_rules_out_is_not_recovered():
    """Points of 1.05 * mu * Nn with 1 % noise pin the constant near 1.05: the law's 1 is rejected."""
    (equation,) = feynman.select(feynman.core30(), equation="I.12.1")
    points = feynman.inputs(equation, "test", noise=0.01)["out_of_domain"]
    x, y = np.asarray(points["train"]["x"]), 1.05 * np.asarray(points["train"]["y"])
    held = (np.asarray(points["eval"]["x"]), np.asarray(points["eval"]["y"]))

    def skeleton(mu, Nn, params):
        return params[0] * mu * Nn

    truth = sympy.sympify(equation.formula, locals={n: sympy.Symbol(n, real=True) for n in equation.names})
    fitted = fit_constants(skeleton, x, y).params
    verdict = noisy_recovery(skeleton, equation.names, truth, fitted, (x, y), held, constants_used=1)
    assert verdict["recovered_how"] is None and verdict["recovered"] is False
    assert verdict["constants_p_value"] < 1e-12
    unbiased = noisy_recovery(skeleton, equation.names, truth, fit_constants(skeleton, x, y / 1.05).params,
                              (x, y / 1.05), held, constants_used=1)
    assert unbiased["recovered"] is True  # the same points without the 5 % bias
