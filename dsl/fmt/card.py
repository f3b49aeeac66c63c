"""The formatter's statements and scorecards: categories, indicators, rules, ranking, bands."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dsl.fmt.expr import ExprPrinter, titled
from dsl.fmt.layout import Child, Render, cat, pad
from dsl.syntax import nodes as n

Anchors = Mapping[str, list[n.Span]]


def anchor(anchors: Anchors, rule: str) -> n.Span:
    """Where a spanless statement stood; the last one is the one the syntax tree kept."""
    spans = anchors.get(rule)
    return spans[-1] if spans else n.NOWHERE


class StmtPrinter(ExprPrinter):
    """Prints statements (one per line) and scorecards."""

    # ---- helpers ----------------------------------------------------------------------------
    def line(self, indent: int, text: Callable[[], list[str]]) -> list[str]:
        """A statement from fragments, at `indent`, with its tables fitted to the width."""
        return self.fitted(lambda: cat([pad(indent)], text()))

    def simple(self, span: n.Span, text: str) -> Child:
        """A one-line statement with nothing to fit."""
        return Child(span, lambda indent: [pad(indent) + text])

    def fitted_child(self, span: n.Span, text: Render) -> Child:
        """A statement printed from fragments by `text(indent)`."""
        return Child(span, lambda indent: self.line(indent, lambda: text(indent)))

    def stmt(self, span: n.Span, head: str, e: n.Expr) -> Child:
        """`head expr` as a statement."""
        return self.fitted_child(span, lambda indent: cat([head], self.expr(e, indent)))

    def where(self, where: n.Expr | None, indent: int) -> list[str]:
        """` where expr`, or nothing."""
        return [""] if where is None else cat([" where "], self.expr(where, indent))

    def amount(self, a: n.Amount, indent: int) -> list[str]:
        """` 2` or ` by level { ... }`."""
        if a.value is not None:
            return [" " + a.value.text]
        assert a.by is not None and a.table is not None
        return cat([f" by {a.by.name} "], self.table(a.table, indent))

    def sub_block(self, head: str, kids: list[Child], span: n.Span) -> Render:
        """A nested block as a child of its parent's block."""
        return lambda indent: self.block(pad(indent) + head, kids, span, indent)

    # ---- scorecards -------------------------------------------------------------------------
    def scorecard(self, d: n.Scorecard, anchors: Anchors) -> list[str]:
        """`scorecard id "title" for sequence { ... }`."""
        kids: list[Child] = []
        if d.periods:
            text = "periods " + ", ".join(d.periods)
            kids.append(self.simple(anchor(anchors, "periods_stmt"), text))
        if d.annual is not None:
            kids.append(self.stmt(anchor(anchors, "annual_stmt"), "annual ", d.annual))
        kids.extend(Child(c.span, self._category(c)) for c in d.categories)
        kids.extend(Child(c.span, self._component(c)) for c in d.components)
        if d.items is not None:
            kids.append(self.simple(anchor(anchors, "items_use"), f"items {d.items.name}"))
        if d.final is not None:
            kids.append(self.stmt(anchor(anchors, "final_stmt"), "final ", d.final))
        if d.floor is not None:
            kids.append(self.simple(anchor(anchors, "floor_stmt"), f"floor {d.floor.text}"))
        for rank in d.ranks:
            kids.append(self.fitted_child(rank.span, self._rank_render(rank)))
        for v in d.vetoes:
            kids.append(self.fitted_child(v.span, self._veto_render(v)))
        for x in d.direct:
            kids.append(self.stmt(x.span, f"{x.band_kind} {x.band.name} when ", x.cond))
        for r in d.rounds:
            text = f"round {r.result.name} {r.places} {r.mode.name}"
            kids.append(self.simple(r.span, text))
        kids.extend(Child(b.span, self._bands(b)) for b in (d.tiers, d.grades) if b is not None)
        head = f"{titled('scorecard ' + d.id, d.title)} for {d.sequence.name}"
        return self.block(head, kids, d.span, 0)

    def _category(self, c: n.Category) -> Render:
        head = f"{titled('category ' + c.id, c.title)} weight {c.weight.text} max {c.max.text}"
        kids = [Child(i.span, self._indicator(i)) for i in c.indicators]
        return self.sub_block(head, kids, c.span)

    def _indicator(self, i: n.Indicator) -> Render:
        head = f"{titled('indicator ' + i.id, i.title)} points {i.points.text}"
        if i.ceiling is not None:
            head += f" max {i.ceiling.text}"
        if i.lead is not None:
            head += f" lead {i.lead.name}"
        kids = self._body(i.lets, i.rule)
        if i.applies is not None:
            kids.insert(0, self.stmt(i.applies.span, "applies when ", i.applies))
        if i.risk is not None:
            kids.insert(0, self.simple(i.risk.span, _risk(i.risk)))
        return self.sub_block(head, kids, i.span)

    def _component(self, c: n.Component) -> Render:
        head = f"{titled('component ' + c.id, c.title)} weight {c.weight.text} max {c.max.text}"
        return self.sub_block(head, self._body(c.lets, c.rule), c.span)

    def _body(self, lets: tuple[n.Let, ...], rule: n.Rule) -> list[Child]:
        kids = [self.stmt(x.span, f"let {x.name} = ", x.value) for x in lets]
        if isinstance(rule, n.ScoreRule):
            kids.append(self.stmt(rule.span, "score ", rule.expr))
        else:
            per = rule
            kids.append(self.fitted_child(per.span, lambda indent: self._per(per, indent)))
        return kids

    def _per(self, r: n.PerRule, indent: int) -> list[str]:
        head = [f"{r.kind} per {r.fact.name}"]
        parts = [head, self.where(r.where, indent), self.amount(r.amount, indent)]
        if r.limit is not None:
            parts.append([f" {r.limit_kind} {r.limit.text}"])
        return cat(*parts)

    def _rank_render(self, r: n.RankSpec) -> Callable[[int], list[str]]:
        return lambda indent: self._rank(r, indent)

    def _rank(self, r: n.RankSpec, indent: int) -> list[str]:
        parts = [["rank" + ("" if r.period is None else " " + r.period)]]
        if r.within is not None:
            parts.append(cat([" within "], self.expr(r.within, indent)))
        parts.append([" by " + ", ".join(f"{k.name.name} {k.order}" for k in r.keys)])
        return cat(*parts)

    def _veto_render(self, v: n.Veto) -> Callable[[int], list[str]]:
        tail = f" {v.band_kind} {v.band.name}"
        if v.when is not None:
            when = v.when
            return lambda indent: cat(["veto when "], self.expr(when, indent), [tail])
        assert v.fact is not None
        what = v.fact.name
        if v.quant is not None:
            kinds = " | ".join(k.name for k in v.below)
            what = f"{v.quant} descendant({kinds}).{what}"
        return lambda indent: [f"veto {what}{tail}"]

    def _bands(self, b: n.Bands) -> Render:
        head = "tiers" if b.kind == "tier" else "grades"
        if b.period is not None:
            head += " " + b.period
        head += f" round {b.round_mode.name}"
        kids = [Child(x.span, self._band(x)) for x in b.bands]
        return self.sub_block(head, kids, b.span)

    def _band(self, b: n.Band) -> Render:
        cond, head = b.cond, titled(b.id, b.title)
        if cond is None:
            return lambda indent: [f"{pad(indent)}{head}: otherwise"]
        return lambda indent: self.line(indent, lambda: cat([f"{head}: "], self.expr(cond, indent)))


def _risk(r: n.Risk) -> str:
    """`risk difficulty high control low` (either part may be absent)."""
    given = (("difficulty", r.difficulty), ("control", r.control))
    parts = [f"{aspect} {level.name}" for aspect, level in given if level is not None]
    return "risk " + " ".join(parts)
