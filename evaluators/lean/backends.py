"""Choosing the verifier backend: the REPL (the main path) or LeanDojo (optional extra)."""

from __future__ import annotations

from evoforge.evaluators.lean.discovery import LeanSettings
from evoforge.evaluators.lean.outcome import Verifier

BACKENDS = ("repl", "leandojo")


def open_verifier(settings: LeanSettings | None = None, backend: str = "repl") -> Verifier:
    """A ready verifier; raises BackendUnavailable (one sentence plus install steps) if it cannot run."""
    settings = settings or LeanSettings.from_environment()
    if backend == "repl":
        from evoforge.evaluators.lean.repl_verifier import ReplVerifier

        return ReplVerifier(settings)
    if backend == "leandojo":
        from evoforge.evaluators.lean.leandojo import LeanDojoVerifier

        return LeanDojoVerifier(settings)
    raise ValueError(f"unknown Lean backend {backend!r}; use one of {', '.join(BACKENDS)}")
