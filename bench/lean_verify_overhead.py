"""evoforge's own cost per Lean check, measured against the REPLAY (not Lean): pooled vs a process per check.

The replay (tests/lean_replay_repl.py) answers instantly from recorded
transcripts, so what is timed is evoforge's side: static rules, the JSON
protocol, pool leases, and process starts. "pooled" keeps one REPL per header
(the header elaborated once); "fresh" recycles the process after every check,
as a checker that starts Lean per proof would. With real Lean a start costs
far more (Init import, or Mathlib's), so the ratio here is a floor, not Lean's.

    EVOFORGE_DATA=../shared/data python bench/lean_verify_overhead.py [--checks 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evoforge.evaluators.lean.discovery import LeanSettings  # noqa: E402
from evoforge.evaluators.lean.outcome import Status  # noqa: E402
from evoforge.evaluators.lean.repl_verifier import ReplVerifier  # noqa: E402
from evoforge.evaluators.lean.task import ProofTask  # noqa: E402
from tests.lean_fixtures import replay_repl  # noqa: E402

TASK = ProofTask("ex", "theorem ex : False", "by exact?")  # rejected by (recorded) Lean at the first stage


def per_check_ms(repl: Path, checks: int, recycle_after: int) -> float:
    with ReplVerifier(LeanSettings(repl=str(repl), processes=1)) as lean:
        lean.pool.recycle_after = recycle_after
        lean.verify(TASK)  # warm: the first process start is paid by both alike
        started = time.perf_counter()
        results = [lean.verify(TASK) for _ in range(checks)]
        elapsed = time.perf_counter() - started
    assert all(r.status is Status.REJECTED for r in results), results[0]
    return 1000 * elapsed / checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pooled, fresh = [], []
    with tempfile.TemporaryDirectory() as folder:
        repl = replay_repl(Path(folder))
        for _ in range(args.rounds):  # interleaved, so load on a shared machine hits both alike
            pooled.append(per_check_ms(repl, args.checks, recycle_after=10**9))
            fresh.append(per_check_ms(repl, args.checks, recycle_after=1))
    p, f = statistics.median(pooled), statistics.median(fresh)
    print(f"replay backend, {args.checks} checks x {args.rounds} rounds (medians)")
    print(f"pooled REPL process : {p:7.2f} ms per check")
    print(f"process per check   : {f:7.2f} ms per check")
    print(f"pooled is {f / p:.1f}x cheaper (a floor: a real Lean start costs far more than the replay's)")


if __name__ == "__main__":
    main()
