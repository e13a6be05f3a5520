"""Dedup: a candidate whose normalized code was seen is not evaluated again."""

from evoforge.code_text import code_hash
from evoforge.database import ProgramsDatabase


def test_a_seen_normalized_code_hash_is_a_duplicate() -> None:
    db = ProgramsDatabase()
    original = "def priority(x):\n    return x + 1\n"
    reformatted = 'def priority_v2(x):\n    """Better."""\n    # comment\n    return x+1\n'
    assert not db.seen(code_hash(original))
    db.remember(code_hash(original))
    assert db.seen(code_hash(reformatted))


def test_check_and_remember_admits_a_hash_once() -> None:
    db = ProgramsDatabase()
    assert [db.check_and_remember(h) for h in ("a", "b", "a", "b", "c")] == [True, True, False, False, True]
