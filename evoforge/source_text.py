"""Reading a file a user wrote (a spec, problem.toml, a candidate) into text and a syntax tree.

Whatever is wrong with it (not UTF-8, a NUL byte, a syntax error) becomes one
`SpecError` naming the file and the line where it is, so the command line can
print one sentence instead of a decoder's or the parser's traceback.
"""

from __future__ import annotations

import ast
from pathlib import Path

from evoforge.spec_errors import SpecError


def read_utf8(path: Path, what: str) -> str:
    """The file's text; `what` ("the spec", "the candidate") names it in the fix."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SpecError(
            f"{path}:{line}: not UTF-8 text (byte {data[error.start]:#04x} cannot be decoded: "
            f"{error.reason}); {what} must be text saved as UTF-8, not a binary file."
        ) from None


def parse_python(source: str, path: Path, what: str) -> ast.Module:
    """The module's syntax tree, or one sentence saying which line does not parse."""
    if "\0" in source:
        line = source.count("\n", 0, source.index("\0")) + 1
        raise SpecError(
            f"{path}:{line}: a NUL byte in the text; {what} must be Python source, not binary data."
        )
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise SpecError(
            f"{path}:{error.lineno or 1}: syntax error: {error.msg}. Fix {what} so Python can parse it."
        ) from None
