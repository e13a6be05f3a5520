"""An OpenEvolve program's EVOLVE-BLOCK: what evolves, and the program around it.

An OpenEvolve problem folder holds `initial_program.py`, whose code between
`# EVOLVE-BLOCK-START` and `# EVOLVE-BLOCK-END` is what the LLM rewrites (any
number of functions, classes and constants), and `evaluator.py`, whose
`evaluate(program_path)` scores the whole program. A candidate is the block's
text; the program that runs is `before + block + after`.

Everything here is read back from the spec's generated source
(`evoforge.openevolve_folder.spec_source`), the one text a run stores, so a
resumed run uses the program and evaluator it was started with.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from typing import Any

from evoforge.code_text import CodeTextError

OPENEVOLVE_KIND = "openevolve"
START_MARKER = "EVOLVE-BLOCK-START"
END_MARKER = "EVOLVE-BLOCK-END"
SANDBOX_FUNCTION = "evolve_block"  # the spec's evolved name: returns the candidate's block text
SPEC_CONSTANTS = ("PROGRAM_BEFORE", "PROGRAM_AFTER", "EVALUATOR_SOURCE", "EVALUATOR_PATH", "REQUIRED_NAMES")


@dataclass(frozen=True)
class BlockProgram:
    """The program around the block, the evaluator's text, and the names a block must define."""

    before: str  # initial_program.py up to and including the START marker line
    after: str  # from the END marker line to the end
    evaluator_source: str
    evaluator_path: str
    required_names: tuple[str, ...]  # defined by the seed block and used by the program or evaluator

    def program(self, block: str) -> str:
        """The full program text with `block` in place of the seed's."""
        return self.before + block.rstrip("\n") + "\n" + self.after

    def context(self) -> str:
        """The program as the LLM sees it: the block replaced by one line saying it goes there."""
        return (self.before + "# ... the code being evolved goes here ...\n" + self.after).strip("\n")


def split_program(text: str, where: str) -> tuple[str, str, str]:
    """(before, block, after) of a program with exactly one marked block; CodeTextError otherwise."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _is_marker(line, START_MARKER)]
    ends = [i for i, line in enumerate(lines) if _is_marker(line, END_MARKER)]
    if len(starts) != 1 or len(ends) != 1:
        found = f"{len(starts)} START and {len(ends)} END marker(s)"
        line = (starts or ends or [0])[-1] + 1
        raise CodeTextError(
            f"{where} needs exactly one `# {START_MARKER}` line and one `# {END_MARKER}` line ({found})", line
        )
    start, end = starts[0], ends[0]
    if end < start:
        raise CodeTextError(f"{where}: `# {END_MARKER}` comes before `# {START_MARKER}`", end + 1)
    return "".join(lines[: start + 1]), "".join(lines[start + 1 : end]), "".join(lines[end:])


def _is_marker(line: str, marker: str) -> bool:
    return line.lstrip().startswith("#") and marker in line


def top_level_names(tree: ast.Module) -> list[str]:
    """Functions, classes and assigned names a block defines at its top level."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return list(dict.fromkeys(names))


def required_names(seed_block: str, rest_of_program: str, evaluator_source: str) -> tuple[str, ...]:
    """The seed block's names that the code around it or the evaluator mentions: candidates must keep them."""
    around = rest_of_program + "\n" + evaluator_source
    names = top_level_names(ast.parse(seed_block))
    return tuple(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}\b|\.{re.escape(n)}\b", around))


def block_candidate(source: str, program: BlockProgram) -> str:
    """The block a text holds (between the markers if it has them, else all of it), checked.

    It must parse and define every required name (the rest of the program or
    the evaluator calls them); it is kept as written, not renamed or rearranged.
    """
    lines = source.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _is_marker(line, START_MARKER)]
    lines = lines[starts[-1] + 1 :] if starts else lines
    ends = [i for i, line in enumerate(lines) if _is_marker(line, END_MARKER)]
    source = "".join(lines[: ends[0]] if ends else lines)
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise CodeTextError(f"syntax error: {error.msg} (line {error.lineno})", error.lineno) from None
    if not tree.body:
        raise CodeTextError("the block is empty")
    defined = set(top_level_names(tree)) | _imported_names(tree)
    missing = [name for name in program.required_names if name not in defined]
    if missing:
        raise CodeTextError(
            f"the block must still define {', '.join(missing)} (the program or its evaluator uses "
            f"{'it' if len(missing) == 1 else 'them'})"
        )
    return source.strip("\n") + "\n"


def _imported_names(tree: ast.Module) -> set[str]:
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return {(a.asname or a.name).split(".")[0] for n in imports for a in n.names}


def sandbox_code(block: str) -> str:
    """What the sandbox runs for a candidate block: `evolve_block()` returning its text.

    The text travels hex-encoded, so the harness's check of string constants does
    not misread identifiers inside it; the block itself is checked as code
    (`sandboxes.guard.reject_escape_hatches`) by the evaluator before it is sent.
    """
    return f'def {SANDBOX_FUNCTION}():\n    return bytes.fromhex("{block.encode().hex()}").decode()\n'


@functools.lru_cache(maxsize=8)
def spec_candidate(source: str, tree: object, spec: Any) -> str:
    """The `candidate_function` kind hook: an OpenEvolve candidate is its block, checked."""
    return block_candidate(source, block_program(spec.source))


def block_program(spec_source: str) -> BlockProgram:
    """The parts stored as string constants in a generated OpenEvolve spec (see openevolve_folder)."""
    values: dict[str, object] = {}
    for node in ast.parse(spec_source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id in SPEC_CONSTANTS:
            values[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
    missing = [name for name in SPEC_CONSTANTS if name not in values]
    if missing:
        raise ValueError(f"not a generated OpenEvolve spec: it lacks {', '.join(missing)}")
    return BlockProgram(
        before=str(values["PROGRAM_BEFORE"]), after=str(values["PROGRAM_AFTER"]),
        evaluator_source=str(values["EVALUATOR_SOURCE"]), evaluator_path=str(values["EVALUATOR_PATH"]),
        required_names=tuple(values["REQUIRED_NAMES"]),  # type: ignore[arg-type]
    )  # fmt: skip
