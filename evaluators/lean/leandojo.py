"""The same verifier over LeanDojo, for projects already traced with it (`pip install evoforge[leandojo]`).

LeanDojo checks a proof by replaying it in a traced repository (`Dojo` on a
`Theorem`); nothing else in evoforge needs it, and without it this backend says
so in one sentence. The acceptance rules are the same: the static rules first,
then LeanDojo's verdict; a tactic error or an incomplete proof is REJECTED.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from evoforge.evaluators.lean.discovery import LeanSettings
from evoforge.evaluators.lean.outcome import BackendUnavailable, LeanMessage, Status, VerifyResult
from evoforge.evaluators.lean.rules import names_declared, static_violations
from evoforge.evaluators.lean.task import ProofTask

MISSING = (
    "LeanDojo is not installed (the `leandojo` backend needs it): "
    "`pip install 'evoforge[leandojo]'`, then trace your repository with LeanDojo"
)


class LeanDojoVerifier:
    """Checks `task.proof` for the theorem `task.name` of the repository in `settings.project`."""

    name = "leandojo"

    def __init__(self, settings: LeanSettings) -> None:
        try:
            import lean_dojo  # noqa: F401  (optional extra)
        except ImportError:
            raise BackendUnavailable(MISSING) from None
        if not settings.project:
            raise BackendUnavailable(
                "the leandojo backend needs --lean-project DIR (a repository traced with LeanDojo)"
            )
        self.settings = settings

    def verify(self, task: ProofTask) -> VerifyResult:
        started = time.perf_counter()
        violations = static_violations(task, names_declared(task.preamble))
        if violations:
            result = VerifyResult(
                Status.REJECTED, tuple(v.message() for v in violations), reason=violations[0].text
            )
        else:
            result = self._check(task)
        return replace(result, seconds=time.perf_counter() - started, backend="leandojo")

    def _check(self, task: ProofTask) -> VerifyResult:
        from lean_dojo import Dojo, LeanGitRepo, ProofFinished, Theorem  # type: ignore[import-not-found]

        repo = LeanGitRepo.from_path(self.settings.project)
        theorem = Theorem(repo, self._file_of(task.name), task.name)
        try:
            with Dojo(theorem, timeout=int(self.settings.timeout_seconds)) as (dojo, state):
                outcome: Any = dojo.run_tac(state, task.proof.removeprefix("by").strip())
        except TimeoutError as error:
            return VerifyResult(Status.TIMEOUT, reason=str(error))
        except Exception as error:  # LeanDojo raises its own types for a broken environment
            return VerifyResult(Status.INTERNAL_ERROR, reason=f"LeanDojo: {type(error).__name__}: {error}")
        if isinstance(outcome, ProofFinished):
            return VerifyResult(Status.VERIFIED)
        error_text = getattr(outcome, "error", None) or "the proof leaves goals open"
        goals = tuple(str(getattr(outcome, "pp", "")).split("\n\n")) if hasattr(outcome, "pp") else ()
        return VerifyResult(
            Status.REJECTED,
            (LeanMessage("error", str(error_text)),),
            goals,
            reason=str(error_text).splitlines()[0],
        )

    def _file_of(self, name: str) -> str:
        """The project file that states the theorem (LeanDojo addresses theorems by file and name)."""
        root = Path(str(self.settings.project))
        for path in sorted(root.rglob("*.lean")):
            if ".lake" not in path.parts and f"theorem {name}" in path.read_text(
                encoding="utf-8", errors="ignore"
            ):
                return str(path.relative_to(root))
        raise BackendUnavailable(f"no file of {root} states `theorem {name}`")

    def verify_stream(self, tasks: list[ProofTask], workers: int = 1) -> Iterator[tuple[int, VerifyResult]]:
        """One check at a time (LeanDojo's Dojo is not shared between threads), in order."""
        for index, task in enumerate(tasks):
            yield index, self.verify(task)

    def close(self) -> None:
        pass
