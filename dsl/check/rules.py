"""Indicator and component rules: lets, `score` expressions, per-fact rules, and their ranges."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from dsl.check.context import Ctx
from dsl.check.enums import by_field, check_table
from dsl.check.exprs import Exprs
from dsl.check.intervals import INF, Interval, show
from dsl.check.scope import NUMBER, Scope, Val
from dsl.syntax import nodes as n


def check_rule(
    ex: Exprs,
    owner: str,
    points: n.Num,
    lets: tuple[n.Let, ...],
    rule: n.Rule,
    sc: Scope,
    ceiling: n.Num | None = None,
) -> None:
    """Checks the lets and rule of an indicator or component worth `points`, which may score up
    to `ceiling` (`points 15 max 18`) when one is declared."""
    ctx = ex.ctx
    for let in lets:
        if let.name in sc.env:
            span = ctx.name_after(let.span, let.name)
            ctx.report("E102", span, f"'{let.name}' is already defined in this scorecard")
            continue
        sc.env[let.name] = ex.check(let.value, sc)
    if isinstance(rule, n.ScoreRule):
        v = ex.check(rule.expr, sc)
        if ex.expect(v, "number", rule.expr.span, "'score'"):
            _check_range(ctx, v, owner, points, rule.expr.span, ceiling)
    else:
        _per_rule(ex, owner, points, rule, sc, ceiling)


def _check_range(
    ctx: Ctx, v: Val, owner: str, points: n.Num, span: n.Span, ceiling: n.Num | None = None
) -> None:
    """E305 when a score outside 0..points (0..max) is reachable; W301 when it only may be."""
    exact = all(count <= 1 for count in v.inputs.values())
    code, verb = ("E305", "can") if exact else ("W301", "may")
    top = Fraction((ceiling or points).value)
    if v.iv.hi > top:
        reach = "without bound" if v.iv.hi == INF else f"up to {show(v.iv.hi)}"
        its = f"its max {ceiling.text}" if ceiling is not None else f"its {points.text} points"
        ctx.report(code, span, f"{owner} {verb} score {reach}, above {its}")
    if v.iv.lo < 0:
        reach = "without bound" if v.iv.lo == -INF else f"down to {show(v.iv.lo)}"
        ctx.report(code, span, f"{owner} {verb} score {reach}, below 0")


def _per_rule(
    ex: Exprs, owner: str, points: n.Num, rule: n.PerRule, sc: Scope, ceiling: n.Num | None
) -> None:
    """`deduct per F ... floor N` starts from the points; `add per F ... ceiling N` from 0."""
    ctx = ex.ctx
    fact = ctx.prog.facts.get(rule.fact.name)
    if fact is None:
        ctx.unknown("E103", rule.fact, "fact type", ctx.prog.facts)
    else:
        ex.use_fact(fact, rule.fact.span, sc)
        if rule.where is not None:
            cond = ex.check(rule.where, sc.inner(fact))
            ex.expect(cond, "bool", rule.where.span, "'where'")
    check_amount(ctx, rule.amount, fact)
    want = "floor" if rule.kind == "deduct" else "ceiling"
    if rule.limit is None:
        bound = "below 0" if rule.kind == "deduct" else f"above its {points.text} points"
        msg = f"'{rule.kind}' without a {want}: {owner} can score without bound, {bound}"
        ctx.report("E306", rule.fact.span, msg, f"add `{want} N` to the rule")
        return
    if rule.limit_kind != want:
        msg = f"'{rule.kind}' takes a `{want}`, not a `{'ceiling' if want == 'floor' else 'floor'}`"
        ctx.report("E306", rule.limit.span, msg)
        return
    limit = Interval.point(rule.limit.value)
    iv = limit.hull(Interval.point(points.value)) if rule.kind == "deduct" else limit
    # The limit is reached with enough facts, so the bound is exact.
    _check_range(ctx, Val(NUMBER, iv, Counter()), owner, points, rule.limit.span, ceiling)


def check_amount(ctx: Ctx, amount: n.Amount, fact: n.FactDecl | None) -> None:
    """A fixed amount must be positive; a table keyed by an enum field must cover it."""
    if amount.value is not None and amount.value.value <= 0:
        ctx.report("E312", amount.value.span, f"amount must be positive, not {amount.value.text}")
    if amount.by is not None and amount.table is not None and fact is not None:
        fd = by_field(ctx, fact, amount.by)
        if fd is not None:
            check_table(ctx, amount.table, fd, amount.by.span)
