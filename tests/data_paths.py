"""Where the published data sets are, for tests and bench scripts: one setting, `EVOFORGE_DATA`.

Default: `../shared/data` next to the repository root (`/work/shared/data`
for a checkout at `/work/main`); a relative value is taken from the
repository root too. Production code never guesses: users pass `--dataset`.
A test that needs a missing set skips with the reason, except under `CI=true`,
where a missing data set is a failure (a CI run must not pass by skipping).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = "../shared/data"


def published_data_dir() -> Path:
    """The folder `EVOFORGE_DATA` names (or the default), resolved against the repository root."""
    return (REPO / os.environ.get("EVOFORGE_DATA", DEFAULT)).resolve()


def require_published(relative: str) -> Path:
    """`relative` inside the published data, or skip (fail under CI=true) saying where it was looked for."""
    import pytest  # here: bench scripts import this module without pytest

    path = published_data_dir() / relative
    if path.exists():
        return path
    reason = (f"published data {relative} not found at {path}; set EVOFORGE_DATA to the folder holding "
              "the shared data sets (see its README.md)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
