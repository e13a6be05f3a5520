"""`evoforge compare`: runs grouped by arm, best held-out score vs samples, and the arms' differences.

Wiring and printing only: the reading and the statistics are in evoforge/comparison*.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from evoforge.comparison import Comparison


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories of one problem (seeds x arms).")],
    plot: Annotated[Path | None, typer.Option(help="Write median curves, IQR bands (.png, .svg).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    reference: Annotated[str, typer.Option(help="The arm the others are compared with.")] = "random",
    training: Annotated[bool, typer.Option(
        "--training", help="Compare training scores (no held-out scoring in the sandbox).")] = False,
) -> None:
    """Compare runs by arm (prompt strategy): median and IQR of the best held-out score, bootstrap CIs."""
    from evoforge.cli import _user_errors, out
    from evoforge.comparison import compare_runs
    from evoforge.comparison_plot import plot_comparison
    from evoforge.run_report import check_plot_path

    with _user_errors():
        if plot:
            check_plot_path(plot)
        comparison = compare_runs(run_dirs, held_out=not training, reference=reference)
        if plot:
            plot_comparison(comparison, plot)
    if as_json:
        sys.stdout.write(json.dumps(comparison.to_json(), indent=2) + "\n")
        return
    print_comparison(comparison, out)
    if plot:
        out.print(Text(f"plot written to {plot}"))


def print_comparison(comparison: Comparison, console: Console) -> None:
    """The tables `evoforge compare` prints (bench/search_quality.py prints the same)."""
    unit = f" ({comparison.unit})" if comparison.unit else ""
    better = "higher" if comparison.higher_is_better else "lower"
    console.print(Text(f"{comparison.problem}: best {comparison.label}{unit} on {comparison.basis} inputs, "
                       f"{better} is better; common budget {comparison.budget} samples"))
    if comparison.basis_note:
        console.print(Text(f"note: {comparison.basis_note}", style="yellow"))
    console.print(_final_table(comparison))
    console.print(_budget_table(comparison))
    if comparison.differences:
        console.print(_difference_table(comparison))
    else:
        console.print(Text("one arm only: nothing to compare it with"))


def _final_table(comparison: Comparison) -> Table:
    table = Table(title=Text(f"at {comparison.budget} samples"))
    for header in ("arm", "runs", "median", "IQR", "duplicates", "valid", "samples/min"):
        table.add_column(header)
    for arm, figures in comparison.arms.items():
        final = figures[-1]
        table.add_row(Text(arm), f"{final.scored}/{final.runs}", _number(final.median),
                      f"{_number(final.q1)} – {_number(final.q3)}", _share(final.duplicate_rate),
                      _share(final.valid_rate), _number(final.samples_per_minute))
    return table


def _budget_table(comparison: Comparison) -> Table:
    table = Table(title=Text("median [IQR] by samples drawn"))
    table.add_column("arm")
    for samples in comparison.budget_points:
        table.add_column(str(samples))
    for arm, figures in comparison.arms.items():
        cells = (f"{_number(f.median)} [{_number(f.q1)}, {_number(f.q3)}]{_unscored(f.scored, f.runs)}"
                 for f in figures)
        table.add_row(Text(arm), *cells)
    return table


def _difference_table(comparison: Comparison) -> Table:
    first = comparison.differences[0]
    title = (f"median(arm) - median({comparison.reference}) at {comparison.budget} samples, "
             f"{first.confidence:.0%} bootstrap interval; seeds: ahead/level/behind the "
             f"{comparison.reference} run of the same seed")
    table = Table(title=Text(title))
    for header in ("arm", "difference", "interval", "verdict", "seeds"):
        table.add_column(header)
    for d in comparison.differences:
        seeds = "-" if d.seeds is None else f"{d.seeds.ahead}/{d.seeds.level}/{d.seeds.behind}"
        table.add_row(Text(d.arm), _number(d.difference), f"[{_number(d.low)}, {_number(d.high)}]", d.verdict,
                      seeds)
    return table


def _unscored(scored: int, runs: int) -> str:
    """Where some runs had no score yet (or a best without a held-out one): how many the median is of."""
    return "" if scored == runs else f" ({scored} of {runs} runs)"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
