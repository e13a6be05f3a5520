"""Published data sets for tests and bench scripts, found by `evoforge.data_paths` (`EVOFORGE_DATA`).

A test that needs a missing set skips with the reason, except under `CI=true`,
where a missing data set is a failure (a CI run must not pass by skipping).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

from evoforge.data_paths import REPO, published_data_dir

__all__ = ["REPO", "published_data_dir", "require_published"]


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


def needs_published(relative: str) -> pytest.MarkDecorator:
    """A mark that skips when `relative` is missing, except under CI=true (where the test then fails)."""
    import pytest

    path = published_data_dir() / relative
    missing = not path.exists() and os.environ.get("CI", "").lower() != "true"
    reason = f"published data {relative} not found at {path}; set EVOFORGE_DATA"
    return pytest.mark.skipif(missing, reason=reason)
