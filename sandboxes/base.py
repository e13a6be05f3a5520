"""What every sandbox mode offers the evaluator: run one candidate on one named input."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from types import TracebackType

from evoforge.records import TrialResult

_warned: set[str] = set()


class SandboxMode(StrEnum):
    FORK = "fork"
    SPAWN = "spawn"
    IN_PROCESS = "in-process"


def warn_once(message: str) -> None:
    """Say once per process that an isolation layer is missing; repeating it helps nobody."""
    if message not in _warned:
        _warned.add(message)
        import logging  # here, not at the top: see WARM_IMPORTS in harness.py

        logging.getLogger("evoforge.sandboxes").warning("sandbox: %s", message)


class Sandbox(ABC):
    """A context manager; `run` never raises for anything the candidate does."""

    input_keys: tuple[str, ...]

    @abstractmethod
    def run(self, code: str, input_key: str) -> TrialResult:
        """Score `code` (one function named like the spec's evolved one) on one input."""

    @abstractmethod
    def close(self) -> None:
        """Release the processes and files behind this sandbox."""

    def _check_key(self, input_key: str) -> None:
        if input_key not in self.input_keys:
            raise KeyError(f"unknown input {input_key!r}; this sandbox has {list(self.input_keys)}")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
