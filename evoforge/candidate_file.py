"""Read a hand-written candidate from a file for `evoforge evaluate`.

The file goes through the same path as an LLM's sample
(`code_text.candidate_function`): the evolved function is chosen, and the
imports, helpers and constants it uses are kept, so a candidate scores the
same whether it is written with a helper or inlined.
"""

from __future__ import annotations

from pathlib import Path

from evoforge.code_text import CodeTextError, candidate_function
from evoforge.source_text import parse_python, read_utf8
from evoforge.spec import ProblemSpec
from evoforge.spec_errors import SpecError

WHAT = "the candidate"


def read_candidate_function(path: Path, spec: ProblemSpec) -> str:
    """The function to run: `spec.evolve_name` (or `..._vK`) in the file, or its only function."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such candidate file.")
    source = read_utf8(path, WHAT)
    tree = parse_python(source, path, WHAT)
    try:
        return candidate_function(source, tree, spec)
    except CodeTextError as error:
        raise SpecError(
            f"{path}:{error.line or 1}: {error.reason}; the file must define {spec.evolve_name}() "
            "(or hold exactly one function), with what it uses defined in the file or the spec."
        ) from None
