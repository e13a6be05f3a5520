"""Where a problem's surrogate data and checkpoints live: the user's cache, never the repository.

`~/.cache/evoforge/surrogates/PROBLEM/` (XDG_CACHE_HOME is honoured, and
EVOFORGE_SURROGATES moves the whole folder, e.g. for tests). A run keeps its
own fine-tuned checkpoints in its run directory instead (see `cascade.py`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from evoforge.agents.llama_server import cache_root

DATA_FILE = "data.npz"
MODEL_FILE = "model.pt"


def surrogate_root() -> Path:
    override = os.environ.get("EVOFORGE_SURROGATES")
    return Path(override) if override else cache_root() / "surrogates"


def problem_dir(problem: str) -> Path:
    return surrogate_root() / problem


def data_path(problem: str) -> Path:
    return problem_dir(problem) / DATA_FILE


def model_path(problem: str) -> Path:
    return problem_dir(problem) / MODEL_FILE


def array_hash(*arrays: np.ndarray) -> str:
    """A short content hash of training arrays: what a checkpoint records it was trained on."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
