"""Held-out scores of the programs that were best on training, for the "held-out vs samples" curve.

Evolution only ever sees the training inputs; a report has to show how the
best-so-far program does on the test inputs it never saw. The run stores the
held-out score of its final best only, so this module scores each earlier
best-so-far program on the test split here, through the same `open_evaluator`
seam and sandbox the run used, at most `max_points` programs per run (always
including the latest best), and remembers the results so the live page scores
each program once.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evoforge.viewer.db import connect_readonly, read_meta

MAX_POINTS = 25


class HeldOutScores:
    """Held-out scores per (run, candidate); in the background for the live page, inline for a report."""

    def __init__(self, max_points: int = MAX_POINTS, background: bool = False) -> None:
        self.max_points = max_points
        self._scores: dict[tuple[str, int], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1) if background else None
        self._queued: dict[str, Future] = {}

    def history(self, run_dir: Path, improvements: list[dict[str, Any]]) -> dict[str, Any]:
        """Held-out points for the chosen improvements known so far, and how many are still to score."""
        chosen = spread(improvements, self.max_points)
        key = str(Path(run_dir).resolve())
        missing = [p for p in chosen if (key, p["candidate_id"]) not in self._scores]
        if missing:
            if self._pool is None:
                self._score(run_dir, key, missing)
            elif key not in self._queued or self._queued[key].done():
                self._queued[key] = self._pool.submit(self._score, run_dir, key, missing)
        with self._lock:
            points = [{**p, **self._scores[(key, p["candidate_id"])]}
                      for p in chosen if (key, p["candidate_id"]) in self._scores]
        return {"points": points, "pending": len(chosen) - len(points), "of": len(improvements)}

    def scored(self, run_dir: Path) -> int:
        """How many held-out scores this run has so far: a live page refreshes when it grows."""
        key = str(Path(run_dir).resolve())
        with self._lock:
            return sum(1 for run, _ in self._scores if run == key)

    def _score(self, run_dir: Path, key: str, improvements: list[dict[str, Any]]) -> None:
        try:
            evaluator, fmt = _open_test_evaluator(run_dir)
        except Exception as error:  # the problem may have moved since the run; say so per point
            why = f"{type(error).__name__}: {error}"
            self._store(key, improvements, {"held_out_shown": None, "error": why})
            return
        try:
            for point in improvements:
                codes = _codes(run_dir, [point["candidate_id"]])
                evaluation = evaluator.evaluate(codes[point["candidate_id"]])
                raw = evaluation.score
                self._store(key, [point], {"held_out_shown": fmt.shown(raw), "held_out_raw": raw,
                                           "error": evaluation.first_error,
                                           "held_out_details": evaluation.details or None})
        finally:
            evaluator.close()

    def _store(self, key: str, points: list[dict[str, Any]], result: dict[str, Any]) -> None:
        with self._lock:
            for point in points:
                self._scores[(key, point["candidate_id"])] = result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def spread(points: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most `limit` points, evenly spaced, always keeping the first and the last."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def _open_test_evaluator(run_dir: Path) -> tuple[Any, Any]:
    from evoforge.evaluators import open_evaluator
    from evoforge.spec import load_problem
    from evoforge.viewer.run_data import ScoreFormat

    conn = connect_readonly(run_dir)
    try:
        meta = read_meta(conn)
    finally:
        conn.close()
    config = meta.get("config") or {}
    spec = load_problem(config["problem"], config.get("inputs_json"))
    return open_evaluator(spec, split="test"), ScoreFormat.from_meta(meta)


def _codes(run_dir: Path, candidate_ids: list[int]) -> dict[int, str]:
    conn = connect_readonly(run_dir)
    try:
        marks = ",".join("?" * len(candidate_ids))
        rows = conn.execute(f"SELECT id, code FROM candidates WHERE id IN ({marks})", candidate_ids)
        return {r[0]: r[1] for r in rows}
    finally:
        conn.close()
