"""Scorecards: sequence, periods, weights and points, results, ranking, vetoes, tiers, grades."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction

from dsl.check import below
from dsl.check.context import Ctx, head
from dsl.check.exprs import Exprs, card_subject, result_names
from dsl.check.intervals import NONNEG, Interval
from dsl.check.rules import check_rule
from dsl.check.scope import NUMBER, Scope, Ty, Val, Where
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean

RESERVED = ("base", "bonus", "penalty", "joint", "final", "rank", "n", "quarters")
ROUND_MODES = ("half_up", "half_even", "down", "up", "ceiling", "floor")


def check_scorecard(ex: Exprs, card: n.Scorecard) -> None:
    """Every check of one scorecard."""
    ctx = ex.ctx
    seq = ctx.prog.sequences.get(card.sequence.name)
    if seq is None:
        ctx.unknown("E105", card.sequence, "sequence", ctx.prog.sequences)
    ctx.used_sequences.add(card.sequence.name)
    subject = card_subject(ctx, card)
    name = ctx.name_after(card.span, card.id)
    _periods(ctx, card, name)
    _ids(ctx, card)
    _body(ex, card, subject, name)
    if card.items is not None:
        _items(ctx, card, subject)
    if card.annual is not None:
        _result(ex, card, card.annual, "annual", subject)
    if card.final is not None:
        _result(ex, card, card.final, "final", subject)
        _final_uses(ctx, card, card.final)
    _rank(ex, card, subject)
    _vetoes(ex, card, subject)
    for bands in (card.tiers, card.grades):
        if bands is not None:
            _bands(ex, card, bands, subject)


def has_year(card: n.Scorecard) -> bool:
    """Whether a scorecard has a result for the year (scored, or from its `annual`)."""
    return "year" in card.periods or card.annual is not None


def _periods(ctx: Ctx, card: n.Scorecard, name: n.Span) -> None:
    header = ctx.prog.header
    allowed = header.periods if header is not None and header.periods else ("quarter", "year")
    if not card.periods:
        msg = f"scorecard '{card.id}' has no `periods`, so it is never scored"
        ctx.report("E310", name, msg)
    for p in card.periods:
        if p not in allowed:
            ctx.report("E310", name, f"scorecard '{card.id}' scores {p}s; the ruleset does not")
    if card.annual is not None and "quarter" not in card.periods:
        ctx.report("E310", card.annual.span, "`annual` needs quarterly results (`periods quarter`)")
    for spec in (*card.ranks, card.tiers, card.grades):
        if spec is not None and spec.period == "year" and not has_year(card):
            msg = f"scorecard '{card.id}' has no yearly result (add `annual` or `periods year`)"
            ctx.report("E310", head(spec.span, 4), msg)


def _ids(ctx: Ctx, card: n.Scorecard) -> None:
    """Categories, components and indicators share one namespace with the results."""
    seen: set[str] = set()
    parts: list[tuple[str, n.Span, str]] = []
    for cat in card.categories:
        parts.append((cat.id, cat.span, "category"))
        parts.extend((i.id, i.span, "indicator") for i in cat.indicators)
    parts.extend((c.id, c.span, "component") for c in card.components)
    for ident, span, kind in parts:
        where = ctx.name_after(span, ident)
        if ident in RESERVED:
            ctx.report("E116", where, f"{kind} id '{ident}' is reserved for a result")
        elif ident in seen:
            ctx.report("E102", where, f"'{ident}' is already defined in scorecard '{card.id}'")
        seen.add(ident)


def _body(ex: Exprs, card: n.Scorecard, subject: str | None, name: n.Span) -> None:
    ctx = ex.ctx
    if bool(card.categories) == bool(card.components):
        what = "both categories and components" if card.categories else "no category or component"
        ctx.report("E309", name, f"scorecard '{card.id}' has {what}")
    for parts, kind in ((card.categories, "categories"), (card.components, "components")):
        weights = [p.weight for p in parts]
        for w in weights:
            if w.value <= 0:
                ctx.report("E312", w.span, f"weight must be positive, not {w.text}")
        total = sum((w.value for w in weights), Decimal(0))
        if parts and total != 1:
            listing = " + ".join(w.text for w in weights)
            pct = format((total * 100).normalize(), "f")
            msg = f"the {kind} of '{card.id}' weigh {pct}%, not 100%"
            ctx.report("E303", name, msg, listing)
    for cat in card.categories:
        total = sum((i.points.value for i in cat.indicators), Decimal(0))
        if total != cat.max.value:
            listing = " + ".join(i.points.text for i in cat.indicators) or "no indicators"
            msg = f"the indicators of '{cat.id}' have {total} points, but its max is {cat.max.text}"
            ctx.report("E304", ctx.name_after(cat.span, cat.id), msg, listing)
        for ind in cat.indicators:
            if ind.applies is not None:
                v = ex.check(ind.applies, Scope("rule", subject, card))
                ex.expect(v, "bool", ind.applies.span, "'applies when'")
            sc = Scope("rule", subject, card)
            check_rule(ex, f"indicator '{ind.id}'", ind.points, ind.lets, ind.rule, sc, ind.ceiling)
            if ind.ceiling is not None and ind.ceiling.value < ind.points.value:
                msg = (
                    f"indicator '{ind.id}' has max {ind.ceiling.text}, below its"
                    f" {ind.points.text} points"
                )
                ctx.report("E315", ind.ceiling.span, msg, "a max is the most it may score")
            if ind.risk is not None:
                _risk(ctx, ind.risk)
    for comp in card.components:
        sc = Scope("rule", subject, card)
        check_rule(ex, f"component '{comp.id}'", comp.max, comp.lets, comp.rule, sc)


RISK_LEVELS = ("high", "medium", "low")


def _risk(ctx: Ctx, risk: n.Risk) -> None:
    """Each level of a `risk` statement is one of RISK_LEVELS."""
    for level in (risk.difficulty, risk.control):
        if level is not None and level.name not in RISK_LEVELS:
            hint = did_you_mean(level.name, RISK_LEVELS) or " (give high, medium or low)"
            ctx.report("E214", level.span, f"unknown risk level '{level.name}'{hint}")


def _items(ctx: Ctx, card: n.Scorecard, subject: str | None) -> None:
    assert card.items is not None
    ctx.used_tables.add(card.items.name)
    table = ctx.prog.item_tables.get(card.items.name)
    if table is None:
        ctx.unknown("E106", card.items, "item table", ctx.prog.item_tables)
        return
    for item in table.items:
        fact = ctx.prog.facts.get(item.fact.name)
        if fact is not None and subject is not None and subject not in fact.subjects:
            msg = f"item '{item.id}' of '{table.id}' counts '{fact.id}', which is not on {subject}s"
            ctx.report("E208", card.items.span, msg)


def env_for(card: n.Scorecard, where: Where) -> dict[str, Val]:
    """The result names an expression of a scorecard may read."""
    env = {x: Val(NUMBER, inputs=Counter({x: 1})) for x in result_names(card)}
    del env["rank"]
    if where == "final":
        del env["final"]
    if where == "annual" and "year" not in card.periods:
        env = {}
    # with `periods year` too, `annual` reads the year's own results (its facts) as well
    if where == "band":
        env["rank"] = Val(NUMBER, Interval(Fraction(1), NONNEG.hi), Counter({"rank": 1}))
        env["n"] = Val(NUMBER, NONNEG, Counter({"n": 1}))
    if where in ("annual", "band") and card.annual is not None:
        env["quarters"] = Val(Ty("list"), inputs=Counter({"quarters": 1}))
        # q1 .. q4: each quarter's published final, for a weighted year or half-years
        for k in ("q1", "q2", "q3", "q4"):
            if k not in env:
                env[k] = Val(NUMBER, inputs=Counter({k: 1}))
    return env


def _result(ex: Exprs, card: n.Scorecard, e: n.Expr, where: Where, subject: str | None) -> None:
    sc = Scope(where, subject, card, env_for(card, where))
    ex.expect(ex.check(e, sc), "number", e.span, f"'{where}'")


def _rank(ex: Exprs, card: n.Scorecard, subject: str | None) -> None:
    known = [x for x in result_names(card) if x != "rank"]
    for spec in card.ranks:
        for key in spec.keys:
            if key.name.name not in known:
                ex.ctx.unknown("E101", key.name, "result", known, card.id)
        if spec.within is not None:
            v = ex.check(spec.within, Scope("within", subject, card))
            # a unit (`ancestor(county_bureau)`), or a class of subjects (`attr(class)`)
            if v.ty.kind not in ("unit", "enum", "text", "any"):
                msg = f"'within' needs a unit, an enum or a text, found {v.ty.show()}"
                ex.ctx.report("E201", spec.within.span, msg)


def _vetoes(ex: Exprs, card: n.Scorecard, subject: str | None) -> None:
    ctx = ex.ctx
    for veto in card.vetoes:
        # the subject's own facts as a rule reads them; descendants and conditions as bands do
        own = veto.when is None and veto.quant is None
        sc = (
            Scope("rule", subject, card)
            if own
            else Scope("band", subject, card, env_for(card, "band"))
        )
        below.veto(ex, veto, sc)
        _band_ref(ctx, card, veto.band_kind, veto.band)
    for d in card.direct:
        _band_ref(ctx, card, d.band_kind, d.band)
        sc = Scope("band", subject, card, env_for(card, "band"))
        what = f"'{d.band_kind} {d.band.name} when'"
        ex.expect(ex.check(d.cond, sc), "bool", d.cond.span, what)
    below.rounds(ctx, card, ROUND_MODES)


def _band_ref(ctx: Ctx, card: n.Scorecard, kind: str, band: n.Ref) -> None:
    bands = card.tiers if kind == "tier" else card.grades
    known = [b.id for b in bands.bands] if bands is not None else []
    if band.name not in known:
        ctx.unknown("E115", band, kind, known)


def _bands(ex: Exprs, card: n.Scorecard, bands: n.Bands, subject: str | None) -> None:
    ctx = ex.ctx
    mode = bands.round_mode
    if mode.name not in ROUND_MODES:
        ctx.unknown("E114", mode, "rounding mode", ROUND_MODES)
    kind = f"{bands.kind}s"
    seen: set[str] = set()
    for i, band in enumerate(bands.bands):
        where = head(band.span, len(band.id))
        if band.id in seen:
            ctx.report("E102", where, f"{bands.kind} '{band.id}' is already defined")
        seen.add(band.id)
        if band.cond is None:
            if i != len(bands.bands) - 1:
                ctx.report("E308", where, f"`otherwise` must be the last of the {kind}")
            continue
        sc = Scope("band", subject, card, env_for(card, "band"))
        ex.expect(ex.check(band.cond, sc), "bool", band.cond.span, f"{bands.kind} '{band.id}'")
    if not bands.bands or bands.bands[-1].cond is not None:
        ctx.report("E308", head(bands.span, 5), f"the {kind} of '{card.id}' need `otherwise` last")


def _names(e: n.Expr) -> set[str]:
    """Every bare name inside an expression."""
    if isinstance(e, n.Name):
        return {e.id}
    if isinstance(e, n.Call):
        return set().union(*(_names(a.value) for a in e.args))
    if isinstance(e, n.Attr | n.Unary):
        return _names(e.obj if isinstance(e, n.Attr) else e.operand)
    if isinstance(e, n.Index):
        return _names(e.obj) | _names(e.index)
    if isinstance(e, n.Binary):
        return _names(e.left) | _names(e.right)
    if isinstance(e, n.If):
        return _names(e.cond) | _names(e.then) | _names(e.else_)
    if isinstance(e, n.Match):
        return _names(e.subject).union(*(_names(a.value) for a in e.arms))
    return set()


def _final_uses(ctx: Ctx, card: n.Scorecard, final: n.Expr) -> None:
    """A written `final` should still count the items and joint liability the card receives."""
    used = _names(final)
    lost = []
    if card.items is not None:
        lost += [x for x in ("bonus", "penalty") if x not in used]
    joints = [j.id for j in ctx.prog.joints.values() if j.into.name == card.id]
    if joints and "joint" not in used:
        lost.append("joint")
    if lost:
        msg = f"the final of '{card.id}' ignores {', '.join(lost)}"
        ctx.report("W302", final.span, msg, "these are scored but never reach the final")
