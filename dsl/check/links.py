"""Bonus/penalty item tables and joint-liability links."""

from __future__ import annotations

from dsl.check.context import Ctx
from dsl.check.exprs import Exprs, card_subject
from dsl.check.rules import check_amount
from dsl.check.scope import Scope
from dsl.syntax import nodes as n


def check_item_table(ex: Exprs, table: n.ItemTable) -> None:
    """Items count declared facts, with positive amounts and known `once per` fields."""
    ctx = ex.ctx
    seen: set[str] = set()
    for item in table.items:
        if item.id in seen:
            where = _item_name(ctx, item)
            msg = f"item '{item.id}' is already in '{table.id}'"
            ctx.report("E102", where, msg, f"name it: `{item.kind} other_name: {item.fact.name}`")
        seen.add(item.id)
        fact = ctx.prog.facts.get(item.fact.name)
        if fact is None:
            ctx.unknown("E103", item.fact, "fact type", ctx.prog.facts)
        else:
            ctx.use_fact(fact.id, item.fact.span)
            if item.where is not None:
                cond = ex.check(item.where, Scope("fact", None, fact=fact))
                ex.expect(cond, "bool", item.where.span, "'where'")
            if item.once_per is not None:
                _once_field(ctx, fact, item.once_per)
        check_amount(ctx, item.amount, fact)
    kinds: set[tuple[str, str]] = set()
    for cap in table.caps:
        what = cap.item.name if cap.item is not None else cap.kind
        if cap.item is not None and cap.item.name not in seen:
            ctx.unknown("E109", cap.item, "item", sorted(seen), table.id)
        per = "" if cap.per == "period" else " per year"
        if (what, cap.per) in kinds:
            ctx.report("E102", cap.span, f"a second `cap {what}{per}` in '{table.id}'")
        kinds.add((what, cap.per))
        if cap.value.value <= 0:
            ctx.report("E312", cap.value.span, f"cap must be positive, not {cap.value.text}")


def _item_name(ctx: Ctx, item: n.Item) -> n.Span:
    if item.id == item.fact.name:
        return item.fact.span
    return ctx.name_after(item.span, item.id)


def _once_field(ctx: Ctx, fact: n.FactDecl, ref: n.Ref) -> None:
    if all(f.name != ref.name for f in fact.fields):
        ctx.unknown("E107", ref, "field", [f.name for f in fact.fields], fact.id)


def check_joint(ex: Exprs, joint: n.Joint) -> None:
    """Links pass a share of a source scorecard's deductions to subjects of `into`."""
    ctx = ex.ctx
    into = ctx.prog.scorecards.get(joint.into.name)
    if into is None:
        ctx.unknown("E104", joint.into, "scorecard", ctx.prog.scorecards)
    seen: set[str] = set()
    for link in joint.links:
        if link.id in seen:
            where = ctx.name_after(link.span, link.id)
            ctx.report("E102", where, f"link '{link.id}' is already in '{joint.id}'")
        seen.add(link.id)
        _link(ex, link, into)
    if joint.cap is not None and joint.cap.value <= 0:
        ctx.report("E312", joint.cap.span, f"cap must be positive, not {joint.cap.text}")


def _link(ex: Exprs, link: n.Link, into: n.Scorecard | None) -> None:
    ctx = ex.ctx
    source = ctx.prog.scorecards.get(link.scorecard.name)
    if source is None:
        ctx.unknown("E104", link.scorecard, "scorecard", ctx.prog.scorecards)
    elif into is not None:
        ctx.depend(into.id, source.id, link.scorecard.span)
    fact = _source_fact(ex, link, source)
    if link.ratio is not None and not 0 < link.ratio.value <= 1:
        msg = f"ratio {link.ratio.text} must be above 0% and at most 100%"
        ctx.report("E311", link.ratio.span, msg)
    elif link.ratio is not None and link.source_kind == "fact":
        msg = "a `fact` link passes a fixed `amount`: a fact has no deduction to take a ratio of"
        ctx.report("E311", link.ratio.span, msg)
    if link.amount is not None and link.amount.value <= 0:
        ctx.report("E312", link.amount.span, f"amount must be positive, not {link.amount.text}")
    want = card_subject(ctx, into) if into is not None else None
    sc = Scope("target", None, into, link_fact=fact)
    target = ex.check(link.target, sc)
    kind = target.ty.kind
    if kind in ("unit", "person") and want is not None and kind != want:
        msg = f"the target is a {kind}, but '{into.id if into else ''}' scores {want}s"
        ctx.report("E208", link.target.span, msg)
    elif kind not in ("unit", "person", "any"):
        msg = f"a link's target is a unit or person, found {target.ty.show()}"
        ctx.report("E311", link.target.span, msg)


def _source_fact(ex: Exprs, link: n.Link, source: n.Scorecard | None) -> n.FactDecl | None:
    """The fact type whose facts a link passes on, checked against its source scorecard."""
    ctx = ex.ctx
    ref = link.source
    fact_name: str | None = None
    if link.source_kind == "fact":
        fact_name = ref.name
    elif source is None:
        return None
    elif link.source_kind == "indicator":
        inds = {i.id: i for c in source.categories for i in c.indicators}
        ind = inds.get(ref.name)
        if ind is None:
            ctx.unknown("E108", ref, "indicator", inds, source.id)
            return None
        if not isinstance(ind.rule, n.PerRule):
            msg = f"indicator '{ind.id}' is not scored per fact (`deduct per` or `add per`)"
            ctx.report("E311", ref.span, msg)
            return None
        fact_name = ind.rule.fact.name
    else:
        table = ctx.prog.item_tables.get(source.items.name) if source.items else None
        items = {i.id: i for i in table.items} if table is not None else {}
        item = items.get(ref.name)
        if item is None:
            ctx.unknown("E109", ref, "item", items, source.id)
            return None
        fact_name = item.fact.name
    fact = ctx.prog.facts.get(fact_name)
    if fact is None:
        if link.source_kind == "fact":
            ctx.unknown("E103", ref, "fact type", ctx.prog.facts)
        return None
    ctx.use_fact(fact.id, ref.span)
    subject = card_subject(ctx, source) if source is not None else None
    if subject is not None and subject not in fact.subjects:
        card = link.scorecard.name
        msg = f"fact type '{fact.id}' is not recorded on the {subject}s that '{card}' scores"
        ctx.report("E208", ref.span, msg)
    return fact
