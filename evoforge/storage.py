"""SQLite storage: the run's source of truth.

Every prompt, raw sample, parsed candidate, per-input trial, evaluation and
database event is written here before the in-memory state acts on it, each
step in one transaction, so a run killed with SIGKILL at any instant resumes
from this file with nothing that was evaluated lost. WAL mode with
synchronous=NORMAL is durable against a process crash (not a power cut),
which is the failure this file has to survive.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evoforge.records import Candidate, Completion, Evaluation, Prompt, StrategyTally
from evoforge.sample_variety import choice_seed
from evoforge.spec_errors import UserError

DB_FILENAME = "evoforge.db"
SCHEMA_VERSION = 1
RUN_TABLES = ("meta", "prompts", "samples", "candidates", "evaluations", "trials", "events")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
    id INTEGER PRIMARY KEY, island_id INTEGER, parent_ids TEXT NOT NULL,
    version_generated INTEGER, text TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY, prompt_id INTEGER NOT NULL REFERENCES prompts(id),
    raw_text TEXT NOT NULL, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    latency_seconds REAL, finish_reason TEXT, created REAL NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'funsearch');
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY, sample_id INTEGER REFERENCES samples(id),
    island_id INTEGER, parent_ids TEXT NOT NULL DEFAULT '[]',
    code TEXT, code_hash TEXT, parse_error TEXT, duplicate_of INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'evaluated', 'duplicate', 'unparsed')),
    created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS candidates_status ON candidates(status);
CREATE INDEX IF NOT EXISTS candidates_hash ON candidates(code_hash);
CREATE TABLE IF NOT EXISTS evaluations (
    candidate_id INTEGER PRIMARY KEY REFERENCES candidates(id),
    ok INTEGER NOT NULL, score REAL, error TEXT, seconds REAL, created REAL NOT NULL,
    details TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS trials (
    candidate_id INTEGER NOT NULL REFERENCES candidates(id), input_key TEXT NOT NULL,
    score REAL, error TEXT, seconds REAL, output_tail TEXT,
    PRIMARY KEY (candidate_id, input_key));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL);
"""
# Columns added after runs existed: (table, column, definition with the default old rows get), added
# to older files on open. samples: the prompt strategy (every sample of a run made before strategies
# existed came from FunSearch's prompt), and the temperature and seed each completion was drawn with
# (evoforge.sample_variety), and which of several backends answered (`llm`, its label in the run's
# config; NULL in a run with one backend); candidates: why a duplicate is one ('code': same normalized code,
# 'behaviour': same outputs on the probe calls) and the behaviour fingerprint of a probed candidate.
ADDED_COLUMNS = (
    ("evaluations", "details", "TEXT NOT NULL DEFAULT '{}'"),
    ("samples", "strategy", "TEXT NOT NULL DEFAULT 'funsearch'"),
    ("samples", "temperature", "REAL"),
    ("samples", "seed", "INTEGER"),
    ("samples", "llm", "TEXT"),
    ("candidates", "duplicate_reason", "TEXT"),
    ("candidates", "behaviour_hash", "TEXT"),
)


class RunFileError(UserError):
    """A run's SQLite file is damaged or is not a run; the message names the file and what to do."""


def existing_run_db(run_dir: Path) -> Path:
    """RUN_DIR's database file, or FileNotFoundError with the one sentence saying there is no run."""
    path = Path(run_dir) / DB_FILENAME
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: no evoforge run here (no {DB_FILENAME}).")
    return path


def is_damaged_file_error(error: sqlite3.DatabaseError) -> bool:
    """SQLite's verdict that a file's bytes are not a (whole) database, as opposed to a bug in a query."""
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def damaged_file_sentence(path: Path, reason: str) -> str:
    return (
        f"{path} cannot be read as a run ({reason}): it is damaged, truncated or not an evoforge file; "
        "restore it from a copy, or start a new run with `evoforge run`."
    )


@dataclass(frozen=True)
class StoredProgram:
    """An evaluated candidate as the CLI and the database rebuild read it back."""

    candidate_id: int
    code: str
    score: float | None
    island_id: int | None
    created: float


class RunStorage:
    """One run's SQLite file. Single writer: the run's driver (it holds the run directory's lock)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(SCHEMA)
            self._add_missing_columns()
            self._set_meta_default("schema_version", SCHEMA_VERSION)
        self._conn.row_factory = sqlite3.Row

    def _add_missing_columns(self) -> None:
        """Runs made before a column existed get it with its default, so they still resume."""
        for table, column, definition in ADDED_COLUMNS:
            if not self._has_column(table, column):
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    @classmethod
    def open_run(cls, run_dir: Path, readonly: bool = True) -> RunStorage:
        """The storage of an existing run directory, or one sentence saying why there is none.

        The file is checked before use (SQLite's quick_check reads every page,
        about 0.3 s for 500 MB), so a damaged or truncated file is named up
        front instead of failing halfway through a resume or a report.
        """
        path = existing_run_db(run_dir)
        storage = cls(path, readonly=True)
        try:
            storage._check_is_run()
        except BaseException:
            storage.close()
            raise
        if readonly:
            return storage
        storage.close()
        return cls(path, readonly=False)

    def _check_is_run(self) -> None:
        """Raise RunFileError unless this file is an undamaged SQLite file with a run's tables."""
        try:
            problems = [row[0] for row in self._conn.execute("PRAGMA quick_check(3)")]
            tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            if not is_damaged_file_error(error):
                raise
            raise RunFileError(damaged_file_sentence(self.path, str(error))) from None
        if problems != ["ok"]:
            raise RunFileError(damaged_file_sentence(self.path, "; ".join(problems)))
        missing = [table for table in RUN_TABLES if table not in tables]
        if missing:
            lacks = ("none of a run's tables" if len(missing) == len(RUN_TABLES)
                     else f"no {', '.join(missing)} table")
            raise RunFileError(
                f"{self.path} holds no evoforge run (it has {lacks}: the file is empty or belongs to "
                "another program); give the folder of a run, or start one with `evoforge run`."
            )

    def close(self) -> None:
        self._conn.close()

    # -- meta -------------------------------------------------------------
    def _set_meta_default(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def set_meta(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def create_run(self, meta: dict[str, Any]) -> None:
        """Write a new run's metadata in one transaction: a run has all of it or none of it."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in meta.items()],
            )

    def meta(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- writes -----------------------------------------------------------
    def record_batch(
        self,
        prompt: Prompt,
        prompt_text: str,
        completions: Sequence[Completion],
        candidates: Sequence[Candidate],
        duplicate: Sequence[bool],
    ) -> list[int]:
        """Store one prompt and everything sampled from it; return the candidate ids.

        A duplicate is linked to the first candidate with the same normalized code, whatever
        became of it (a behaviour duplicate's copies link to it, not to nothing).
        """
        now = time.time()
        parents = json.dumps(list(prompt.parent_ids))
        ids: list[int] = []
        with self._transaction() as conn:
            prompt_id = conn.execute(
                "INSERT INTO prompts(island_id, parent_ids, version_generated, text, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (prompt.island_id, parents, prompt.version_generated, prompt_text, now),
            ).lastrowid
            for choice, (completion, candidate, dup) in enumerate(
                zip(completions, candidates, duplicate, strict=True)
            ):
                sample_id = self._insert_sample(conn, prompt_id, completion, now, prompt, choice)
                ids.append(
                    conn.execute(
                        "INSERT INTO candidates(sample_id, island_id, parent_ids, code, code_hash,"
                        " parse_error, duplicate_of, duplicate_reason, status, created) VALUES (?,?,?,?,?,?,"
                        " CASE WHEN ? THEN (SELECT MIN(id) FROM candidates WHERE code_hash = ?) END,"
                        " ?, ?, ?)",
                        (sample_id, prompt.island_id, parents, candidate.code, candidate.code_hash,
                         candidate.parse_error, dup, candidate.code_hash, "code" if dup else None,
                         _status(candidate, dup), now),
                    ).lastrowid
                )
        return ids

    @staticmethod
    def _insert_sample(conn: sqlite3.Connection, prompt_id: int, c: Completion, now: float,
                       prompt: Prompt, choice: int) -> int:
        return conn.execute(
            "INSERT INTO samples(prompt_id, raw_text, model, prompt_tokens, completion_tokens,"
            " latency_seconds, finish_reason, created, strategy, temperature, seed, llm)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (prompt_id, c.text, c.model, c.prompt_tokens, c.completion_tokens, c.latency_seconds,
             c.finish_reason, now, prompt.strategy, prompt.temperature, choice_seed(prompt.seed, choice),
             prompt.llm),
        ).lastrowid

    def add_seed_candidate(self, code: str, code_hash: str) -> int:
        """The spec's own function: the run's first program, with no sample behind it."""
        with self._transaction() as conn:
            return conn.execute(
                "INSERT INTO candidates(sample_id, island_id, code, code_hash, status, created)"
                " VALUES (NULL, NULL, ?, ?, 'pending', ?)",
                (code, code_hash, time.time()),
            ).lastrowid

    def record_evaluation(
        self, candidate_id: int, evaluation: Evaluation, score: float | None,
        events: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Store all trials, the verdict and the database events they caused, atomically."""
        now = time.time()
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO trials(candidate_id, input_key, score, error, seconds,"
                " output_tail) VALUES (?,?,?,?,?,?)",
                [(candidate_id, t.input_key, t.score, t.error, t.seconds, t.output_tail)
                 for t in evaluation.trials],
            )
            conn.execute(
                "INSERT OR REPLACE INTO evaluations(candidate_id, ok, score, error, seconds, created,"
                " details) VALUES (?,?,?,?,?,?,?)",
                (candidate_id, int(evaluation.ok), score, evaluation.first_error,
                 evaluation.seconds, now, json.dumps(evaluation.details)),
            )
            conn.execute("UPDATE candidates SET status='evaluated', behaviour_hash=? WHERE id=?",
                         (evaluation.details.get("behaviour_hash"), candidate_id))
            for kind, payload in events:
                conn.execute(
                    "INSERT INTO events(kind, payload, created) VALUES (?,?,?)",
                    (kind, json.dumps(payload), now),
                )

    def record_behaviour_duplicate(self, candidate_id: int, behaviour_hash: str) -> None:
        """A pending candidate that behaves like an evaluated one: a duplicate, linked to the first."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE candidates SET status='duplicate', duplicate_reason='behaviour', behaviour_hash=?,"
                " duplicate_of=(SELECT MIN(id) FROM candidates WHERE behaviour_hash=? AND status='evaluated')"
                " WHERE id=?",
                (behaviour_hash, behaviour_hash, candidate_id),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)

    # -- reads ------------------------------------------------------------
    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for row in self._conn.execute("SELECT kind, payload FROM events ORDER BY id"):
            yield row["kind"], json.loads(row["payload"])

    def pending_candidates(self) -> list[tuple[int, str, int | None]]:
        """Candidates parsed but not yet evaluated: what a resume evaluates first."""
        rows = self._conn.execute(
            "SELECT id, code, island_id FROM candidates WHERE status='pending' ORDER BY id"
        )
        return [(r["id"], r["code"], r["island_id"]) for r in rows]

    def known_hashes(self) -> list[str]:
        """The hash of every candidate with code: what dedup must remember, as the run did (a behaviour
        duplicate's own code too, so that its copies stay code duplicates after a resume)."""
        rows = self._conn.execute("SELECT DISTINCT code_hash FROM candidates WHERE code_hash IS NOT NULL")
        return [r[0] for r in rows]

    def known_behaviours(self) -> list[str]:
        """The fingerprint of every evaluated candidate that has one: what behaviour dedup remembers."""
        rows = self._conn.execute(
            "SELECT DISTINCT behaviour_hash FROM candidates"
            " WHERE behaviour_hash IS NOT NULL AND status = 'evaluated'"
        )
        return [r[0] for r in rows]

    def prompt_batches(self) -> list[tuple[tuple[int, ...], int]]:
        """Per stored prompt, in order: (parent ids, duplicates of either reason)."""
        rows = self._conn.execute(
            "SELECT p.parent_ids, SUM(c.status = 'duplicate')"
            " FROM prompts p JOIN samples s ON s.prompt_id = p.id JOIN candidates c ON c.sample_id = s.id"
            " GROUP BY p.id ORDER BY p.id"
        )
        return [(tuple(json.loads(r[0])), r[1] or 0) for r in rows]

    def duplicate_reasons(self) -> dict[str, int]:
        """Duplicates by why they are ones: 'code' (normalized code) or 'behaviour' (fingerprint)."""
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(candidates)")}
        reason = "COALESCE(duplicate_reason, 'code')" if "duplicate_reason" in columns else "'code'"
        rows = self._conn.execute(
            f"SELECT {reason}, COUNT(*) FROM candidates WHERE status = 'duplicate' GROUP BY 1 ORDER BY 1"
        )
        return {r[0]: r[1] for r in rows}

    def duplicate_completion_tokens(self) -> int:
        """Tokens the LLM generated for samples that came back as duplicates (all of them: token_totals)."""
        return self._conn.execute(
            "SELECT COALESCE(SUM(completion_tokens), 0) FROM samples"
            " WHERE id IN (SELECT sample_id FROM candidates WHERE status = 'duplicate')"
        ).fetchone()[0]

    def most_repeated(self, limit: int = 3) -> list[tuple[int, str, bool]]:
        """The programs most often given again, as (duplicates of it, its code, whether it is the seed)."""
        rows = self._conn.execute(
            "SELECT COUNT(*), d.code, d.sample_id IS NULL"
            " FROM candidates c JOIN candidates d ON d.id = c.duplicate_of WHERE c.status = 'duplicate'"
            " GROUP BY c.duplicate_of ORDER BY 1 DESC, c.duplicate_of LIMIT ?",
            (limit,),
        )
        return [(r[0], r[1], bool(r[2])) for r in rows]

    def mean_evaluation_seconds(self) -> float | None:
        """What scoring a candidate has taken in this run so far (the seed's alone in a new run)."""
        return self._conn.execute("SELECT AVG(seconds) FROM evaluations").fetchone()[0]

    def count(self, table: str, where: str = "1") -> int:
        assert table in RUN_TABLES
        return self._conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}").fetchone()[0]

    def programs(self, only_ok: bool = True) -> list[StoredProgram]:
        sql = (
            "SELECT c.id, c.code, e.score, c.island_id, e.created FROM evaluations e"
            " JOIN candidates c ON c.id = e.candidate_id"
        )
        if only_ok:
            sql += " WHERE e.ok = 1"
        rows = self._conn.execute(sql + " ORDER BY e.created, c.id")
        return [StoredProgram(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def score_history(self) -> list[tuple[int, float | None]]:
        """(samples drawn so far, score) per evaluated candidate, in evaluation order."""
        rows = self._conn.execute(
            "SELECT c.sample_id, e.score FROM evaluations e JOIN candidates c"
            " ON c.id = e.candidate_id ORDER BY e.created, c.id"
        )
        return [(r[0] or 0, r[1]) for r in rows]

    def details_of(self, candidate_id: int) -> dict[str, Any]:
        """What the candidate's kind recorded beyond scores (see Evaluation.details)."""
        row = self._conn.execute(
            "SELECT details FROM evaluations WHERE candidate_id=?", (candidate_id,)
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def trials_of(self, candidate_id: int) -> list[sqlite3.Row]:
        return list(
            self._conn.execute(
                "SELECT input_key, score, error, seconds FROM trials WHERE candidate_id=?"
                " ORDER BY rowid",
                (candidate_id,),
            )
        )

    def sample_timings(self) -> list[tuple[float, float | None]]:
        """(recorded, request latency in seconds) per sample: when the LLM was busy."""
        return [(r[0], r[1]) for r in self._conn.execute("SELECT created, latency_seconds FROM samples")]

    def token_totals(self) -> tuple[int, int]:
        row = self._conn.execute(
            "SELECT COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0) FROM samples"
        ).fetchone()
        return int(row[0]), int(row[1])

    def strategy_tallies(self, sign: float) -> dict[str, StrategyTally]:
        """Per prompt strategy, what its samples became; an improvement is a valid child beating
        its best parent (`sign` +1 when higher scores are better). The `mix` bandit's state."""
        return {strategy: tally for (strategy,), tally in self._tallies(sign, ("strategy",)).items()}

    def arm_tallies(self, sign: float) -> dict[tuple[str, str | None], StrategyTally]:
        """The same per (strategy, backend label): the bandit's state when a run has several backends."""
        return self._tallies(sign, ("strategy", "llm"))  # type: ignore[return-value]

    def _tallies(self, sign: float, columns: tuple[str, ...]) -> dict[tuple, StrategyTally]:
        defaults = {"strategy": "'funsearch'", "llm": "NULL"}  # a run from before the column, read as is
        groups = [f"s.{c}" if self._has_column("samples", c) else defaults[c] for c in columns]
        keys = ", ".join(f"{group} AS {column}" for group, column in zip(groups, columns, strict=True))
        rows = self._conn.execute(
            f"SELECT {keys}, COUNT(*), SUM(c.code IS NOT NULL), SUM(c.status = 'duplicate'),"
            " SUM(COALESCE(e.ok, 0)), SUM(COALESCE(e.ok = 1 AND e.score * :sign > ("
            "   SELECT MAX(p.score * :sign) FROM json_each(c.parent_ids) j"
            "   JOIN evaluations p ON p.candidate_id = j.value WHERE p.ok = 1), 0))"
            " FROM samples s JOIN candidates c ON c.sample_id = s.id"
            f" LEFT JOIN evaluations e ON e.candidate_id = c.id GROUP BY {', '.join(columns)}"
            f" ORDER BY {', '.join(columns)}",
            {"sign": sign},
        )
        width = len(columns)
        return {tuple(r[:width]): StrategyTally(*(int(v or 0) for v in r[width:])) for r in rows}

    def _has_column(self, table: str, column: str) -> bool:
        """False only for a run made before the column existed, read without migrating it (`show`)."""
        return column in {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}

    def recent_errors(self, parent_ids: Sequence[int], limit: int = 3) -> list[str]:
        """The latest distinct reasons children of these parents failed (parse or evaluation)."""
        if not parent_ids:
            return []
        marks = ",".join("?" * len(parent_ids))
        rows = self._conn.execute(
            "SELECT COALESCE(e.error, c.parse_error) AS why FROM candidates c"
            " LEFT JOIN evaluations e ON e.candidate_id = c.id"
            " WHERE why IS NOT NULL AND why NOT LIKE 'LLM request failed%' AND EXISTS"
            f" (SELECT 1 FROM json_each(c.parent_ids) j WHERE j.value IN ({marks}))"
            " GROUP BY why ORDER BY MAX(c.id) DESC LIMIT ?",
            (*parent_ids, limit),
        )
        return [r[0] for r in rows]

    def error_counts(self, limit: int = 8) -> list[tuple[str, int]]:
        rows = self._conn.execute(
            "SELECT COALESCE(e.error, c.parse_error) AS why, COUNT(*) FROM candidates c"
            " LEFT JOIN evaluations e ON e.candidate_id = c.id"
            " WHERE why IS NOT NULL GROUP BY why ORDER BY COUNT(*) DESC LIMIT ?",
            (limit,),
        )
        return [(r[0], r[1]) for r in rows]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: type | None, *_: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _status(candidate: Candidate, duplicate: bool) -> str:
    if candidate.code is None:
        return "unparsed"
    return "duplicate" if duplicate else "pending"
