"""Run-wide figures for the report: counts, rates over time, throughput, islands, errors.

Each function takes a read-only connection and returns JSON-safe data; none
of them writes or locks anything.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evoforge.viewer.run_data import ScoreFormat

RATE_BUCKETS = 40
MIN_RATE_WINDOW = 8  # samples: smaller windows make the shares jump between 0 and 100%
THROUGHPUT_BUCKETS = 30
MIN_RATE_SPAN_SECONDS = 10.0
ERROR_ROWS = 20
OUTCOMES = ("valid", "duplicate", "error", "pending")


def counts(conn: sqlite3.Connection, meta: dict[str, Any]) -> dict[str, Any]:
    statuses = dict(conn.execute("SELECT status, COUNT(*) FROM candidates GROUP BY status").fetchall())
    evaluated, valid = conn.execute("SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM evaluations").fetchone()
    config = meta.get("config") or {}
    return {
        "samples": conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0],
        "budget": int(config.get("samples", 0)),
        "evaluated": evaluated, "valid": int(valid), "failed": evaluated - int(valid),
        "duplicates": statuses.get("duplicate", 0), "unparsed": statuses.get("unparsed", 0),
        "pending": statuses.get("pending", 0),
        "models": [r[0] for r in conn.execute("SELECT DISTINCT model FROM samples WHERE model IS NOT NULL")],
    }


def rates(conn: sqlite3.Connection, start: float) -> list[dict[str, Any]]:
    """Valid / duplicate / error / pending shares of the samples, in consecutive windows of samples."""
    rows = conn.execute(
        "SELECT c.sample_id, c.status, e.ok, c.created FROM candidates c"
        " LEFT JOIN evaluations e ON e.candidate_id = c.id WHERE c.sample_id IS NOT NULL ORDER BY c.id"
    ).fetchall()
    if not rows:
        return []
    size = max(MIN_RATE_WINDOW, math.ceil(len(rows) / RATE_BUCKETS))
    buckets = []
    for first in range(0, len(rows), size):
        window = rows[first:first + size]
        kinds = [_outcome(r["status"], r["ok"]) for r in window]
        share = {k: round(kinds.count(k) / len(window), 4) for k in OUTCOMES}
        buckets.append({"samples": window[-1]["sample_id"],
                        "minutes": round((window[-1]["created"] - start) / 60, 4), "n": len(window), **share})
    return buckets


def _outcome(status: str, ok: int | None) -> str:
    if status == "duplicate":
        return "duplicate"
    if status == "unparsed" or (status == "evaluated" and not ok):
        return "error"
    return "valid" if status == "evaluated" else "pending"


def throughput(conn: sqlite3.Connection, meta: dict[str, Any], start: float) -> dict[str, Any]:
    """Samples/min, tokens/s and evaluator utilisation (trial seconds / evaluator wall seconds)."""
    samples, tokens, last = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(completion_tokens), 0), MAX(created) FROM samples"
    ).fetchone()
    trial_seconds = conn.execute("SELECT COALESCE(SUM(seconds), 0) FROM trials").fetchone()[0]
    # The run stores its search time (start-up excluded) now and then; until it has, count from the seed.
    seeded = conn.execute("SELECT MIN(created) FROM candidates").fetchone()[0] or start
    wall = float(meta.get("elapsed_seconds") or 0.0) or max((last or seeded) - seeded, 0.0)
    evaluators = int((meta.get("config") or {}).get("evaluators", 1)) or 1
    per_second = (lambda x: x / wall) if wall > 0 else (lambda x: None)
    utilisation = trial_seconds / (wall * evaluators) if wall > 0 else None
    return {
        "wall_seconds": round(wall, 2), "evaluators": evaluators,
        "samples_per_minute": _round(per_second(samples * 60)),
        "tokens_per_second": _round(per_second(tokens)), "completion_tokens": int(tokens),
        "trial_seconds": round(float(trial_seconds), 3),
        "evaluator_utilisation": _round(utilisation),
        "series": _sample_rate_series(conn, start),
    }


def _sample_rate_series(conn: sqlite3.Connection, start: float) -> list[dict[str, Any]]:
    """Samples/min and tokens/s in equal slices of wall time."""
    rows = conn.execute("SELECT created, COALESCE(completion_tokens, 0) FROM samples ORDER BY id").fetchall()
    if len(rows) < 2:
        return []
    first, last = rows[0][0], rows[-1][0]
    if last - first < MIN_RATE_SPAN_SECONDS:
        return []  # a rate over a second or two of samples is mostly noise from batching
    width = (last - first) / THROUGHPUT_BUCKETS
    slices: dict[int, list[int]] = {}
    for created, tokens in rows:
        index = min(int((created - first) / width), THROUGHPUT_BUCKETS - 1)
        bucket = slices.setdefault(index, [0, 0])
        bucket[0] += 1
        bucket[1] += tokens
    return [
        {"minutes": round((first + (i + 1) * width - start) / 60, 4),
         "samples_per_minute": round(n * 60 / width, 2), "tokens_per_second": round(t / width, 2)}
        for i, (n, t) in sorted(slices.items())
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def islands(conn: sqlite3.Connection, fmt: ScoreFormat) -> list[dict[str, Any]]:
    """Per island: programs, best score, and diversity (distinct signatures = FunSearch clusters)."""
    registered = conn.execute("SELECT payload FROM events WHERE kind='register'")
    signatures = {
        payload["program_id"]: tuple(payload.get("signature") or ())
        for payload in (json.loads(r[0]) for r in registered)
    }
    resets: dict[int, int] = {}
    for (payload,) in conn.execute("SELECT payload FROM events WHERE kind='reset'"):
        for island in json.loads(payload).get("island_ids", []):
            resets[island] = resets.get(island, 0) + 1
    rows = conn.execute(
        "SELECT c.island_id, c.id, c.code_hash, e.score FROM evaluations e JOIN candidates c"
        " ON c.id = e.candidate_id WHERE e.ok = 1 AND c.island_id IS NOT NULL ORDER BY c.island_id, c.id"
    ).fetchall()
    by_island: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        by_island.setdefault(row["island_id"], []).append(row)
    return [_island(island, members, signatures, resets.get(island, 0), fmt)
            for island, members in sorted(by_island.items())]


def _island(island: int, members: list[sqlite3.Row], signatures: dict[int, tuple], resets: int,
            fmt: ScoreFormat) -> dict[str, Any]:
    best = None
    for row in members:
        if row["score"] is not None and (best is None or fmt.better(row["score"], best["score"])):
            best = row
    distinct = {signatures.get(r["id"]) for r in members if r["id"] in signatures}
    return {
        "island": island, "programs": len(members), "resets": resets,
        "best_candidate_id": best["id"] if best else None,
        "best_text": fmt.text(best["score"]) if best else "-",
        "clusters": len(distinct), "distinct_code": len({r["code_hash"] for r in members}),
        "diversity": round(len(distinct) / len(members), 3) if members else None,
    }


def errors(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Each distinct failure with its count and one example (the first candidate that hit it)."""
    rows = conn.execute(
        "SELECT CASE WHEN e.error IS NOT NULL THEN 'evaluation' ELSE 'parse' END AS stage,"
        " COALESCE(e.error, c.parse_error) AS why, COUNT(*) AS n, MIN(c.id) AS example"
        " FROM candidates c LEFT JOIN evaluations e ON e.candidate_id = c.id"
        " WHERE why IS NOT NULL GROUP BY why ORDER BY n DESC, example LIMIT ?",
        (ERROR_ROWS,),
    ).fetchall()
    return [_error_example(conn, row) for row in rows]


def _error_example(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    example = conn.execute(
        "SELECT c.code, s.raw_text FROM candidates c LEFT JOIN samples s ON s.id = c.sample_id"
        " WHERE c.id = ?",
        (row["example"],),
    ).fetchone()
    trial = conn.execute(
        "SELECT input_key, output_tail FROM trials WHERE candidate_id = ? AND error IS NOT NULL LIMIT 1",
        (row["example"],),
    ).fetchone()
    return {
        "stage": row["stage"], "message": row["why"], "count": row["n"], "candidate_id": row["example"],
        "example": (example["code"] or example["raw_text"] or "")[:2000] if example else "",
        "input_key": trial["input_key"] if trial else None,
        "output_tail": (trial["output_tail"] or "")[-1500:] if trial else "",
    }


def details_of(conn: sqlite3.Connection, candidate_id: int | None) -> dict[str, Any]:
    """What the best candidate's kind recorded beyond its score (Evaluation.details)."""
    if candidate_id is None:
        return {}
    row = conn.execute("SELECT details FROM evaluations WHERE candidate_id = ?", (candidate_id,)).fetchone()
    try:
        return json.loads(row[0]) if row and row[0] else {}
    except json.JSONDecodeError:
        return {"unreadable details": row[0][:500]}
