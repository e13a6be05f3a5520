"""Samplers in flight vs tokens/s: the run's sampling path, without Ray, against one llama-server.

Each of k threads is what a sampler actor does in a run: the real `Sampler`
with the OpenAI backend, n = 4 completions per request at the run's
max_tokens and temperature, and a new parent in every prompt (as evolution
gives, so the server's prompt cache only helps with the shared prefix). Rounds
of fixed length alternate k = 2 and k = 4 (the old and new `RunConfig.samplers`)
so load from other processes hits both alike; the figure is the ratio.

    nice -n 10 python bench/llm_in_flight.py [--rounds 2] [--seconds 120] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time

from evoforge.agents.config import LLMConfig
from evoforge.agents.embedded import assemble_embedded_model
from evoforge.agents.llama_server import LlamaServer
from evoforge.agents.openai_backend import OpenAIBackend
from evoforge.agents.sampler import Sampler
from evoforge.records import Prompt
from evoforge.spec import load_problem

SPEC = load_problem("bin_packing")
SAMPLES_PER_PROMPT = 4
_parents = itertools.count(1)


def new_parent_prompt() -> Prompt:
    """The seed with a different tweak each time: every request has a parent the server has not seen."""
    k = next(_parents)
    code = SPEC.seed_code.replace("return -(bins - item)", f"return -(bins - item) + {k} * 1e-3 * bins")
    return Prompt(0, (1,), (code,), (-0.05,), 1)


def one_round(server: LlamaServer, samplers: int, seconds: float) -> tuple[int, int, float]:
    """(completion tokens, samples, wall seconds) of `samplers` threads asking until time is up."""
    stop = time.monotonic() + seconds
    totals, lock = [0, 0], threading.Lock()

    def sampler_loop() -> None:
        backend = OpenAIBackend(server.base_url, model="m", concurrency=SAMPLES_PER_PROMPT)
        sampler = Sampler(backend, SPEC, SAMPLES_PER_PROMPT, mode="completion",
                          temperature=LLMConfig.temperature, max_tokens=LLMConfig.max_tokens)
        while time.monotonic() < stop:
            batch = sampler.sample(new_parent_prompt())
            with lock:
                totals[0] += sum(c.completion_tokens for c in batch.completions)
                totals[1] += len(batch.completions)
        backend.close()

    started = time.monotonic()
    threads = [threading.Thread(target=sampler_loop) for _ in range(samplers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return totals[0], totals[1], time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each round")
    parser.add_argument("--threads", type=int, help="llama-server -t (default: all cores)")
    args = parser.parse_args()
    sums = {2: [0, 0, 0.0], 4: [0, 0, 0.0]}
    with LlamaServer(assemble_embedded_model(), slots=4 * SAMPLES_PER_PROMPT, threads=args.threads) as server:
        print(f"llama-server -t {server.threads}, 16 slots; server log {server.log_path}", flush=True)
        for index in range(args.rounds):
            for samplers in (2, 4) if index % 2 == 0 else (4, 2):
                tokens, samples, wall = one_round(server, samplers, args.seconds)
                for i, value in enumerate((tokens, samples, wall)):
                    sums[samplers][i] += value
                print(f"round {index} samplers {samplers}: {tokens} tokens, {samples} samples in {wall:.0f} s"
                      f" = {tokens / wall:.2f} tok/s, {60 * samples / wall:.1f} samples/min", flush=True)
    rates = {k: (t / w, 60 * s / w) for k, (t, s, w) in sums.items()}
    for k, (tok, spm) in rates.items():
        print(f"samplers {k}: {tok:.2f} tok/s, {spm:.1f} samples/min overall")
    tok, spm = rates[4][0] / rates[2][0], rates[4][1] / rates[2][1]
    print(f"4 / 2 samplers: tok/s x{tok:.2f}, samples/min x{spm:.2f}")


if __name__ == "__main__":
    main()
