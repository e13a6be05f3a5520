"""LLM throughput through evoforge's Sampler against the same server called directly.

Both paths send the same FunSearch prompts (bin_packing, completion mode, the
same n, max_tokens, temperature, stops and seed) to one llama-server serving the
embedded model, in interleaved rounds so load from other processes hits both
alike. Tokens are counted the same way for both (the server's /tokenize on
every returned text, outside the timed region). The figure is the ratio
evoforge / direct (goal >= 0.9). A last phase runs a ProgramEvaluator on the
bin_packing training inputs concurrently with sampling, evaluating each
parsed candidate as it arrives, and reports how busy it was.

    python bench/llm_throughput.py [--threads 2] [--rounds 3] [--prompts 2] [--n 4]
    .venv-vllm/bin/python bench/llm_throughput.py --engine vllm --model DIR   # in-process vLLM
    .venv-vllm/bin/python bench/llm_throughput.py --engine vllm-served --model DIR

The vLLM arms (bench/llm_throughput_vllm.py) compare the same way against a
vLLM engine driven directly, in-process or through vLLM's OpenAI server.
"""

from __future__ import annotations

import argparse
import importlib.util
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import openai

from evoforge.agents.embedded import assemble_embedded_model
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.openai_backend import OpenAIBackend, count_tokens
from evoforge.agents.prompts import COMPLETION_STOPS, build_prompt
from evoforge.agents.sampler import Sampler
from evoforge.records import Prompt
from evoforge.spec import ProblemSpec, load_problem


@dataclass
class Figures:
    seconds: float
    samples: int
    tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def samples_per_minute(self) -> float:
        return 60 * self.samples / self.seconds


def seed_prompt(spec: ProblemSpec) -> Prompt:
    return Prompt(0, (1,), (spec.seed_code,), (0.0,), 1)


def run_sampler(sampler: Sampler, spec: ProblemSpec, prompts: int, root: str) -> Figures:
    started = time.monotonic()
    batches = sampler.sample_many([seed_prompt(spec)] * prompts)
    seconds = time.monotonic() - started
    texts = [c.text for b in batches for c in b.completions]
    return Figures(seconds, len(texts), sum(count_tokens(root, t) for t in texts))


def run_direct(client: openai.OpenAI, text: str, args: argparse.Namespace, root: str) -> Figures:
    def one() -> list[str]:
        response = client.completions.create(
            model=args.served_model, prompt=text, n=args.n, max_tokens=args.max_tokens,
            temperature=args.temperature, top_p=0.95, stop=list(COMPLETION_STOPS), seed=args.seed,
        )  # fmt: skip
        return [choice.text for choice in response.choices]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.prompts) as pool:
        texts = [t for future in [pool.submit(one) for _ in range(args.prompts)] for t in future.result()]
    seconds = time.monotonic() - started
    return Figures(seconds, len(texts), sum(count_tokens(root, t) for t in texts))


def interleaved(paths: dict[str, Callable[[], Figures]], rounds: int) -> dict[str, list[Figures]]:
    """Each path measured once per round, in reversed order every other round (load hits both alike)."""
    results: dict[str, list[Figures]] = {name: [] for name in paths}
    print(f"{'round':>5} {'path':>8} {'tok/s':>7} {'samples/min':>11} {'tokens':>6} {'s':>6}")
    for index in range(rounds):
        order = list(paths.items())
        if index % 2:
            order.reverse()
        for name, measure in order:
            f = measure()
            results[name].append(f)
            print(f"{index:>5} {name:>8} {f.tokens_per_second:7.1f} {f.samples_per_minute:11.1f} "
                  f"{f.tokens:>6} {f.seconds:6.1f}", flush=True)  # fmt: skip
    return results


def compare(server: Any, spec: ProblemSpec, args: argparse.Namespace) -> dict[str, list[Figures]]:
    root = f"http://{server.host}:{server.port}"
    backend = OpenAIBackend(server.base_url, model=args.served_model, concurrency=args.prompts)
    sampler = Sampler(backend, spec, args.n, mode="completion", temperature=args.temperature,
                      max_tokens=args.max_tokens, seed=args.seed)  # fmt: skip
    client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=600)
    text = build_prompt(spec, seed_prompt(spec), "completion").text
    run_direct(client, text, args, root)  # warm-up: the prompt enters the server's cache for both paths
    results = interleaved({"evoforge": lambda: run_sampler(sampler, spec, args.prompts, root),
                           "direct": lambda: run_direct(client, text, args, root)}, args.rounds)
    sampler.close()
    return results


def report(results: dict[str, list[Figures]]) -> None:
    totals = {
        name: Figures(sum(f.seconds for f in rows), sum(f.samples for f in rows), sum(f.tokens for f in rows))
        for name, rows in results.items()
    }
    for name, f in totals.items():
        print(f"{name:>8} overall: {f.tokens_per_second:.1f} tok/s, {f.samples_per_minute:.1f} samples/min")
    ratios = [e.tokens_per_second / d.tokens_per_second for e, d in zip(*results.values(), strict=True)]
    tokens = totals["evoforge"].tokens_per_second / totals["direct"].tokens_per_second
    samples = totals["evoforge"].samples_per_minute / totals["direct"].samples_per_minute
    print(f"evoforge / direct: tok/s {tokens:.3f}, samples/min {samples:.3f} "
          f"(per-round tok/s ratios: {', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip


def server_figures(server: LlamaServer, args: argparse.Namespace) -> None:
    """The server alone: one stream, and n=8 sharing one prompt (no stops, fixed length)."""
    client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=600)
    root = f"http://{server.host}:{server.port}"
    for n in (1, 8):
        started = time.monotonic()
        response = client.completions.create(
            model="m", prompt="def quicksort(values):\n", n=n, max_tokens=128, temperature=0.8,
            extra_body={"ignore_eos": True},
        )  # fmt: skip
        seconds = time.monotonic() - started
        tokens = sum(count_tokens(root, c.text) for c in response.choices)
        print(f"server alone, n={n}: {tokens / seconds:.1f} tok/s ({tokens} tokens in {seconds:.1f} s)")


def start_evaluator(spec: ProblemSpec, codes: queue.Queue[str | None], busy: list[float]) -> threading.Thread:
    """A ProgramEvaluator scoring each code put on the queue until None; busy = [seconds, count]."""
    from evoforge.evaluators.program import ProgramEvaluator

    def evaluate_all() -> None:
        with ProgramEvaluator(spec, split="train") as evaluator:
            while (code := codes.get()) is not None:
                started = time.monotonic()
                evaluator.evaluate(code)
                busy[0] += time.monotonic() - started
                busy[1] += 1

    worker = threading.Thread(target=evaluate_all)
    worker.start()
    return worker


def pipeline(server: LlamaServer, spec: ProblemSpec, args: argparse.Namespace) -> None:
    """Sampling with a ProgramEvaluator scoring each candidate as it arrives."""
    if importlib.util.find_spec("evoforge.evaluators.program") is None:
        print("evaluator phase skipped: evoforge.evaluators.program is not available")
        return
    root = f"http://{server.host}:{server.port}"
    codes: queue.Queue[str | None] = queue.Queue()
    busy = [0.0, 0]
    backend = OpenAIBackend(server.base_url, model="m", concurrency=args.prompts)
    sampler = Sampler(backend, spec, args.n, mode="completion", temperature=args.temperature,
                      max_tokens=args.max_tokens)  # fmt: skip
    worker = start_evaluator(spec, codes, busy)
    started, tokens, samples, parsed = time.monotonic(), 0, 0, 0
    while time.monotonic() - started < args.pipeline_seconds:
        for batch in sampler.sample_many([seed_prompt(spec)] * args.prompts):
            for completion, candidate in zip(batch.completions, batch.candidates, strict=True):
                tokens += count_tokens(root, completion.text)
                samples += 1
                if candidate.code is not None:
                    parsed += 1
                    codes.put(candidate.code)
    sampling_seconds = time.monotonic() - started
    codes.put(None)
    worker.join()
    wall = time.monotonic() - started
    sampler.close()
    print(
        f"pipeline: {samples} samples ({parsed} parsed) in {sampling_seconds:.0f} s: "
        f"{tokens / sampling_seconds:.1f} tok/s, {60 * samples / sampling_seconds:.1f} samples/min"
    )
    print(f"evaluator: {busy[1]} evaluations, busy {busy[0]:.1f} s of {wall:.0f} s "
          f"= {100 * busy[0] / wall:.1f} % utilisation, "
          f"{busy[0] / max(1, busy[1]):.2f} s per evaluation")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--threads", type=int, help="llama-server -t (default: all cores, as a run's)")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=2, help="prompts in flight per round")
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=1234, help="same seed on both paths: same texts")
    parser.add_argument("--pipeline-seconds", type=float, default=60.0)
    parser.add_argument("--engine", choices=("llama", "vllm", "vllm-served"), default="llama")
    parser.add_argument("--model", help="--engine vllm*: the model folder (scripts/setup-vllm-cpu.sh)")
    parser.add_argument("--port", type=int, help="--engine vllm-served: a vLLM server already running")
    args = parser.parse_args()
    args.served_model = args.model or "m"  # llama-server answers to any name, vLLM to its --model
    spec = load_problem("bin_packing")
    if args.engine != "llama":
        import llm_throughput_vllm

        print(f"vLLM {args.engine}, {args.model}; {args.prompts} prompts x n={args.n}, "
              f"max_tokens {args.max_tokens}")  # fmt: skip
        (llm_throughput_vllm.in_process if args.engine == "vllm" else llm_throughput_vllm.served)(spec, args)
        return
    with LlamaServer(assemble_embedded_model(), slots=args.slots, threads=args.threads) as server:
        print(f"llama-server -t {server.threads} -np {args.slots}, embedded Qwen2.5-Coder-0.5B; "
              f"{args.prompts} prompts x n={args.n}, max_tokens {args.max_tokens}")  # fmt: skip
        server_figures(server, args)
        report(compare(server, spec, args))
        if args.pipeline_seconds > 0:
            pipeline(server, spec, args)


if __name__ == "__main__":
    main()
