"""What hover shows of a declaration, and the outline (document symbols) of a file."""

from __future__ import annotations

from collections.abc import Mapping

from lsprotocol import types as t

from app.lsp.index import Index, Key, Symbol
from app.lsp.positions import Lines
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


def source_of(span: n.Span, sources: Mapping[str, str], max_lines: int = 12) -> str:
    """The source text of a span, at most `max_lines` lines."""
    lines = sources.get(span.path, "").split("\n")[span.line - 1 : span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1 : span.end_column - 1]
    lines[0] = lines[0][span.column - 1 :]
    lines[-1] = lines[-1][: span.end_column - 1]
    indent = min((len(x) - len(x.lstrip()) for x in lines[1:] if x.strip()), default=0)
    shown = [lines[0], *(x[indent - 2 :] if indent >= 2 else x for x in lines[1:])]
    if len(shown) > max_lines:
        shown = [*shown[: max_lines - 1], "  ..."]
    return "\n".join(shown)


def _title(node: object) -> str:
    title = getattr(node, "title", None)
    return f" {title}" if title else ""


def _field_type(f: n.FieldDecl, sources: Mapping[str, str]) -> str:
    text = source_of(f.type.span, sources).strip() or (f.type.name or "")
    return text + "?" if f.type.optional and not text.endswith("?") else text


def hover(sym: Symbol, prog: Program, sources: Mapping[str, str]) -> str:
    """Markdown describing a declaration."""
    node, key = sym.node, sym.key
    lines = [f"**{key[-1]}**{_title(node)}"]
    if isinstance(node, n.Indicator):
        lead = f" · lead `{node.lead.name}`" if node.lead else ""
        ceiling = f" (up to {node.ceiling.text})" if node.ceiling is not None else ""
        lines.append(
            f"indicator, {node.points.text} points{ceiling}{lead} · category `{sym.container}`"
            f" of scorecard `{key[1]}`"
        )
        if node.applies is not None:
            cond = source_of(node.applies.span, sources).strip()
            lines.append(
                f"applies when `{cond}`; elsewhere not applicable (不涉及): left out, its"
                " category rescaled to the applicable points"
            )
        lines.append(f"```jx\n{source_of(node.rule.span, sources)}\n```")
    elif isinstance(node, n.Category | n.Component):
        kind = "category" if isinstance(node, n.Category) else "component"
        lines.append(
            f"{kind} of scorecard `{key[1]}`, weight {node.weight.text}, max {node.max.text}"
        )
        if isinstance(node, n.Category):
            lines.append(
                "\n".join(f"- `{i.id}`{_title(i)}: {i.points.text}" for i in node.indicators)
            )
    elif isinstance(node, n.FactDecl):
        kind = {"dated": "dated", "period": "period", "period_many": "period many"}[node.kind]
        lines.append(
            f"fact type, {kind}, on {' | '.join(node.subjects)}"
            + (", unscored" if node.unscored else "")
        )
        lines.append("\n".join(f"- `{f.name}`: {_field_type(f, sources)}" for f in node.fields))
    elif isinstance(node, n.FieldDecl):
        units = prog.organisation.unit_attrs if prog.organisation is not None else ()
        what = "unit attribute" if any(a is node for a in units) else "person attribute"
        owner = f"field of `{sym.container}`" if key[0] == "field" else what
        lines.append(f"{owner}: `{_field_type(node, sources)}`")
    elif isinstance(node, n.EnumValue):
        lines.append(f"value of `{key[1]}.{key[2]}`")
    elif isinstance(node, n.Scorecard):
        parts = [c.id for c in node.categories] + [c.id for c in node.components]
        lines.append(
            f"scorecard for `{node.sequence.name}`, periods {', '.join(node.periods)}; "
            f"parts: {', '.join(parts)}"
        )
        for r in node.ranks:
            keys = ", ".join(f"{k.name.name} {k.order}" for k in r.keys)
            lines.append(f"ranked{'' if r.period is None else ' per ' + r.period} by {keys}")
    else:
        lines.append(f"```jx\n{source_of(sym.node_span, sources, 6)}\n```")
    return "\n\n".join(lines)


_KINDS = {
    "fact": t.SymbolKind.Struct,
    "field": t.SymbolKind.Field,
    "enum": t.SymbolKind.EnumMember,
    "sequence": t.SymbolKind.Array,
    "scorecard": t.SymbolKind.Class,
    "part": t.SymbolKind.Method,
    "band": t.SymbolKind.Constant,
    "table": t.SymbolKind.Module,
    "item": t.SymbolKind.Property,
    "joint": t.SymbolKind.Module,
    "link": t.SymbolKind.Event,
    "test": t.SymbolKind.Function,
    "kind": t.SymbolKind.EnumMember,
    "attr": t.SymbolKind.Field,
}


def outline(index: Index, path: str, lines: Lines) -> list[t.DocumentSymbol]:
    """The symbols of one file, nested: scorecards > categories > indicators, facts > fields."""
    syms = [s for s in index.decls.values() if s.name.path == path and s.key[0] in _KINDS]
    nodes: dict[Key, t.DocumentSymbol] = {}
    children: dict[Key, list[t.DocumentSymbol]] = {}
    top: list[t.DocumentSymbol] = []
    for s in sorted(syms, key=lambda s: s.name):
        title = getattr(s.node, "title", None)
        doc = t.DocumentSymbol(
            name=s.key[-1],
            detail=title or None,
            kind=_KINDS[s.key[0]],
            range=lines.range(s.node_span),
            selection_range=lines.range(s.name),
        )
        nodes[s.key] = doc
        children[s.key] = []
        parent = _parent(s, nodes)
        (children[parent] if parent is not None else top).append(doc)
    for key, doc in nodes.items():
        doc.children = children[key] or None
    return top


def _parent(s: Symbol, nodes: Mapping[Key, t.DocumentSymbol]) -> Key | None:
    key = s.key
    candidates: list[Key] = []
    if key[0] in ("field",):
        candidates = [("fact", key[1])]
    elif key[0] == "enum":
        candidates = [("field", key[1], key[2])]
    elif key[0] == "part":
        candidates = [("part", key[1], s.container), ("scorecard", key[1])]
    elif key[0] == "band":
        candidates = [("scorecard", key[1])]
    elif key[0] in ("item", "link"):
        candidates = [("table", key[1]), ("joint", key[1])]
    return next((c for c in candidates if c in nodes), None)
