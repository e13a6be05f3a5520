"""The LLM's busy share: the union of request intervals, and the progress line that shows it."""

from __future__ import annotations

import random

import pytest

from evoforge.llm_busy import busy_fraction, busy_seconds, request_intervals
from evoforge.progress import Progress
from evoforge.records import RunCounters
from evoforge.spec import load_problem


def _covered_by_grid(intervals: list[tuple[float, float]], step: float = 0.001) -> float:
    """The union's length counted on a fine grid: slow, but obviously right."""
    ends = [e for _, e in intervals]
    starts = [s for s, _ in intervals]
    ticks = range(round(min(starts) / step), round(max(ends) / step))
    return step * sum(any(s <= (t + 0.5) * step < e for s, e in intervals) for t in ticks)


def test_overlapping_nested_and_disjoint_requests_count_once() -> None:
    # a long request spanning another sampler's gap, a nested one, and a separate one later
    intervals = [(0.0, 5.0), (6.0, 10.0), (0.5, 8.0), (1.0, 2.0), (12.0, 13.5)]
    assert busy_seconds(intervals) == pytest.approx(11.5)
    assert busy_fraction(intervals, 23.0) == pytest.approx(0.5)


def test_busy_seconds_match_a_grid_count_on_random_requests() -> None:
    rng = random.Random(7)
    intervals = [(start := rng.uniform(0, 60), start + rng.uniform(0.1, 8)) for _ in range(40)]
    assert busy_seconds(intervals) == pytest.approx(_covered_by_grid(intervals), abs=0.01)


def test_completions_of_one_request_are_one_interval() -> None:
    rows = [(10.0, 4.0)] * 4 + [(12.0, 1.0), (15.0, None)]  # n=4 sharing a request; one without latency
    assert request_intervals(rows) == [(6.0, 10.0), (11.0, 12.0)]
    assert busy_fraction([], 0.0) is None


def test_progress_line_shows_the_busy_share_and_this_sessions_rates() -> None:
    progress = Progress(load_problem("bin_packing"), budget=400)
    status = {"elapsed": 600.0, "session": 120.0, "session_samples": 40, "session_tokens": 1200,
              "llm_busy": 0.873}
    figures = progress.figures(RunCounters(samples=140, completion_tokens=9999), status)
    assert figures["llm busy"] == "87% of the time"
    assert figures["rate"] == "20.0 samples/min" and figures["tokens"] == "10.0 tok/s"
    assert progress.figures(RunCounters(), {"session": 1.0})["llm busy"] == "-"
