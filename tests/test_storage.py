"""The run's SQLite file: what goes in comes back, atomically."""

import sqlite3
from pathlib import Path

import pytest

from evoforge.records import Candidate, Completion, Evaluation, Prompt, TrialResult
from evoforge.storage import RunStorage

PROMPT = Prompt(island_id=3, parent_ids=(1, 2), parent_codes=("a", "b"), parent_scores=(1.0, 2.0),
                version_generated=2)


def _batch(storage: RunStorage) -> list[int]:
    completions = [Completion(text=f"raw {i}", model="m", prompt_tokens=10, completion_tokens=i)
                   for i in range(3)]
    candidates = [Candidate("def f(): return 1\n", "h1"), Candidate(None, None, "no function"),
                  Candidate("def f(): return 1\n", "h1")]
    return storage.record_batch(PROMPT, "prompt text", completions, candidates, [False, False, True])


def test_batch_stores_prompt_samples_and_candidate_statuses(tmp_path: Path) -> None:
    storage = RunStorage(tmp_path / "run.db")
    ids = _batch(storage)
    assert len(ids) == 3
    assert storage.count("prompts") == 1 and storage.count("samples") == 3
    query = "SELECT status, duplicate_of FROM candidates ORDER BY id"
    rows = [tuple(r) for r in storage._conn.execute(query)]
    assert rows == [("pending", None), ("unparsed", None), ("duplicate", ids[0])]
    assert storage.token_totals() == (30, 3)


def test_pending_candidates_are_those_without_evaluation(tmp_path: Path) -> None:
    storage = RunStorage(tmp_path / "run.db")
    first, _, _ = _batch(storage)
    assert [c[0] for c in storage.pending_candidates()] == [first]
    evaluation = Evaluation(trials=(TrialResult("a", 1.0), TrialResult("b", 3.0)))
    storage.record_evaluation(first, evaluation, 2.0, events=[("register", {"program_id": first})])
    assert storage.pending_candidates() == []
    assert [(k, p) for k, p in storage.events()] == [("register", {"program_id": first})]
    trials = [tuple(r) for r in storage.trials_of(first)]
    assert trials == [("a", 1.0, None, 0.0), ("b", 3.0, None, 0.0)]


def test_data_survives_reopen_and_readonly_view(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    storage = RunStorage(path)
    seed = storage.add_seed_candidate("def f(): return 0\n", "h0")
    storage.set_meta("config", {"samples": 5})
    storage.close()
    view = RunStorage(path, readonly=True)
    assert view.meta("config") == {"samples": 5}
    assert view.pending_candidates()[0][0] == seed
    assert view.known_hashes() == ["h0"]


def test_failed_transaction_leaves_no_partial_rows(tmp_path: Path) -> None:
    storage = RunStorage(tmp_path / "run.db")
    candidates = [Candidate("def f(): pass\n", "h")]
    with pytest.raises(ValueError):
        storage.record_batch(PROMPT, "p", [Completion("x", "m")], candidates, [])  # length mismatch
    assert storage.count("prompts") == 0 and storage.count("samples") == 0


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    RunStorage(tmp_path / "run.db").close()
    mode = sqlite3.connect(tmp_path / "run.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_copy_of_a_behaviour_duplicate_links_to_it(tmp_path: Path) -> None:
    storage = RunStorage(tmp_path / "run.db")
    first, _, copy = _batch(storage)
    storage.record_behaviour_duplicate(first, "fingerprint")
    again = storage.record_batch(PROMPT, "prompt text", [Completion("raw", "m")],
                                 [Candidate("def f(): return 1\n", "h1")], [True])
    query = "SELECT duplicate_of FROM candidates WHERE id IN (?, ?)"
    assert [r[0] for r in storage._conn.execute(query, (copy, again[0]))] == [first, first]
