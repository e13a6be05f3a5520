"""How busy the LLM server was: the share of wall time with at least one request in flight.

Each completion carries its request's latency and the moment the run
recorded it, so a request covers [recorded - latency, recorded]; the server
was busy for the union of those intervals. The live progress line (from the
batches as they arrive) and `evoforge show` (from the stored samples) both
measure it here, so they mean the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """The length of the union of (start, end) intervals, however they overlap."""
    total, covered_until = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= covered_until:
            continue
        total += end - max(start, covered_until)
        covered_until = end
    return total


def request_intervals(rows: Iterable[tuple[float, float | None]]) -> list[tuple[float, float]]:
    """(recorded, latency seconds) per completion -> one interval per request (equal ones merged)."""
    return sorted({(end - latency, end) for end, latency in rows if latency})


def busy_fraction(intervals: Iterable[tuple[float, float]], wall_seconds: float) -> float | None:
    """Busy seconds over wall seconds, at most 1 (None before any wall time passed)."""
    if wall_seconds <= 0:
        return None
    return min(1.0, busy_seconds(intervals) / wall_seconds)
