"""The acceptance rules: what a proof must pass to be VERIFIED.

Static rules read the candidate's own text (never Lean's) and decide without Lean:
no `sorry`/`admit` in any spelling, no `axiom`, no `unsafe` / `implemented_by` /
`extern` / `debug.skipKernelTC`, no `native_decide` unless allowed, no commands
that run code or change how the statement reads (`#eval`, `macro`, `instance`,
`notation`, `open` ... before the theorem), no redefinition of the statement's names,
and the statement (if the candidate wrote one) parses to the one asked. Lean's
answer is then judged: no error, no `sorry`, and `#print axioms` lists only
propext, Classical.choice and Quot.sound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evoforge.evaluators.lean.lean_text import (
    blank_comments_and_strings,
    declarations,
    same_statement,
    tokens,
)
from evoforge.evaluators.lean.outcome import LeanMessage
from evoforge.evaluators.lean.task import ProofTask

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
SORRY_SPELLINGS = {"sorry", "admit", "sorryAx", "stop"}
BANNED_WORDS = {
    "axiom": "declares a new axiom",
    "unsafe": "uses `unsafe`",
    "implemented_by": "uses `implemented_by`",
    "extern": "uses `extern`",
    "debug.skipKernelTC": "sets debug.skipKernelTC (skips the kernel's type check)",
    "Lean.ofReduceBool": "uses Lean.ofReduceBool (trusts the compiler)",
    "ofReduceBool": "uses ofReduceBool (trusts the compiler)",
    "trustCompiler": "uses trustCompiler",
    "run_cmd": "runs code (`run_cmd`)",
    "run_tac": "runs code (`run_tac`)",
    "run_elab": "runs code (`run_elab`)",
    "elab": "defines an elaborator",
    "elab_rules": "defines an elaborator",
    "macro": "defines a macro",
    "macro_rules": "defines a macro",
    "syntax": "defines syntax",
    "initialize": "runs code at initialization",
    "builtin_initialize": "runs code at initialization",
}
NATIVE_WORDS = {"native_decide", "Lean.ofReduceBool", "ofReduceBool"}
# Before the theorem these would change how its statement reads (instances, notation, scopes).
BANNED_BEFORE_THEOREM = {
    "instance",
    "notation",
    "infix",
    "infixl",
    "infixr",
    "prefix",
    "postfix",
    "open",
    "namespace",
    "section",
    "variable",
    "universe",
    "set_option",
    "attribute",
    "local",
    "scoped",
    "export",
    "class",
    "deriving",
    "mutual",
    "end",
}
SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
AXIOMS_LINE = re.compile(r"'?(?P<name>[^']+)'? depends on axioms: \[(?P<axioms>[^\]]*)\]")
NO_AXIOMS_LINE = re.compile(r"'?(?P<name>[^']+)'? does not depend on any axioms")


@dataclass(frozen=True)
class Violation:
    """One broken rule, said in a sentence that also goes into the repair prompt."""

    rule: str
    text: str

    def message(self) -> LeanMessage:
        return LeanMessage.evoforge(f"[{self.rule}] {self.text}")


def static_violations(task: ProofTask, protected_names: set[str]) -> list[Violation]:
    """Every rule the candidate's own text breaks, decided without Lean."""
    blanked = blank_comments_and_strings(task.candidate_text)
    found = _spelled_violations(blanked, task.allow_native_decide)
    found += _redefinitions(blanked, protected_names | {task.name})
    found += _before_theorem(task.extras)
    if not task.proof.strip():
        found.append(Violation("empty", "there is no proof after `:=`"))
    if task.offered_statement is not None:
        same, why = same_statement(task.statement, task.offered_statement)
        if not same:
            found.append(Violation("statement", f"the statement is not the one asked: {why}"))
    return found


def _spelled_violations(blanked: str, allow_native: bool) -> list[Violation]:
    found: list[Violation] = []
    words = set(tokens(blanked))
    last_parts = {w.rsplit(".", 1)[-1] for w in words} | {w.strip("«»") for w in words}
    for spelling in sorted(SORRY_SPELLINGS & last_parts):
        found.append(Violation("sorry", f"the proof contains `{spelling}`"))
    for word, why in BANNED_WORDS.items():
        if word in words or word in last_parts:
            found.append(Violation("banned", f"the proof {why}"))
    if not allow_native and ((NATIVE_WORDS & words) or re.search(r"\bdecide\s*\+\s*native\b", blanked)):
        found.append(
            Violation(
                "native_decide",
                "the proof uses native_decide (trusts the compiler); allow it with --allow-native-decide",
            )
        )
    commands = sorted(
        set(re.findall(r"(?m)^\s*(#[a-z_]+)", blanked)) | set(re.findall(r"#eval|#exit", blanked))
    )
    for command in commands:
        found.append(Violation("banned", f"the proof contains the command `{command}`"))
    return found


def _redefinitions(blanked: str, protected: set[str]) -> list[Violation]:
    found = []
    for decl in declarations(blanked):
        short = decl.name.rsplit(".", 1)[-1].strip("«»")
        if decl.name in protected or short in protected:
            found.append(
                Violation(
                    "redefinition",
                    f"the proof declares `{decl.name}` again, a name of the "
                    "statement; prove the statement as given",
                )
            )
    return found


def _before_theorem(extras: str) -> list[Violation]:
    words = set(tokens(blank_comments_and_strings(extras))) & BANNED_BEFORE_THEOREM
    return [
        Violation(
            "banned",
            f"`{w}` before the theorem could change how its statement reads; "
            "only helper theorems and definitions may precede it",
        )
        for w in sorted(words)
    ]


def names_declared(preamble: str) -> set[str]:
    """The names a preamble defines (the statement's own vocabulary, which a proof may not redefine)."""
    return {d.name for d in declarations(blank_comments_and_strings(preamble)) if d.name}


@dataclass(frozen=True)
class Judgement:
    """What Lean's answer to one command says, by the rules."""

    errors: tuple[LeanMessage, ...]
    messages: tuple[LeanMessage, ...]
    goals: tuple[str, ...]
    sorry: bool
    repl_error: str | None

    @property
    def accepted(self) -> bool:
        return not self.errors and not self.sorry and self.repl_error is None


def judge_response(response: dict[str, Any]) -> Judgement:
    """Lean's answer to a command: its errors, the goals left, and whether it used `sorry`."""
    messages = tuple(LeanMessage.from_repl(m) for m in response.get("messages", []))
    errors = tuple(m for m in messages if m.severity == "error")
    sorries = response.get("sorries") or []
    goals = [g for m in errors for g in unsolved_goals(m.data)] + [s.get("goal", "") for s in sorries]
    sorry = bool(sorries) or any(SORRY_WARNING.search(m.data) for m in messages)
    repl_error = response.get("message") if "env" not in response and "message" in response else None
    return Judgement(errors, messages, tuple(g for g in goals if g), sorry, repl_error)


def unsolved_goals(data: str) -> list[str]:
    """The goals in an `unsolved goals` error, one string per goal."""
    if not data.startswith("unsolved goals"):
        return []
    body = data.split("\n", 1)[1] if "\n" in data else ""
    return [g.strip() for g in re.split(r"\n\n+", body) if g.strip()]


def axioms_used(messages: tuple[LeanMessage, ...], name: str) -> tuple[str, ...] | None:
    """The axioms `#print axioms NAME` reported (empty if none), or None if it reported nothing."""
    for message in messages:
        text = message.data.strip()
        matched = AXIOMS_LINE.search(text)
        if matched and _same_name(matched.group("name"), name):
            return tuple(a.strip() for a in matched.group("axioms").split(",") if a.strip())
        if (none := NO_AXIOMS_LINE.search(text)) and _same_name(none.group("name"), name):
            return ()
    return None


def _same_name(printed: str, name: str) -> bool:
    printed = printed.strip().strip("«»")
    return printed == name or printed.endswith("." + name)


def nonstandard_axioms(axioms: tuple[str, ...]) -> list[str]:
    return [a for a in axioms if a not in STANDARD_AXIOMS]
