"""Keeping completions different from each other: per-request seeds and a duplicate-driven temperature.

Duplicates cost the same LLM time as new ideas. Two causes are removed here.
Completions drawn with the same seed and prompt are the same text, so every
request gets its own seed, derived from the run seed and the prompt's number
(the database's prompt counter, which a resume continues). A server that
draws n choices in one request gives choice i the seed `seed + i` (llama.cpp's
child tasks; the OpenAI backend does the same when it splits a request into
n=1 requests), so request seeds are `SEED_STRIDE` apart and no two
completions of a run share a seed as long as n < SEED_STRIDE.

The second cause is a prompt the model answers with code the run already
has: the next request for the same prompt (the same parents) is raised a
step (a hint in the prompt, and hotter up to a ceiling, if it is above the
base), and cools back once its completions are new. A batch
counts once it is decided: its code duplicates are known when it is stored,
its behaviour duplicates only after the probe calls, so the run observes a
batch when its last candidate is evaluated or found a duplicate, and a
resume replays the stored batches in prompt order (the same order, as long
as a prompt's batches are decided in the order they were asked).
"""

from __future__ import annotations

import hashlib

SEED_STRIDE = 1024  # more than any samples-per-prompt: choice i of a request draws with seed + i
SEED_MODULUS = 1 << 31  # every backend takes a non-negative 31-bit seed (llama.cpp: uint32, -1 = random)
RAISE_STEPS = 4  # batches with duplicates in a row that take a prompt from the base to the ceiling
VARIATION_HINTS = (
    "Try a different formula.",
    "Use a nonlinear function of the inputs.",
    "Change the constants.",
    "Add a special case for extreme values.",
    "Combine two different ideas.",
    "Make it simpler.",
    "Weight the terms differently.",
    "Break ties differently.",
    "Look at the problem from a new angle.",
    "Use more of the information in the arguments.",
)


def request_seed(run_seed: int, prompt_number: int) -> int:
    """The sampling seed of the request for the run's `prompt_number`-th prompt.

    Distinct by construction within a run: the run seed fixes an offset and
    prompts are SEED_STRIDE apart; different run seeds start at unrelated offsets.
    """
    digest = hashlib.blake2b(f"evoforge-sampling:{run_seed}".encode(), digest_size=8).digest()
    offset = int.from_bytes(digest, "big") % SEED_MODULUS
    return (offset + prompt_number * SEED_STRIDE) % SEED_MODULUS


def variation_hint(prompt_number: int) -> str:
    """The hint a raised prompt carries: the next one in the list for each prompt of the run."""
    return VARIATION_HINTS[prompt_number % len(VARIATION_HINTS)]


def choice_seed(seed: int | None, choice: int) -> int | None:
    """The seed the `choice`-th completion of a request is drawn with (None: the server picks)."""
    return None if seed is None else (seed + choice) % SEED_MODULUS


class TemperatureRaise:
    """Per prompt (its parents), how far its next request is raised from the base.

    A batch holding a duplicate raises the prompt a step (up to RAISE_STEPS),
    a batch with none lowers it one. A raised prompt carries a hint, and is
    drawn hotter, from the base up to the ceiling: the server's sampler
    decides how hot (agents/config.py). With the ceiling at the base, only
    the hint changes.
    """

    def __init__(self, base: float, ceiling: float) -> None:
        self.base, self.ceiling = base, max(base, ceiling)
        self._steps: dict[tuple[int, ...], int] = {}

    def temperature(self, parent_ids: tuple[int, ...], bounds: tuple[float, float] | None = None) -> float:
        """The prompt's temperature between the base and the ceiling, or between `bounds` (one of
        several backends' own base and ceiling: the steps are the prompt's, whoever answers it)."""
        base, ceiling = bounds if bounds is not None else (self.base, self.ceiling)
        steps = self._steps.get(_key(parent_ids), 0)
        return round(base + (max(base, ceiling) - base) * steps / RAISE_STEPS, 6)

    def raised(self, parent_ids: tuple[int, ...]) -> bool:
        """Whether a batch of these parents came back with known code and they have not cooled back
        yet: the prompt gets a hint."""
        return _key(parent_ids) in self._steps

    def replay(self, batches: list[tuple[tuple[int, ...], int]]) -> None:
        """Rebuild the raises from stored batches (parents, duplicates), in prompt order: a resume
        continues where it stopped."""
        for parent_ids, duplicates in batches:
            self.observe(parent_ids, duplicates)

    def observe(self, parent_ids: tuple[int, ...], duplicates: int) -> None:
        """Move the prompt a step up or down after one of its batches is decided."""
        key = _key(parent_ids)
        steps = min(RAISE_STEPS, self._steps.get(key, 0) + (1 if duplicates > 0 else -1))
        if steps > 0:
            self._steps[key] = steps
        else:
            self._steps.pop(key, None)


def _key(parent_ids: tuple[int, ...]) -> tuple[int, ...]:
    """The same parents in any order show the model the same programs."""
    return tuple(sorted(parent_ids))
