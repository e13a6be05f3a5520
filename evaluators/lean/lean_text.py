"""Reading Lean 4 text without Lean: comments out, tokens, declarations, statements.

Everything the acceptance rules can decide statically is decided on this reading:
comments and string contents are blanked (same length, so positions still point
into the original text), and a statement is compared as a parsed header (name,
binders one by one, type tokens with ASCII and Unicode spellings unified), so
`(a b : Nat) -> ...` and `(a : Nat) (b : Nat) → ...` are the same statement
while any change to a hypothesis or the conclusion is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENT = (
    r"(?:«[^»]*»|[A-Za-z_\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f𝒜-𝔷]"
    r"[\w'!?\u0370-\u03ff\u2080-\u209c\u1d62-\u1d6a]*)"
)
TOKEN = re.compile(rf"{IDENT}(?:\.{IDENT})*|\d+(?:\.\d+)?|<->|->|<-|<=|>=|!=|:=|/\\|\\/|\+\+|&&|\|\||==|\S")
SPELLINGS = {
    "->": "→",
    "<->": "↔",
    "<-": "←",
    "<=": "≤",
    ">=": "≥",
    "!=": "≠",
    "/\\": "∧",
    "\\/": "∨",
    "forall": "∀",
    "exists": "∃",
    "fun": "λ",
    "lemma": "theorem",
}
DECLARATION_KEYWORDS = {
    "theorem",
    "lemma",
    "def",
    "abbrev",
    "instance",
    "structure",
    "inductive",
    "class",
    "opaque",
    "axiom",
    "example",
}
MODIFIERS = {"private", "protected", "noncomputable", "partial", "nonrec", "unsafe"}
OPEN = {"(": ")", "{": "}", "[": "]", "⦃": "⦄", "⟨": "⟩"}


def blank_comments_and_strings(text: str, strings: bool = True) -> str:
    """The text with comments (and string contents, unless `strings` is False) replaced by spaces."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            _blank(out, i, end)
            i = end
        elif text.startswith("/-", i):
            end = _block_comment_end(text, i)
            _blank(out, i, end)
            i = end
        elif text[i] == '"':
            end = _string_end(text, i)
            if strings:
                _blank(out, i + 1, end - 1)
            i = end
        else:
            i += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "


def _block_comment_end(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text.startswith("/-", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("-/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)


def tokens(text: str) -> list[str]:
    """Tokens of already-blanked text, spellings unified (`->` is `→`, `lemma` is `theorem`)."""
    return [SPELLINGS.get(t, t) for t in TOKEN.findall(text)]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


@dataclass(frozen=True)
class Declaration:
    """A declaration found in blanked text: its keyword, name and where it starts."""

    keyword: str
    name: str
    start: int
    name_end: int


def declarations(blanked: str) -> list[Declaration]:
    """Every `theorem NAME`, `def NAME` ... in the text (attributes and modifiers before it included)."""
    spans = token_spans(blanked)
    found = []
    for k, (tok, start, _) in enumerate(spans):
        if tok in DECLARATION_KEYWORDS and k + 1 < len(spans):
            name, _, name_end = spans[k + 1] if tok != "example" else ("", start, start + len(tok))
            found.append(
                Declaration(SPELLINGS.get(tok, tok), name, _declaration_start(blanked, start), name_end)
            )
    return found


def _declaration_start(blanked: str, keyword_start: int) -> int:
    """Move back over modifiers and `@[...]` attributes on the same declaration."""
    start = keyword_start
    while True:
        before = blanked[:start].rstrip()
        word = re.search(r"(\w+)$", before)
        if word and word.group(1) in MODIFIERS:
            start = word.start(1)
            continue
        if before.endswith("]"):
            opening = before.rfind("@[")
            if opening >= 0 and "\n\n" not in before[opening:]:
                start = opening
                continue
        return start


def top_level_assign(blanked: str, start: int) -> int | None:
    """Index of the first `:=` after `start` outside brackets: where a statement ends."""
    depth = 0
    for tok, pos, _ in token_spans(blanked[start:]):
        if tok in OPEN:
            depth += 1
        elif tok in OPEN.values():
            depth -= 1
        elif tok == ":=" and depth == 0:
            return start + pos
    return None


@dataclass(frozen=True)
class Statement:
    """A theorem header as parsed: name, one entry per bound variable, the type's tokens."""

    name: str
    binders: tuple[tuple[str, str, tuple[str, ...]], ...]
    type_tokens: tuple[str, ...]

    def shown(self) -> str:
        binders = " ".join(f"{OPEN_OF.get(b, '(')}{v} : {' '.join(t)}{b}" for b, v, t in self.binders)
        return f"theorem {self.name} {binders} : {' '.join(self.type_tokens)}".replace("  ", " ")


OPEN_OF = {v: k for k, v in OPEN.items()}


class StatementError(ValueError):
    """The text is not a theorem header this reader understands; the message says why."""


def parse_statement(text: str) -> Statement:
    """Parse `[@[attr]] theorem NAME binders* : TYPE` (no `:=`)."""
    toks = tokens(blank_comments_and_strings(text, strings=False))
    k = _skip_attributes_and_modifiers(toks)
    if k >= len(toks) or toks[k] != "theorem" or k + 1 >= len(toks):
        raise StatementError(f"not a theorem statement: {text.strip()[:80]!r}")
    name, k = toks[k + 1], k + 2
    binders: list[tuple[str, str, tuple[str, ...]]] = []
    while k < len(toks) and toks[k] in OPEN and toks[k] != "⟨":
        close = _matching(toks, k)
        binders.extend(_split_binder(toks[k], toks[k + 1 : close]))
        k = close + 1
    if k >= len(toks) or toks[k] != ":":
        raise StatementError(f"no `:` before the statement's type in {text.strip()[:80]!r}")
    return Statement(name, tuple(binders), _strip_outer_parens(tuple(toks[k + 1 :])))


def _skip_attributes_and_modifiers(toks: list[str]) -> int:
    k = 0
    while k < len(toks):
        if toks[k] == "@" and k + 1 < len(toks) and toks[k + 1] == "[":
            k = _matching(toks, k + 1) + 1
        elif toks[k] in MODIFIERS:
            k += 1
        else:
            return k
    return k


def _matching(toks: list[str], k: int) -> int:
    depth = 0
    for j in range(k, len(toks)):
        if toks[j] in OPEN:
            depth += 1
        elif toks[j] in OPEN.values():
            depth -= 1
            if depth == 0:
                return j
    raise StatementError(f"unbalanced {toks[k]!r} in the statement")


def _split_binder(bracket: str, inner: list[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """`(a b : T)` -> [("(", "a", T), ("(", "b", T)]; an instance binder `[T]` is one entry."""
    close = OPEN[bracket]
    if ":" not in inner:
        return [(close, "", tuple(inner))]
    colon = inner.index(":")
    names, kind = inner[:colon], tuple(inner[colon + 1 :])
    return [(close, name, kind) for name in names]


def _strip_outer_parens(toks: tuple[str, ...]) -> tuple[str, ...]:
    while len(toks) >= 2 and toks[0] == "(" and _matching(list(toks), 0) == len(toks) - 1:
        toks = toks[1:-1]
    return toks


def same_statement(asked: str, offered: str) -> tuple[bool, str]:
    """Whether two theorem headers are the same after parsing; if not, what differs."""
    try:
        a, b = parse_statement(asked), parse_statement(offered)
    except StatementError as error:
        return False, str(error)
    if a.name != b.name:
        return False, f"the theorem is named `{b.name}`, not `{a.name}`"
    if a.binders != b.binders:
        return False, f"the hypotheses differ: asked `{a.shown()}`, got `{b.shown()}`"
    if a.type_tokens != b.type_tokens:
        return (
            False,
            f"the conclusion differs: asked `{' '.join(a.type_tokens)}`, got `{' '.join(b.type_tokens)}`",
        )
    return True, ""
