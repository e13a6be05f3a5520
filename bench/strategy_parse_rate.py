"""How often each prompt strategy's answers parse, and how many differ, on the embedded model.

Every strategy gets the same island (the seed and a second parent, a recent
error) and the same n completions per round from one llama-server; the table
shows the share that parsed into a function, mean completion tokens and the
most common parse errors. It is the check that an arm is not meaningless on a
small model (a diff arm whose edits never apply samples nothing). With
`--temperatures`, each strategy is drawn at each temperature, every round
with its own seed: `duplicates` is the share of parsed answers whose
normalized code an earlier answer of that row already had (what a run would
store as code duplicates from one prompt; behaviour duplicates need scoring).

    python bench/strategy_parse_rate.py [--problem bin_packing] [--n 8] [--rounds 1] \
        [--temperatures 1.0,2.0,3.0]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from evoforge.agents.config import LLMConfig, start_shared_server
from evoforge.agents.sampler import Sampler
from evoforge.agents.strategies import PROMPT_STRATEGIES
from evoforge.records import Prompt
from evoforge.sample_variety import request_seed
from evoforge.spec import ProblemSpec, load_problem


def island_prompt(spec: ProblemSpec) -> Prompt:
    """The seed and a worse variant of it as parents; one failure to show."""
    worse = spec.seed_code.rstrip() + "  # a copy, scored lower\n"
    return Prompt(0, (1, 2), (spec.seed_code, worse), (1.0, 0.5), 2,
                  recent_errors=("ValueError: operands could not be broadcast together",))


def measure(sampler: Sampler, prompt: Prompt, strategy: str, rounds: int, n: int,
            temperature: float | None = None) -> dict:
    started = time.monotonic()
    batches = [sampler.sample(replace(prompt, strategy=strategy, temperature=temperature,
                                      seed=request_seed(0, k)), n=n) for k in range(rounds)]
    candidates = [c for b in batches for c in b.candidates]
    completions = [c for b in batches for c in b.completions]
    parsed = [c.code_hash for c in candidates if c.code_hash]
    return {
        "strategy": strategy, "temperature": temperature,
        "parsed": len(parsed) / len(candidates),
        "distinct": len(set(parsed)),
        "duplicates": 1 - len(set(parsed)) / len(parsed) if parsed else 0.0,
        "tokens": sum(c.completion_tokens for c in completions) / len(completions),
        "seconds": time.monotonic() - started,
        "errors": Counter(c.parse_error for c in candidates if c.parse_error).most_common(3),
        "answers": [{"strategy": strategy, "text": c.text, "parse_error": k.parse_error}
                    for c, k in zip(completions, candidates, strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="bin_packing")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--strategies", default=",".join(PROMPT_STRATEGIES))
    parser.add_argument("--temperatures", type=temperatures, default=[None],
                        help="e.g. 1.0,3.0 (default: the sampler's)")
    parser.add_argument("--threads", type=int, default=LLMConfig.threads)
    parser.add_argument("--answers", type=Path, help="Write every answer and its parse error here (JSONL).")
    args = parser.parse_args()
    spec = load_problem(args.problem)
    # A long request timeout: on a loaded 2-core machine one chat request of n answers takes minutes.
    server, client = start_shared_server(LLMConfig(slots=args.n, timeout=1800.0, threads=args.threads))
    print(f"{'strategy':10} {'temp':>5} {'parsed':>7} {'distinct':>8} {'dupl.':>6} {'tokens':>7} "
          f"{'seconds':>8}  top parse errors")
    try:
        with Sampler.from_config(client, spec, args.n) as sampler:
            for strategy, temperature in itertools.product(args.strategies.split(","), args.temperatures):
                row = measure(sampler, island_prompt(spec), strategy, args.rounds, args.n, temperature)
                print_row(row)
                if args.answers:
                    with args.answers.open("a") as out:
                        out.writelines(json.dumps(answer) + "\n" for answer in row["answers"])
    finally:
        if server is not None:
            server.stop()


def temperatures(text: str) -> list[float | None]:
    """`--temperatures 1.0,3.0`; argparse turns a ValueError here into one usage line."""
    return [float(t) for t in text.split(",") if t] or [None]


def print_row(row: dict) -> None:
    errors = "; ".join(f"{count}x {why[:70]}" for why, count in row["errors"])
    temperature = "-" if row["temperature"] is None else f"{row['temperature']:.1f}"
    print(f"{row['strategy']:10} {temperature:>5} {row['parsed']:7.0%} {row['distinct']:8d} "
          f"{row['duplicates']:6.0%} {row['tokens']:7.1f} "
          f"{row['seconds']:8.1f}  {errors}", flush=True)


if __name__ == "__main__":
    main()
