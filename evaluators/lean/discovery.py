"""Where Lean lives: the REPL command line, found once, or one sentence saying what is missing.

Order: `--lean-repl PATH` / EVOFORGE_LEAN_REPL, else `repl` on PATH (or
~/.elan/bin). With `--lean-project DIR` / EVOFORGE_LEAN_PROJECT (a Lake project,
e.g. one requiring Mathlib) the REPL runs as `lake env REPL` inside it, so its
imports resolve; a project that itself requires the REPL runs `lake exe repl`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from evoforge.evaluators.lean.outcome import BackendUnavailable

REPL_ENV = "EVOFORGE_LEAN_REPL"
PROJECT_ENV = "EVOFORGE_LEAN_PROJECT"


@dataclass(frozen=True)
class LeanSettings:
    """How to reach Lean and how much one check may take."""

    repl: str | None = None
    project: str | None = None
    timeout_seconds: float = 60.0
    memory_mb: int = 8192
    processes: int = 2
    allow_native_decide: bool = False

    @classmethod
    def from_environment(cls, **overrides: object) -> LeanSettings:
        """Settings from EVOFORGE_LEAN_REPL / EVOFORGE_LEAN_PROJECT, explicit values winning."""
        given = {k: v for k, v in overrides.items() if v is not None}
        given.setdefault("repl", os.environ.get(REPL_ENV) or None)
        given.setdefault("project", os.environ.get(PROJECT_ENV) or None)
        return cls(**given)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReplCommand:
    """The argv and working directory that start one REPL process."""

    argv: tuple[str, ...]
    cwd: str | None = None

    def describe(self) -> str:
        where = f" (in {self.cwd})" if self.cwd else ""
        return " ".join(self.argv) + where


def find_repl(settings: LeanSettings) -> ReplCommand:
    """The command that starts the REPL, or BackendUnavailable naming what is missing."""
    repl = _repl_executable(settings.repl)
    if settings.project is None:
        if repl is None:
            raise BackendUnavailable(
                "no Lean REPL found (looked at --lean-repl, $EVOFORGE_LEAN_REPL, `repl` on PATH, ~/.elan/bin)"
            )
        return ReplCommand((repl,))
    project = Path(settings.project).expanduser().resolve()
    if not (project / "lakefile.lean").is_file() and not (project / "lakefile.toml").is_file():
        raise BackendUnavailable(f"--lean-project {project} is not a Lake project (no lakefile.lean/.toml)")
    lake = shutil.which("lake") or _elan_bin("lake")
    if lake is None:
        raise BackendUnavailable("`lake` is not on PATH (nor in ~/.elan/bin), so the Lake project cannot run")
    if repl is not None:
        return ReplCommand((lake, "env", repl), str(project))
    manifest = project / "lake-manifest.json"
    if manifest.is_file() and "repl" in manifest.read_text(encoding="utf-8"):
        return ReplCommand((lake, "exe", "repl"), str(project))
    raise BackendUnavailable(
        f"no Lean REPL for the project {project}: give --lean-repl PATH or require "
        "leanprover-community/repl in its lakefile"
    )


def _repl_executable(given: str | None) -> str | None:
    if given:
        path = Path(given).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
        found = shutil.which(given)
        if found:
            return found
        raise BackendUnavailable(f"the Lean REPL {given} does not exist or is not executable")
    return shutil.which("repl") or _elan_bin("repl")


def _elan_bin(name: str) -> str | None:
    candidate = Path.home() / ".elan" / "bin" / name
    return str(candidate) if candidate.is_file() else None
