"""The data channel: a spec's `@run` returns {"score": ..., "data": [...]}, and `TrialResult.data` holds
the data, checked in the child and again in the parent, in every sandbox mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_sandbox_support import LIMITS

from evoforge.records import TrialResult
from evoforge.sandboxes import Sandbox, SandboxMode, open_sandbox
from evoforge.sandboxes.scores import MAX_DATA_NUMBERS, checked_data, decode_child_result
from evoforge.spec import load_problem

# The design field is what the candidate returns; the spec scores it and hands it on unchanged.
SPEC_TEXT = '''
import numpy as np
import funsearch


@funsearch.evolve
def design(n):
    return [[float(i), float(i + 1)] for i in range(n)]


@funsearch.run
def evaluate(n):
    field = design(n)
    grid = np.asarray(field, dtype=float)
    return {"score": float(np.abs(grid[np.isfinite(grid)]).sum()) if grid.size else 0.0, "data": field}
'''
TOKEN = "0123abcd"


def design(body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"def design(n):\n{lines}\n"


@pytest.fixture(scope="module", params=list(SandboxMode))
def sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    path = tmp_path_factory.mktemp("data") / "field_spec.py"
    path.write_text(SPEC_TEXT)
    spec = load_problem(path, inputs_json='{"two": 2, "wide": 300}')
    with open_sandbox(spec, mode=request.param, limits=LIMITS) as opened:
        yield opened


def test_data_comes_back_as_plain_nested_lists(sandbox: Sandbox) -> None:
    result = sandbox.run(design("import numpy as np\nreturn [[np.int64(i), np.float32(0.5), True] "
                                "for i in range(n)]"), "two")
    assert result.error is None and result.score == 4.0
    assert result.data == [[0, 0.5, 1], [1, 0.5, 1]]
    assert [type(x) for x in result.data[1]] == [int, float, int]


def test_a_plain_score_still_has_no_data(tmp_path: Path) -> None:
    path = tmp_path / "plain_spec.py"
    path.write_text(SPEC_TEXT.replace('return {"score": float(np.abs(grid[np.isfinite(grid)]).sum()) '
                                      'if grid.size else 0.0, "data": field}', "return float(grid.sum())"))
    spec = load_problem(path, inputs_json='{"two": 2}')
    with open_sandbox(spec, limits=LIMITS) as plain:
        result = plain.run(design("return [[1.0, 2.0]] * n"), "two")
    assert (result.score, result.data) == (6.0, None)


def test_a_large_field_crosses_whole(sandbox: Sandbox) -> None:
    result = sandbox.run(design("return [[float(i * j) for j in range(800)] for i in range(n)]"), "wide")
    assert result.error is None and len(result.data) == 300 and result.data[299][799] == 299.0 * 799


@pytest.mark.parametrize("body, reason", [
    ("return [[1.0, float('nan')]]", "invalid result: data holds the non-finite number nan"),
    ("import numpy as np\nreturn [[np.float64('inf')]]",
     "invalid result: data holds the non-finite number inf"),
    (f"return [0.0] * {MAX_DATA_NUMBERS + 1}", f"invalid result: data is too large: more than "
                                              f"{MAX_DATA_NUMBERS} numbers"),
    (f"return [[]] * {(1 << 18) + 1}", "invalid result: data is too large: more than 262144 lists"),
    ("return [[[[[1.0]]]]]", "invalid result: data nests lists more than 4 deep"),
    ("return [[1.0, '2']]", "invalid result: data holds a str, not a number"),
    ("return [(1.0, 2.0)]", "invalid result: data holds a tuple, not a number"),
    ("return [[2 ** 70]]", "invalid result: data holds an integer outside the signed 64-bit range"),
], ids=["nan", "inf", "too-many-numbers", "too-many-lists", "too-deep", "str", "tuple", "huge-int"])
def test_bad_data_is_a_recorded_error_and_the_sandbox_goes_on(sandbox: Sandbox, body: str,
                                                               reason: str) -> None:
    result = sandbox.run(design(body), "two")
    assert (result.score, result.error, result.data) == (None, reason, None)
    assert sandbox.run(design("return [[1.0, 2.0]]"), "two").data == [[1.0, 2.0]]


@pytest.mark.parametrize("body, reason", [
    # A float subclass whose repr and float() claim another value: refused by its exact type.
    ("class Big(float):\n    def __float__(self): return 1e9\n    def __repr__(self): return '1e9'\n"
     "return [[Big(1.0)]]", "invalid result: data holds a Big, not a number"),
    # A list subclass that lies about its items.
    ("class Many(list):\n    def __iter__(self): return iter([1e9])\nreturn [Many([1.0])]",
     "invalid result: data holds a Many, not a number"),
    # Patching what the spec uses to score the field: the tamper guard's.
    ("import numpy as np\nnp.abs = lambda x: x * 1e9\nreturn [[1.0]]", "candidate tampered with np.abs"),
], ids=["float-subclass", "list-subclass", "patched-numpy"])
def test_a_candidate_cannot_forge_its_data(sandbox: Sandbox, body: str, reason: str) -> None:
    import numpy as np

    original = np.abs  # in-process, a patch would outlive the trial
    try:
        result = sandbox.run(design(body), "two")
    finally:
        np.abs = original
    assert (result.score, result.error, result.data) == (None, reason, None)


@pytest.mark.parametrize("mode", [SandboxMode.FORK, SandboxMode.SPAWN])
def test_a_forged_message_on_the_result_channel_is_refused(tmp_path: Path, mode: SandboxMode) -> None:
    path = tmp_path / "field_spec.py"
    path.write_text(SPEC_TEXT)
    spec = load_problem(path, inputs_json='{"two": 2}')
    forged = json.dumps({"score": 1e9, "data": [1e9], "token": "guess"})
    with open_sandbox(spec, mode=mode, limits=LIMITS) as sandbox:
        alone = sandbox.run(design(f"import os\nos.write(3, {forged!r}.encode())\nos._exit(0)"), "two")
        beside = sandbox.run(design(f"import os\nos.write(3, {forged!r}.encode())\nreturn [[1.0]]"), "two")
    assert alone.error == ("invalid result: the result channel was written by the candidate, not the harness")
    assert beside.error == "invalid result: the result channel held something other than one JSON message"
    assert alone.data is None and beside.data is None


def test_the_parent_checks_the_data_again() -> None:
    def message(data: object) -> bytes:
        return json.dumps({"score": 1.0, "data": data, "token": TOKEN}).encode()

    assert decode_child_result(message([[1, 2.5]]), TOKEN).data == [[1, 2.5]]
    for bad in ([True], ["x"], [[[[[1]]]]], {"a": 1}, [None], [0] * (MAX_DATA_NUMBERS + 1)):
        decoded = decode_child_result(message(bad), TOKEN)
        assert decoded.score is None and decoded.error.startswith("invalid result: malformed data"), bad
    nan = b'{"score": 1.0, "data": [NaN], "token": "0123abcd"}'
    assert decode_child_result(nan, TOKEN).error.startswith("invalid result")


@pytest.mark.parametrize("value, reason", [
    ({"score": 1.0, "data": [1], "extra": 2}, "keys 'score' and (optionally) 'data' only"),
    ({"data": [1]}, "keys 'score' and (optionally) 'data' only"),
    ({"score": float("nan"), "data": [1]}, "score is nan"),
])
def test_a_dict_result_needs_exactly_score_and_data(value: dict[str, object], reason: str) -> None:
    from evoforge.sandboxes.scores import checked_outcome

    outcome = checked_outcome(value)
    assert outcome.keys() == {"error"} and outcome["error"].endswith(reason)


def test_trial_results_stay_frozen_and_hashable() -> None:
    trial = TrialResult("a", 1.0, data=[[1.0]])
    with pytest.raises(AttributeError):
        trial.data = None  # type: ignore[misc]
    assert hash(trial) == hash(TrialResult("a", 1.0, data=[[2.0]])) and checked_data([]) == ([], None)
