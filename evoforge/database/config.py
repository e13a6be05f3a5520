"""The database's knobs, with FunSearch's defaults where they make sense on a CPU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgramsDatabaseConfig:
    """Settings of the islands.

    `reset_period_programs` replaces FunSearch's wall-clock reset period: the
    weaker half of the islands is reset after every that many registrations,
    so a run replayed from storage resets at exactly the same points.
    """

    functions_per_prompt: int = 2
    num_islands: int = 10
    reset_period_programs: int = 200
    cluster_sampling_temperature_init: float = 0.1
    cluster_sampling_temperature_period: int = 30_000
    # Temperatures act on cluster scores rescaled to [0, 1] per island (see
    # sampling.spread_normalized); False gives FunSearch's raw-score softmax.
    scale_free_temperature: bool = True

    def __post_init__(self) -> None:
        for name in ("functions_per_prompt", "num_islands", "reset_period_programs",
                     "cluster_sampling_temperature_period"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"database setting {name} must be a whole number >= 1, got {value!r}.")
        init = self.cluster_sampling_temperature_init
        if not isinstance(init, int | float) or not 0 < init < float("inf"):
            raise ValueError(
                f"database setting cluster_sampling_temperature_init must be a positive number, got {init!r}."
            )
