"""Problem specs: a folder (spec.py + problem.toml) or a bare FunSearch spec file.

A spec is read as text and understood through `ast`, never imported into the
caller's interpreter by `import`: the evolved function is found by its
decorator (live or commented out, as DeepMind's notebooks do), and every
mistake a user can make is reported once, naming the file, the line and the fix.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evoforge.records import Direction, Limits
from evoforge.source_text import parse_python, read_utf8
from evoforge.spec_errors import SpecError

EVOLVE_DECORATORS = {"evolve", "funsearch.evolve", "evoforge.evolve"}
RUN_DECORATORS = {"run", "funsearch.run", "evoforge.run"}
PROGRAM_KIND = "program"


@dataclass(frozen=True)
class ReportFormat:
    """How a raw score (higher is better) is shown to people: value * scale, unit."""

    scale: float = 1.0
    unit: str = ""
    label: str = "score"
    decimals: int | None = None

    def value(self, score: float | None) -> float | None:
        """The raw score in the problem's units (charts plot it; `show` writes it)."""
        return None if score is None else score * self.scale + 0.0  # + 0.0 turns -0.0 into 0.0

    def show(self, score: float | None) -> str:
        value = self.value(score)
        if value is None:
            return "-"
        if self.decimals is not None:
            return f"{value:.{self.decimals}f}{self.unit}"
        return f"{value:.4g}{self.unit}" if self.unit else f"{value:.6g}"


@dataclass(frozen=True)
class ProblemSpec:
    """Everything evoforge knows about a problem, as plain data.

    Scores are stored as the spec's `@run` returns them; `direction` says
    which way is better (see `Direction.oriented`, the one conversion).
    """

    name: str
    path: Path
    source: str
    evolve_name: str
    run_name: str
    seed_code: str
    kind: str = PROGRAM_KIND
    direction: Direction = Direction.MAXIMIZE
    description: str = ""
    prompt_notes: str = ""
    limits: Limits = field(default_factory=Limits)
    report: ReportFormat = field(default_factory=ReportFormat)
    inputs_module: Path | None = None
    inline_inputs: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def run_line(self) -> int:
        """The line of the `@run` function's `def`, for error messages."""
        pattern = re.compile(rf"\s*def\s+{re.escape(self.run_name)}\s*\(")
        lines = self.source.splitlines()
        return next((i for i, line in enumerate(lines, start=1) if pattern.match(line)), 1)


def builtin_problems_dir() -> Path:
    """Where the built-in problem folders live, installed or in a checkout."""
    import importlib.resources  # here, not at the top: it pulls in tempfile, shutil and three
    # compression libraries, which would then be mapped into every sandboxed child (a fork's cost grows
    # with each mapping)

    return Path(str(importlib.resources.files("evoforge.problems")))


def builtin_problem_names() -> list[str]:
    root = builtin_problems_dir()
    return sorted(p.name for p in root.iterdir() if (p / "spec.py").is_file()
                  or (p / "problem.toml").is_file())


def load_problem(target: str | Path, inputs_json: str | None = None) -> ProblemSpec:
    """Load a built-in name, a problem folder, or a FunSearch spec file."""
    from evoforge.kinds import folder_kind, kind_hook

    path = Path(target)
    folder = path if path.is_dir() else builtin_problems_dir() / str(target)
    read_folder = kind_hook(folder_kind(folder) or "", "load_folder")
    if read_folder is not None:  # a kind whose folder has no spec.py (lean_proof) reads it itself
        return read_folder(folder, inputs_json)
    if path.is_file():
        spec = _load_spec_file(path, config={}, name=path.stem)
    elif path.is_dir():
        spec = _load_folder(path)
    elif str(target) in builtin_problem_names():
        spec = _load_folder(builtin_problems_dir() / str(target))
    else:
        known = ", ".join(builtin_problem_names())
        raise SpecError(
            f"{target}: no such problem. Give a built-in name ({known}), "
            "a folder with spec.py and problem.toml, or a FunSearch spec file."
        )
    if inputs_json is not None:
        spec = _with_inline_inputs(spec, inputs_json)
    if not spec.inputs_module and not spec.inline_inputs.get("train"):
        raise SpecError(
            f"{spec.path}:{spec.run_line}: {spec.run_name}() has no inputs to score. Pass --inputs JSON "
            "(for example --inputs '[8]' or --inputs '{\"small\": 4}'), or add [inputs] to problem.toml."
        )
    return spec


def _load_folder(folder: Path) -> ProblemSpec:
    spec_path = folder / "spec.py"
    if not spec_path.is_file():
        raise SpecError(
            f"{folder}: a problem folder needs a spec.py (the skeleton to evolve); "
            "create it or give the spec file itself."
        )
    toml_path = folder / "problem.toml"
    config: dict[str, Any] = {}
    text = ""
    if toml_path.is_file():
        text = read_utf8(toml_path, "problem.toml")
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
            line = found.group(1) if found else "1"
            reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
            raise SpecError(
                f"{toml_path}:{line}: invalid TOML ({reason}); fix the syntax on that line."
            ) from None
    return _load_spec_file(spec_path, config=config, name=folder.name, toml_path=toml_path, toml_text=text)


def _load_spec_file(
    path: Path,
    config: dict[str, Any],
    name: str,
    toml_path: Path | None = None,
    toml_text: str = "",
) -> ProblemSpec:
    from evoforge.spec_config import parse_config

    source = read_utf8(path, "the spec")
    tree = parse_python(source, path, "the spec")
    evolve_node = _find_marked_function(tree, source, EVOLVE_DECORATORS, path, "evolve")
    run_node = _find_marked_function(tree, source, RUN_DECORATORS, path, "run")
    _check_roles(path, evolve_node, run_node)
    settings = parse_config(config, toml_path or path, default_name=name, text=toml_text)
    return ProblemSpec(
        path=path.resolve(),
        source=source,
        evolve_name=evolve_node.name,
        run_name=run_node.name,
        seed_code=function_source(source, evolve_node),
        **settings,
    )


def _check_roles(path: Path, evolve_node: ast.FunctionDef, run_node: ast.FunctionDef) -> None:
    """The @run function scores one input; it cannot also be the evolved one."""
    if evolve_node is run_node:
        raise SpecError(
            f"{path}:{run_node.lineno}: {run_node.name}() is marked both @evolve and @run; "
            "the entry point that scores an input must be a separate function."
        )
    args = run_node.args
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if not positional and args.vararg is None:
        raise SpecError(
            f"{path}:{run_node.lineno}: @run function {run_node.name}() takes no argument; "
            "it must take the input to score, e.g. def evaluate(instances)."
        )
    if required > 1:
        raise SpecError(
            f"{path}:{run_node.lineno}: @run function {run_node.name}() requires {required} arguments; "
            "it must take exactly one input (pack several values into a list or dict)."
        )


def function_source(source: str, node: ast.FunctionDef) -> str:
    """The text of one function, without its decorators."""
    lines = source.splitlines()
    return "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"


def _find_marked_function(
    tree: ast.Module, source: str, marks: set[str], path: Path, role: str
) -> ast.FunctionDef:
    lines = source.splitlines()
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _is_marked(node, lines, marks, path)
    ]
    if not found:
        functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        line = functions[-1].lineno if functions else 1
        listed = ", ".join(f"{n.name} (line {n.lineno})" for n in functions) or "none"
        raise SpecError(
            f"{path}:{line}: no function is marked @{role}. Put @{role} "
            f"(or @funsearch.{role}) on the line above the {_role_text(role)} "
            f"(top-level functions: {listed})."
        )
    if len(found) > 1:
        names = ", ".join(f"{n.name} (line {n.lineno})" for n in found)
        raise SpecError(
            f"{path}:{found[1].lineno}: more than one function is marked @{role}: {names}. "
            f"Keep the mark on exactly one."
        )
    return found[0]


def _role_text(role: str) -> str:
    if role == "evolve":
        return "function the LLM should rewrite"
    return "function that scores one input"


def _is_marked(node: ast.FunctionDef, lines: list[str], marks: set[str], path: Path) -> bool:
    """A live decorator, or one commented out in the comment block right above (notebook style)."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) in marks:
            raise SpecError(
                f"{path}:{decorator.lineno}: @{ast.unparse(decorator)} takes no arguments; "
                f"write @{ast.unparse(decorator.func)} without parentheses."
            )
        if ast.unparse(decorator) in marks:
            return True
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    index = first - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        mark = re.match(r"#+\s*@\s*([\w.]+)", lines[index].strip())
        if mark and mark.group(1) in marks:
            return True
        index -= 1
    return False


def _with_inline_inputs(spec: ProblemSpec, inputs_json: str) -> ProblemSpec:
    try:
        value = json.loads(inputs_json)
    except json.JSONDecodeError as error:
        raise SpecError(
            f"--inputs:{error.lineno}: not valid JSON ({error.msg} at column {error.colno} of "
            f"{inputs_json!r}); give a list like '[8, 9]' or an object like '{{\"n8\": 8}}'."
        ) from None
    if value == [] or value == {}:
        raise SpecError("--inputs:1: the list of inputs is empty; give at least one, like '[8]'.")
    keyed = keyed_inputs(value)
    from dataclasses import replace

    return replace(spec, inputs_module=None, inline_inputs={"train": keyed, "test": keyed})


def keyed_inputs(value: Any) -> dict[str, Any]:
    """Name each input: dict keys as given, list items by their value or position."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        if all(isinstance(v, int | float | str) for v in value):
            return {str(v): v for v in value}
        return {f"input{i}": v for i, v in enumerate(value)}
    return {json.dumps(value): value}
