"""The references of a ruleset: the second pass of the index, once every declaration is known."""

from __future__ import annotations

from app.lsp.index import Index, Key, Scope, Walker
from dsl.check.context import Ctx, head
from dsl.syntax import nodes as n
from dsl.syntax.program import Loaded, Program


def indicator_key(prog: Program, ident: str) -> Key | None:
    """The key of the indicator with this id, in whichever scorecard declares it."""
    for sc, _, ind in prog.indicators():
        if ind.id == ident:
            return ("part", sc.id, ind.id)
    return None


def _field_of(e: n.Expr, sc: Scope, prog: Program) -> tuple[str, str] | None:
    """The (fact, field) an expression reads, through `value()`, `F.x` or a bare field name."""
    if isinstance(e, n.Call) and e.args:
        return _field_of(e.args[0].value, sc, prog)
    if isinstance(e, n.Attr) and isinstance(e.obj, n.Name) and e.obj.id in prog.facts:
        return e.obj.id, e.name.name
    if (
        isinstance(e, n.Name)
        and sc.fact is not None
        and any(f.name == e.id for f in sc.fact.fields)
    ):
        return sc.fact.id, e.id
    return None


class Refs:
    """The second pass: every reference, now that every declaration is known."""

    def __init__(self, w: Walker) -> None:
        self.w, self.prog, self.idx = w, w.prog, w.idx

    def ref(self, span: n.Span, key: Key | None) -> None:
        if key is not None and key in self.idx.decls:
            self.idx.refs.append((span, key))

    def decl(self, d: object) -> None:
        if isinstance(d, n.SequenceDecl):
            for k in d.kinds:
                self.ref(k.span, ("kind", k.name))
        elif isinstance(d, n.Scorecard):
            self.card(d)
        elif isinstance(d, n.ItemTable):
            for item in d.items:
                fact = self.prog.facts.get(item.fact.name)
                self.ref(item.fact.span, ("fact", item.fact.name))
                self.per(fact, item.where, item.amount, Scope(fact=fact))
                if item.once_per is not None:
                    self.ref(item.once_per.span, ("field", item.fact.name, item.once_per.name))
        elif isinstance(d, n.Joint):
            self.joint(d)
        elif isinstance(d, n.TestDecl):
            self.test(d)

    def card(self, c: n.Scorecard) -> None:
        self.ref(c.sequence.span, ("sequence", c.sequence.name))
        if c.items is not None:
            self.ref(c.items.span, ("table", c.items.name))
        for cat in c.categories:
            for ind in cat.indicators:
                if ind.applies is not None:  # `applies when attr(class) == large`
                    self.expr(ind.applies, Scope(card=c))
                self.rule(c, ind.id, ind.lets, ind.rule)
        for comp in c.components:
            self.rule(c, comp.id, comp.lets, comp.rule)
        card = Scope(card=c)
        # every ranking: `rank quarter by ...` and `rank year by ...` each have keys and a group
        for e in (c.annual, c.final, *(r.within for r in c.ranks)):
            if e is not None:
                self.expr(e, card)
        for key in (k for r in c.ranks for k in r.keys):
            self.ref(key.name.span, ("part", c.id, key.name.name))
        for veto in c.vetoes:
            if veto.fact is not None:
                self.ref(veto.fact.span, ("fact", veto.fact.name))
            for k in veto.below:
                self.ref(k.span, ("kind", k.name))
            if veto.when is not None:
                self.expr(veto.when, card)
            self.ref(veto.band.span, ("band", c.id, veto.band_kind, veto.band.name))
        for d in c.direct:
            self.expr(d.cond, card)
            self.ref(d.band.span, ("band", c.id, d.band_kind, d.band.name))
        for r in c.rounds:
            self.ref(r.result.span, ("part", c.id, r.result.name))
        for bands in (c.tiers, c.grades):
            for band in bands.bands if bands is not None else ():
                if band.cond is not None:
                    self.expr(band.cond, card)

    def rule(self, c: n.Scorecard, part: str, lets: tuple[n.Let, ...], rule: n.Rule) -> None:
        sc = Scope(card=c)
        for let in lets:
            self.expr(let.value, sc)
            key = ("let", c.id, part, let.name)
            self.w.sym(key, self.w.named(let.span, let.name), let, part)
            sc.lets[let.name] = key
        if isinstance(rule, n.ScoreRule):
            self.expr(rule.expr, sc)
        elif isinstance(rule, n.PerRule):
            fact = self.prog.facts.get(rule.fact.name)
            self.ref(rule.fact.span, ("fact", rule.fact.name))
            self.per(fact, rule.where, rule.amount, Scope(card=c, fact=fact, lets=sc.lets))

    def per(
        self, fact: n.FactDecl | None, where: n.Expr | None, amount: n.Amount, sc: Scope
    ) -> None:
        if where is not None:
            self.expr(where, sc)
        if fact is not None and amount.by is not None:
            self.ref(amount.by.span, ("field", fact.id, amount.by.name))
            self.entries(fact.id, amount.by.name, amount.table)

    def entries(self, fact: str, fld: str, table: n.Table | None) -> None:
        for entry in table.entries if table is not None else ():
            self.ref(head(entry.span, len(entry.key)), ("enum", fact, fld, entry.key))

    def joint(self, j: n.Joint) -> None:
        self.ref(j.into.span, ("scorecard", j.into.name))
        for link in j.links:
            self.ref(link.scorecard.span, ("scorecard", link.scorecard.name))
            card = self.prog.scorecards.get(link.scorecard.name)
            fact = self._link_fact(link, card)
            if link.source_kind == "indicator" and card is not None:
                self.ref(link.source.span, ("part", card.id, link.source.name))
            elif link.source_kind == "item" and card is not None and card.items is not None:
                self.ref(link.source.span, ("item", card.items.name, link.source.name))
            elif link.source_kind == "fact":
                self.ref(link.source.span, ("fact", link.source.name))
            elif link.source_kind == "joint":
                self.ref(link.source.span, ("joint", link.source.name))
            if link.target is not None:
                self.expr(link.target, Scope(card=card, fact=fact))

    def _link_fact(self, link: n.Link, card: n.Scorecard | None) -> n.FactDecl | None:
        name = link.source.name
        if link.source_kind in ("joint", "deductions"):
            return None
        if link.source_kind == "indicator" and card is not None:
            ind = next((i for c in card.categories for i in c.indicators if i.id == name), None)
            if ind is not None and isinstance(ind.rule, n.PerRule):
                name = ind.rule.fact.name
        elif link.source_kind == "item" and card is not None and card.items is not None:
            table = self.prog.item_tables.get(card.items.name)
            item = next((i for i in table.items if i.id == name), None) if table else None
            name = item.fact.name if item is not None else name
        return self.prog.facts.get(name)

    def test(self, t: n.TestDecl) -> None:
        for exp in t.expects:
            key = indicator_key(self.prog, exp.field)
            if key is None:
                key = next(
                    (k for k in self.idx.decls if k[0] == "part" and k[2] == exp.field), None
                )
            skip = len(exp.subject) + 1
            span = n.Span(exp.span.path, exp.span.line, exp.span.column, exp.span.line, 0)
            where = self.w.named(span, exp.field, 1)
            if where.column > exp.span.column + skip:
                self.ref(where, key)
            else:
                col = exp.span.column + len("expect ") + skip
                self.ref(n.Span(span.path, span.line, col, span.line, col + len(exp.field)), key)

    # ---- expressions -------------------------------------------------------------------------
    def expr(self, e: n.Expr, sc: Scope) -> None:
        if isinstance(e, n.Name):
            self.ref(e.span, self.name(e.id, sc))
        elif isinstance(e, n.Call):
            self.call(e, sc)
        elif isinstance(e, n.Attr):
            self.attr(e, sc)
        elif isinstance(e, n.Index):
            if isinstance(e.obj, n.Name):
                self.ref(e.obj.span, ("scorecard", e.obj.id))
            self.expr(e.index, sc)
        elif isinstance(e, n.Unary):
            self.expr(e.operand, sc)
        elif isinstance(e, n.Binary):
            self.binary(e, sc)
        elif isinstance(e, n.If):
            for part in (e.cond, e.then, e.else_):
                self.expr(part, sc)
        elif isinstance(e, n.Match):
            self.expr(e.subject, sc)
            fld = _field_of(e.subject, sc, self.prog)
            for arm in e.arms:
                if fld is not None:
                    self.ref(head(arm.span, len(arm.key)), ("enum", *fld, arm.key))
                self.expr(arm.value, sc)

    def name(self, ident: str, sc: Scope) -> Key | None:
        if ident in sc.lets:
            return sc.lets[ident]
        if sc.fact is not None and any(f.name == ident for f in sc.fact.fields):
            return ("field", sc.fact.id, ident)
        if ident in self.prog.facts:
            return ("fact", ident)
        if sc.card is not None and ("part", sc.card.id, ident) in self.idx.decls:
            return ("part", sc.card.id, ident)
        if ident in self.prog.scorecards:
            return ("scorecard", ident)
        return None

    def call(self, e: n.Call, sc: Scope) -> None:
        inner = sc
        for i, arg in enumerate(e.args):
            v = arg.value
            if e.func in ("ancestor", "descendant") and isinstance(v, n.Name):
                self.ref(v.span, ("kind", v.id))
            elif e.func == "attr" and isinstance(v, n.Name):
                self.ref(v.span, ("attr", v.id))
            elif e.func == "lead" and isinstance(v, n.Name) and self.name(v.id, sc) is None:
                self.ref(v.span, indicator_key(self.prog, v.id))
            else:
                self.expr(v, inner)
            if i == 0 and isinstance(v, n.Name) and v.id in self.prog.facts:
                inner = Scope(sc.card, self.prog.facts[v.id], sc.lets)
            if arg.by is not None:
                fld = _field_of(v, sc, self.prog)
                if fld is not None:
                    self.ref(arg.by.field.span, ("field", fld[0], arg.by.field.name))
                    self.entries(fld[0], arg.by.field.name, arg.by.table)

    def attr(self, e: n.Attr, sc: Scope) -> None:
        obj = e.obj
        if isinstance(obj, n.Name) and obj.id in self.prog.facts and obj.id not in sc.lets:
            self.ref(obj.span, ("fact", obj.id))
            self.ref(e.name.span, ("field", obj.id, e.name.name))
            return
        self.expr(obj, sc)
        if isinstance(obj, n.Index) and isinstance(obj.obj, n.Name):
            self.ref(e.name.span, ("part", obj.obj.id, e.name.name))
        if isinstance(obj, n.Call) and obj.func == "descendant":  # descendant(KIND).FACT
            self.ref(e.name.span, ("fact", e.name.name))

    def binary(self, e: n.Binary, sc: Scope) -> None:
        for side, other in ((e.left, e.right), (e.right, e.left)):
            fld = _field_of(other, sc, self.prog)
            if isinstance(side, n.Name) and fld is not None and self.name(side.id, sc) is None:
                self.ref(side.span, ("enum", *fld, side.id))
            else:
                self.expr(side, sc)


def build(loaded: Loaded, prog: Program) -> Index:
    """The index of a parsed ruleset."""
    idx = Index()
    walker = Walker(Ctx(loaded, prog), prog, idx)
    for decl in prog.decls():
        walker.decl(decl)
    refs = Refs(walker)
    for decl in prog.decls():
        refs.decl(decl)
    return idx
