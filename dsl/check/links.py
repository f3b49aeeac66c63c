"""Bonus/penalty item tables and joint-liability links."""

from __future__ import annotations

from dsl.check.context import Ctx
from dsl.check.exprs import Exprs, card_subject
from dsl.check.rules import check_amount
from dsl.check.scope import Scope
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


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
    elif into is not None and link.source_kind != "joint":
        # a chain reads what another block passed (facts), not the source's results: the
        # scorecards its imports read are added by `check_joint_graph`
        ctx.depend(into.id, source.id, link.scorecard.span)
    fact = _source_fact(ex, link, source)
    _link_amount(ctx, link)
    if link.once_per is not None:
        if link.source_kind in ("joint", "deductions"):
            msg = f"`once per` counts facts; a `{link.source_kind}` link passes amounts, not facts"
            ctx.report("E311", link.once_per.span, msg)
        elif fact is not None:
            _once_field(ctx, fact, link.once_per)
    want = card_subject(ctx, into) if into is not None else None
    have = card_subject(ctx, source) if source is not None else None
    if link.target is None:
        if want is not None and have is not None and want != have:
            name = into.id if into else ""
            msg = f"'{source.id if source else ''}' scores {have}s, but '{name}' scores {want}s"
            ctx.report("E208", link.scorecard.span, msg)
        return
    # The target sees the fact's fields and the source subject (`ancestor(...)`, `attr(...)`).
    sc = Scope("target", have, into, link_fact=fact)
    target = ex.check(link.target, sc)
    kind = target.ty.kind
    if kind in ("unit", "person") and want is not None and kind != want:
        msg = f"the target is a {kind}, but '{into.id if into else ''}' scores {want}s"
        ctx.report("E208", link.target.span, msg)
    elif kind not in ("unit", "person", "any"):
        msg = f"a link's target is a unit or person, found {target.ty.show()}"
        ctx.report("E311", link.target.span, msg)


def _link_amount(ctx: Ctx, link: n.Link) -> None:
    """`ratio` within 0%..100%, `times` and `amount` positive; a fact has no amount to take a
    share of, and a chain or an import passes a share, not an amount."""
    if link.ratio is not None and not 0 < link.ratio.value <= 1:
        msg = f"ratio {link.ratio.text} must be above 0% and at most 100%"
        ctx.report("E311", link.ratio.span, msg)
    elif link.ratio is not None and link.source_kind == "fact":
        msg = "a `fact` link passes a fixed `amount`: a fact has no deduction to take a ratio of"
        ctx.report("E311", link.ratio.span, msg)
    if link.times is not None and link.times.value <= 0:
        ctx.report("E312", link.times.span, f"times must be positive, not {link.times.text}")
    elif link.times is not None and link.source_kind == "fact":
        msg = "a `fact` link passes a fixed `amount`: a fact has no deduction to multiply"
        ctx.report("E311", link.times.span, msg)
    if link.amount is not None and link.amount.value <= 0:
        ctx.report("E312", link.amount.span, f"amount must be positive, not {link.amount.text}")
    elif link.amount is not None and link.source_kind in ("joint", "deductions"):
        what = "what the block passed" if link.source_kind == "joint" else "the deductions"
        msg = f"a `{link.source_kind}` link passes `ratio P%` or `times N` of {what}, not an amount"
        ctx.report("E311", link.amount.span, msg)


def check_joint_graph(ctx: Ctx) -> None:
    """Joint blocks that pass on what other blocks passed (`joint` links) must not form a
    cycle (E402); a block into S that passes on an import of T's deductions makes S depend on T."""
    chained: dict[str, list[tuple[str, n.Link]]] = {}
    for j in ctx.prog.joints.values():
        for link in j.links:
            if link.source_kind == "joint" and link.source.name in ctx.prog.joints:
                chained.setdefault(j.id, []).append((link.source.name, link))
    reported: set[frozenset[str]] = set()
    for start in sorted(chained):
        cycle = _block_cycle(chained, start)
        if cycle is None or frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        path = " -> ".join([*cycle, cycle[0]])
        nxt = cycle[1] if len(cycle) > 1 else cycle[0]
        link = next(lk for src, lk in chained[cycle[0]] if src == nxt)
        msg = (
            f"joint block {cycle[0]} passes on what it passes itself ({path})"
            if len(cycle) == 1
            else f"joint blocks {path} pass liability to each other in a cycle"
        )
        note = f"`link {link.id}` of '{cycle[0]}' passes on what '{nxt}' passed"
        ctx.report("E402", link.source.span, msg, note)
    for j in ctx.prog.joints.values():
        if j.into.name not in ctx.prog.scorecards:
            continue
        for link in j.links:
            if link.source_kind != "joint":
                continue
            for card in sorted(_imported(ctx.prog, chained, link.source.name, set())):
                if card in ctx.prog.scorecards:
                    ctx.depend(j.into.name, card, link.source.span)


def _block_cycle(chained: dict[str, list[tuple[str, n.Link]]], start: str) -> list[str] | None:
    """The shortest cycle of blocks through `start` (breadth first)."""
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for dep, _ in chained.get(node, ()):
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return path[::-1]
                if dep not in came:
                    came[dep] = node
                    nxt.append(dep)
        frontier = nxt
    return None


def _imported(
    prog: Program, chained: dict[str, list[tuple[str, n.Link]]], block: str, seen: set[str]
) -> set[str]:
    """The scorecards whose results a block reads, itself or through the blocks it chains."""
    if block in seen or block not in prog.joints:
        return set()
    seen.add(block)
    out = {lk.scorecard.name for lk in prog.joints[block].links if lk.imported}
    for src, _ in chained.get(block, ()):
        out |= _imported(prog, chained, src, seen)
    return out


def _source_fact(ex: Exprs, link: n.Link, source: n.Scorecard | None) -> n.FactDecl | None:
    """The fact type whose facts a link passes on, checked against its source scorecard."""
    ctx = ex.ctx
    ref = link.source
    fact_name: str | None = None
    if link.source_kind == "fact":
        fact_name = ref.name
    elif link.source_kind == "deductions":
        return None
    elif link.source_kind == "joint":
        _source_block(ctx, link)
        return None
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


def _source_block(ctx: Ctx, link: n.Link) -> None:
    """A `joint` link names a block whose `into` is the link's scorecard."""
    block = ctx.prog.joints.get(link.source.name)
    if block is None:
        ctx.unknown("E311", link.source, "joint block", ctx.prog.joints)
    elif block.into.name != link.scorecard.name:
        msg = (
            f"joint block '{block.id}' passes liability into '{block.into.name}', "
            f"not '{link.scorecard.name}'"
        )
        ctx.report("E311", link.scorecard.span, msg, f"write `{block.into.name} joint {block.id}`")
