"""Read-only access to a run's SQLite file, safe while the run is writing it.

The run writes in WAL mode; a `mode=ro` connection reads a consistent
snapshot per transaction without ever taking the write lock, so a report or
the live page can never slow or block the run's single writer.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from evoforge.storage import existing_run_db


def connect_readonly(run_dir: Path) -> sqlite3.Connection:
    """A read-only connection to RUN_DIR's database, or one sentence saying there is none."""
    path = existing_run_db(run_dir)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    return {row[0]: json.loads(row[1]) for row in conn.execute("SELECT key, value FROM meta")}


def columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    """Column names, so the reader shows what a newer schema adds (e.g. a prompt's strategy)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def change_token(conn: sqlite3.Connection) -> str:
    """Changes whenever the run adds a sample, an evaluation or a meta value: cheap to poll."""
    row = conn.execute(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM samples), (SELECT COUNT(*) FROM evaluations),"
        " (SELECT COUNT(*) FROM candidates), (SELECT COALESCE(MAX(id), 0) FROM events),"
        " (SELECT group_concat(value, '|') FROM meta WHERE key IN ('updated', 'held_out'))"
    ).fetchone()
    # Hashed: the held-out report can hold kilobytes (an expression's details), and the page sends
    # every run's token back in the poll's URL.
    return hashlib.blake2b("/".join(str(x) for x in row).encode(), digest_size=8).hexdigest()
