"""What `evoforge show` adds for a surrogate-screened run: fidelity figures and the best design's plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evoforge.records import Direction
from evoforge.storage import RunStorage
from evoforge.surrogates.fidelity import ScreenTally, max_version

VERSION_KEY = "surrogate_version"


def run_fidelity(storage: RunStorage, direction: Direction,
                 tally: ScreenTally | None = None) -> dict[str, Any]:
    """Fidelity of the run's screen on its re-checked candidates ({} for runs with no screen).

    A `tally` given is filled with the stored evaluations, so a resumed run's
    progress line goes on counting from them.
    """
    tally = tally or ScreenTally(direction.sign)
    figures: dict[str, Any] = {}
    for program in storage.programs(only_ok=False):
        details = storage.details_of(program.candidate_id)
        if "screen" in details:
            figures = {**tally.add(details, program.score), "screen": details["screen"]}
    version = max_version(figures.get("surrogate_version"), storage.meta(VERSION_KEY))
    return {**figures, "surrogate_version": version} if version is not None else figures


def keep_newest_version(storage: RunStorage, version: int | None) -> None:
    """Record in the run's meta table the newest surrogate version an evaluation reported.

    The checkpoint in RUN_DIR/surrogate/ is the model; this is the database's
    record of it. Written after each evaluation, and mended from the stored
    evaluations when a run is reopened (a kill -9 between the two writes).
    """
    if version is not None and version > storage.meta(VERSION_KEY, -1):
        storage.set_meta(VERSION_KEY, version)


def plot_best_design(run_dir: Path, candidate_id: int, problem: str, out: Path) -> Path | None:
    """The best candidate's design field and its exact solution, as a PNG (None if it stored no design)."""
    from evoforge.surrogates.data import problem_physics

    storage = RunStorage.open_run(run_dir)
    try:
        design = storage.details_of(candidate_id).get("design")
    finally:
        storage.close()
    if design is None:
        return None
    physics = problem_physics(problem)
    design = np.asarray(design, dtype=float)
    solution = physics.solve(design[None])[0]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    if physics.dims == 1:
        target = getattr(physics, "target", None)
        axes[0].plot(design)
        axes[1].plot(solution, label="design's state")
        if target is not None:
            axes[1].plot(target, "--", label="observed")
        axes[1].legend()
    else:
        for ax, field in zip(axes, (design, solution), strict=True):
            fig.colorbar(ax.imshow(field, origin="lower", extent=(0, 1, 0, 1)), ax=ax)
    axes[0].set_title(f"best design (candidate {candidate_id})")
    axes[1].set_title("exact solution")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
