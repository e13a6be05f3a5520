"""`evoforge verify-lean` and the `--theorem` / `--all` options of `evoforge run` for Lean problems.

verify-lean checks a JSONL of (statement, proof) items (or whole Lean texts /
`.lean` files) through one REPL pool and appends one JSON line per item to OUT
as each check ends, so a killed run resumes by skipping the ids already in OUT.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evoforge.evaluators.lean.outcome import Status, VerifyResult

out = Console()
err = Console(stderr=True)


def verify_lean(
    input_file: Annotated[
        Path,
        typer.Argument(
            help="JSONL: {id?, statement, proof, preamble?, imports?} "
            "or {id?, lean | file, statement?} per line; or a .lean file, or a folder of them."
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="JSONL of results (appended; resumable).")],
    workers: Annotated[int, typer.Option(help="Checks in flight (REPL processes).")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds per check; past it the REPL is killed.")] = 60.0,
    lean_repl: Annotated[
        str | None, typer.Option(help="The REPL binary (else $EVOFORGE_LEAN_REPL, PATH).")
    ] = None,
    lean_project: Annotated[Path | None, typer.Option(help="A Lake project to run the REPL in.")] = None,
    memory_mb: Annotated[int, typer.Option(help="Address-space limit per REPL process.")] = 8192,
    allow_native_decide: Annotated[bool, typer.Option(help="Accept native_decide proofs.")] = False,
    backend: Annotated[str, typer.Option(help="repl | leandojo")] = "repl",
) -> None:
    """Verify Lean proofs in bulk: status, Lean's messages and time per item, then counts per status."""
    from evoforge.evaluators.lean.backends import BACKENDS, open_verifier
    from evoforge.evaluators.lean.discovery import LeanSettings
    from evoforge.evaluators.lean.outcome import BackendUnavailable

    if backend not in BACKENDS:
        raise _fail(f"--backend {backend}: use one of {', '.join(BACKENDS)}.")
    items, tasks = _read_items(input_file, allow_native_decide)
    done = _done_ids(out_file)
    todo = [(item, task) for item, task in zip(items, tasks, strict=True) if item["id"] not in done]
    err.print(f"{len(items)} items, {len(items) - len(todo)} already in {out_file}, {len(todo)} to check")
    if todo:
        settings = LeanSettings.from_environment(
            repl=lean_repl,
            project=str(lean_project) if lean_project else None,
            timeout_seconds=timeout,
            memory_mb=memory_mb,
            processes=workers,
            allow_native_decide=allow_native_decide,
        )
        try:
            verifier = open_verifier(settings, backend)
        except BackendUnavailable as error:  # what is missing and how to install it
            raise _fail(str(error)) from None
        try:
            _check_all(verifier, todo, out_file, workers)
        finally:
            verifier.close()
    _print_summary(out_file)


def _read_items(path: Path, allow_native_decide: bool) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every line parsed before any check starts: a bad line stops the command and loses nothing."""
    from evoforge.evaluators.lean.task import TaskError, task_from_json

    if not path.exists():
        raise _fail(f"{path}: no such file; give a JSONL of items, a .lean file or a folder of them.")
    items, tasks, seen = [], [], set()
    for number, line in enumerate(_input_lines(path), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if type(item) is not dict:
                raise TaskError("each line must be a JSON object")
            item["id"] = str(item.get("id", f"line-{number}"))
            tasks.append(task_from_json(item, allow_native_decide))
        except (json.JSONDecodeError, TaskError, OSError, ValueError, TypeError) as error:
            raise _fail(f"{path}:{number}: {error}; fix this line (nothing was checked).") from None
        if item["id"] in seen:
            raise _fail(
                f"{path}:{number}: the id {item['id']!r} appears twice; ids must be unique to resume."
            )
        seen.add(item["id"])
        items.append(item)
    return items, tasks


def _input_lines(path: Path) -> list[str]:
    """JSONL lines; a .lean file or a folder of them becomes one {"id", "file"} line per file."""
    if path.is_dir() or path.suffix == ".lean":
        files = sorted(path.rglob("*.lean")) if path.is_dir() else [path]
        return [
            json.dumps({"id": str(f.relative_to(path) if path.is_dir() else f.name), "file": str(f)})
            for f in files
        ]
    return path.read_text(encoding="utf-8").splitlines()


def _fail(message: str) -> typer.Exit:
    from evoforge.cli import _fail  # the CLI's one way to print a user error (here: no import cycle)

    return _fail(message)


def _done_ids(out_file: Path) -> set[str]:
    """Ids already in OUT; a last line cut short by a kill is dropped so it is checked again."""
    if not out_file.is_file():
        return set()
    text = out_file.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        out_file.write_text(text, encoding="utf-8")
    return {result["id"] for result in _results(out_file, text)}


def _results(out_file: Path, text: str) -> list[dict[str, Any]]:
    """OUT's result lines; one that is not (edited by hand, another file) stops the command, saying where."""
    results = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            result = None
        if type(result) is not dict or not isinstance(result.get("id"), str) or "status" not in result:
            raise _fail(f"{out_file}:{number}: not a verify-lean result line; fix or remove it, or give "
                        "another --out.")
        results.append(result)
    return results


def _check_all(verifier: Any, todo: list[tuple[dict[str, Any], Any]], out_file: Path, workers: int) -> None:
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tasks = [task for _, task in todo]
    started = time.perf_counter()
    with out_file.open("a", encoding="utf-8") as sink:
        for count, (index, result) in enumerate(verifier.verify_stream(tasks, workers), start=1):
            item = todo[index][0]
            sink.write(json.dumps(_line(item, tasks[index].name, result), ensure_ascii=False) + "\n")
            sink.flush()
            err.print(
                escape(f"[{count}/{len(tasks)}] {item['id']}: {result.status.value} {result.reason[:100]}")
            )
    err.print(f"checked {len(tasks)} in {time.perf_counter() - started:.1f} s")


def _line(item: dict[str, Any], name: str, result: VerifyResult) -> dict[str, Any]:
    return {"id": item["id"], "name": name, **result.to_json()}


def _print_summary(out_file: Path) -> None:
    counts: Counter[str] = Counter()
    if out_file.is_file():
        counts.update(result["status"] for result in _results(out_file, out_file.read_text("utf-8")))
    table = Table("status", "count", title=str(out_file))
    for status in Status:
        table.add_row(status.value, str(counts.get(status.value, 0)))
    table.add_row("total", str(sum(counts.values())))
    out.print(table)


def theorem_inputs(theorem: str, dataset: Path | None) -> str:
    """`--theorem NAME` as the problem's inputs JSON (stored with the run, so resume keeps it)."""
    return json.dumps({"theorems": [theorem], "dataset": str(dataset.resolve()) if dataset else None})


def is_lean_problem(problem: str) -> bool:
    """A lean_proof problem folder, given by path or built-in name (`--all` then means every statement)."""
    from evoforge.evaluators.lean.problem import is_lean_folder
    from evoforge.spec import builtin_problems_dir

    return is_lean_folder(Path(problem)) or is_lean_folder(builtin_problems_dir() / problem)


def run_every_theorem(problem: str, dataset: Path | None, base: Path,
                      run_one: Callable[[str, Path], Any]) -> None:
    """`evoforge run PROBLEM --all`: `run_one(name, base / name)` per statement, in turn; a search
    stopped by bad input (exit 2) stops them all, any other failure goes on to the next statement."""
    from evoforge.evaluators.lean.problem import theorem_names

    for name in theorem_names(problem, str(dataset) if dataset else None):
        err.print(f"[bold]{name}[/bold]")
        try:
            run_one(name, Path(base) / name)
        except typer.Exit as stop:
            if stop.exit_code == 2:
                raise
