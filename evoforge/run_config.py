"""One run's settings, stored in the run's database so `resume` needs nothing else."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunConfig:
    """What `evoforge run` was asked to do.

    `samples` counts LLM completions (the budget FunSearch reports); `minutes`
    bounds wall time across all sessions of the run, resumes included.
    """

    problem: str
    run_dir: Path
    samples: int = 200
    minutes: float | None = None
    seed: int = 0
    inputs_json: str | None = None
    dataset: str | None = None
    llm: dict[str, Any] = field(default_factory=dict)
    samplers: int = 2
    evaluators: int = 1
    samples_per_prompt: int = 4
    eval_queue_size: int = 16
    sandbox_mode: str = "fork"
    database: dict[str, Any] = field(default_factory=dict)
    address: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["run_dir"] = str(self.run_dir)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["run_dir"] = Path(values["run_dir"])
        return cls(**values)
