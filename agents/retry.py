"""Retry with exponential backoff, bounded by how long an outage may last.

A run that samples for hours must ride out a server that restarts, runs out
of memory or is redeployed: once a server has answered, transient failures
are retried until the outage has lasted `outage_seconds` (`--llm-outage-minutes`),
with one warning when it starts and one line when it ends, so a log does not
fill with a line per attempt. A server that has never answered is most likely
a wrong address or one not started: that fails within `FIRST_CONTACT_SECONDS`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from evoforge.agents.base import LLMUnavailable

T = TypeVar("T")
log = logging.getLogger("evoforge.agents")

FIRST_CONTACT_SECONDS = 5.0


class TransientError(Exception):
    """A failure worth retrying (connection refused, timeout, 5xx, 429).

    `reached` says the server did answer, with an error status (a server still
    loading its model answers 503): it is there, so the long patience applies.
    """

    def __init__(self, message: str, reached: bool = False) -> None:
        super().__init__(message)
        self.reached = reached


class OutageRetrier:
    """Shared by all threads of one backend, so an outage is reported once."""

    def __init__(
        self, what: str, outage_seconds: float, base_delay: float = 0.25, max_delay: float = 10.0
    ) -> None:
        self.what = what
        self.outage_seconds = outage_seconds
        self.base_delay, self.max_delay = base_delay, max_delay
        self.outages = 0
        self.retries = 0
        self.answered = False  # has the server ever answered this client?
        self._down_since: float | None = None
        self._lock = threading.Lock()

    def call(self, attempt: Callable[[], T]) -> T:
        """Run `attempt` until it succeeds or the outage outlasts the tolerance."""
        tries = 0
        started: float | None = None
        while True:
            try:
                result = attempt()
            except TransientError as error:
                now = time.monotonic()
                started = started if started is not None else now
                self._mark_down(now, error)
                if now - started > self._tolerance():
                    raise LLMUnavailable(self._gave_up(now - started, error)) from error
                time.sleep(self._delay(tries))
                tries += 1
                continue
            self._mark_up()
            return result

    def _tolerance(self) -> float:
        return self.outage_seconds if self.answered else min(self.outage_seconds, FIRST_CONTACT_SECONDS)

    def _gave_up(self, seconds: float, error: TransientError) -> str:
        if not self.answered:
            return (
                f"{self.what} has not answered at all ({error}); check that the server is running "
                "and that --base-url points at it."
            )
        return (
            f"{self.what} has not answered for {seconds:.0f} s ({error}); check that the server is "
            "running, or allow longer outages with --llm-outage-minutes."
        )

    def _delay(self, tries: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2**tries)
        return delay * random.uniform(0.5, 1.0)  # jitter: clients do not retry in lock-step

    def _mark_down(self, now: float, error: TransientError) -> None:
        with self._lock:
            self.retries += 1
            self.answered = self.answered or error.reached
            if self._down_since is None:
                self._down_since = now
                self.outages += 1
                log.warning("%s unavailable (%s); retrying with backoff", self.what, error)

    def _mark_up(self) -> None:
        with self._lock:
            self.answered = True
            if self._down_since is not None:
                log.warning("%s is back after %.1f s", self.what, time.monotonic() - self._down_since)
                self._down_since = None
