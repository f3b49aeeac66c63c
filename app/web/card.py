"""A subject's score card as the subject page shows it: one line per category, indicator,
item, joint liability and step, each with the numbers as published and its explanation (the
trace lines, the rule's source lines and the facts, in Chinese).

Values come from the evaluation: the published (rounded) JSON for the numbers, the trace for
how they were reached. Nothing is computed here but the points lost (points − score)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from app.web import labels
from app.web.evidence import FactView
from app.web.source import SourceRef, source_ref
from dsl.compile.ir import CIndicator, CompiledRuleset, CScorecard
from dsl.compile.runtime import round_to
from dsl.engine.context import TraceLine
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import add


@dataclass
class Step:
    """One step of an explanation: what, how much, why, and the facts it read."""

    text: str
    value: str
    exact: str | None
    note: str
    facts: list[FactView]
    more: int = 0  # facts read but not shown (a page shows at most FACTS_SHOWN)


@dataclass
class Line:
    """A line of the score card, expandable to its explanation."""

    key: str
    kind: str  # category | indicator | items | joint | total
    code: str
    title: str
    value: str | None
    points: str | None = None
    lost: str | None = None
    weight: str | None = None
    lead: str | None = None
    missing: bool = False
    rule: SourceRef | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass
class Card:
    """A subject's result on one scorecard, as lines."""

    scorecard: str
    title: str
    published: dict[str, Any]
    lines: list[Line]
    lost: list[tuple[str, str, str]]  # (code, title, points lost) per indicator


def _shown(v: Any, places: int, mode: str) -> tuple[str, str | None]:
    """A trace value as published, and its exact form when that differs."""
    if isinstance(v, Fraction):
        exact = f"{v.numerator}/{v.denominator}"
        return (str(round_to(v, places, mode)), exact if v.denominator != 1 else None)
    if isinstance(v, Decimal):
        return str(v), None
    if v is None:
        return "—", None
    return labels.band(v) if isinstance(v, str) else str(v), None


class _Builder:
    def __init__(
        self,
        compiled: CompiledRuleset,
        ref: str,
        facts: Mapping[str, FactView],
        names: Mapping[str, str],
    ) -> None:
        self.c, self.ref, self.facts, self.names = compiled, ref, facts, names

    def step(self, t: TraceLine, text: str) -> Step:
        value, exact = _shown(t.value, self.c.places, self.c.round_mode)
        cited = [self.facts[i] for i in t.facts if i in self.facts]
        return Step(text, value, exact, labels.note(t.note), cited, len(t.facts) - len(cited))

    def fact_title(self, ftype: str) -> str:
        decl = self.c.schema.types.get(ftype)
        return (decl.title if decl else None) or ftype

    def indicator(self, ind: CIndicator, pub: Mapping[str, Any], trace: list[TraceLine]) -> Line:
        value = pub.get(ind.id)
        lost = None
        if value is not None:
            lost = str(Decimal(str(ind.points)) - Decimal(value))
        end = ind.span.end_line if ind.span.end_line >= ind.span.line else ind.span.line
        rule = source_ref(self.c, self.ref, f"{ind.span.path}:{ind.span.line}", end)
        line = Line(
            f"ind-{ind.id}",
            "indicator",
            ind.id,
            ind.title or ind.id,
            value,
            points=str(ind.points),
            lost=lost,
            lead=self.names.get(ind.lead, ind.lead) if ind.lead else None,
            rule=rule,
        )
        for t in trace:
            if t.what.startswith("  "):
                verb = "扣" if " deducted " in t.what else "加"
                ftype = t.what.rsplit(" for ", 1)[-1]
                line.steps.append(self.step(t, f"{verb}分：{self.fact_title(ftype)}"))
            else:
                line.missing = t.note.startswith("missing")
                line.steps.append(self.step(t, f"{ind.id} {ind.title or ''} 得分"))
        return line


def _group(trace: list[TraceLine]) -> dict[str, list[TraceLine]]:
    """Trace lines by the card line they explain: `ind:K1`, `items`, `joint`, or the step."""
    out: dict[str, list[TraceLine]] = {}
    pending: list[TraceLine] = []
    for t in trace:
        what = t.what
        if what.startswith("indicator "):
            out.setdefault(f"ind:{what.split()[1]}", []).extend([*pending, t])
            pending = []
        elif what.startswith(("  joint ", "joint ")) or t.kind in _JOINT_KINDS:
            out.setdefault("joint", []).append(t)
        elif what.startswith(("  bonus ", "  penalty ", "bonus", "penalty")) or ": same " in what:
            out.setdefault("items", []).append(t)
        elif what.startswith("  "):
            pending.append(t)
        else:
            out.setdefault(what.split()[0], []).append(t)
    return out


def build_card(
    compiled: CompiledRuleset,
    ref: str,
    res: SubjectResult,
    facts: Mapping[str, FactView],
    names: Mapping[str, str],
) -> Card:
    """The score card of a traced result."""
    card = compiled.scorecards[res.scorecard]
    pub = res.as_json(compiled.places, compiled.round_mode)
    b = _Builder(compiled, ref, facts, names)
    groups = _group(res.trace or [])
    lines: list[Line] = []
    lost: list[tuple[str, str, str]] = []
    if res.kind != "annual":
        lines += _parts(b, card, pub, groups, lost)
        lines += _adjustments(b, card, pub, groups)
    lines += _totals(b, card, res, pub, groups)
    return Card(card.id, card.title or card.id, pub, lines, lost)


def _parts(
    b: _Builder,
    card: CScorecard,
    pub: Mapping[str, Any],
    groups: dict[str, list[TraceLine]],
    lost: list[tuple[str, str, str]],
) -> list[Line]:
    values = pub.get("categories") or pub.get("components") or {}
    indicators = pub.get("indicators") or {}
    lines: list[Line] = []
    for part in card.parts:
        if part.is_component:
            ind = part.indicators[0]
            line = b.indicator(ind, values, groups.get(f"ind:{ind.id}", []))
            line.kind, line.weight, line.key = "component", f"{part.weight:%}", f"part-{part.id}"
            line.title, line.points = part.title or part.id, str(part.max)
            lines.append(line)
            continue
        lines.append(
            Line(
                f"part-{part.id}",
                "category",
                part.id,
                part.title or part.id,
                values.get(part.id),
                points=str(part.max),
                weight=f"{part.weight:%}",
                rule=source_ref(b.c, b.ref, f"{part.span.path}:{part.span.line}"),
            )
        )
        for ind in part.indicators:
            line = b.indicator(ind, indicators, groups.get(f"ind:{ind.id}", []))
            lines.append(line)
            if line.lost is not None:
                lost.append((ind.id, ind.title or ind.id, line.lost))
    return lines


def _adjustments(
    b: _Builder, card: CScorecard, pub: Mapping[str, Any], groups: dict[str, list[TraceLine]]
) -> list[Line]:
    lines: list[Line] = []
    if card.items is not None:
        title = b.c.program.item_tables.get(card.items.id)
        line = Line(
            "items",
            "items",
            card.items.id,
            f"加减分（{(title.title if title else None) or card.items.id}）",
            f"+{pub.get('bonus')} / −{pub.get('penalty')}",
        )
        for t in groups.get("items", []):
            line.steps.append(b.step(t, _item_text(b, t)))
            if line.rule is None and t.where:
                line.rule = source_ref(b.c, b.ref, t.where)
        lines.append(line)
    if any(j.into == card.id for j in b.c.joints):
        line = Line("joint", "joint", "joint", "连带责任", pub.get("joint"))
        for t in merged_joint(groups.get("joint", [])):
            line.steps.append(b.step(t, _joint_text(b, t)))
            if line.rule is None and t.where:
                line.rule = source_ref(b.c, b.ref, t.where)
        lines.append(line)
    return lines


def merged_joint(trace: list[TraceLine]) -> list[TraceLine]:
    """Joint-liability lines from the same link, fact type and source subject as one line
    with their sum and every fact (a department may receive from hundreds of facts)."""
    out: list[TraceLine] = []
    merged: dict[str, TraceLine] = {}
    counts: dict[str, int] = {}
    for t in trace:
        if not t.what.startswith("  "):
            out.append(t)
            continue
        got = merged.get(t.what)
        if got is None:
            merged[t.what] = TraceLine(
                t.what, t.value, t.where, list(t.facts), t.note, t.kind, t.ref
            )
            counts[t.what] = 1
            out.append(merged[t.what])
            continue
        assert isinstance(got.value, Decimal | Fraction) and isinstance(t.value, Decimal | Fraction)
        got.value = add(got.value, t.value)
        got.facts.extend(t.facts)
        counts[t.what] += 1
        got.note = f"{counts[t.what]} 条，合计"
    return out


def _item_text(b: _Builder, t: TraceLine) -> str:
    what = t.what.strip()
    if ": same " in what:
        return f"同一事项只计一次（{what.split(': same ', 1)[1]}）"
    kind, _, ident = what.partition(" ")
    if not ident:
        return {"bonus": "加分合计", "penalty": "减分合计"}.get(kind, what)
    if ident == "capped":
        return {"bonus": "加分封顶", "penalty": "减分封顶"}.get(kind, what)
    word = "加分" if kind == "bonus" else "减分"
    return f"{word}：{b.fact_title(ident) if ident in b.c.schema.types else ident}"


_JOINT_KINDS = frozenset({"joint", "joint_total", "joint_chain", "joint_import", "joint_source"})


def _joint_text(b: _Builder, t: TraceLine) -> str:
    what = t.what.strip()
    parts = what.split()
    joint = next((j for j in b.c.program.joints.values() if parts[1].startswith(j.id)), None)
    title = (joint.title if joint else None) or parts[1]
    if t.kind == "joint_chain":
        # `joint to_dept.passed from joint to_bureau at nanyue`: what nanyue received, passed on
        source = what.rsplit(" at ", 1)[-1]
        block = b.c.program.joints.get(what.split(" from joint ", 1)[1].split(" at ")[0])
        got = (block.title if block else None) or (block.id if block else "")
        return f"{title}：{b.names.get(source, source)} 承担的{got}"
    if t.kind == "joint_import":
        card = what.rsplit(" deductions in ", 1)[-1]
        return f"{title}：{card} 扣分（{t.note}）"
    if t.kind == "joint_source":
        return "　来源：" + what
    if " from " in what:
        source = what.rsplit(" at ", 1)[-1]
        ftype = what.split(" from ", 1)[1].split(" at ")[0]
        return f"{title}：{b.names.get(source, source)} 的{b.fact_title(ftype)}"
    return f"{title} 合计"


def _totals(
    b: _Builder,
    card: CScorecard,
    res: SubjectResult,
    pub: Mapping[str, Any],
    groups: dict[str, list[TraceLine]],
) -> list[Line]:
    lines: list[Line] = []
    if res.kind != "annual":
        base = Line("base", "total", "base", "基础分", pub.get("base"))
        for t in groups.get("base", []):
            base.steps.append(b.step(t, "基础分 = " + t.note.replace("×", "×") if t.note else ""))
        lines.append(base)
    final = Line("final", "total", "final", "最终得分", pub.get("final"))
    final.rule = source_ref(b.c, b.ref, f"{card.span.path}:{card.span.line}")
    for key in ("uses", "final", "annual"):
        for t in groups.get(key, []):
            final.steps.append(b.step(t, _total_text(b, t)))
    if card.floor is not None and res.kind != "annual":
        floored = res.raw is not None and res.final is not None and res.raw != res.final
        floor = Line("floor", "total", "floor", "保底分", str(card.floor))
        floor.steps.append(
            Step(
                "保底分" + ("（已适用）" if floored else "（未适用）"),
                str(card.floor),
                None,
                "计算值低于保底分，按保底分计" if floored else "计算值不低于保底分",
                [],
            )
        )
        lines.append(floor)
    lines.append(final)
    for key in ("rank", "tier", "grade"):
        for t in groups.get(key, []):
            line = Line(key, "total", key, labels.STEPS[key], _shown(t.value, 2, "half_up")[0])
            line.steps.append(b.step(t, labels.STEPS[key]))
            if t.where:
                line.rule = source_ref(b.c, b.ref, t.where)
            lines.append(line)
    return lines


def _total_text(b: _Builder, t: TraceLine) -> str:
    if t.what.startswith("uses "):
        inner = t.what[5:]
        card, _, rest = inner.partition("[")
        subject, _, what = rest.partition("].")
        sc = b.c.scorecards.get(card)
        title = (sc.title if sc else None) or card
        return f"引用 {b.names.get(subject, subject)} 的{title}{labels.STEPS.get(what, what)}"
    return labels.STEPS.get(t.what, t.what)
