"""What is asked (a statement) and what a candidate offers (a proof, or a whole Lean text).

A candidate is either the text after `:=`, or Lean text that contains the theorem
itself (what chat models write, and whole `.lean` files). Either way the verifier
rebuilds the file from the ASKED header, preamble and statement, so a candidate
can never check a different statement: whole texts are split into their own
helper declarations, their version of the statement (which must parse to the
asked one) and their proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from evoforge.evaluators.lean.lean_text import (
    blank_comments_and_strings,
    declarations,
    parse_statement,
    top_level_assign,
)


class TaskError(ValueError):
    """An input line that does not describe a check; the message says what to fix."""


@dataclass(frozen=True)
class ProofTask:
    """One check: `imports` + `preamble` (the header, elaborated once per REPL) then the theorem.

    `extras` are the candidate's own helper declarations, placed before the theorem;
    `offered_statement` is the candidate's copy of the statement when it wrote one.
    """

    name: str
    statement: str
    proof: str
    preamble: str = ""
    imports: str = ""
    extras: str = ""
    offered_statement: str | None = None
    allow_native_decide: bool = False
    item_id: str = ""

    @property
    def header(self) -> str:
        """What the REPL elaborates once and reuses through `env`: imports, then the preamble."""
        return "\n\n".join(part for part in (self.imports.strip(), self.preamble.strip()) if part)

    @property
    def candidate_text(self) -> str:
        """All the text the candidate wrote (helpers and proof): what the static rules read."""
        return f"{self.extras}\n{self.proof}" if self.extras else self.proof

    def theorem_command(self) -> str:
        """The command checked in the header's environment: helpers, then the asked statement."""
        body = f"{self.statement.strip()} := {self.proof.strip()}"
        return f"{self.extras.strip()}\n\n{body}" if self.extras.strip() else body

    def whole_file(self) -> str:
        """The final check in a fresh environment: everything, then `#print axioms`."""
        parts = [self.imports.strip(), self.preamble.strip(), self.theorem_command()]
        return "\n\n".join(p for p in parts if p) + f"\n\n#print axioms {self.name}\n"

    @property
    def axioms_line(self) -> int:
        """The line of `#print axioms` in `whole_file()` (its last line): where Lean's answer must be."""
        return self.whole_file().count("\n")

    def with_candidate(self, text: str) -> ProofTask:
        """This task with a candidate's text: a bare proof, or Lean text holding the theorem."""
        blanked = blank_comments_and_strings(text)
        target = next(
            (d for d in declarations(blanked) if d.keyword == "theorem" and d.name == self.name), None
        )
        if target is None:
            return replace(self, proof=text.strip())
        assign = top_level_assign(blanked, target.name_end)
        if assign is None:
            return replace(self, proof="", offered_statement=text[target.start :].strip())
        before = _drop_imports_and_preamble(text[: target.start], self.preamble)
        return replace(
            self,
            extras=before.strip(),
            offered_statement=text[target.start : assign].strip(),
            proof=text[assign + 2 :].strip(),
        )


def _drop_imports_and_preamble(text: str, preamble: str) -> str:
    """A whole file repeats the header: its `import` lines and the asked preamble are not extras."""
    kept = "\n".join(line for line in text.splitlines() if not re.match(r"\s*import\s", line))
    if preamble.strip() and preamble.strip() in kept:
        kept = kept.replace(preamble.strip(), "", 1)
    return kept if blank_comments_and_strings(kept).strip() else ""  # only comments: no helpers


def task_from_json(item: dict[str, Any], allow_native_decide: bool = False) -> ProofTask:
    """One input line of `verify-lean`: a statement and a proof, or a whole Lean text / file."""
    whole = item.get("lean")
    if whole is None and item.get("file"):
        from pathlib import Path

        whole = Path(item["file"]).read_text(encoding="utf-8")
    statement = item.get("statement")
    if statement is None and whole is not None:
        statement = _statement_of_file(whole, item.get("name"))
    if not statement:
        raise TaskError(
            'each line needs a "statement" (a theorem header) with a "proof", '
            'or a whole Lean text in "lean" / a path in "file"'
        )
    name = item.get("name") or parse_statement(statement).name
    header = item.get("imports", item.get("header"))
    if header is None and whole is not None:
        header = "\n".join(line for line in whole.splitlines() if re.match(r"\s*import\s", line))
    task = ProofTask(
        name=name,
        statement=statement,
        proof=str(item.get("proof", "")),
        preamble=item.get("preamble") or "",
        imports=header or "",
        allow_native_decide=bool(item.get("allow_native_decide", allow_native_decide)),
        item_id=str(item.get("id", "")),
    )
    return task.with_candidate(whole) if whole is not None else task


def _statement_of_file(text: str, name: str | None) -> str:
    """A whole file checked on its own: its (named, else last) theorem is the statement asked."""
    blanked = blank_comments_and_strings(text)
    theorems = [d for d in declarations(blanked) if d.keyword == "theorem" and (not name or d.name == name)]
    if not theorems:
        raise TaskError(f"no theorem {name or ''} in the Lean text".replace("  ", " "))
    target = theorems[-1]
    assign = top_level_assign(blanked, target.name_end)
    return text[target.start : assign].strip() if assign else ""
