"""An OpenEvolve problem folder (initial_program.py + evaluator.py), unchanged, as a ProblemSpec.

`load_problem` reaches this through the kind table (`evoforge/kinds.py`: a
folder with both files and no spec.py is of kind `openevolve`). The spec's
source is generated here: a small module holding both files' text as string
constants, whose `@run` function assembles the candidate's full program and
calls the evaluator in the sandbox (`openevolve_runner`). Being the spec's
source, it is what a run stores, so `resume` runs the program and evaluator
the run started with even if the files change. The evolved unit is the
EVOLVE-BLOCK text (`openevolve_block`); the seed is the initial block.

An optional problem.toml may add name, description, direction, [limits],
[prompt] notes and [report]; inputs make no sense here and are refused.
Evolution sees evaluator.py's `evaluate`; only if the evaluator also defines
`evaluate_test(program_path)` does the problem have held-out scores.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.code_text import CodeTextError
from evoforge.openevolve_block import (
    OPENEVOLVE_KIND,
    SANDBOX_FUNCTION,
    required_names,
    sandbox_code,
    split_program,
)
from evoforge.source_text import parse_python, read_utf8
from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError

PROGRAM_FILE = "initial_program.py"
EVALUATOR_FILE = "evaluator.py"
RUN_FUNCTION = "evaluate_program"
TRAIN_FUNCTION, TEST_FUNCTION = "evaluate", "evaluate_test"


def is_openevolve_folder(folder: Path) -> bool:
    return (folder / PROGRAM_FILE).is_file() and (folder / EVALUATOR_FILE).is_file() \
        and not (folder / "spec.py").is_file()


def load_openevolve_folder(folder: Path, inputs_json: str | None = None) -> ProblemSpec:
    """The folder as a spec of kind `openevolve`, or one SpecError naming the file, line and fix."""
    if inputs_json is not None:
        raise SpecError(f"--inputs: {folder} is an OpenEvolve folder, scored by its evaluator.py; "
                        "drop --inputs.")
    program_path, evaluator_path = (folder / PROGRAM_FILE).resolve(), (folder / EVALUATOR_FILE).resolve()
    program = read_utf8(program_path, PROGRAM_FILE)
    parse_python(program, program_path, PROGRAM_FILE)
    try:
        before, block, after = split_program(program, str(program_path))
    except CodeTextError as error:
        reason = error.reason.removeprefix(str(program_path) + " ")
        raise SpecError(f"{program_path}:{error.line}: {reason}; mark the code to evolve with "
                        "`# EVOLVE-BLOCK-START` and `# EVOLVE-BLOCK-END`.") from None
    if not block.strip():
        raise SpecError(f"{program_path}:{before.count(chr(10))}: the EVOLVE-BLOCK is empty; "
                        "put the code to evolve between the markers.")
    evaluator = read_utf8(evaluator_path, EVALUATOR_FILE)
    functions = _evaluator_functions(parse_python(evaluator, evaluator_path, EVALUATOR_FILE), evaluator_path)
    names = required_names(block, before + after, evaluator)
    source = spec_source(folder, before, block, after, evaluator, str(evaluator_path), names)
    test = {TEST_FUNCTION: TEST_FUNCTION} if TEST_FUNCTION in functions else {}
    spec = ProblemSpec(
        name=folder.name, path=program_path, source=source, evolve_name=SANDBOX_FUNCTION,
        run_name=RUN_FUNCTION, seed_code=block.strip("\n") + "\n", kind=OPENEVOLVE_KIND,
        description=_docstring(program).split("\n")[0] or f"Improve the EVOLVE-BLOCK of {PROGRAM_FILE}; "
        f"{EVALUATOR_FILE} scores the whole program (combined_score, higher is better).",
        inline_inputs={"train": {TRAIN_FUNCTION: TRAIN_FUNCTION}, "test": test},
    )  # fmt: skip
    return _with_settings(spec, folder)


def _evaluator_functions(tree: ast.Module, path: Path) -> set[str]:
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assigned = [t for n in tree.body if isinstance(n, ast.Assign) for t in n.targets]
    names |= {t.id for t in assigned if isinstance(t, ast.Name)}
    names |= {(a.asname or a.name) for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    if TRAIN_FUNCTION not in names:
        raise SpecError(f"{path}:1: evaluator.py defines no {TRAIN_FUNCTION}(program_path); "
                        "define it, returning a dict of metrics with 'combined_score'.")
    return names


def _docstring(program: str) -> str:
    try:
        return (ast.get_docstring(ast.parse(program)) or "").strip()
    except SyntaxError:
        return ""


def spec_source(folder: Path, before: str, block: str, after: str, evaluator: str, evaluator_path: str,
                names: tuple[str, ...]) -> str:
    """The generated spec: both files' text, and the `@run` function scoring a candidate block."""
    seed = sandbox_code(block.strip("\n") + "\n").rstrip("\n")
    return f'''"""OpenEvolve problem {folder.name}: made by evoforge from {PROGRAM_FILE}, {EVALUATOR_FILE}.

The candidate is the EVOLVE-BLOCK; `{SANDBOX_FUNCTION}()` returns its text (each candidate redefines it).
"""

from evoforge.openevolve_runner import load_evaluator, score_program

PROGRAM_BEFORE = {before!r}
PROGRAM_AFTER = {after!r}
EVALUATOR_SOURCE = {evaluator!r}
EVALUATOR_PATH = {evaluator_path!r}
REQUIRED_NAMES = {names!r}
EVALUATOR = load_evaluator(EVALUATOR_SOURCE, EVALUATOR_PATH)


{seed}


def {RUN_FUNCTION}(function_name):
    """Score the candidate's full program with evaluator.py's evaluate (or evaluate_test)."""
    return score_program(EVALUATOR, PROGRAM_BEFORE + {SANDBOX_FUNCTION}() + PROGRAM_AFTER, function_name)
'''


def _with_settings(spec: ProblemSpec, folder: Path) -> ProblemSpec:
    """problem.toml's settings, when the folder has one (parsed by the one problem.toml parser)."""
    from evoforge.spec_config import parse_config

    toml_path = folder / "problem.toml"
    if not toml_path.is_file():
        return spec
    text = read_utf8(toml_path, "problem.toml")
    try:
        config: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{toml_path}:1: invalid TOML ({error}); fix the syntax.") from None
    for key in ("inputs", "kind"):
        if key in config and config.get(key) != OPENEVOLVE_KIND:
            raise SpecError(f"{toml_path}:1: {key} does not apply to an OpenEvolve folder (evaluator.py "
                            f"scores the program); remove it.")
    config.pop("kind", None)
    settings = parse_config(config, toml_path, default_name=folder.name, text=text)
    settings.pop("kind"), settings.pop("inputs_module"), settings.pop("inline_inputs")
    if not settings["description"]:
        settings.pop("description")
    return replace(spec, **settings)
