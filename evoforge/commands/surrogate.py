"""`evoforge surrogate data|train|info PROBLEM`: a problem's neural surrogate, made and inspected.

Only wiring: the work is in `evoforge.surrogates.build`. Data and checkpoints
go to the user's cache (`evoforge surrogate info` prints where).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Neural PDE surrogates of surrogate-backed problems.")
out = Console()
err = Console(stderr=True)

Problem = Annotated[str, typer.Argument(help="A surrogate-backed problem: burgers_control, heat_spreader.")]
Pairs = Annotated[int | None, typer.Option(help="Training pairs to solve (default: the problem's budget).")]
Seed = Annotated[int, typer.Option(help="Seed of the random designs and of training.")]


def _physics(problem: str):
    from evoforge.spec_errors import SpecError
    from evoforge.surrogates.data import problem_physics

    try:
        return problem_physics(problem)
    except (SpecError, FileNotFoundError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None


def _budget(physics, pairs: int | None, epochs: int | None, seed: int):
    from dataclasses import replace

    from evoforge.surrogates.build import DEFAULT_BUDGET

    budget = replace(DEFAULT_BUDGET[physics.name], seed=seed)
    if (pairs is not None and pairs < 16) or (epochs is not None and epochs < 1):
        err.print("[red]error:[/red] --pairs must be at least 16 and --epochs at least 1.")
        raise typer.Exit(code=2)
    return replace(budget, pairs=pairs or budget.pairs, epochs=epochs or budget.epochs)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err)


@app.command()
def data(problem: Problem, pairs: Pairs = None, seed: Seed = 0) -> None:
    """Solve training pairs with the exact solver (resumable: rerun after an interruption)."""
    from evoforge.surrogates import store
    from evoforge.surrogates.build import make_data

    physics = _physics(problem)
    budget = _budget(physics, pairs, None, seed)
    with _bar() as bar:
        task = bar.add_task(f"{problem}: solving chunks of pairs", total=None)
        made = make_data(problem, physics, budget, lambda done, total: bar.update(task, completed=done,
                                                                                   total=total))
    out.print(f"{len(made.designs)} pairs (+{len(made.shifted_designs)} shifted), seed {made.seed}: "
              f"{store.data_path(problem)}")


@app.command()
def train(problem: Problem, pairs: Pairs = None, seed: Seed = 0,
          epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None) -> None:
    """Train the problem's FNO (making the data first if needed) and save it in the cache."""
    from evoforge.surrogates.build import make_surrogate

    physics = _physics(problem)
    budget = _budget(physics, pairs, epochs, seed)
    with _bar() as bar:
        solving = bar.add_task(f"{problem}: solving pairs", total=None)
        training = bar.add_task(f"{problem}: training", total=budget.epochs)
        surrogate = make_surrogate(
            problem, physics, budget,
            lambda done, total: bar.update(solving, completed=done, total=total),
            lambda epoch, total, loss: bar.update(training, completed=epoch,
                                                  description=f"{problem}: training (loss {loss:.3g})"))
    _print_meta(problem, surrogate.meta)


@app.command()
def info(problem: Problem) -> None:
    """Print the cached checkpoint's record: data hash, grid, epochs, errors."""
    from evoforge.surrogates import store
    from evoforge.surrogates.model import Surrogate

    _physics(problem)
    path = store.model_path(problem)
    if not path.exists():
        err.print(f"[red]error:[/red] no surrogate for {problem} in {path.parent}; "
                  f"make one with: evoforge surrogate train {problem}")
        raise typer.Exit(code=2)
    _print_meta(problem, Surrogate.load(path).meta)


def _print_meta(problem: str, meta: dict) -> None:
    from evoforge.surrogates import store

    table = Table(show_header=False, title=f"surrogate · {problem} · {store.model_path(problem)}")
    for key, value in meta.items():
        if key != "settings":
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    table.add_row("solver", ", ".join(f"{k}={v}" for k, v in meta.get("settings", {}).items()))
    out.print(table)
