"""The genealogy of a program: from the seed, through each parent, to it.

A prompt shows the LLM several parents; the step's parent is the best-scoring
of them (the one FunSearch puts last, right before the version asked for),
and each step carries the diff against it, the model that wrote it and the
prompt strategy when the run's schema records one.
"""

from __future__ import annotations

import difflib
import itertools
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from evoforge.viewer.db import columns_of

if TYPE_CHECKING:
    from evoforge.viewer.run_data import ScoreFormat

NOT_RECORDED = "not recorded"
MAX_STEPS = 200


def lineage_of(conn: sqlite3.Connection, candidate_id: int, fmt: ScoreFormat) -> list[dict[str, Any]]:
    """Steps from `candidate_id` back to the seed (first element: the program itself)."""
    strategy_sql = _strategy_column(conn)
    steps: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: int | None = candidate_id
    while current is not None and current not in seen and len(steps) < MAX_STEPS:
        seen.add(current)
        row = _candidate(conn, current, strategy_sql)
        if row is None:
            break
        parents = json.loads(row["parent_ids"] or "[]")
        parent = _best_parent(conn, parents, fmt)
        steps.append(_step(row, parents, parent, fmt))
        current = parent["id"] if parent else None
    for step, older in itertools.pairwise(steps):
        step["diff"] = _diff(older["code"], step["code"], older["candidate_id"], step["candidate_id"])
    return steps


def _strategy_column(conn: sqlite3.Connection) -> str:
    """Where this run recorded the prompt strategy: per sample (current runs), per prompt, or nowhere
    (runs made before strategies were recorded: the page says "not recorded")."""
    if "strategy" in columns_of(conn, "samples"):
        return "s.strategy"
    return "p.strategy" if "strategy" in columns_of(conn, "prompts") else "NULL"


def _candidate(conn: sqlite3.Connection, candidate_id: int, strategy_sql: str) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT c.id, c.code, c.parent_ids, c.island_id, c.sample_id, e.score, e.ok, s.model,"
        f" {strategy_sql} AS strategy FROM candidates c"
        " LEFT JOIN evaluations e ON e.candidate_id = c.id LEFT JOIN samples s ON s.id = c.sample_id"
        " LEFT JOIN prompts p ON p.id = s.prompt_id WHERE c.id = ?",
        (candidate_id,),
    ).fetchone()


def _best_parent(conn: sqlite3.Connection, parent_ids: list[int], fmt: ScoreFormat) -> sqlite3.Row | None:
    if not parent_ids:
        return None
    marks = ",".join("?" * len(parent_ids))
    rows = conn.execute(
        f"SELECT c.id, e.score FROM candidates c JOIN evaluations e ON e.candidate_id = c.id"
        f" WHERE c.id IN ({marks}) AND e.ok = 1",
        parent_ids,
    ).fetchall()
    best = None
    for row in rows:
        if best is None or fmt.better(row["score"], best["score"]):
            best = row
    return best


def _step(
    row: sqlite3.Row, parents: list[int], parent: sqlite3.Row | None, fmt: ScoreFormat
) -> dict[str, Any]:
    seed = row["sample_id"] is None
    return {
        "candidate_id": row["id"], "seed": seed, "island": row["island_id"], "sample": row["sample_id"],
        "shown": fmt.shown(row["score"]), "text": fmt.text(row["score"]), "raw": row["score"],
        "model": "spec (seed)" if seed else (row["model"] or NOT_RECORDED),
        "strategy": "seed" if seed else (row["strategy"] or NOT_RECORDED),
        "prompt_parents": parents, "parent_id": parent["id"] if parent else None,
        "code": row["code"] or "", "diff": "",
    }


def _diff(old: str, new: str, old_id: int, new_id: int) -> str:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(),
                                 f"candidate {old_id}", f"candidate {new_id}", lineterm="", n=2)
    return "\n".join(lines) or "(same code)"
