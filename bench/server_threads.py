"""Samples a minute of whole runs with the model server on one thread against the default.

The default gives a run's llama-server every core unless scoring a candidate
takes over a second, when it leaves one core per evaluator
(`evoforge/runtime/session.py`, `server_threads`). Each run here is what a
user starts, `evoforge run PROBLEM --samples B --seed S [--threads 1]` with
the embedded model, one after the other, the two settings of a problem and
seed back to back. Problems: bin_packing and cap_set (a candidate scores in
about 0.1 s) and slow_bin_packing, a copy of bin_packing written into OUT
whose largest training set has 12x the items (about 2.5 s a candidate, the
evaluator busy most of the time). Prints samples a minute and tokens a second
of the search (`evoforge show`'s figures) and the ratio default / one thread.
Resumable: a finished run is read, not run again.

    nice -n 5 .venv/bin/python bench/server_threads.py --out /work/server_threads --seeds 7,8 --samples 160
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from search_quality import finished

from evoforge.spec import load_problem

EVOFORGE = [sys.executable, "-m", "evoforge.cli"]
PROBLEMS = ("bin_packing", "cap_set", "slow_bin_packing")
SETTINGS = {"one thread": ["--threads", "1"], "default": []}
TRAIN_SET, SLOW_TRAIN_SET = "instances=5, items=1000)", "instances=5, items=12000)"


def slow_bin_packing(out: Path) -> Path:
    """bin_packing with its Weibull training set 12x larger: same prompts, slower scoring."""
    folder = out / "slow_bin_packing"
    if not folder.exists():
        source = load_problem("bin_packing").path.parent
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
        inputs = (folder / "inputs.py").read_text()
        if TRAIN_SET not in inputs:
            raise SystemExit(f"{source}/inputs.py no longer has {TRAIN_SET!r}; update this bench.")
        (folder / "inputs.py").write_text(inputs.replace(TRAIN_SET, SLOW_TRAIN_SET))
        toml = (folder / "problem.toml").read_text()
        (folder / "problem.toml").write_text(toml.replace('"bin_packing"', '"slow_bin_packing"', 1))
    return folder


def seed_list(text: str) -> list[int]:
    try:
        return [int(seed) for seed in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole numbers separated by commas") from None


def problem_list(text: str) -> list[str]:
    unknown = [name for name in text.split(",") if name not in PROBLEMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown)}: use {', '.join(PROBLEMS)}")
    return text.split(",")


def run(problem: str, seed: int, samples: int, options: list[str], run_dir: Path, log: Path) -> dict:
    """The run's `evoforge show --json`, after running it unless it finished before."""
    if not finished(run_dir, samples):
        shutil.rmtree(run_dir, ignore_errors=True)  # a stopped run would mix two sessions' rates
        command = [*EVOFORGE, "run", problem, "--samples", str(samples), "--seed", str(seed),
                   "--run-dir", str(run_dir), *options]  # fmt: skip
        with open(log, "w") as stream:
            subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=True)
    shown = subprocess.run([*EVOFORGE, "show", str(run_dir), "--json"], capture_output=True, check=True)
    return json.loads(shown.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=seed_list, default=[7], help="comma-separated run seeds")
    parser.add_argument("--samples", type=int, default=160)
    parser.add_argument("--problems", type=problem_list, default=list(PROBLEMS), help=", ".join(PROBLEMS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'problem':<17} {'seed':>4} {'setting':<10} {'samples/min':>11} {'tok/s':>6}  default/one")
    for seed in args.seeds:
        for problem in args.problems:
            target = str(slow_bin_packing(args.out)) if problem == "slow_bin_packing" else problem
            rates = {}
            for setting, options in SETTINGS.items():
                name = f"{problem}-seed-{seed}-{setting.replace(' ', '-')}"
                shown = run(target, seed, args.samples, options, args.out / name, args.out / f"{name}.log")
                rates[setting] = 60 * shown["samples"] / shown["elapsed_seconds"]
                ratio = f"  x{rates['default'] / rates['one thread']:.2f}" if setting == "default" else ""
                print(f"{problem:<17} {seed:>4} {setting:<10} {rates[setting]:>11.1f} "
                      f"{shown['tokens_per_second']:>6.1f}{ratio}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
