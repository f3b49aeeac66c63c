"""`jixiao fmt`: rewrites rule files canonically from their syntax tree, keeping every comment.

The layout: two-space indent, one statement per line, a blank line between multi-line
declarations, at most one blank line where the author left one, short tables on one line.
Every result is parsed back and compared with the input (same tree, same comments) before it
is written, so a file is either formatted faithfully or left alone with a diagnostic.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from lark import Token, Tree

from dsl.fmt.card import Anchors
from dsl.fmt.decl import DeclPrinter, module_lines
from dsl.fmt.layout import CommentPool
from dsl.syntax import nodes as n
from dsl.syntax.errors import Diagnostic, DslError
from dsl.syntax.parser import grammar, parse_text, rule_files
from dsl.syntax.program import display_path

# Statements the syntax tree keeps once (the last wins), so a second one would be lost.
_SINGLE = {
    "year_stmt": "year",
    "periods_stmt": "periods",
    "round_stmt": "round",
    "annual_stmt": "annual",
    "items_use": "items",
    "final_stmt": "final",
    "floor_stmt": "floor",
    "rank_stmt": "rank",
    "tiers_stmt": "tiers",
    "grades_stmt": "grades",
    "joint_cap": "cap",
    "test_org": "org",
    "test_facts": "facts",
    "test_period": "period",
    "org_persons": "persons",
    "pool_amount": "amount",
    "pool_weight": "weight",
    "pool_allocate": "allocate",
}
_ANCHORED = {*_SINGLE, "unit_kinds", "unit_attrs", "person_attrs"}


class FormatError(DslError):
    """A file that cannot be formatted; `diagnostics` says why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].headline() if diagnostics else "cannot format")


def _span(path: str, tree: Tree[Token]) -> n.Span:
    m = tree.meta
    return n.Span(path, m.line, m.column, m.end_line, m.end_column)


def _anchors(text: str, path: str) -> list[Anchors]:
    """For each declaration, where its spanless statements stand; refuses duplicates."""
    out: list[Anchors] = []
    for decl in grammar().parse(text).children:
        found: dict[str, list[n.Span]] = {}
        if isinstance(decl, Tree):
            for stmt in decl.children:
                if isinstance(stmt, Tree) and str(stmt.data) in _ANCHORED:
                    found.setdefault(str(stmt.data), []).append(_span(path, stmt))
        for rule, spans in found.items():
            if rule in _SINGLE and len(spans) > 1:
                msg = f"`{_SINGLE[rule]}` is given twice here; remove one before formatting"
                raise FormatError([Diagnostic(spans[0], "error", "F001", msg)])
        out.append(found)
    return out


def format_module(module: n.Module, anchors: list[Anchors] | None = None) -> str:
    """The canonical text of a parsed module, with its comments."""
    printer = DeclPrinter(CommentPool(module.comments))
    lines = module_lines(printer, module, anchors or [{} for _ in module.decls])
    return "".join(line.rstrip() + "\n" for line in lines)


def _comment_texts(module: n.Module) -> Counter[str]:
    return Counter(c.text.rstrip() for c in module.comments)


def format_source(text: str, path: str) -> str:
    """The canonical text of one rule file; a syntax error raises `FormatError`."""
    parsed = parse_text(text, path)
    if parsed.module is None:
        raise FormatError(parsed.diagnostics)
    result = format_module(parsed.module, _anchors(text, path))
    again = parse_text(result, path).module
    if (
        again is None
        or again != parsed.module
        or _comment_texts(again) != _comment_texts(parsed.module)
    ):
        # A formatter bug must never cost the author a rule or a comment.
        where = n.Span(path, 1, 1, 1, 2)
        msg = "the formatted text would not be equivalent; file left unchanged (a formatter bug)"
        raise FormatError([Diagnostic(where, "error", "F002", msg)])
    return result


def _write(path: Path, text: str) -> None:
    """Replaces a file's text in one step, so an interruption never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _files(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: dict[Path, None] = {}
    missing: list[str] = []
    for p in paths:
        root = Path(p)
        if not root.exists():
            missing.append(p)
            continue
        files.update(dict.fromkeys(rule_files(root)))
    return list(files), missing


def _format_file(file: Path, check_only: bool) -> bool | None:
    """Formats one file: True if it changed (or would), False if not, None if it failed."""
    shown = display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
        result = format_source(text, shown)
        if result == text:
            return False
        if check_only:
            print(f"would reformat: {shown}")
        else:
            _write(file, result)
        return True
    except FormatError as e:
        for d in e.diagnostics:
            print(d.render({shown: text}), file=sys.stderr)
    except (OSError, UnicodeDecodeError) as e:
        print(f"{shown}: error: cannot read or write: {e}", file=sys.stderr)
    except RecursionError:
        print(f"{shown}: error: too deeply nested to format", file=sys.stderr)
    except Exception as e:  # a formatter bug: report it for this file and go on with the rest
        print(f"{shown}: error: formatter failed: {type(e).__name__}: {e}", file=sys.stderr)
    return None


def run_fmt(paths: list[str], check_only: bool) -> int:
    """Formats every rule file under `paths`; 1 on a failure or, with `check_only`, a change."""
    files, missing = _files(paths)
    for p in missing:
        print(f"jixiao fmt: no such file or folder: {p}", file=sys.stderr)
    outcomes = [_format_file(f, check_only) for f in files]
    changed = outcomes.count(True)
    failed = outcomes.count(None) + len(missing)
    verb = "would be reformatted" if check_only else "reformatted"
    summary = f"{changed} file(s) {verb}, {outcomes.count(False)} unchanged"
    print(summary + (f", {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed or (check_only and changed) else 0
