"""Symbolic expressions as candidates: LLM-SR-style equation skeletons and antiderivatives.

Two sides, kept apart on purpose:

- inside the sandbox (`fitting`, `symbolic`, `scoring`): the spec's trusted
  `@run` code calls the candidate, fits its constants with scipy, turns it into
  sympy, and decides recovery; nothing the LLM writes runs anywhere else;
- in trusted processes (`feynman`, `integrals`, `table`, `folders`): the
  equations, their sampled points and the generated problem folders.
"""
