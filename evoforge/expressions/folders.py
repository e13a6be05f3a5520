"""Problem folders for one equation: the built-in `feynman` folder with its equation swapped in.

A run stores its problem by path, so `evoforge run feynman --equation ID`
writes a copy of problems/feynman into the run directory with the chosen
equation's skeleton (named, documented variables), prompt notes and inputs
module; `resume` then needs nothing else. The `@run` code is the built-in
one, unchanged.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from evoforge.expressions.feynman import FeynmanEquation, Variable
from evoforge.expressions.fitting import N_PARAMS
from evoforge.expressions.integrals import Integral
from evoforge.expressions.table import Table
from evoforge.spec import builtin_problems_dir

EVOLVED = "equation"


def feynman_folder(equation: FeynmanEquation, target: Path, dataset: Path | None = None,
                   noise: float = 0.0, seed: int = 0) -> Path:
    """Write the problem folder for one equation into `target`; returns it."""
    source = builtin_problems_dir() / "feynman"
    target.mkdir(parents=True, exist_ok=True)
    (target / "spec.py").write_text(_with_skeleton((source / "spec.py").read_text(), equation))
    toml = (source / "problem.toml").read_text()
    (target / "problem.toml").write_text(_with_notes(toml, equation, noise))
    (target / "inputs.py").write_text(_inputs_module((source / "inputs.py").read_text(), equation.id,
                                                     dataset, noise, seed))
    return target


def skeleton(equation: FeynmanEquation) -> str:
    """The seed skeleton: LLM-SR's linear start, over the equation's named variables."""
    names = equation.names
    arguments = ", ".join(f"{n}: np.ndarray" for n in names)
    meanings = ", ".join(f"{v.name} ({v.meaning})" for v in equation.variables)
    terms = " + ".join(f"params[{i}] * {n}" for i, n in enumerate(names))
    return (
        f"def {EVOLVED}({arguments}, params: np.ndarray) -> np.ndarray:\n"
        f'    """{equation.output[:1].upper() + equation.output[1:]} from {meanings}.\n\n'
        f"    Args:\n      {', '.join(names)}: one numpy array per variable, one value per data point.\n"
        f"      params: {N_PARAMS} free constants, fitted to the data; use as many as needed.\n\n"
        f"    Returns:\n      One value of {equation.output} per data point.\n"
        f'    """\n'
        f"    return {terms} + params[{len(names)}]\n"
    )


def _with_skeleton(spec_source: str, equation: FeynmanEquation) -> str:
    tree = ast.parse(spec_source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == EVOLVED)
    lines = spec_source.splitlines(keepends=True)
    start = node.lineno - 1  # the decorator line stays above
    return "".join(lines[:start]) + skeleton(equation) + "".join(lines[node.end_lineno:])


def notes(equation: FeynmanEquation, noise: float) -> str:
    ranges = ", ".join(_range_text(v) for v in equation.variables)
    noisy = f" The training targets carry {noise:.0%} relative noise." if noise else ""
    return (
        f"Feynman equation {equation.id}: {equation.output} from {ranges}.{noisy} Use numpy functions "
        "(np.sin, np.exp, np.sqrt, ...) on the arrays and constants from params; no loops and no lookup "
        "of data points: the formula is checked outside the sampled range."
    )


def _range_text(v: Variable) -> str:
    sign = ", either sign" if v.sign == "both" else ""
    return f"{v.name} ({v.meaning}; {v.dist.replace('_', '-')} in [{v.low:g}, {v.high:g}]{sign})"


def _with_notes(toml: str, equation: FeynmanEquation, noise: float) -> str:
    return _replaced_notes(toml, notes(equation, noise))


def _replaced_notes(toml: str, text: str) -> str:
    head, _, rest = toml.partition("[prompt]")
    _, _, tail = rest.partition('"""\n\n')  # the notes string ends the [prompt] table
    return f"{head}[prompt]\nnotes = {json.dumps(text)}\n\n{tail}"


def _inputs_module(source: str, equation_id: str, dataset: Path | None, noise: float, seed: int) -> str:
    values = {"EQUATION": repr(equation_id), "DATASET": repr(str(dataset.resolve()) if dataset else None),
              "NOISE": repr(float(noise)), "SEED": repr(int(seed))}
    return _with_values(source, values)


def _with_values(source: str, values: dict[str, str]) -> str:
    """The inputs module with its top-level settings (NAME = value lines) replaced."""
    lines = []
    for line in source.splitlines():
        name = line.split(" = ")[0]
        lines.append(f"{name} = {values[name]}" if name in values and " = " in line else line)
    return "\n".join(lines) + "\n"


def integration_folder(integral: Integral, target: Path, dataset: Path, seed: int = 0) -> Path:
    """Write the integration problem folder for one integral (dataset path resolved here, in
    the trusted process: a sandbox server's environment is scrubbed of EVOFORGE_DATA)."""
    source = builtin_problems_dir() / "integration"
    target.mkdir(parents=True, exist_ok=True)
    spec = (source / "spec.py").read_text().replace("f(x) = x**3", f"f(x) = {integral.integrand}")
    (target / "spec.py").write_text(spec)
    toml = (source / "problem.toml").read_text()
    text = (f"Integrate f(x) = {integral.integrand} on (0, 1). Return F(x) using numpy functions on the "
            "array x (np.sin, np.exp, np.log, np.arctan, ...); any additive constant is fine. No loops and "
            "no numerical integration: F must be a closed formula.")
    (target / "problem.toml").write_text(_replaced_notes(toml, text))
    values = {"INTEGRAL": repr(integral.id), "DATASET": repr(str(Path(dataset).resolve())),
              "SEED": repr(int(seed))}
    (target / "inputs.py").write_text(_with_values((source / "inputs.py").read_text(), values))
    return target


def table_folder(table: Table, target_column: str, split_column: str | None, target: Path) -> Path:
    """Write the expression problem folder for a user's table (its path, target and split named)."""
    source = builtin_problems_dir() / "expression"
    target.mkdir(parents=True, exist_ok=True)
    equation = FeynmanEquation(
        id=table.path.name, tier="-", output=f"the target {target_column}", formula="",
        variables=tuple(Variable(n, f"column {n}", "data", float(table.x[:, i].min()),
                                 float(table.x[:, i].max()), "") for i, n in enumerate(table.names)),
    )
    (target / "spec.py").write_text(_with_skeleton((source / "spec.py").read_text(), equation))
    ranges = ", ".join(f"{v.name} (in [{v.low:g}, {v.high:g}])" for v in equation.variables)
    text = (f"Table {table.path.name}: {target_column} from {ranges}. Use numpy functions (np.sin, np.exp, "
            "np.sqrt, ...) on the column arrays and constants from params; no loops and no lookup of rows: "
            "the formula is checked on rows outside the data's core.")
    (target / "problem.toml").write_text(_replaced_notes((source / "problem.toml").read_text(), text))
    values = {"CSV": repr(str(table.path.resolve())), "TARGET": repr(target_column),
              "SPLIT_COLUMN": repr(split_column)}
    (target / "inputs.py").write_text(_with_values((source / "inputs.py").read_text(), values))
    return target
