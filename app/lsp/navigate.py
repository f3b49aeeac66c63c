"""Hover, definition, references, rename and formatting, on one analysis of a ruleset."""

from __future__ import annotations

import re

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInvalidParams

from app.lsp.describe import hover as describe
from app.lsp.index import Index, Key
from app.lsp.positions import Lines, uri_of
from app.lsp.rulesets import Analysis
from dsl.fmt.formatter import FormatError, format_source
from dsl.syntax import nodes as n

_NAME = re.compile(r"[^\W\d][\w]*(?:-[\w]+)*")


def _key_at(analysis: Analysis, path: str, pos: t.Position) -> tuple[Index, Key] | None:
    if not analysis.parses:
        return None
    index = analysis.index()
    line, col = Lines(analysis.loaded.sources.get(path, "")).column(pos)
    key = index.at(path, line, col)
    return (index, key) if key is not None else None


def _location(analysis: Analysis, span: n.Span) -> t.Location:
    lines = Lines(analysis.loaded.sources.get(span.path, ""))
    return t.Location(uri=uri_of(span.path), range=lines.range(span))


def hover(analysis: Analysis, path: str, pos: t.Position) -> t.Hover | None:
    """The description of what is under the cursor."""
    found = _key_at(analysis, path, pos)
    if found is None:
        return None
    index, key = found
    sym = index.decls[key]
    text = describe(sym, analysis.program, analysis.loaded.sources)
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text))


def definition(analysis: Analysis, path: str, pos: t.Position) -> list[t.Location]:
    """Where the name under the cursor is declared."""
    found = _key_at(analysis, path, pos)
    if found is None:
        return []
    index, key = found
    return [_location(analysis, index.decls[key].name)]


def references(analysis: Analysis, path: str, pos: t.Position, with_decl: bool) -> list[t.Location]:
    """Every use of the name under the cursor (and its declaration if asked)."""
    found = _key_at(analysis, path, pos)
    if found is None:
        return []
    index, key = found
    spans = index.references(key)
    if with_decl:
        spans = [index.decls[key].name, *spans]
    return [_location(analysis, s) for s in spans]


def _renamable(key: Key, index: Index) -> bool:
    return key[0] == "fact" or (key[0] == "part" and isinstance(index.decls[key].node, n.Indicator))


def prepare_rename(analysis: Analysis, path: str, pos: t.Position) -> t.Range | None:
    """The range of the indicator or fact type name under the cursor."""
    found = _key_at(analysis, path, pos)
    if found is None or not _renamable(found[1], found[0]):
        return None
    index, key = found
    line, col = Lines(analysis.loaded.sources.get(path, "")).column(pos)
    for span in [index.decls[key].name, *index.references(key)]:
        if span.path == path and span.line == line and span.column <= col <= span.end_column:
            return Lines(analysis.loaded.sources[path]).range(span)
    return None


def rename(analysis: Analysis, path: str, pos: t.Position, new: str) -> t.WorkspaceEdit | None:
    """The edits renaming an indicator or fact type everywhere in the ruleset."""
    found = _key_at(analysis, path, pos)
    if found is None or not _renamable(found[1], found[0]):
        raise JsonRpcInvalidParams("only an indicator or a fact type can be renamed")
    index, key = found
    if _NAME.fullmatch(new) is None:
        raise JsonRpcInvalidParams(f"'{new}' is not a name (letters, digits, _ and single -)")
    clash = [k for k in index.decls if k[0] == key[0] and k[-1] == new]
    if clash:
        raise JsonRpcInvalidParams(f"'{new}' is already declared")
    spans = {index.decls[key].name, *index.references(key)}
    if key[0] == "fact":  # items named after the fact, and links naming those items
        for k, sym in index.decls.items():
            if k[0] == "item" and k[2] == key[1] and sym.name in spans:
                spans.update(index.references(k))
    changes: dict[str, list[t.TextEdit]] = {}
    for span in sorted(spans):
        lines = Lines(analysis.loaded.sources.get(span.path, ""))
        edit = t.TextEdit(range=lines.range(span), new_text=new)
        changes.setdefault(uri_of(span.path), []).append(edit)
    return t.WorkspaceEdit(changes=changes)


def formatting(text: str, path: str) -> list[t.TextEdit]:
    """One edit replacing the document by its formatted text, or none."""
    try:
        result = format_source(text, path)
    except FormatError:
        return []
    if result == text:
        return []
    return [t.TextEdit(range=Lines(text).whole(), new_text=result)]
