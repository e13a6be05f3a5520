"""The running distribution of screen estimates a cascade cuts its top share from.

Kept sorted (bisect), so the cut for each new candidate costs one insertion
and one index instead of a quantile over the whole history: a run of n
candidates costs O(n log n) comparisons, not O(n²). Estimates are kept
oriented (times `sign`: higher is better); the log holds them as estimated.

With a log file, the distribution is the run's, shared by every evaluator:
each batch's estimates are appended in one write, one line `estimate id` per
candidate, and `sync` reads only what other evaluators appended since the last
read. A candidate id already counted (a resumed run re-screens the candidates
of the batch a kill interrupted) is not counted twice, and a line torn by a
kill -9 is skipped.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from pathlib import Path


class RunningDistribution:
    """Sorted oriented estimates, optionally mirrored in an append-only log shared by processes."""

    def __init__(self, sign: float = 1.0, log: Path | None = None) -> None:
        self.sign = sign
        self.log = log
        self.sorted: list[float] = []
        self.seen: set[str] = set()
        self._offset = 0
        self.sync()

    def __len__(self) -> int:
        return len(self.sorted)

    def quantile(self, q: float) -> float:
        """The oriented q-quantile, interpolated linearly between order statistics (numpy's default)."""
        position = q * (len(self.sorted) - 1)
        low = math.floor(position)
        high = min(low + 1, len(self.sorted) - 1)
        return self.sorted[low] + (self.sorted[high] - self.sorted[low]) * (position - low)

    def add(self, estimate: float, ident: str | None = None) -> None:
        if ident is not None:
            if ident in self.seen:
                return
            self.seen.add(ident)
        bisect.insort(self.sorted, self.sign * estimate)

    def append_to_log(self, entries: Iterable[tuple[float, str]]) -> None:
        """Write a batch's (estimate, id) lines in one write; they are already `add`ed here."""
        text = "".join(f"{estimate!r} {ident}\n" for estimate, ident in entries)
        if self.log is not None and text:
            with open(self.log, "a") as log:
                log.write(text)

    def sync(self) -> None:
        """Take in the lines appended to the log since the last read (all of them the first time)."""
        if self.log is None or not self.log.exists():
            return
        with open(self.log, "rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for the next sync
        self._offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            parsed = _parse(line)
            if parsed is not None:
                self.add(*parsed)


def _parse(line: str) -> tuple[float, str | None] | None:
    """(value, id) from `value id`; None for a line torn by a kill (or merged with the next one)."""
    fields = line.split()
    if len(fields) not in (1, 2):
        return None
    try:
        value = float(fields[0])
    except ValueError:
        return None
    return (value, fields[1] if len(fields) == 2 else None) if math.isfinite(value) else None
