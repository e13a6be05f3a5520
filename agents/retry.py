"""Retry with exponential backoff, bounded by how long an outage may last.

A run that samples for hours must ride out a server that restarts, runs out
of memory or is redeployed: transient failures are retried until the outage
has lasted `outage_seconds`, with one warning when it starts and one line
when it ends, so a log does not fill with a line per attempt.
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


class TransientError(Exception):
    """A failure worth retrying (connection refused, timeout, 5xx, 429)."""


class OutageRetrier:
    """Shared by all threads of one backend, so an outage is reported once."""

    def __init__(
        self,
        what: str,
        outage_seconds: float = 600.0,
        base_delay: float = 0.25,
        max_delay: float = 10.0,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self.what = what
        self.outage_seconds = outage_seconds
        self.base_delay, self.max_delay = base_delay, max_delay
        self.on_failure = on_failure
        self.outages = 0
        self.retries = 0
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
                if now - started > self.outage_seconds:
                    raise LLMUnavailable(
                        f"{self.what} has not answered for {now - started:.0f} s ({error}); "
                        "check that the server is running, or raise the outage tolerance."
                    ) from error
                if self.on_failure is not None:
                    self.on_failure()
                time.sleep(self._delay(tries))
                tries += 1
                continue
            self._mark_up()
            return result

    def _delay(self, tries: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2**tries)
        return delay * random.uniform(0.5, 1.0)  # jitter: clients do not retry in lock-step

    def _mark_down(self, now: float, error: TransientError) -> None:
        with self._lock:
            self.retries += 1
            if self._down_since is None:
                self._down_since = now
                self.outages += 1
                log.warning("%s unavailable (%s); retrying with backoff", self.what, error)

    def _mark_up(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning("%s is back after %.1f s", self.what, time.monotonic() - self._down_since)
                self._down_since = None
