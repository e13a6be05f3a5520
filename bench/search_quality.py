"""Does evolution beat best-of-N sampling? Seeds x prompt strategies on bin_packing and cap_set.

Each run is what a user starts: `evoforge run PROBLEM --strategy ARM --seed S
--samples B --run-dir OUT/PROBLEM/ARM/seed-S` with the embedded model (Ray,
llama-server, the sandbox), one after another. The bench is resumable: a
finished run (its budget drawn and its held-out report stored) is skipped, a
stopped one is continued with `evoforge resume`. At the end it prints, per
problem, the table of `evoforge compare` (the same code): per arm the median
and IQR of the best program's held-out score at the budget, duplicates,
valid share, samples per minute, and a bootstrap interval of each arm's
difference of medians against `random`. The report covers every arm's
finished runs of the seeds asked for, whichever arms this call ran, so a folder that gains an arm
session by session keeps one table, JSON and plot of all of them
(OUT/PROBLEM-compare-N-seeds.json and .png, N from --seeds, so a call that
adds one seed of an arm with `--seeds 1` leaves the five-seed report
alone). Each run's own log is
OUT/logs/PROBLEM-ARM-seed-S.log.

    nice -n 5 .venv/bin/python bench/search_quality.py --out /work/search_quality_out \
        --seeds 5 --samples 30 [--arms funsearch,chat,diff,mix,random] [--problems bin_packing,cap_set]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from evoforge.agents.strategies import STRATEGY_NAMES, check_strategy
from evoforge.comparison import compare_runs
from evoforge.comparison_plot import plot_comparison
from evoforge.spec import load_problem
from evoforge.storage import DB_FILENAME, RunStorage

PROBLEMS = ("bin_packing", "cap_set")
EVOFORGE = [sys.executable, "-m", "evoforge.cli"]


def label(problem: str) -> str:
    """A built-in name as it is; a problem folder or spec file by its last part, so runs stay under OUT."""
    return Path(problem).stem


def finished(run_dir: Path, budget: int) -> bool:
    """The run drew its budget and stored its held-out report (a session ends with it)."""
    if not (run_dir / DB_FILENAME).exists():
        return False
    storage = RunStorage.open_run(run_dir)
    try:
        return storage.count("samples") >= budget and bool(storage.meta("held_out"))
    finally:
        storage.close()


def checked_list(check: Callable[[str], object]) -> Callable[[str], list[str]]:
    """A comma-separated option whose entries `check` accepts (the checks `evoforge run` makes), so a
    misspelt arm or problem is a usage line, not one failed run per seed."""

    def parse(text: str) -> list[str]:
        names = text.split(",")
        try:
            for name in names:
                check(name)
        except ValueError as error:  # SpecError is one
            raise argparse.ArgumentTypeError(str(error)) from None
        return names

    return parse


def count(text: str) -> int:
    """A whole number of seeds or samples; a negative one would report nothing and say nothing about why."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, 0 or more")
    return int(text)


def strategy_flag_available() -> bool:
    help_text = subprocess.run([*EVOFORGE, "run", "--help"], capture_output=True, text=True).stdout
    return "--strategy" in help_text


def run_command(problem: str, arm: str, seed: int, args: argparse.Namespace, run_dir: Path) -> list[str]:
    """`evoforge run` for a new run, `evoforge resume` for one that stopped before its end."""
    if (run_dir / DB_FILENAME).exists():
        return [*EVOFORGE, "resume", str(run_dir), "--samples", str(args.samples)]
    strategy = ["--strategy", arm] if args.strategy_flag else []
    return [*EVOFORGE, "run", problem, *strategy, "--seed", str(seed), "--samples", str(args.samples),
            "--run-dir", str(run_dir), *shlex.split(args.extra)]


def run_one(problem: str, arm: str, seed: int, args: argparse.Namespace) -> str:
    """One run to its end (or its failure): what happened, for the log."""
    run_dir = args.out / label(problem) / arm / f"seed-{seed}"
    if finished(run_dir, args.samples):
        return "already finished"
    log = args.out / "logs" / f"{label(problem)}-{arm}-seed-{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("a") as sink:  # a Ray start that times out is tried again by the run itself
        code = subprocess.run(run_command(problem, arm, seed, args, run_dir), stdout=sink,
                              stderr=subprocess.STDOUT).returncode
    took = f"{(time.monotonic() - started) / 60:.1f} min"
    return f"done in {took}" if code == 0 else f"exit {code} after {took} (see {log})"


def report(problem: str, seeds: int, budget: int, out: Path, console: Console) -> None:
    """The compare table of one problem's finished runs of seeds 0 .. seeds-1, and its JSON and plot.

    Every arm in the folder, not only this call's: a report of some arms
    would overwrite the folder's JSON and plot of all of them.
    """
    from evoforge.commands.compare import print_comparison

    run_dirs = sorted(run for seed in range(seeds) for run in (out / problem).glob(f"*/seed-{seed}/"))
    usable = [d for d in run_dirs if finished(d, budget)]
    console.print(f"{problem}: {len(usable)} of {len(run_dirs)} runs finished their {budget} samples")
    if not usable:
        return
    comparison = compare_runs(usable, held_out=True)
    print_comparison(comparison, console)
    stem = report_stem(problem, seeds)
    (out / f"{stem}.json").write_text(json.dumps(comparison.to_json(), indent=2))
    plot_comparison(comparison, out / f"{stem}.png")
    console.print(f"written: {out / f'{stem}.json'}, {out / f'{stem}.png'}")


def report_stem(problem: str, seeds: int) -> str:
    """The report's file name, less its suffix: named by seed count, so that a smaller report
    never overwrites a larger one."""
    return f"{problem}-compare-{seeds}-seeds"


def run_all(problems: list[str], arms: list[str], args: argparse.Namespace, console: Console) -> None:
    """Every run, seed-major: an early stop still leaves every arm and problem some seeds."""
    for seed in range(args.seeds):
        for problem in problems:
            for arm in arms:
                what = run_one(problem, arm, seed, args)
                console.print(f"{time.strftime('%H:%M:%S')} {label(problem)} {arm} seed {seed}: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="Folder for the run directories and logs.")
    parser.add_argument("--seeds", type=count, default=5, help="Seeds per arm (0 .. seeds-1).")
    parser.add_argument("--samples", type=count, default=400, help="Sample budget of every run.")
    parser.add_argument("--arms", type=checked_list(check_strategy), default=",".join(STRATEGY_NAMES),
                        help="Comma-separated strategies.")
    parser.add_argument("--problems", type=checked_list(load_problem), default=",".join(PROBLEMS),
                        help="Comma-separated problems.")
    parser.add_argument("--extra", default="", help="More `evoforge run` options, e.g. '--samplers 2'.")
    parser.add_argument("--report-only", action="store_true",
                        help="Start no run; print the tables of every arm's finished runs in the folder.")
    args = parser.parse_args()
    args.strategy_flag = strategy_flag_available()
    console = Console(width=160)
    arms, problems = args.arms, args.problems
    if not args.strategy_flag:
        console.print("`evoforge run` has no --strategy here: every run uses the default (FunSearch) prompt")
        arms = arms[:1]
    if not args.report_only:
        run_all(problems, arms, args, console)
    for problem in problems:
        report(label(problem), args.seeds, args.samples, args.out, console)


if __name__ == "__main__":
    main()
