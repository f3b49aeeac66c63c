"""What each name in a ruleset's syntax tree declares or refers to, with its span.

Declarations come from the tree (the name's span found after its keyword, as the checker finds
it); references are the tree's `Ref`s and the names of expressions, resolved in the namespaces
the checker uses: fact types, their fields and enum values, sequences, scorecards and their
parts, item tables and items, unit kinds and person attributes, and the lets of a rule. A node
kind this index does not know is skipped, so a new construct degrades to "no navigation there".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.check.context import Ctx, head
from dsl.syntax import nodes as n
from dsl.syntax.program import Program

Key = tuple[str, ...]  # ("fact", "rating"), ("field", "rating", "value"), ("indicator", "K4"), ...


@dataclass(frozen=True)
class Symbol:
    """A declared thing: its key, the span of its name, the node, and what contains it."""

    key: Key
    name: n.Span
    node: object
    container: str = ""

    @property
    def node_span(self) -> n.Span:
        """The span of the whole declaration."""
        span = getattr(self.node, "span", None)
        return span if isinstance(span, n.Span) else self.name


@dataclass
class Index:
    """Declarations by key and every reference (span, key) of one ruleset."""

    decls: dict[Key, Symbol] = field(default_factory=dict)
    refs: list[tuple[n.Span, Key]] = field(default_factory=list)

    def declare(self, sym: Symbol) -> None:
        """Records a declaration; the first one of a key is kept, as the checker keeps it."""
        self.decls.setdefault(sym.key, sym)

    def at(self, path: str, line: int, col: int) -> Key | None:
        """The key of the reference or declaration under a position (1-based line and column)."""
        for span, key in [*self.refs, *((s.name, k) for k, s in self.decls.items())]:
            if span.path == path and span.line == line and span.column <= col <= span.end_column:
                return key
        return None

    def spans(self) -> list[tuple[n.Span, Key]]:
        """Every name span: declarations, then references."""
        return [(s.name, k) for k, s in self.decls.items()] + self.refs

    def references(self, key: Key) -> list[n.Span]:
        """Every reference to a key, sorted."""
        return sorted({s for s, k in self.refs if k == key})


@dataclass
class Scope:
    """What bare names of an expression resolve to: a scorecard's parts, a fact's fields, lets."""

    card: n.Scorecard | None = None
    fact: n.FactDecl | None = None
    lets: dict[str, Key] = field(default_factory=dict)


class Walker:
    """The first pass: every declaration (`refs.build` runs both passes)."""

    def __init__(self, ctx: Ctx, prog: Program, idx: Index) -> None:
        self.ctx, self.prog, self.idx = ctx, prog, idx

    def named(self, span: n.Span, ident: str, skip: int = 1) -> n.Span:
        return self.ctx.name_after(span, ident, skip)

    # ---- declarations ------------------------------------------------------------------------
    def decl(self, d: object) -> None:
        if isinstance(d, n.FactDecl):
            self.fact(d)
        elif isinstance(d, n.SequenceDecl):
            self.sym(("sequence", d.id), self.named(d.span, d.id), d)
        elif isinstance(d, n.OrganisationDecl):
            for kind in d.kinds:
                self.sym(("kind", kind.id), head(kind.span, len(kind.id)), kind)
            for a in d.attrs:
                self.sym(("attr", a.name), head(a.span, len(a.name)), a)
            person = {a.name for a in d.attrs}
            for a in d.unit_attrs:  # a unit's (a person attribute of the name comes first)
                if a.name not in person:
                    self.sym(("attr", a.name), head(a.span, len(a.name)), a)
        elif isinstance(d, n.Scorecard):
            self.card(d)
        elif isinstance(d, n.ItemTable):
            self.table(d)
        elif isinstance(d, n.Joint):
            self.joint(d)
        elif isinstance(d, n.TestDecl):
            self.test(d)

    def sym(self, key: Key, name: n.Span, node: object, container: str = "") -> None:
        self.idx.declare(Symbol(key, name, node, container))

    def fact(self, d: n.FactDecl) -> None:
        self.sym(("fact", d.id), self.named(d.span, d.id), d)
        for f in d.fields:
            self.sym(("field", d.id, f.name), head(f.span, len(f.name)), f, d.id)
            for v in f.type.values:
                self.sym(("enum", d.id, f.name, v.id), head(v.span, len(v.id)), v, d.id)

    def card(self, c: n.Scorecard) -> None:
        self.sym(("scorecard", c.id), self.named(c.span, c.id), c)
        for cat in c.categories:
            self.sym(("part", c.id, cat.id), self.named(cat.span, cat.id), cat, c.id)
            for ind in cat.indicators:
                self.sym(("part", c.id, ind.id), self.named(ind.span, ind.id), ind, cat.id)
        for comp in c.components:
            self.sym(("part", c.id, comp.id), self.named(comp.span, comp.id), comp, c.id)
        for bands in (c.tiers, c.grades):
            if bands is not None:
                for b in bands.bands:
                    self.sym(("band", c.id, bands.kind, b.id), head(b.span, len(b.id)), b, c.id)

    def table(self, t: n.ItemTable) -> None:
        self.sym(("table", t.id), self.named(t.span, t.id), t)
        for item in t.items:
            explicit = item.id != item.fact.name or self._has_colon(item)
            where = self.named(item.span, item.id) if explicit else item.fact.span
            self.sym(("item", t.id, item.id), where, item, t.id)

    def _has_colon(self, item: n.Item) -> bool:
        span = self.named(item.span, item.id)
        text = self.ctx.loaded.sources.get(span.path, "")
        line = text.splitlines()[span.line - 1] if span.line >= 1 else ""
        return line[span.end_column - 1 : span.end_column].strip() == ":"

    def joint(self, j: n.Joint) -> None:
        self.sym(("joint", j.id), self.named(j.span, j.id), j)
        for link in j.links:
            self.sym(("link", j.id, link.id), self.named(link.span, link.id), link, j.id)

    def test(self, t: n.TestDecl) -> None:
        self.sym(("test", t.id), self.named(t.span, t.id), t)
