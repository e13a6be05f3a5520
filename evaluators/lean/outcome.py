"""What a Lean check can end in: a closed set of outcomes, each with what a person needs.

`VERIFIED` is only ever set by the acceptance rules after Lean answered; the
other four say why not: Lean disagreed (`REJECTED`, with its messages and the
goals left), the check ran out of time, there is no Lean to ask (with the
install steps), or something in evoforge or the REPL broke.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


INSTALL_HELP = (
    "Install Lean on a machine with internet access: "
    "`curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf | sh -s -- -y`, "
    "then build the REPL: `git clone https://github.com/leanprover-community/repl && cd repl && "
    "lake build` (its lean-toolchain picks the Lean version). Point evoforge at it with "
    "`--lean-repl repl/.lake/build/bin/repl` or EVOFORGE_LEAN_REPL=PATH, and add "
    "`--lean-project DIR` for a Lake project (e.g. one requiring Mathlib)."
)


class BackendUnavailable(FileNotFoundError):
    """No Lean to ask. A FileNotFoundError (a missing program) so the CLI reports it in one line."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(f"{Status.BACKEND_UNAVAILABLE}: {missing}. {INSTALL_HELP}")


@dataclass(frozen=True)
class LeanMessage:
    """One message as the REPL reports it: severity, 1-based line / 0-based column, text."""

    severity: str
    data: str
    line: int = 0
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None

    @classmethod
    def from_repl(cls, raw: dict[str, Any]) -> LeanMessage:
        pos, end = raw.get("pos") or {}, raw.get("endPos") or {}
        return cls(
            str(raw.get("severity", "error")),
            str(raw.get("data", "")),
            int(pos.get("line", 0)),
            int(pos.get("column", 0)),
            end.get("line"),
            end.get("column"),
        )

    @classmethod
    def evoforge(cls, text: str, severity: str = "error") -> LeanMessage:
        """A message from evoforge's own rules, not from Lean (line 0)."""
        return cls(severity, text)

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "data": self.data,
        }

    def one_line(self) -> str:
        first = self.data.strip().splitlines()[0] if self.data.strip() else ""
        where = f"{self.line}:{self.column}: " if self.line else ""
        return f"{where}{self.severity}: {first}"


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking one candidate, as the search, the CLI and the tests read it."""

    status: Status
    messages: tuple[LeanMessage, ...] = ()
    goals: tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0
    backend: str = ""
    axioms: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def verified(self) -> bool:
        return self.status is Status.VERIFIED

    @property
    def errors(self) -> tuple[LeanMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "error")

    def first_error(self) -> str:
        """The sentence to show a person (and the next prompt): the reason or Lean's first error."""
        if self.errors:
            return self.errors[0].data.strip()
        return self.reason

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "messages": [m.to_json() for m in self.messages],
            "goals": list(self.goals),
            "axioms": None if self.axioms is None else list(self.axioms),
            "backend": self.backend,
            **self.extra,
        }


class Verifier(Protocol):
    """Check candidates; every backend (the REPL, LeanDojo) answers with a VerifyResult."""

    name: str

    def verify(self, task: Any) -> VerifyResult: ...

    def verify_stream(self, tasks: list[Any], workers: int = 1) -> Iterator[tuple[int, VerifyResult]]:
        """(index, result) per task as each check ends; closing the stream early starts no more."""
        ...

    def close(self) -> None: ...
