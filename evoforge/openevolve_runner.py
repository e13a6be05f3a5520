"""Inside the sandbox: run an OpenEvolve `evaluator.py` on a candidate's full program.

The generated spec (`openevolve_folder.spec_source`) calls `load_evaluator`
when the sandbox server loads it (trusted code, before isolation, so the
evaluator may read files beside it at import), and `score_program` in each
forked trial: the full program is written to `program.py` in the trial's own
private directory, `evaluate(path)` is called, and its metrics are returned
as the trial's details (`expressions.details`' JSON-as-data carriage).

`evaluate` may return a dict of metrics, or an object with a `metrics` dict
(OpenEvolve's `EvaluationResult`; its `artifacts` are kept as short text). The
score is `combined_score`; a missing or non-numeric one is the candidate's
error, with the metrics still reported. An exception out of `evaluate` is the
candidate's error too. Evaluators that time the program out with threads or
subprocesses cannot do so here (a trial may start neither); the sandbox's wall
clock is the time-out.
"""

from __future__ import annotations

import math
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from evoforge.expressions.details import failed, result
from evoforge.spec_errors import SpecError

PROGRAM_FILE = "program.py"
SCORE_KEY = "combined_score"
MAX_TEXT = 500
MAX_METRICS = 200


@dataclass
class EvaluationResult:
    """Stands in for `openevolve.evaluation_result.EvaluationResult`, so evaluators importing it load."""

    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)


def install_openevolve_shim() -> None:
    """`from openevolve.evaluation_result import EvaluationResult` works without OpenEvolve installed."""
    if "openevolve" in sys.modules:
        return
    package = types.ModuleType("openevolve", "evoforge's stand-in for what OpenEvolve evaluators import.")
    module = types.ModuleType("openevolve.evaluation_result")
    module.EvaluationResult = EvaluationResult  # type: ignore[attr-defined]
    package.evaluation_result = module  # type: ignore[attr-defined]
    package.__path__ = []  # type: ignore[attr-defined]
    sys.modules["openevolve"], sys.modules["openevolve.evaluation_result"] = package, module


def load_evaluator(source: str, path: str) -> types.ModuleType:
    """evaluator.py as a module, or a SpecError naming its line (the run stops at load, exit 2)."""
    install_openevolve_shim()
    module = types.ModuleType("evaluator")
    module.__file__ = path
    sys.modules["evaluator"] = module
    try:
        exec(compile(source, path, "exec"), module.__dict__)
    except SyntaxError as error:
        raise SpecError(f"{path}:{error.lineno}: syntax error: {error.msg}; fix evaluator.py.") from None
    except Exception as error:
        line = _line_in(error, path)
        raise SpecError(f"{path}:{line}: importing evaluator.py raised {type(error).__name__}: {error}; "
                        "fix evaluator.py so it imports as a plain module.") from None
    if not callable(getattr(module, "evaluate", None)):
        raise SpecError(f"{path}:1: evaluator.py defines no evaluate(program_path); define it.")
    return module


def _line_in(error: BaseException, path: str) -> int:
    trace, line = error.__traceback__, 1
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == path:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def score_program(evaluator: types.ModuleType, program: str, function_name: str) -> dict[str, Any]:
    """Write the program in the trial's directory, run the evaluator on it: {"score", "data": metrics}."""
    path = os.path.join(os.getcwd(), PROGRAM_FILE)
    with open(path, "w", encoding="utf-8") as file:
        file.write(program)
    try:
        returned = getattr(evaluator, function_name)(path)
    except Exception as error:
        raise EvaluatorFailed(f"evaluator.py's {function_name}() raised {type(error).__name__}: "
                              f"{_short(str(error))}") from None
    metrics, why = metrics_of(returned, function_name)
    if why is not None:
        return failed({"metrics": metrics}, why)
    return result(float(metrics[SCORE_KEY]), {"metrics": metrics})


class EvaluatorFailed(Exception):
    """evaluator.py's evaluate() raised: the candidate's error, in one line."""


def metrics_of(returned: Any, function_name: str) -> tuple[dict[str, Any], str | None]:
    """(plain JSON metrics, None), or (what there is, why it gives no score)."""
    artifacts = getattr(returned, "artifacts", None)
    if not isinstance(returned, dict) and isinstance(getattr(returned, "metrics", None), dict):
        returned = returned.metrics
    if not isinstance(returned, dict):
        return {}, (f"{function_name}() returned {type(returned).__name__}, not a dict of metrics "
                    f"with '{SCORE_KEY}'")
    metrics = {_short(str(k), 100): _plain(v) for k, v in list(returned.items())[:MAX_METRICS]}
    if isinstance(artifacts, dict) and artifacts:
        metrics["artifacts"] = {_short(str(k), 100): _short(str(v)) for k, v in list(artifacts.items())[:20]}
    if SCORE_KEY not in returned:
        keys = ", ".join(map(str, returned)) or "none"
        return metrics, f"{function_name}() returned no '{SCORE_KEY}' (its metrics: {keys})"
    score = metrics[SCORE_KEY]
    if isinstance(score, bool) or not isinstance(score, float | int) or not math.isfinite(score):
        shown = _short(repr(returned[SCORE_KEY]), 80)
        return metrics, f"{function_name}() returned {SCORE_KEY} = {shown}, not a finite number"
    return metrics, None


def _plain(value: Any) -> Any:
    """A metric as JSON: numbers (numpy ones too), bools, short text; a non-finite number as text."""
    if isinstance(value, bool) or value is None:
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if not isinstance(value, int | float) and callable(item) and getattr(value, "shape", None) == ():
        value = item()
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 1 << 53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _short(str(value))


def _short(text: str, limit: int = MAX_TEXT) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
