"""evoforge: an LLM-agent discovery toolkit in the FunSearch family.

The import is kept light on purpose: sandboxed children and Ray workers import
`evoforge` too, and they must not pay for Ray, torch or the LLM clients.
"""

from evoforge.spec_api import evolve, run

__all__ = ["evolve", "run"]
__version__ = "0.1.0"
