"""Where the published data sets are found by default: one setting, `EVOFORGE_DATA`.

Default: `../shared/data` next to the repository root (`/work/shared/data`
for a checkout at `/work/main`); a relative value is taken from the
repository root too. Built-in problems that read a published set by path
(`integration`, `lean_core`) start from here unless `--dataset` names one;
tests and bench scripts use it through `tests/data_paths.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = "../shared/data"


def published_data_dir() -> Path:
    """The folder `EVOFORGE_DATA` names (or the default), resolved against the repository root."""
    return (REPO / os.environ.get("EVOFORGE_DATA", DEFAULT)).resolve()
