"""Fixtures shared by test files: the published data sets, found through `EVOFORGE_DATA`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.data_paths import require_published


@pytest.fixture(scope="session")
def binpack_dir() -> Path:
    """The published bin-packing sets (OR1-4, Weibull): skipped when absent, failed under CI=true."""
    return require_published("binpack/or3.json").parent


@pytest.fixture(scope="module")
def ray_session():
    """Ray for the runs a test module makes in-process, started the way `evoforge run` starts it."""
    import ray

    from evoforge.runtime.ray_session import start_ray

    environment = dict(os.environ)
    start_ray()
    yield
    ray.shutdown()
    # Ray leaves RAY_AUTH_MODE=token & co. in this process's environment, which every later
    # subprocess would inherit (a run joining a cluster with auth off then fails).
    os.environ.clear()
    os.environ.update(environment)
