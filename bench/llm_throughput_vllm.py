"""The vLLM arm of bench/llm_throughput.py: evoforge's path vs the engine driven directly.

In-process: one `vllm.LLM` engine; evoforge's path is what the node's engine
actor runs (a `BatchingEngine` gathering the calls of `--prompts` sampler
threads, each a `Sampler` building, sending and parsing its prompt), the
direct path is one `llm.generate` with the same prompts, n, stops and seed.
Served: vLLM's OpenAI server, evoforge's `OpenAIBackend` + Sampler vs the
openai client (llm_throughput's `compare`). Tokens are counted alike for both
paths, outside the timed region; paths alternate order by round.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evoforge.agents.prompts import COMPLETION_STOPS, build_prompt
from evoforge.agents.sampler import Sampler
from evoforge.agents.vllm_backend import VLLMBackend
from evoforge.agents.vllm_engine import BatchingEngine
from evoforge.spec import ProblemSpec

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from llm_throughput import Figures, compare, interleaved, report, seed_prompt  # noqa: E402

from tests.vllm_fixtures import RunningServer, VLLMServer  # noqa: E402 - the vLLM server owner here


def in_process(spec: ProblemSpec, args: argparse.Namespace) -> None:
    backend = VLLMBackend(args.model, {"enforce_eager": True})  # as the served arm's server: no compile
    engine = BatchingEngine(backend)
    sampler = Sampler(engine, spec, args.n, mode="completion", temperature=args.temperature,
                      max_tokens=args.max_tokens, seed=args.seed)  # fmt: skip
    tokenizer = backend.llm.get_tokenizer()
    count = lambda texts: sum(len(tokenizer.encode(t, add_special_tokens=False)) for t in texts)  # noqa: E731
    text = build_prompt(spec, seed_prompt(spec), "completion").text
    params = backend.vllm.SamplingParams(n=args.n, temperature=args.temperature, top_p=0.95,
                                         max_tokens=args.max_tokens, stop=list(COMPLETION_STOPS),
                                         seed=args.seed)  # fmt: skip

    def evoforge_path() -> Figures:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.prompts) as pool:
            batches = list(pool.map(lambda _: sampler.sample(seed_prompt(spec)), range(args.prompts)))
        seconds = time.monotonic() - started
        texts = [c.text for b in batches for c in b.completions]
        return Figures(seconds, len(texts), count(texts))

    def direct_path() -> Figures:
        started = time.monotonic()
        outputs = backend.llm.generate([text] * args.prompts, [params] * args.prompts, use_tqdm=False)
        seconds = time.monotonic() - started
        texts = [choice.text for output in outputs for choice in output.outputs]
        return Figures(seconds, len(texts), count(texts))

    direct_path()  # warm-up: the prompt enters the prefix cache for both paths
    report(interleaved({"evoforge": evoforge_path, "direct": direct_path}, args.rounds))
    sampler.close()


def served(spec: ProblemSpec, args: argparse.Namespace) -> None:
    if args.port:  # a server already running on the same model
        report(compare(RunningServer(args.port), spec, args))
        return
    log = Path(tempfile.mkdtemp(prefix="vllm-bench-")) / "server.log"
    server = VLLMServer(Path(args.model), log)
    try:
        server.wait_ready()
        print(f"vLLM's OpenAI server on port {server.port} (log {log})")
        report(compare(server, spec, args))
    finally:
        server.stop()


