"""What the analysis needs to know of a ruleset's indicators and items, read from its syntax tree:
titles, points, weights, lead departments, how each indicator is scored, which period values
it needs, the field its amounts go by, and the risk the ruleset declares for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from dsl.compile.ir import CompiledRuleset
from dsl.syntax import nodes as n

# How an indicator is scored, as the risk grades and the reports name it.
PER_FACT_DEDUCT = "per_fact_deduct"  # starts full, loses an amount per event (扣分)
PER_FACT_ADD = "per_fact_add"  # starts at 0, gains an amount per event (加分)
RELATIVE = "relative"  # ranked among peers, or against their mean: depends on others
VALUE = "value"  # from the unit's own period values (completion rates, ratings)
EVENTS = "events"  # from counts or sums of the unit's events
FORMULA = "formula"  # anything else

METHOD_TEXT = {
    PER_FACT_DEDUCT: "逐项扣分",
    PER_FACT_ADD: "逐项加分",
    RELATIVE: "相对排名",
    VALUE: "按本期数值计分",
    EVENTS: "按事项计数",
    FORMULA: "公式计分",
}
_VALUE_FUNCS = frozenset({"value", "mean", "weighted_mean"})
_EVENT_FUNCS = frozenset({"count", "sum", "distinct"})
_PEER_FUNCS = frozenset({"rank", "peer_mean"})


@dataclass(frozen=True)
class IndicatorInfo:
    """One indicator (or component) of a scorecard, as the analysis reads it."""

    id: str
    title: str
    scorecard: str
    part: str
    part_title: str
    weight: Decimal
    points: Decimal
    lead: str | None
    method: str
    values: tuple[str, ...]  # period fact types it reads one value (or mean) of
    events: tuple[str, ...]  # dated fact types it counts or deducts per
    by: str | None  # the field a per-fact amount goes by (`by level`), if any
    limit: Decimal | None  # the floor of a deduction, the ceiling of an addition
    largest: Decimal | None  # the largest amount one fact of a per-fact rule counts
    difficulty: str | None
    control: str | None


@dataclass(frozen=True)
class ItemInfo:
    """One bonus or penalty item of an item table."""

    id: str
    kind: str  # "bonus" | "penalty"
    fact: str
    title: str
    by: str | None


@dataclass(frozen=True)
class RulesInfo:
    """The indicators of every scorecard and the items of every table, by id."""

    indicators: dict[str, IndicatorInfo]
    by_card: dict[str, tuple[IndicatorInfo, ...]]
    items: dict[tuple[str, str], ItemInfo]  # (table, item id)
    fact_titles: dict[str, str]
    enum_titles: dict[tuple[str, str, str], str]  # (fact type, field, value) → title

    def card(self, scorecard: str) -> tuple[IndicatorInfo, ...]:
        """The indicators (components) of a scorecard, in declaration order."""
        return self.by_card.get(scorecard, ())

    def level_title(self, fact: str, fld: str | None, value: object) -> str:
        """The title of an enum value (`provincial` → 省级), else the value itself."""
        if fld is None or value is None:
            return ""
        return self.enum_titles.get((fact, fld, str(value)), str(value))


_SEEN: dict[str, RulesInfo] = {}


def rules_info(compiled: CompiledRuleset) -> RulesInfo:
    """The analysis's view of a compiled ruleset (computed once per digest)."""
    got = _SEEN.get(compiled.digest)
    if got is None:
        got = _SEEN[compiled.digest] = _info(compiled)
        while len(_SEEN) > 32:
            del _SEEN[next(iter(_SEEN))]
    return got


def _info(compiled: CompiledRuleset) -> RulesInfo:
    prog = compiled.program
    facts: dict[str, n.FactDecl] = prog.facts
    titles = {f.id: f.title or f.id for f in facts.values()}
    enums: dict[tuple[str, str, str], str] = {}
    for f in facts.values():
        for fd in f.fields:
            for v in fd.type.values:
                enums[(f.id, fd.name, v.id)] = v.title or v.id
    by_card: dict[str, tuple[IndicatorInfo, ...]] = {}
    for sc in prog.scorecards.values():
        rows = [_indicator(sc, c, i, facts) for c in sc.categories for i in c.indicators]
        rows += [_component(sc, comp, facts) for comp in sc.components]
        by_card[sc.id] = tuple(rows)
    items = {
        (t.id, it.id): ItemInfo(
            it.id, it.kind, it.fact.name, titles.get(it.fact.name, it.fact.name), _by(it.amount)
        )
        for t in prog.item_tables.values()
        for it in t.items
    }
    every = {i.id: i for rows in by_card.values() for i in rows}
    return RulesInfo(every, by_card, items, titles, enums)


def _largest(amount: n.Amount) -> Decimal | None:
    """The largest amount a per-fact rule counts for one fact."""
    if amount.value is not None:
        return amount.value.value
    if amount.table is None:
        return None
    return max((e.value.value for e in amount.table.entries), default=None)


def _by(amount: n.Amount) -> str | None:
    return amount.by.name if amount.by is not None else None


def _indicator(
    sc: n.Scorecard, cat: n.Category, ind: n.Indicator, facts: dict[str, n.FactDecl]
) -> IndicatorInfo:
    method, values, events, by, limit = _method(ind.lets, ind.rule, facts)
    largest = _largest(ind.rule.amount) if isinstance(ind.rule, n.PerRule) else None
    risk = ind.risk
    return IndicatorInfo(
        ind.id,
        ind.title or ind.id,
        sc.id,
        cat.id,
        cat.title or cat.id,
        cat.weight.value,
        ind.points.value,
        ind.lead.name if ind.lead is not None else None,
        method,
        values,
        events,
        by,
        limit,
        largest,
        risk.difficulty.name if risk is not None and risk.difficulty is not None else None,
        risk.control.name if risk is not None and risk.control is not None else None,
    )


def _component(sc: n.Scorecard, comp: n.Component, facts: dict[str, n.FactDecl]) -> IndicatorInfo:
    method, values, events, by, limit = _method(comp.lets, comp.rule, facts)
    title = comp.title or comp.id
    return IndicatorInfo(
        comp.id, title, sc.id, comp.id, title, comp.weight.value, comp.max.value, None,
        method, values, events, by, limit, None, None, None,
    )  # fmt: skip


def _method(
    lets: tuple[n.Let, ...], rule: n.Rule, facts: dict[str, n.FactDecl]
) -> tuple[str, tuple[str, ...], tuple[str, ...], str | None, Decimal | None]:
    """(method, period values read, events counted, amount field, floor or ceiling)."""
    if isinstance(rule, n.PerRule):
        kind = PER_FACT_DEDUCT if rule.kind == "deduct" else PER_FACT_ADD
        limit = rule.limit.value if rule.limit is not None else None
        return kind, (), (rule.fact.name,), _by(rule.amount), limit
    calls = [x for x in n.walk((lets, rule)) if isinstance(x, n.Call)]
    values = _sorted_facts(c for c in calls if c.func in _VALUE_FUNCS)
    events = _sorted_facts(c for c in calls if c.func in _EVENT_FUNCS)
    values = tuple(v for v in values if v in facts and facts[v].kind != "dated")
    if any(c.func in _PEER_FUNCS for c in calls):
        method = RELATIVE
    elif values:
        method = VALUE
    elif events:
        method = EVENTS
    else:
        method = FORMULA
    return method, values, events, None, None


def _sorted_facts(calls: Iterable[n.Call]) -> tuple[str, ...]:
    """The fact types named by the first argument of each call (`F.x` or `F`)."""
    found: set[str] = set()
    for call in calls:
        if not call.args:
            continue
        arg = call.args[0].value
        if isinstance(arg, n.Attr) and isinstance(arg.obj, n.Name):
            found.add(arg.obj.id)
        elif isinstance(arg, n.Name):
            found.add(arg.id)
    return tuple(sorted(found))
