"""Attainable ranges of indicators, parts, base, items, joint and final, by interval analysis.

Rules are analysed by the checker's own expression analysis (`dsl.check.exprs` over
`dsl.check.intervals`): exact rationals, a hull that is attained when every input is read once
("exact"), an over-approximation otherwise ("at most").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from dsl.check.exprs import Exprs, card_subject
from dsl.check.intervals import INF, TOP, Interval
from dsl.check.scope import Scope
from dsl.syntax import nodes as n

ZERO = Interval(Fraction(0), Fraction(0))


@dataclass(frozen=True)
class Range:
    """An interval, whether its ends are attained, and the inputs it depends on."""

    iv: Interval
    exact: bool
    inputs: frozenset[str] = frozenset()
    analysed: bool = True


@dataclass
class CardRanges:
    """Every range of one scorecard."""

    parts: dict[str, Range] = field(default_factory=dict)
    results: dict[str, Range] = field(default_factory=dict)


def rule_range(
    ex: Exprs, card: n.Scorecard, points: n.Num, lets: tuple[n.Let, ...], rule: object
) -> Range:
    """The range of an indicator's or component's rule, as the checker computes it."""
    sc = Scope("rule", card_subject(ex.ctx, card), card)
    for let in lets:
        if let.name not in sc.env:
            sc.env[let.name] = ex.check(let.value, sc)
    if isinstance(rule, n.ScoreRule):
        v = ex.check(rule.expr, sc)
        exact = all(count <= 1 for count in v.inputs.values())
        return Range(v.iv, exact, frozenset(v.inputs))
    if isinstance(rule, n.PerRule):
        top = Fraction(points.value)
        limit = Fraction(rule.limit.value) if rule.limit is not None else None
        if rule.kind == "deduct":
            lo = limit if limit is not None else -INF
            return Range(Interval(min(lo, top), top), True, frozenset({rule.fact.name}))
        hi = limit if limit is not None else INF
        return Range(Interval(Fraction(0), hi), True, frozenset({rule.fact.name}))
    return Range(TOP, False, analysed=False)


def _sum(ranges: list[tuple[Fraction, Range]]) -> Range:
    iv = ZERO
    exact = True
    seen: set[str] = set()
    for weight, r in ranges:
        iv = iv + Interval(weight, weight) * r.iv
        exact = exact and r.exact and not (seen & r.inputs)
        seen |= r.inputs
    return Range(iv, exact, frozenset(seen), all(r.analysed for _, r in ranges))


def parts(ex: Exprs, card: n.Scorecard) -> dict[str, Range]:
    """Indicators, categories and components."""
    out: dict[str, Range] = {}
    for cat in card.categories:
        inds = []
        for ind in cat.indicators:
            out[ind.id] = rule_range(ex, card, ind.points, ind.lets, ind.rule)
            inds.append((Fraction(1), out[ind.id]))
        out[cat.id] = _sum(inds)
        if any(i.applies is not None for i in cat.indicators):
            out[cat.id] = _rescaled(cat, out)
    for comp in card.components:
        out[comp.id] = rule_range(ex, card, comp.max, comp.lets, comp.rule)
    return out


def _rescaled(cat: n.Category, out: dict[str, Range]) -> Range:
    """A category some of whose indicators may not apply: max × earned / applicable points is a
    mediant of the indicators' own rates, so it lies between the least and the most rate."""
    rates = [
        (out[i.id].iv.lo / Fraction(i.points.value), out[i.id].iv.hi / Fraction(i.points.value))
        for i in cat.indicators
        if i.points.value > 0
    ]
    top = Fraction(cat.max.value)
    lo = min((r[0] for r in rates), default=Fraction(0))
    hi = max((r[1] for r in rates), default=Fraction(0))
    inputs = frozenset().union(*(out[i.id].inputs for i in cat.indicators))
    analysed = all(out[i.id].analysed for i in cat.indicators)
    return Range(Interval(top * lo, top * hi), False, inputs, analysed)


def _most(facts: list[n.FactDecl | None], amounts: list[Fraction]) -> Fraction | float:
    """The most a set of per-fact amounts can add up to in one period."""
    total: Fraction | float = Fraction(0)
    for fact, amount in zip(facts, amounts, strict=True):
        if fact is None or fact.kind != "period":
            return INF  # dated and `period many` facts: any number of them
        total += amount
    return total


def amount_max(amount: n.Amount) -> Fraction:
    """The largest amount one fact can give."""
    if amount.value is not None:
        return Fraction(amount.value.value)
    entries = amount.table.entries if amount.table is not None else ()
    return max((Fraction(e.value.value) for e in entries), default=Fraction(0))


def items(ex: Exprs, card: n.Scorecard) -> dict[str, Range]:
    """bonus and penalty: from 0 to the smaller of the cap and the most the items can give."""
    table = ex.ctx.prog.item_tables.get(card.items.name) if card.items is not None else None
    out = {"bonus": Range(ZERO, True), "penalty": Range(ZERO, True)}
    if table is None:
        return out
    for kind in ("bonus", "penalty"):
        mine = [i for i in table.items if i.kind == kind]
        most: Fraction | float = Fraction(0)
        for i in mine:
            # each item at most its own caps (`cap praise 2`, per period or per year)
            own = _most([ex.ctx.prog.facts.get(i.fact.name)], [amount_max(i.amount)])
            for c in table.caps:
                if c.item is not None and c.item.name == i.id:
                    own = min(own, Fraction(c.value.value))
            most += own
        cap = min(
            (Fraction(c.value.value) for c in table.caps if c.kind == kind and c.item is None),
            default=INF,
        )
        hi = min(most, cap)
        out[kind] = Range(Interval(Fraction(0), hi), True, frozenset(i.fact.name for i in mine))
    return out


def joint(ex: Exprs, card: n.Scorecard) -> Range:
    """What joint liability can pass into a scorecard's subject in one period."""
    total: Fraction | float = Fraction(0)
    for j in ex.ctx.prog.joints.values():
        if j.into.name == card.id and j.links:
            total += Fraction(j.cap.value) if j.cap is not None else INF
    return Range(Interval(Fraction(0), total), True, frozenset({"joint"}))


def final_range(card: n.Scorecard, env: dict[str, Range], others: dict[str, CardRanges]) -> Range:
    """The final before the floor: the default formula, or the written `final` by intervals."""
    if card.final is None:
        e = env
        iv = e["base"].iv + e["bonus"].iv - e["penalty"].iv - e["joint"].iv
        rs = [e[k] for k in ("base", "bonus", "penalty", "joint")]
        return Range(iv, all(r.exact for r in rs), frozenset().union(*(r.inputs for r in rs)))
    reads: Counter[str] = Counter()
    got = _eval(card.final, env, others, reads)
    if got is None:
        return Range(TOP, False, analysed=False)
    exact = all(c <= 1 for c in reads.values()) and all(env[k].exact for k in reads if k in env)
    return Range(got, exact, frozenset(reads))


def _eval(
    e: n.Expr, env: dict[str, Range], others: dict[str, CardRanges], reads: Counter[str]
) -> Interval | None:
    """Interval of a `final` expression; None where it holds what this does not analyse."""
    if isinstance(e, n.Num):
        return Interval.point(e.value)
    if isinstance(e, n.Name) and e.id in env:
        reads[e.id] += 1
        return env[e.id].iv
    if isinstance(e, n.Attr) and isinstance(e.obj, n.Index) and isinstance(e.obj.obj, n.Name):
        other = others.get(e.obj.obj.id)
        got = other.results.get(e.name.name) or other.parts.get(e.name.name) if other else None
        reads[f"{e.obj.obj.id}.{e.name.name}"] += 1
        return got.iv if got is not None else None
    if isinstance(e, n.Unary) and e.op == "-":
        inner = _eval(e.operand, env, others, reads)
        return -inner if inner is not None else None
    if isinstance(e, n.Binary) and e.op in ("+", "-", "*", "/"):
        left, right = _eval(e.left, env, others, reads), _eval(e.right, env, others, reads)
        if left is None or right is None:
            return None
        if e.op == "+":
            return left + right
        if e.op == "-":
            return left - right
        return left * right if e.op == "*" else left / right
    if isinstance(e, n.Call) and e.func in ("max", "min") and e.args:
        ivs = [_eval(a.value, env, others, reads) for a in e.args]
        if any(iv is None for iv in ivs):
            return None
        acc = ivs[0]
        for iv in ivs[1:]:
            assert acc is not None and iv is not None
            acc = acc.maximum(iv) if e.func == "max" else acc.minimum(iv)
        return acc
    return None


def card_ranges(ex: Exprs, card: n.Scorecard, others: dict[str, CardRanges]) -> CardRanges:
    """Every range of a scorecard, given those of the scorecards it reads."""
    out = CardRanges(parts(ex, card))
    cats = [(Fraction(c.weight.value), out.parts[c.id]) for c in card.categories]
    comps = [(Fraction(c.weight.value), out.parts[c.id]) for c in card.components]
    out.results["base"] = _sum(cats + comps)
    if any(i.applies is not None for c in card.categories for i in c.indicators):
        # A category none of whose indicators applies is left out and the weights rescaled:
        # base is a weighted mean of the categories, between the least and the most of them.
        ivs = [r.iv for _, r in cats]
        got = out.results["base"]
        lo = min(got.iv.lo, *(iv.lo for iv in ivs))
        hi = max(got.iv.hi, *(iv.hi for iv in ivs))
        out.results["base"] = Range(Interval(lo, hi), False, got.inputs, got.analysed)
    out.results.update(items(ex, card))
    out.results["joint"] = joint(ex, card)
    env = {**out.parts, **out.results}
    unfloored = final_range(card, env, others)
    out.results["unfloored"] = unfloored
    if card.floor is not None:
        floor = Interval.point(card.floor.value)
        out.results["final"] = Range(
            unfloored.iv.maximum(floor), unfloored.exact, unfloored.inputs, unfloored.analysed
        )
    else:
        out.results["final"] = unfloored
    return out
