"""FunSearch's programs database: islands, clusters, Boltzmann sampling, resets, dedup.

Pure Python and numpy: no Ray, no LLM, no storage. The caller persists the
events (registrations and `ResetEvent`s) and replays them on resume.
"""

from evoforge.database.cluster import Cluster, Program
from evoforge.database.config import ProgramsDatabaseConfig
from evoforge.database.island import Island
from evoforge.database.programs_database import IslandSummary, ProgramsDatabase, ResetEvent
from evoforge.database.sampling import Signature

__all__ = [
    "Cluster",
    "Island",
    "IslandSummary",
    "Program",
    "ProgramsDatabase",
    "ProgramsDatabaseConfig",
    "ResetEvent",
    "Signature",
]
