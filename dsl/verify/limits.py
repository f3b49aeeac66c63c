"""Caps and floors: can facts reach each one? And joint liability: the cycle and its targets."""

from __future__ import annotations

from fractions import Fraction

from dsl.check.context import Ctx
from dsl.check.intervals import INF, show
from dsl.syntax import nodes as n
from dsl.verify.model import Report, Row
from dsl.verify.ranges import CardRanges, amount_max


def _unbounded(ctx: Ctx, fact: str) -> bool:
    decl = ctx.prog.facts.get(fact)
    return decl is not None and decl.kind != "period"


def rule_limits(rep: Report, card: n.Scorecard) -> None:
    """A per-fact rule's floor (or ceiling) is reached when enough facts can occur."""
    for cat in card.categories:
        for ind in cat.indicators:
            rule = ind.rule
            if not isinstance(rule, n.PerRule) or rule.limit is None:
                continue
            kind = rule.limit_kind or "floor"
            if _unbounded(rep.ctx, rule.fact.name):
                how = f"reached with enough {rule.fact.name} facts"
            else:
                one = amount_max(rule.amount)
                top = Fraction(ind.points.value)
                ok = top - one <= rule.limit.value if kind == "floor" else one >= rule.limit.value
                how = "reached with one fact" if ok else "never reached"
                if not ok:
                    msg = (
                        f"the {kind} {rule.limit.text} of {ind.id} is never reached: "
                        f"'{rule.fact.name}' has at most one fact a period, worth {show(one)}"
                    )
                    rep.find("V301", rule.limit.span, msg)
            rep.row(
                card.id,
                Row(
                    "caps and floors",
                    f"{kind} of {ind.id}",
                    rule.limit.text,
                    f"{rule.kind} per {rule.fact.name}",
                    how,
                ),
            )


def item_caps(rep: Report, card: n.Scorecard, ranges: CardRanges) -> None:
    """`cap bonus N` / `cap penalty N` are reached when the items can give N."""
    table = rep.ctx.prog.item_tables.get(card.items.name) if card.items else None
    if table is None:
        return
    for cap in table.caps:
        items = [i for i in table.items if i.kind == cap.kind]
        most: Fraction | float = Fraction(0)
        for item in items:
            most = INF if _unbounded(rep.ctx, item.fact.name) else most + amount_max(item.amount)
        reached = most >= cap.value.value
        how = "reached" if reached else f"never reached: the items give at most {show(most)}"
        if not reached:
            rep.find(
                "V301",
                cap.span,
                f"`cap {cap.kind} {cap.value.text}` of '{table.id}' "
                f"is never reached: its {cap.kind} items give at most {show(most)}",
            )
        rep.row(
            card.id,
            Row("caps and floors", f"cap {cap.kind}", cap.value.text, f"items {table.id}", how),
        )


def card_floor(rep: Report, card: n.Scorecard, ranges: CardRanges) -> None:
    """The scorecard's floor applies only if the final can fall below it."""
    if card.floor is None:
        return
    before = ranges.results["unfloored"]
    reached = before.iv.lo < card.floor.value or not before.analysed
    how = "reached" if reached else f"never applies: the final is at least {show(before.iv.lo)}"
    if not reached:
        rep.find(
            "V301",
            card.floor.span,
            f"floor {card.floor.text} of '{card.id}' never "
            f"applies: the final before it is at least {show(before.iv.lo)}",
        )
    rep.row(card.id, Row("caps and floors", "floor", card.floor.text, "保底分", how))


def joint_caps(rep: Report, card: n.Scorecard, ranges: CardRanges) -> None:
    """Each joint block's cap, and the most liability one subject can receive in a period."""
    for j in rep.ctx.prog.joints.values():
        if j.into.name != card.id or j.cap is None:
            continue
        reached = any(_link_unbounded(rep.ctx, link) for link in j.links)
        how = "reached with enough facts" if reached else "may not be reached"
        rep.row(card.id, Row("caps and floors", f"cap of {j.id}", j.cap.text, "per period", how))
    hi = ranges.results["joint"].iv.hi
    if hi > 0:
        rep.row(
            card.id,
            Row(
                "caps and floors",
                "most joint liability",
                f"{show(hi)} per period",
                "",
                "sum of the caps of the joint blocks into it",
            ),
        )


def _link_unbounded(ctx: Ctx, link: n.Link) -> bool:
    if link.source_kind == "fact":
        return _unbounded(ctx, link.source.name)
    return True  # indicator and item sources pass per fact; counted facts are dated here
