"""Programs that scored identically on every input, and how one of them is picked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evoforge.database.sampling import Signature, softmax


@dataclass(frozen=True)
class Program:
    """A scored program as the database keeps it; `program_id` is the caller's storage id."""

    program_id: int
    code: str
    signature: Signature
    score: float


class Cluster:
    """A cluster of programs on one island sharing one signature."""

    def __init__(self, score: float, program: Program) -> None:
        self._score = score
        self._programs: list[Program] = [program]
        self._lengths: list[int] = [len(program.code)]

    @property
    def score(self) -> float:
        """Reduced score of the signature this cluster stands for."""
        return self._score

    @property
    def programs(self) -> tuple[Program, ...]:
        return tuple(self._programs)

    def register_program(self, program: Program) -> None:
        self._programs.append(program)
        self._lengths.append(len(program.code))

    def length_probabilities(self) -> np.ndarray:
        """Shorter programs are likelier: softmax over negative normalised lengths at temperature 1."""
        lengths = np.asarray(self._lengths, dtype=np.float64)
        normalized = (lengths - lengths.min()) / (lengths.max() + 1e-6)
        return softmax(-normalized, temperature=1.0)

    def sample_program(self, rng: np.random.Generator) -> Program:
        return self._programs[int(rng.choice(len(self._programs), p=self.length_probabilities()))]
