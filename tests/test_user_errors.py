"""Which errors are the user's (one sentence) and which are bugs (None: the traceback stays)."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from evoforge.agents.base import LLMUnavailable
from evoforge.spec_errors import SpecError
from evoforge.storage import RunStorage
from evoforge.user_errors import user_error_sentence


def sqlite_error(sql: str, db: Path | str = ":memory:") -> sqlite3.DatabaseError:
    """A real error from SQLite, with its error code, raised by running `sql`."""
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(db).execute(sql)
    return caught.value


def full_disk_error(tmp_path: Path) -> sqlite3.DatabaseError:
    """SQLITE_FULL for real: the file may not grow past its page limit."""
    conn = sqlite3.connect(tmp_path / "small.db")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    return caught.value


def ray_wrapped(error: BaseException) -> BaseException:
    """The error as a driver receives it from an actor: Ray's task error, an instance of both."""
    from ray.exceptions import RayTaskError

    return RayTaskError("EvaluatorActor.evaluate", "remote traceback", error).as_instanceof_cause()


@pytest.mark.parametrize("bug", [
    KeyError("x"), TypeError("bad call"), ValueError("x"), AssertionError(),
    sqlite_error("SELECT nope FROM sqlite_master"),
])
def test_bugs_get_no_sentence_and_keep_their_traceback(bug: BaseException) -> None:
    assert user_error_sentence(bug) is None


def test_a_bug_inside_an_actor_stays_a_bug_and_a_user_error_keeps_its_sentence() -> None:
    assert user_error_sentence(ray_wrapped(KeyError("x"))) is None
    assert user_error_sentence(ray_wrapped(SpecError("p.toml:3: fix it."))) == "p.toml:3: fix it."


def test_spec_and_llm_errors_are_their_own_sentence() -> None:
    assert user_error_sentence(SpecError("p.toml:3: fix it.")) == "p.toml:3: fix it."
    assert user_error_sentence(LLMUnavailable("start the server.")) == "start the server."


def test_sqlite_full_names_the_run_file_and_how_to_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    storage = RunStorage(run_dir / "evoforge.db")
    storage.set_meta("config", {"problem": "bin_packing"})
    storage.close()
    sentence = user_error_sentence(full_disk_error(tmp_path), run_dir)
    assert sentence == (f"the disk holding {run_dir}/evoforge.db is full; free some space, then continue "
                        f"with `evoforge resume {run_dir}` (everything stored so far is kept).")


def test_full_disk_before_the_run_stored_its_settings_says_start_again(tmp_path: Path) -> None:
    sentence = user_error_sentence(full_disk_error(tmp_path), tmp_path / "run")
    assert sentence is not None and "start the run again" in sentence and "resume" not in sentence


def test_full_disk_inside_an_actor_reads_the_same(tmp_path: Path) -> None:
    error = full_disk_error(tmp_path)
    assert user_error_sentence(ray_wrapped(error), tmp_path) == user_error_sentence(error, tmp_path)


def test_enospc_from_a_plain_write_names_the_file() -> None:
    error = OSError(errno.ENOSPC, "No space left on device", "/data/plot.png")
    sentence = user_error_sentence(error)
    assert sentence == "the disk holding /data/plot.png is full; free some space, then try again."


def test_damaged_file_error_names_the_run_file(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_text("not sqlite" * 500)
    sentence = user_error_sentence(sqlite_error("SELECT 1 FROM meta", tmp_path / "junk.db"), tmp_path)
    assert sentence is not None and sentence.startswith(f"{tmp_path}/evoforge.db cannot be read as a run")


def test_os_file_errors_name_the_file() -> None:
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/such")
    assert user_error_sentence(missing) == "/no/such: No such file or directory."
    denied = PermissionError(errno.EACCES, "Permission denied", "/root/x.png")
    sentence = user_error_sentence(denied)
    assert sentence == "cannot use /root/x.png: Permission denied; choose a path you can write to."
