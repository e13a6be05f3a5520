"""CLI wiring for expression problems: `run feynman --equation/--tier/--all`, `evaluate ... --equation`.

`evoforge/cli.py` keeps one hook per command; what the options mean lives here.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evoforge.expressions import feynman, integrals, table
from evoforge.expressions.folders import feynman_folder, integration_folder, table_folder
from evoforge.spec_errors import SpecError

FEYNMAN = "feynman"
INTEGRATION = "integration"
TABLE = "expression"


@dataclass(frozen=True)
class ExpressionOptions:
    """The expression options of `run` and `evaluate`.

    `dataset` is a feynman.json-style file (feynman) or an integrals.json-style
    file (integration); `csv`, `target`, `split_column` name a user's table.
    """

    equation: str | None = None
    tier: str | None = None
    all_equations: bool = False
    noise: float = 0.0
    dataset: Path | None = None
    csv: Path | None = None
    target: str | None = None
    split_column: str | None = None

    @property
    def chosen(self) -> bool:
        return bool(self.equation or self.tier or self.all_equations)


@dataclass(frozen=True)
class ExpressionPlan:
    """What to run instead of the named problem: one (label, folder, run dir) per equation."""

    targets: list[tuple[str, Path, Path]] = field(default_factory=list)
    tiers: dict[str, str] = field(default_factory=dict)  # label -> tier, for the suite's summary

    @property
    def suite(self) -> bool:
        return len(self.targets) > 1


def plan_expression_run(problem: str, options: ExpressionOptions, run_dir: Path) -> ExpressionPlan | None:
    """None for other problems; else the generated problem folder(s), inside the run directory."""
    chosen = _chosen(problem, options)
    if chosen is None:
        return None
    single = len(chosen) == 1
    targets = []
    for label, write in chosen:
        directory = run_dir if single else run_dir / _safe(label)
        targets.append((label, write(directory / "problem"), directory))
    equations = _chosen_equations(problem, options) if problem == FEYNMAN else []
    return ExpressionPlan(targets, {e.id: e.tier for e in equations or []})


def evaluate_folder(problem: str, options: ExpressionOptions) -> str | None:
    """For `evaluate feynman CAND --equation ID`: a temporary problem folder (removed at exit)."""
    chosen = _chosen(problem, options)
    if chosen is None:
        return None
    if len(chosen) != 1:
        raise SpecError("evaluate scores one equation: give --equation ID, not --tier or --all.")
    scratch = Path(tempfile.mkdtemp(prefix=f"evoforge-{problem}-"))
    atexit.register(shutil.rmtree, scratch, True)
    return str(chosen[0][1](scratch / "problem"))


Writer = Callable[[Path], Path]


def _chosen(problem: str, options: ExpressionOptions) -> list[tuple[str, Writer]] | None:
    """(label, folder writer) per chosen equation or integral; None when the options do not apply."""
    if problem == INTEGRATION and not Path(problem).exists():
        return _chosen_integrals(options)
    if problem == TABLE and not Path(problem).exists():
        return _chosen_table(options)
    if options.csv or options.target or options.split_column:
        raise SpecError("--csv, --target and --split-column apply to the expression problem only: "
                        "evoforge run expression --csv FILE --target COLUMN.")
    equations = _chosen_equations(problem, options)
    if equations is None:
        return None
    return [(e.id, lambda target, e=e: feynman_folder(e, target, options.dataset, options.noise))
            for e in equations]


def _chosen_integrals(options: ExpressionOptions) -> list[tuple[str, Writer]]:
    """Always a generated folder: the sandbox cannot see EVOFORGE_DATA, so the path is written in."""
    if options.tier or options.noise:
        raise SpecError("integration takes --equation ID (an integral id) or --all, not --tier or --noise.")
    dataset = options.dataset or integrals.default_dataset()
    known = integrals.load(dataset)
    chosen = known if options.all_equations else integrals.select(known, options.equation or known[0].id)
    return [(i.id, lambda target, i=i: integration_folder(i, target, dataset)) for i in chosen]


def _chosen_table(options: ExpressionOptions) -> list[tuple[str, Writer]]:
    if options.csv is None or options.target is None:
        raise SpecError("the expression problem fits a law to your table: give --csv FILE --target COLUMN.")
    if options.chosen or options.noise or options.dataset:
        raise SpecError("the expression problem takes --csv, --target and --split-column only.")
    data = table.read_table(options.csv, options.target, options.split_column)
    column, split_column = options.target, options.split_column
    return [(options.csv.name, lambda folder: table_folder(data, column, split_column, folder))]


def _chosen_equations(problem: str, options: ExpressionOptions) -> list[feynman.FeynmanEquation] | None:
    if problem != FEYNMAN or Path(problem).exists():
        if options.chosen:
            raise SpecError("--equation, --tier and --all apply to the feynman and integration "
                            "problems only.")
        return None
    if not options.chosen:
        if options.dataset:
            raise SpecError("feynman --dataset FILE reads equations from FILE: "
                            "choose --equation, --tier or --all.")
        return None
    if sum([bool(options.equation), bool(options.tier), options.all_equations]) > 1:
        raise SpecError("choose one of --equation ID, --tier TIER or --all.")
    if not 0.0 <= options.noise < 1.0:
        raise SpecError(f"--noise {options.noise}: give a relative noise level in [0, 1), like 0.01.")
    known = feynman.from_dataset(options.dataset) if options.dataset else feynman.core30()
    return feynman.select(known, equation=options.equation, tier=options.tier)


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in label)


def run_expression_suite(plan: ExpressionPlan, run_one: Callable[[str, Path], Any],
                         echo: Callable[[str], None]) -> list[dict[str, Any]]:
    """Run every equation in turn: one line each, then a summary per tier."""
    rows = []
    for label, folder, run_dir in plan.targets:
        outcome = run_one(str(folder), run_dir)
        row = {**suite_row(label, outcome), "tier": plan.tiers.get(label, "-")}
        rows.append(row)
        echo(_row_text(row))
    echo(summary_text(rows))
    return rows


def held_out_verdict(held_out: dict[str, Any]) -> dict[str, Any]:
    """Recovered (an equation) or verified (an antiderivative), how, the OOD error and the formula,
    from a run's held-out report (`RunOutcome.held_out`, or `show --json`'s "held_out")."""
    details: dict[str, Any] = {}
    for report in held_out.values():  # each input reports its own (the verdict: out of domain)
        details.update(report.get("details") or {})
    return {"recovered": details.get("recovered", details.get("verified")),
            "recovered_how": details.get("recovered_how", details.get("verified_how")),
            "nmse_ood": details.get("nmse_out_of_domain"), "formula": details.get("formula")}


def evaluation_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """Under `evaluate`'s table: the simplified formula with its fitted constants, and the verdict."""
    verdict = held_out_verdict(results)
    if not verdict["formula"]:
        return []
    lines = [f"formula (fitted constants): {verdict['formula']}"]
    if verdict["recovered"] is not None:
        how = f" ({verdict['recovered_how']})" if verdict["recovered"] else ""
        lines.append(f"recovered: {bool(verdict['recovered'])}{how}")
    return lines


def suite_row(label: str, outcome: Any) -> dict[str, Any]:
    verdict = held_out_verdict(getattr(outcome, "held_out", {}) or {})
    return {"equation": label, "best_score": outcome.best_score, **verdict,
            "stopped": outcome.stopped_because}


def _row_text(row: dict[str, Any]) -> str:
    nmse = "-" if row["nmse_ood"] is None else f"{row['nmse_ood']:.2e}"
    how = f" ({row['recovered_how']})" if row["recovered"] else ""
    found = "no ground truth" + " " * 12 if row["recovered"] is None else (
        f"recovered {bool(row['recovered'])!s:<5}{how:<11}")
    formula = row["formula"] or "-"
    return f"{row['equation']:<10} {row.get('tier', '-'):<6} {found} OOD NMSE {nmse:<9} {formula}"


def summary_text(rows: list[dict[str, Any]]) -> str:
    """Recovered per tier and in all, e.g. 'recovered 3 of 4 (easy 2/2, medium 1/2)'."""
    tiers = sorted({r.get("tier", "-") for r in rows} - {"-"}, key=lambda t: (t not in feynman.TIERS, t))
    parts = [f"{t} {sum(bool(r['recovered']) for r in rows if r.get('tier') == t)}/"
             f"{sum(r.get('tier') == t for r in rows)}" for t in tiers]
    recovered = sum(1 for r in rows if r["recovered"])
    if all(r["recovered"] is None for r in rows):
        return f"{len(rows)} run(s) without a ground truth to recover"
    return f"recovered {recovered} of {len(rows)}" + (f" ({', '.join(parts)})" if parts else "")
