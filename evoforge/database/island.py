"""One sub-population: clusters by signature, Boltzmann sampling over them."""

from __future__ import annotations

import numpy as np

from evoforge.database.cluster import Cluster, Program
from evoforge.database.sampling import Signature, sample_distinct, softmax, spread_normalized, temperature


class Island:
    """A sub-population of the database that evolves on its own until a reset."""

    def __init__(
        self, functions_per_prompt: int, temperature_init: float, temperature_period: int,
        scale_free: bool = True,
    ) -> None:
        self._functions_per_prompt = functions_per_prompt
        self._scale_free = scale_free
        self._temperature_init = temperature_init
        self._temperature_period = temperature_period
        self._clusters: dict[Signature, Cluster] = {}
        self._num_programs = 0
        self._best: Program | None = None

    @property
    def num_programs(self) -> int:
        return self._num_programs

    @property
    def clusters(self) -> dict[Signature, Cluster]:
        return dict(self._clusters)

    @property
    def best(self) -> Program | None:
        """The first program to reach the island's highest score."""
        return self._best

    @property
    def temperature(self) -> float:
        return temperature(self._temperature_init, self._temperature_period, self._num_programs)

    def register_program(self, program: Program) -> None:
        """Store `program` in the cluster of its signature."""
        cluster = self._clusters.get(program.signature)
        if cluster is None:
            self._clusters[program.signature] = Cluster(program.score, program)
        else:
            cluster.register_program(program)
        self._num_programs += 1
        if self._best is None or program.score > self._best.score:
            self._best = program

    def cluster_probabilities(self) -> dict[Signature, float]:
        """Boltzmann probability of each cluster being drawn first, at the current temperature."""
        scores = self._logits(list(self._clusters.values()))
        return dict(zip(self._clusters, softmax(scores, self.temperature).tolist(), strict=True))

    def _logits(self, clusters: list[Cluster]) -> list[float]:
        scores = [cluster.score for cluster in clusters]
        return spread_normalized(scores) if self._scale_free else scores

    def get_parents(self, rng: np.random.Generator) -> list[Program]:
        """Programs from distinct clusters for one prompt, sorted by score ascending.

        Ascending order puts the best program last, right before the version
        the LLM is asked to write, as FunSearch's prompts do.
        """
        clusters = list(self._clusters.values())
        chosen = sample_distinct(rng, self._logits(clusters), self.temperature, self._functions_per_prompt)
        parents = [clusters[i].sample_program(rng) for i in chosen]
        return sorted(parents, key=lambda program: program.score)
