"""Inputs for cap sets: the dimension n.

Evolution sees n = 4, 5, 6 (best known 20, 45, 112); reports use the
held-out n = 7, 8 (best known 236, 512, the latter found by FunSearch).
"""

from __future__ import annotations

from pathlib import Path


def train() -> dict[str, int]:
    return {f"n{n}": n for n in (4, 5, 6)}


def test() -> dict[str, int]:
    return {f"n{n}": n for n in (7, 8)}


def dataset(path: Path) -> dict[str, int]:
    """A file of dimensions, one whole number per line or comma-separated."""
    text = Path(path).read_text().replace(",", " ")
    return {f"n{int(word)}": int(word) for word in text.split()}
