"""What behaviour dedup saved in a finished run, measured again on its own candidates.

For every behavioural duplicate the run recorded, this re-runs, in the same
warm fork sandbox and interleaved, (a) the probe trial that caught it and
(b) the full evaluation it was spared, and prints the seconds of each: the
saving is measured, not estimated. It also checks what dedup must never do,
lose a different program: each duplicate's full signature must equal that of
the evaluated program it was matched to. Duplicate rates (overall, per
reason) come from the run's file as `evoforge show` prints them.

    python bench/behaviour_dedup.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path

from evoforge.duplicate_report import duplicate_rates, duplicates_line
from evoforge.evaluators import open_evaluator
from evoforge.runtime.run_files import load_run_config
from evoforge.spec import load_problem
from evoforge.storage import DB_FILENAME, RunStorage


def behaviour_pairs(run_dir: Path) -> list[tuple[str, str]]:
    """(duplicate's code, the evaluated twin's code) for each behavioural duplicate."""
    with sqlite3.connect(f"file:{run_dir / DB_FILENAME}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT d.code, t.code FROM candidates d JOIN candidates t ON t.id = d.duplicate_of"
            " WHERE d.duplicate_reason = 'behaviour' ORDER BY d.id"
        ).fetchall()


def probe_overhead(run_dir: Path) -> tuple[float, float]:
    """(probe seconds, total seconds) over the run's evaluated candidates: what probing every one cost."""
    with sqlite3.connect(f"file:{run_dir / DB_FILENAME}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(json_extract(details, '$.probe_seconds')), 0), COALESCE(SUM(seconds), 0)"
            " FROM evaluations"
        ).fetchone()
    return float(row[0]), float(row[1])


def measure(run_dir: Path) -> None:
    config = load_run_config(run_dir)
    storage = RunStorage.open_run(run_dir)
    try:
        print(f"{run_dir}: {duplicates_line(duplicate_rates(storage))}")
    finally:
        storage.close()
    probes, total = probe_overhead(run_dir)
    print(f"  probe trials of evaluated candidates: {probes:.1f} s of {total:.1f} s of evaluation")
    pairs = behaviour_pairs(run_dir)
    if not pairs:
        print("  no behavioural duplicates to measure")
        return
    spec = load_problem(config.problem, config.inputs_json)
    probe_s, full_s, lost = [], [], 0
    with open_evaluator(spec, split="train", stop_on_error=True, fingerprints=True) as evaluator:
        for duplicate, twin in pairs:
            started = time.perf_counter()
            evaluator.fingerprint(duplicate)
            probe_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            spared = evaluator.evaluate(duplicate)
            full_s.append(time.perf_counter() - started)
            lost += spared.signature != evaluator.evaluate(twin).signature
    saved = sum(full_s) - sum(probe_s)
    print(f"  {len(pairs)} behavioural duplicates; probe {statistics.median(probe_s) * 1000:.0f} ms vs full "
          f"evaluation {statistics.median(full_s) * 1000:.0f} ms (medians): {saved:.1f} s of "
          f"{sum(full_s):.1f} s saved ({100 * saved / sum(full_s):.0f} %)")
    print(f"  duplicates whose full signature differs from their twin's (lost programs): {lost}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    for run_dir in parser.parse_args().run_dirs:
        measure(run_dir)


if __name__ == "__main__":
    main()
