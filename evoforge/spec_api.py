"""Decorators that mark a problem spec's evolved function and its entry point.

They are identity functions: the loader finds them by reading the source, so a
spec behaves the same whether it is run directly, loaded by evoforge, or
executed inside a sandboxed child.
"""

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def evolve(function: F) -> F:
    """Mark the function the LLM rewrites."""
    return function


def run(function: F) -> F:
    """Mark the entry point that scores the evolved function on one input."""
    return function
