"""Inputs for circle packing: the number of circles.

A construction problem has no instances to hold out: the target is n = 26,
so training and test both score n = 26, and the test split exists to re-score
the reported programs afresh. A dataset file can name other counts.
"""

from __future__ import annotations

from pathlib import Path


def train() -> dict[str, int]:
    return {"n26": 26}


def test() -> dict[str, int]:
    return {"n26": 26}


def dataset(path: Path) -> dict[str, int]:
    """A file of circle counts, one whole number per line or comma-separated."""
    text = Path(path).read_text().replace(",", " ")
    return {f"n{int(word)}": int(word) for word in text.split()}
