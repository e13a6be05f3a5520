"""Solver-only vs coarse-screen vs surrogate-screen, on the same stream of candidates.

    nice -n 10 .venv/bin/python bench/surrogate_cascade.py [--problem burgers_control] [--candidates 400]
        [--stream synthetic | --stream RUN_DIR] [--batch 16]

Each screen runs the real cascade evaluator (the fork sandbox designs, the
trusted screen estimates, the exact solver re-checks the chosen) over the same
candidates in the same order, in batches as a run's evaluator would receive
them. Printed per screen: exact solves used, wall time, the best exact score
found and whether it equals solver-only's, and the fidelity figures on the
re-checked candidates; then the surrogate's and the solver's per-evaluation
speed, single and batched, measured in the same process. The surrogate comes
from the user's cache (trained first when missing, which is said).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from candidate_streams import from_run, synthetic

from evoforge.evaluators.surrogate import SurrogateCascadeEvaluator
from evoforge.spec import load_problem
from evoforge.surrogates.build import ensure_surrogate
from evoforge.surrogates.cascade import CascadeConfig
from evoforge.surrogates.data import problem_physics
from evoforge.surrogates.fidelity import fidelity, line

SCREENS = ("none", "coarse", "surrogate")


def run_screen(problem: str, screen: str, codes: list[str], batch: int, surrogate: Any) -> dict[str, Any]:
    spec = load_problem(problem)
    sign = 1.0 if spec.direction.value == "maximize" else -1.0
    evaluator = SurrogateCascadeEvaluator(spec, config=CascadeConfig(screen=screen),
                                          surrogate=copy.deepcopy(surrogate))
    started = time.perf_counter()
    evaluations = []
    try:
        for start in range(0, len(codes), batch):
            evaluations += evaluator.evaluate_batch(codes[start:start + batch])
    finally:
        evaluator.close()
    wall = time.perf_counter() - started
    designed = [e for e in evaluations if "screen" in e.details]
    exact = [e for e in designed if e.details["exact"]]
    pairs = [(e.details["estimate"], e.score) for e in exact if e.details["estimate"] is not None]
    scores = [e.score for e in exact]
    best = max(scores, key=lambda s: sign * s) if scores else None
    return {"screen": screen, "wall_seconds": wall, "best": best, "exact_solves": len(exact), "sign": sign,
            "estimates": {i: e.details["estimate"] for i, e in enumerate(evaluations)
                          if "screen" in e.details},
            "exact": {i: e.score for i, e in enumerate(evaluations) if e.details.get("exact")},
            "fidelity": fidelity(pairs, len(designed), len(exact), sign),
            "version": evaluator.cascade.version if evaluator.cascade else None,
            "finetune_seconds": evaluator.cascade.finetune_seconds if evaluator.cascade else 0.0}


def speed(problem: str, surrogate: Any) -> dict[str, float]:
    """Seconds per evaluation: surrogate and solvers, one design at a time and in a batch of 64."""
    physics = problem_physics(problem)
    designs = physics.random_designs(np.random.default_rng(1), 64)

    def per_item(call, items: np.ndarray, repeat: int) -> float:
        call(items)  # warm
        started = time.perf_counter()
        for _ in range(repeat):
            call(items)
        return (time.perf_counter() - started) / (repeat * len(items))

    return {
        "surrogate_single": per_item(surrogate.predict, designs[:1], 20),
        "surrogate_batched": per_item(surrogate.predict, designs, 3),
        "coarse_single": per_item(lambda d: physics.solve(d, coarse=True), designs[:1], 5),
        "exact_single": per_item(physics.solve, designs[:1], 3),
        "exact_batched": per_item(physics.solve, designs[:16], 1),
    }


def report(problem: str, stream: str, results: list[dict[str, Any]], speeds: dict[str, float]) -> None:
    baseline = results[0]
    print(f"\n== {problem} · stream: {stream} · {len(baseline['estimates']) or '?'} designed candidates")
    print(f"{'screen':<10}{'exact solves':>14}{'fewer':>8}{'wall s':>9}{'best exact':>13}  "
          "same best?  fidelity")
    for r in results:
        fewer = baseline["exact_solves"] / max(1, r["exact_solves"])
        same = "yes" if r["best"] == baseline["best"] else "no"
        print(f"{r['screen']:<10}{r['exact_solves']:>14}{fewer:>7.1f}x{r['wall_seconds']:>9.1f}"
              f"{r['best']:>13.5g}  {same:<10} {line(r['fidelity'])}")
    tuned = results[-1]
    print(f"surrogate fine-tuned online to version {tuned['version']} "
          f"({tuned['finetune_seconds']:.1f} s of its wall time)")
    whole = _whole_stream(results)
    for name, figures in whole.items():
        print(f"{name} screen on every candidate (vs solver-only's exact scores): {line(figures)}")
    s = speeds
    print(f"per evaluation: surrogate {s['surrogate_single'] * 1e3:.2f} ms single, "
          f"{s['surrogate_batched'] * 1e3:.3f} ms batched (64); "
          f"coarse solve {s['coarse_single'] * 1e3:.1f} ms; exact solve {s['exact_single'] * 1e3:.1f} ms "
          f"single, {s['exact_batched'] * 1e3:.1f} ms batched (16)")
    print(f"surrogate vs exact: {s['exact_single'] / s['surrogate_single']:.0f}x faster single, "
          f"{s['exact_batched'] / s['surrogate_batched']:.0f}x batched")


def _whole_stream(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    exact = results[0]["exact"]
    figures = {}
    for r in results[1:]:
        pairs = [(r["estimates"][i], exact[i]) for i in r["estimates"] if i in exact]
        figures[r["screen"]] = fidelity(pairs, len(pairs), len(pairs), r["sign"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", action="append", choices=["burgers_control", "heat_spreader"])
    parser.add_argument("--candidates", type=int, default=400)
    parser.add_argument("--stream", default="synthetic", help="synthetic, or a run directory to replay")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    everything = {}
    for problem in args.problem or ["burgers_control", "heat_spreader"]:
        if args.stream == "synthetic":
            codes = synthetic(problem, args.candidates, args.seed)
        else:
            codes = from_run(Path(args.stream))[: args.candidates]
        surrogate = ensure_surrogate(problem, problem_physics(problem))
        results = [{**run_screen(problem, screen, codes, args.batch, surrogate), "problem": problem}
                   for screen in SCREENS]
        speeds = speed(problem, surrogate)
        report(problem, args.stream, results, speeds)
        everything[problem] = {"results": [{k: v for k, v in r.items() if k not in ("estimates", "exact")}
                                           for r in results], "speed": speeds, "stream": args.stream,
                               "candidates": len(codes), "surrogate": _meta(surrogate)}
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2, default=str))


def _meta(surrogate: Any) -> dict[str, Any]:
    return {k: v for k, v in surrogate.meta.items() if k != "settings"}


if __name__ == "__main__":
    main()
