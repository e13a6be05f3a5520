"""Prompts and parsing for `lean_proof` candidates: the LLM writes a proof of a given statement.

A fresh prompt shows the statement (and its preamble) with earlier attempts and
what Lean said about each. When the best parent was rejected and has not been
repaired too often, the prompt is a repair prompt instead: that proof, Lean's
first error and the goals left, and a request to fix it. The depth of a repair
chain rides in the candidate itself as a first comment line (`-- repair depth
N`), so it is bounded by MAX_REPAIR_DEPTH without any extra bookkeeping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evoforge.agents.base import CHAT, COMPLETION
from evoforge.agents.prompts import RenderedPrompt, spec_notes
from evoforge.code_text import code_hash
from evoforge.records import Candidate, Prompt
from evoforge.spec import ProblemSpec

MAX_REPAIR_DEPTH = 3
LEAN_STOPS = ("\ntheorem ", "\nlemma ", "\nexample ", "\n#", "```")
SYSTEM_MESSAGE = (
    "You are an expert in Lean 4 (core Lean, no Mathlib) proving theorems. Each reply is one "
    "```lean code block holding the theorem exactly as stated followed by `:=` and a complete proof, "
    "with no explanation. Never use sorry, admit, native_decide or axiom."
)
FENCE = re.compile(r"```[ \t]*(lean4?|)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
DEPTH = re.compile(r"\A\s*-- repair depth (\d+)")


@dataclass(frozen=True)
class LeanRenderedPrompt(RenderedPrompt):
    """A rendered Lean prompt; `header` carries the repair depth the answer will have."""

    stops: tuple[str, ...] = LEAN_STOPS


def repair_depth(code: str) -> int:
    found = DEPTH.match(code)
    return int(found.group(1)) if found else 0


def build_lean_prompt(spec: ProblemSpec, prompt: Prompt, mode: str) -> LeanRenderedPrompt:
    theorem = _theorem(spec)
    attempts = _attempts(prompt)
    target = attempts[-1] if attempts else None
    repairing = (
        target is not None
        and target[1] < 1.0
        and bool(target[2])
        and repair_depth(target[0]) < MAX_REPAIR_DEPTH
    )
    depth = repair_depth(target[0]) + 1 if repairing and target else 0
    header = f"repair depth {depth}"
    if mode == COMPLETION:
        text = _completion_text(spec, theorem, [target] if repairing and target else attempts, repairing)
        return LeanRenderedPrompt(COMPLETION, text, None, header, theorem["name"])
    request = (
        _repair_request(theorem, target) if repairing and target else _fresh_request(spec, theorem, attempts)
    )
    messages = (("system", SYSTEM_MESSAGE), ("user", request))
    text = "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
    return LeanRenderedPrompt(CHAT, text, messages, header, theorem["name"])


def _theorem(spec: ProblemSpec) -> dict[str, Any]:
    theorems = spec.inline_inputs.get("train") or {}
    return theorems.get(spec.evolve_name) or next(iter(theorems.values()))


def _attempts(prompt: Prompt) -> list[tuple[str, float, str]]:
    """(proof, score, Lean's feedback) per parent, worst first."""
    notes = list(prompt.parent_feedback) + [""] * len(prompt.parent_codes)
    rows = [
        (code, score, notes[k])
        for k, (code, score) in enumerate(zip(prompt.parent_codes, prompt.parent_scores, strict=True))
    ]
    return sorted(rows, key=lambda row: row[1])


def _stated(theorem: dict[str, Any]) -> str:
    preamble = (theorem.get("preamble") or "").strip()
    return (f"{preamble}\n\n" if preamble else "") + f"{theorem['statement']} :="


def _fresh_request(spec: ProblemSpec, theorem: dict[str, Any], attempts: list[tuple[str, float, str]]) -> str:
    parts = [f"Prove this Lean 4 theorem:\n```lean\n{_stated(theorem)}\n```"]
    for code, score, note in attempts[-2:]:
        said = f"\nLean said: {note}" if note else ""
        parts.append(
            f"An earlier attempt (score {score:.3g} of 1):\n```lean\n{_without_depth(code)}\n```{said}"
        )
    parts += spec_notes(spec)
    parts.append("Reply with the theorem exactly as stated, `:=` and a complete proof, in one ```lean block.")
    return "\n\n".join(parts)


def _repair_request(theorem: dict[str, Any], target: tuple[str, float, str]) -> str:
    code, _, note = target
    return "\n\n".join(
        [
            f"This proof of the Lean 4 theorem below was rejected.\n```lean\n{_stated(theorem)}\n"
            f"{_without_depth(code)}\n```",
            f"Lean said:\n{note}",
            "Fix the proof. Reply with the theorem exactly as stated, `:=` and the corrected proof, "
            "in one ```lean block.",
        ]
    )


def _completion_text(
    spec: ProblemSpec, theorem: dict[str, Any], attempts: list[tuple[str, float, str]], repairing: bool
) -> str:
    """Earlier attempts and what Lean said, as Lean comments; then the statement to continue."""
    shown = []
    for code, _, note in attempts[-2:]:
        said = "\n".join(f"-- {line}" for line in note.splitlines()[:6]) if note else ""
        attempt = _without_depth(code).replace("\n", "\n-- ")
        title = "A rejected proof, to fix" if repairing else "An earlier attempt"
        shown.append(f"-- {title}:\n-- {attempt}\n{said}")
    intro = "-- Lean 4, core only (no Mathlib). A complete proof, no sorry."
    return "\n\n".join([intro, *shown, _stated(theorem)]) + "\n"


def _without_depth(code: str) -> str:
    return DEPTH.sub("", code, count=1).strip()


def parse_lean_completion(
    text: str, spec: ProblemSpec, mode: str, header: str | None = None, truncated: bool = False
) -> Candidate:
    """The proof (or Lean text holding the theorem) in a model's answer, tagged with its repair depth."""
    blocks = [body for _, body in FENCE.findall(text)]
    body = blocks[-1] if blocks else text
    if mode == COMPLETION and not blocks:
        body = text.split("```", 1)[0]
    body = body.strip()
    if body.startswith(":="):
        body = body[2:].strip()
    if truncated and "\n" in body:
        body = body.rsplit("\n", 1)[0].rstrip()
    if not body:
        return Candidate(None, None, "empty output" if not text.strip() else "no Lean proof in the output")
    depth = int(header.rsplit(" ", 1)[-1]) if header and header.startswith("repair depth") else 0
    code = (f"-- repair depth {depth}\n" if depth else "") + body + "\n"
    return Candidate(code, lean_hash(code))


def lean_hash(code: str) -> str:
    """Two proofs that differ only in comments or layout are one candidate."""
    from evoforge.evaluators.lean.lean_text import blank_comments_and_strings

    return code_hash(" ".join(blank_comments_and_strings(code, strings=False).split()))
