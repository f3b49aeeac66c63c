"""Parsing rule files into `Module`s, with syntax errors as diagnostics (never exceptions)."""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from dsl.syntax.errors import Diagnostic
from dsl.syntax.nodes import Comment, Module, Span

if TYPE_CHECKING:
    from lark import Lark
    from lark.exceptions import UnexpectedInput

# Lark and the transformer are imported where a text is parsed: a command whose ruleset comes
# from the cache of checked rulesets (`dsl.compile.cache`) never parses, and skips importing them.

RULE_SUFFIX = ".jx"

# Readable names for the grammar's terminals in "expected ..." messages.
_TOKEN_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "DECIMAL": "a number",
    "INT": "a whole number",
    "PERCENT": "a percentage",
    "PERIOD_LIT": "a period such as 2025Q1",
    "COMP_OP": "a comparison",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "DOT": "'.'",
    "VBAR": "'|'",
    "MINUS": "'-'",
    "PLUS": "'+'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "QMARK": "'?'",
    "$END": "end of file",
}


@cache
def grammar() -> Lark:
    """The rule language's LALR parser, built once per process and cached across processes.

    Building the tables (and checking the terminals for collisions) takes a quarter of a
    second; Lark's cache keeps the result in a file of the user's own cache folder, keyed by
    the grammar, the options and Lark's version, and rebuilds it whenever one of them differs.
    """
    from lark import Lark

    return Lark.open(
        str(Path(__file__).with_name("grammar.lark")),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        strict=True,
        cache=_cache_file(),
    )


def _cache_file() -> str | bool:
    """The grammar's cache file in the user's cache folder; False where there is none."""
    folder = cache_folder()
    return False if folder is None else str(folder / "grammar.lark-cache")


def cache_folder() -> Path | None:
    """The user's own cache folder for Jixiao (`$XDG_CACHE_HOME/jixiao`, else
    `~/.cache/jixiao`), made if missing; None where there is none we may trust."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(home) / "jixiao"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A folder others may write to could hold a planted file (the caches are pickles).
        if not os.access(folder, os.W_OK) or folder.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    return folder


def _token_name(term: str) -> str:
    if term in _TOKEN_NAMES:
        return _TOKEN_NAMES[term]
    for t in grammar().terminals:
        if t.name == term and t.pattern.type == "str":
            return f"'{t.pattern.value}'"
    return term.lower()


def _expected(terms: set[str]) -> str:
    names = sorted({_token_name(t) for t in terms if not t.startswith("__")})
    if not names:
        return ""
    if len(names) > 8:
        names = [*names[:8], "..."]
    return "; expected " + (names[0] if len(names) == 1 else "one of " + ", ".join(names))


# Full-width and CJK punctuation typed with a Chinese input method, and the ASCII meant.
_WIDE = {"\u3000": " ", "\u3001": ",", "\u3002": ".", "\u3010": "[", "\u3011": "]"}
_WIDE.update({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_WIDE.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


def full_width(ch: str) -> str | None:
    """The ASCII character a full-width one stands for (`％` → `%`), or None."""
    return _WIDE.get(ch)


def _indent(text: str, pos: int) -> int:
    """The indentation (in characters) of the line holding offset `pos`."""
    start = text.rfind("\n", 0, pos) + 1
    line = text[start : text.find("\n", start) if "\n" in text[start:] else len(text)]
    return len(line) - len(line.lstrip())


def _open_brace(text: str, end: int) -> int | None:
    """The offset of the `{` that most likely lacks its `}` before offset `end`.

    Braces are matched as the parser matches them; but where a `}` that starts its line is
    indented less than the line of the `{` it closes, and an enclosing `{` sits on a line
    indented as the `}`, the `{` it closed is the one whose `}` was left out.
    """
    stack: list[int] = []
    suspect: int | None = None
    for m in _BRACE_OR_SKIP.finditer(text, 0, end):
        if m.group() == "{":
            stack.append(m.start())
        elif m.group() == "}" and stack:
            opener = stack.pop()
            at = m.start()
            starts_line = not text[text.rfind("\n", 0, at) + 1 : at].strip()
            own = _indent(text, at)
            if (
                suspect is None
                and starts_line
                and _indent(text, opener) > own
                and any(_indent(text, o) == own for o in stack)
            ):
                suspect = opener
    if not stack:
        return None
    return suspect if suspect is not None else stack[-1]


def _brace_note(text: str, offset: int, at_end: bool) -> str:
    """`; missing '}' to close the '{' of `indicator K1` on line 8`, where one seems missing:
    at the end of the file, or at a line indented no deeper than the open brace's line."""
    pos = _open_brace(text, offset)
    if pos is None:
        return ""
    line = text.count("\n", 0, pos) + 1
    if not at_end and (
        text.count("\n", 0, offset) + 1 <= line or _indent(text, offset) > _indent(text, pos)
    ):
        return ""
    start = text.rfind("\n", 0, pos) + 1
    head = _COMMENT_OR_STRING.sub("", text[start:pos]).split()
    of = f" of `{' '.join(head[:2])}`" if head else ""
    return f"; missing '}}' to close the '{{'{of} on line {line}"


def _syntax_diagnostic(path: str, err: UnexpectedInput, text: str = "") -> Diagnostic:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line, col = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        expected = set(err.accepts or err.expected)
        if tok.type == "$END":
            what = "unexpected end of file"
            end_col = col + 1
            offset, at_end = len(text), True
        else:
            kind = {"NAME": "name ", "DECIMAL": "number ", "INT": "number ", "STRING": "string "}
            what = f"unexpected {kind.get(tok.type, '')}{str(tok)!r}"
            end_col = (tok.end_column or col + 1) if tok.end_line == tok.line else col + 1
            offset, at_end = tok.start_pos or 0, False
        what += _brace_note(text, offset, at_end)
        msg = what + _expected(expected)
        return Diagnostic(Span(path, line, col, line, end_col), "error", "E001", msg)
    if isinstance(err, UnexpectedCharacters):
        ch = err.char
        ascii_ch = full_width(ch)
        if ascii_ch is not None:
            shown = "an ASCII space" if ascii_ch == " " else f"ASCII {ascii_ch}"
            msg = f"full-width character {ch!r}, use {shown}"
            return Diagnostic(Span(path, line, col, line, col + 1), "error", "E002", msg)
        msg = f"unexpected character {ch!r}" + _expected(set(err.allowed or ()))
        return Diagnostic(Span(path, line, col, line, col + 1), "error", "E002", msg)
    if isinstance(err, UnexpectedEOF):
        what = "unexpected end of file"
        what += _brace_note(text, len(text), True)
        msg = what + _expected(set(err.expected))
        return Diagnostic(Span(path, line, col, line, col + 1), "error", "E001", msg)
    return Diagnostic(Span(path, line, col, line, col + 1), "error", "E001", str(err))


@dataclass
class ParseResult:
    """A parsed file (or None on a syntax error) and its diagnostics."""

    module: Module | None
    diagnostics: list[Diagnostic]


_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_BRACE_OR_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]')


def scan_comments(text: str, path: str) -> tuple[Comment, ...]:
    """Every `#` comment of a file (a `#` inside a string literal is not one)."""
    found: list[Comment] = []
    line_starts = [0]
    line_starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    for m in _COMMENT_OR_STRING.finditer(text):
        if m.group().startswith("#"):
            line = bisect_right(line_starts, m.start())
            col = m.start() - line_starts[line - 1] + 1
            span = Span(path, line, col, line, col + len(m.group()))
            found.append(Comment(m.group(), span))
    return tuple(found)


def parse_text(text: str, path: str) -> ParseResult:
    """Parses one file's text; a syntax error becomes a diagnostic, never an exception."""
    from lark.exceptions import UnexpectedInput, VisitError

    from dsl.syntax.transformer import SyntaxProblem, to_module

    try:
        tree = grammar().parse(text)
    except UnexpectedInput as err:
        return ParseResult(None, [_syntax_diagnostic(path, err, text)])
    try:
        module = to_module(tree, path, scan_comments(text, path))
    except VisitError as err:
        if isinstance(err.orig_exc, SyntaxProblem):
            problem = err.orig_exc
            return ParseResult(None, [Diagnostic(problem.span, "error", "E003", problem.message)])
        raise
    return ParseResult(module, [])


def rule_files(root: Path) -> list[Path]:
    """The rule files of a ruleset: the file itself, or every `*.jx` under the folder, sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob(f"*{RULE_SUFFIX}") if p.is_file())
