"""A `lean_proof` problem: a folder with only problem.toml, its statements in `[lean]`.

The built-in `lean_core` names three statements of its own and reads the 50 of
`lean/core_theorems.json` by path under EVOFORGE_DATA (never copied into the
project). `--inputs` / `--theorem` choose statements: a JSON list of names, or
`{"theorems": [...], "dataset": PATH}`. Each chosen statement is one input of the
spec, so a candidate proof is scored on it by the `lean_proof` evaluator.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError

LEAN_KIND = "lean_proof"
SEED_PROOF = "by\n  sorry"


def data_root() -> Path:
    from evoforge.data_paths import published_data_dir

    return published_data_dir()


def is_lean_folder(folder: Path) -> bool:
    """A folder with problem.toml saying kind = "lean_proof" and no spec.py."""
    from evoforge.kinds import folder_kind

    return folder_kind(folder) == LEAN_KIND


def load_lean_problem(folder: Path, inputs_json: str | None = None) -> ProblemSpec:
    """The spec of a lean_proof folder, with the chosen statements as its inputs."""
    from evoforge.spec_config import parse_config

    toml_path = folder / "problem.toml"
    text = toml_path.read_text(encoding="utf-8")
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{toml_path}:1: invalid TOML ({error}); fix the syntax.") from None
    lean = config.pop("lean", {})
    settings = parse_config(config, toml_path, default_name=folder.name, text=text)
    settings.pop("inline_inputs", None)
    settings.pop("inputs_module", None)
    names, dataset = _choice(inputs_json, lean)
    theorems = {name: _find_theorem(name, lean, dataset, toml_path) for name in names}
    first = theorems[names[0]]
    source = "\n\n".join(
        f"{t.get('preamble') or ''}\n{t['statement']} :=\n  sorry".strip() for t in theorems.values()
    )
    return ProblemSpec(
        path=toml_path.resolve(),
        source=source,
        evolve_name=first["name"],
        run_name="lean",
        seed_code=SEED_PROOF,
        inline_inputs={"train": theorems, "test": theorems},
        **settings,
    )


def _choice(inputs_json: str | None, lean: dict[str, Any]) -> tuple[list[str], Path]:
    dataset = data_root() / str(lean.get("dataset", "lean/core_theorems.json"))
    if inputs_json is None:
        return [str(lean.get("default") or lean["theorems"][0]["name"])], dataset
    try:
        value = json.loads(inputs_json)
    except json.JSONDecodeError:
        value = [inputs_json]
    if isinstance(value, dict):
        dataset = Path(value["dataset"]) if value.get("dataset") else dataset
        value = value.get("theorems") or [lean.get("default")]
    names = [str(v) for v in (value if isinstance(value, list) else [value])]
    if not names:
        raise SpecError("--theorem: no statement chosen; give a name like --theorem nat_add_comm.")
    return names, dataset


def theorem_catalog(lean: dict[str, Any], dataset: Path) -> dict[str, dict[str, Any]]:
    """Every statement a lean_proof problem knows: its own, then the dataset's (when present)."""
    catalog = {
        t["name"]: {"name": t["name"], "statement": t["statement"], "preamble": t.get("preamble") or ""}
        for t in lean.get("theorems", [])
    }
    if dataset.is_file():
        for item in json.loads(dataset.read_text(encoding="utf-8"))["items"]:
            catalog.setdefault(
                item["name"],
                {
                    "name": item["name"],
                    "statement": item["statement"],
                    "preamble": item.get("preamble") or "",
                },
            )
    return catalog


def _find_theorem(name: str, lean: dict[str, Any], dataset: Path, toml_path: Path) -> dict[str, Any]:
    catalog = theorem_catalog(lean, dataset)
    if name in catalog:
        return catalog[name]
    where = (
        f"{dataset}" if dataset.is_file() else f"{dataset} (not found: set EVOFORGE_DATA or pass --dataset)"
    )
    shown = ", ".join(list(catalog)[:8])
    raise SpecError(f"{toml_path}: no statement named {name!r} here or in {where}; known: {shown} ...")


def theorem_names(problem: str, dataset: str | None = None) -> list[str]:
    """All statement names of a lean_proof problem (for `--all`)."""
    from evoforge.spec import builtin_problems_dir

    folder = Path(problem) if Path(problem).is_dir() else builtin_problems_dir() / problem
    lean = tomllib.loads((folder / "problem.toml").read_text(encoding="utf-8")).get("lean", {})
    path = Path(dataset) if dataset else data_root() / str(lean.get("dataset", "lean/core_theorems.json"))
    return list(theorem_catalog(lean, path))
