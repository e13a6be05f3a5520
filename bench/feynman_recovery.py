"""Recovery of physics laws and antiderivatives: evoforge (embedded LLM) vs gplearn vs sympy.integrate.

Arms, on the same points and with budgets set by flags:
- evoforge: `evoforge run feynman --equation ID --samples S` per equation (the
  command users run: Ray, the embedded llama-server model, the sandbox), then
  the held-out report of the run's best (recovered, how, out-of-domain NMSE);
- gplearn: SymbolicRegressor on the same training points; its program turned
  into sympy and judged by the same recovery check and the same OOD points;
- integration: `sympy.integrate` on all 60 pairs (per-item time limit), and
  evoforge on chosen integrals with `evoforge run integration --equation ID`.

Prints a Markdown table per arm; wall times are measured here, in one run.
Examples (the README's second run, two processes side by side):
  nice -n 10 .venv/bin/python bench/feynman_recovery.py --llm-suite --samples 4 \
      --gplearn-population 0 --no-integrals
  nice -n 15 .venv/bin/python bench/feynman_recovery.py --llm-equations 0 \
      --gplearn-population 500 --gplearn-generations 10 --integrate-seconds 30
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from evoforge.commands.expressions import held_out_verdict
from evoforge.expressions import feynman, integrals
from evoforge.expressions.fitting import nmse
from evoforge.expressions.symbolic import parse_truth, recovery

EVOFORGE = str(Path(sys.executable).with_name("evoforge"))


def main() -> None:
    args = _arguments()
    equations = feynman.core30()
    report: dict[str, Any] = {"budget": vars(args)}
    if args.llm_suite and not args.no_feynman:
        report["evoforge"] = _evoforge_suite(args)
        _print_recovery("evoforge (embedded model, one `run feynman --all`)", report["evoforge"])
    elif (args.llm_equations or args.llm_ids) and not args.no_feynman:
        chosen = _spread(equations, args.llm_offset + args.llm_equations)[args.llm_offset:]
        chosen = [e for e in equations if e.id in args.llm_ids] + chosen
        report["evoforge"] = [_progress(_evoforge_run("feynman", e.id, e.tier, args)) for e in chosen]
        _print_recovery("evoforge (embedded model)", report["evoforge"])
    if args.gplearn_population and not args.no_feynman:
        report["gplearn"] = [_progress(_gplearn(e, args)) for e in equations[: args.gplearn_equations]]
        _print_recovery("gplearn", report["gplearn"])
    if args.integrals:
        report["sympy_integrate"] = _sympy_integrate_all(args.integrate_seconds)
        report["evoforge_integration"] = [_progress(_evoforge_run("integration", i, "-", args))
                                          for i in args.llm_integrals]
        _print_integration(report["sympy_integrate"], report["evoforge_integration"])
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=str))


def _progress(row: dict[str, Any]) -> dict[str, Any]:
    """Each result as soon as it is measured (a long bench stopped early keeps what it has)."""
    print("row", json.dumps(row, default=str), flush=True)
    return row


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--llm-equations", type=int, default=6, help="core30 equations for the LLM arm")
    parser.add_argument("--llm-suite", action="store_true",
                        help="LLM arm: all of core30 in one `evoforge run feynman --all` (one Ray start)")
    parser.add_argument("--llm-ids", nargs="*", default=[], help="core30 ids for the LLM arm, first")
    parser.add_argument("--llm-offset", type=int, default=0, help="skip this many (a bench run in parts)")
    parser.add_argument("--samples", type=int, default=40, help="LLM samples per equation / integral")
    parser.add_argument("--gplearn-population", type=int, default=500, help="0 skips the gplearn arm")
    parser.add_argument("--gplearn-generations", type=int, default=20)
    parser.add_argument("--gplearn-equations", type=int, default=30)
    parser.add_argument("--integrals", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--integrate-seconds", type=float, default=30.0, help="sympy.integrate limit")
    parser.add_argument("--llm-integrals", nargs="*", default=[], help="integral ids for the LLM arm")
    parser.add_argument("--run-options", default="--samplers 1 --samples-per-prompt 2 --max-tokens 256",
                        help="extra options of each `evoforge run` (default: sized for a 2-core machine)")
    parser.add_argument("--no-feynman", action="store_true", help="skip both symbolic-regression arms")
    parser.add_argument("--out", help="write every figure as JSON here")
    return parser.parse_args()


def _spread(equations: list[feynman.FeynmanEquation], count: int) -> list[feynman.FeynmanEquation]:
    """The first equations of each tier in turn, so a small budget still covers every tier."""
    by_tier = [[e for e in equations if e.tier == t] for t in feynman.TIERS]
    ordered = [tier[i] for i in range(10) for tier in by_tier if i < len(tier)]
    return ordered[:count]


def _evoforge_run(problem: str, item: str, tier: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as scratch:
        run_dir = Path(scratch) / "run"
        started = time.perf_counter()
        command = [EVOFORGE, "run", problem, "--equation", item, "--samples", str(args.samples),
                   "--run-dir", str(run_dir), *args.run_options.split()]
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:  # a run that stopped is reported as such
            why = f"exit {done.returncode}: {done.stderr[-300:]}"
            return {"id": item, "tier": tier, "recovered": False, "how": None, "nmse_ood": None,
                    "seconds": seconds, "formula": None, "error": why}
        return _shown_row(run_dir, item, tier, seconds)


def _evoforge_suite(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every core30 equation in one process (Ray starts once: on a loaded machine its start-up
    costs more than a small budget's samples); an equation's wall time runs from the previous
    equation's summary line to its own."""
    tiers = {e.id: e.tier for e in feynman.core30()}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as scratch:
        run_dir = Path(scratch) / "suite"
        command = [EVOFORGE, "run", "feynman", "--all", "--samples", str(args.samples),
                   "--run-dir", str(run_dir), *args.run_options.split()]
        started = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as suite:
            for line in suite.stdout or ():
                label = line.split(maxsplit=1)[0] if line.strip() else ""
                if label in tiers:
                    now = time.perf_counter()
                    rows.append(_progress(_shown_row(run_dir / _safe_label(label), label, tiers[label],
                                                     now - started)))
                    started = now
    return rows


def _safe_label(label: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in label)


def _shown_row(run_dir: Path, item: str, tier: str, seconds: float) -> dict[str, Any]:
    shown = subprocess.run([EVOFORGE, "show", str(run_dir), "--json"], capture_output=True, text=True)
    if shown.returncode != 0:
        return {"id": item, "tier": tier, "recovered": False, "how": None, "nmse_ood": None,
                "seconds": seconds, "formula": None, "error": f"show: {shown.stderr[-300:]}"}
    summary = json.loads(shown.stdout)
    verdict = held_out_verdict(summary["held_out"])
    return {"id": item, "tier": tier, "recovered": bool(verdict["recovered"]),
            "how": verdict["recovered_how"], "nmse_ood": verdict["nmse_ood"], "seconds": seconds,
            "formula": verdict["formula"], "samples": summary["samples"], "valid": summary["valid"]}


GPLEARN_FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", "neg", "inv")


def _gplearn(equation: feynman.FeynmanEquation, args: argparse.Namespace) -> dict[str, Any]:
    from gplearn.genetic import SymbolicRegressor

    train = feynman.inputs(equation, "train")["fit"]["train"]
    held = feynman.inputs(equation, "test")["out_of_domain"]
    started = time.perf_counter()
    model = SymbolicRegressor(population_size=args.gplearn_population, generations=args.gplearn_generations,
                              function_set=GPLEARN_FUNCTIONS, parsimony_coefficient=0.001, random_state=0,
                              n_jobs=1)
    model.fit(np.asarray(train["x"]), np.asarray(train["y"]))
    seconds = time.perf_counter() - started
    x_ood, y_ood = np.asarray(held["eval"]["x"]), np.asarray(held["eval"]["y"])
    error = nmse(model.predict(x_ood), y_ood)
    formula = _gplearn_sympy(str(model._program), equation.names)
    verdict = recovery(formula, parse_truth(equation.formula, equation.names), error)
    how = verdict["recovered_how"]
    return {"id": equation.id, "tier": equation.tier, "recovered": verdict["recovered"], "how": how,
            "nmse_ood": error if np.isfinite(error) else None, "seconds": seconds, "formula": str(formula)}


def _gplearn_sympy(program: str, names: list[str]) -> Any:
    """gplearn's program text (trusted: gplearn wrote it) as sympy, its protected operators unprotected."""
    import sympy

    symbols = {f"X{i}": sympy.Symbol(name, real=True) for i, name in enumerate(names)}
    operators = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                 "div": lambda a, b: a / b, "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)),
                 "log": lambda a: sympy.log(sympy.Abs(a)), "sin": sympy.sin, "cos": sympy.cos,
                 "neg": lambda a: -a, "inv": lambda a: 1 / a}
    try:
        return sympy.sympify(program, locals={**symbols, **operators})
    except (sympy.SympifyError, TypeError, ValueError):
        return None



def _sympy_integrate_all(limit: float) -> list[dict[str, Any]]:
    rows = []
    for item in integrals.load():
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(1) as pool:
            pending = pool.apply_async(_integrate, (item.integrand,))
            try:
                solved, how = pending.get(timeout=limit)
            except multiprocessing.TimeoutError:
                solved, how = False, "timeout"
        rows.append({"id": item.id, "solved": solved, "how": how, "seconds": time.perf_counter() - started,
                     "published_sympy_solves": item.sympy_solves})
    return rows


def _integrate(integrand: str) -> tuple[bool, str | None]:
    """sympy.integrate, judged by the same verification as evoforge's candidates."""
    import sympy

    from evoforge.expressions.antiderivative import verify

    x = sympy.Symbol("x", real=True)
    f = sympy.sympify(integrand, locals={"x": x})
    result = sympy.integrate(f, x)
    if result.has(sympy.Integral):
        return False, "unevaluated"
    points = np.sort(np.random.default_rng(0).uniform(*integrals.DOMAIN, integrals.VERIFY_POINTS))
    verdict = verify(sympy.diff(result, x), f, x, points)
    return verdict["verified"], verdict["verified_how"]


def _print_recovery(arm: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n### {arm}\n\n| tier | equations | recovered | symbolic | median OOD NMSE | wall s (median) |")
    print("|---|---|---|---|---|---|")
    for tier in (*feynman.TIERS, "all"):
        chosen = [r for r in rows if tier in ("all", r["tier"])]
        if not chosen:
            continue
        errors = [r["nmse_ood"] for r in chosen if r["nmse_ood"] is not None]
        median = f"{statistics.median(errors):.2e}" if errors else "-"
        print(f"| {tier} | {len(chosen)} | {sum(r['recovered'] for r in chosen)} | "
              f"{sum(r['how'] == 'symbolic' for r in chosen)} | {median} | "
              f"{statistics.median(r['seconds'] for r in chosen):.1f} |")
    for r in rows:
        print(f"  {r['id']:<10} {r['tier']:<6} recovered={r['recovered']!s:<5} how={r['how']} "
              f"ood_nmse={r['nmse_ood']} {r.get('formula') or r.get('error')}")


def _print_integration(sympy_rows: list[dict[str, Any]], llm_rows: list[dict[str, Any]]) -> None:
    failed = {r["id"] for r in sympy_rows if not r["solved"]}
    print(f"\n### integration ({len(sympy_rows)} pairs)\n")
    print(f"sympy.integrate: solves {len(sympy_rows) - len(failed)} of {len(sympy_rows)} "
          f"(fails: {', '.join(sorted(failed)) or 'none'}); "
          f"median {statistics.median(r['seconds'] for r in sympy_rows):.2f} s per integral")
    if llm_rows:
        solved = {r["id"] for r in llm_rows if r["recovered"]}
        names = ", ".join(sorted(solved)) or "-"
        print(f"evoforge: verifies {len(solved)} of {len(llm_rows)} tried ({names}); "
              f"of those, {len(solved & failed)} that sympy.integrate does not solve")
        for r in llm_rows:
            print(f"  {r['id']:<10} verified={r['recovered']!s:<5} how={r['how']} {r.get('formula')}")


if __name__ == "__main__":
    main()
