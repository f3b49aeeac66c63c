"""Lost points (失分分析) of each subject of a scorecard: per indicator the points, the score and
the points lost as published (`points − score`, to the cent), with the facts that cost them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.causes import Cause, Steps, cause, per_fact_causes, steps
from dsl.analysis.rules import PER_FACT_ADD, PER_FACT_DEDUCT, IndicatorInfo, RulesInfo
from dsl.analysis.view import PeriodScores
from dsl.engine.results import SubjectResult

ZERO = Decimal(0)


@dataclass
class IndicatorLoss:
    """What one indicator scored for one subject, what it lost, and why."""

    info: IndicatorInfo
    score: Decimal  # as published
    lost: Decimal  # points − score as published
    missing: bool
    facts: list[str]
    causes: list[Cause]
    note: str
    # not applicable to the subject (不涉及): nothing lost, its category rescaled
    not_applicable: bool = False
    # what one point lost here costs the category, where it was rescaled to the applicable
    # points (max / applicable points), and the base, where categories were left out (1 / the
    # weights of those kept): 1 where nothing was rescaled
    scale: Fraction = Fraction(1)

    @property
    def weighted(self) -> Fraction | Decimal:
        """What the loss costs the base: weight × lost (× the rescaling, if any)."""
        if self.scale == 1:
            return self.info.weight * self.lost
        return Fraction(self.info.weight) * Fraction(self.lost) * self.scale


@dataclass
class SubjectLoss:
    """A subject's lost points on one scorecard in one period."""

    subject: str
    name: str
    result: SubjectResult
    lost: Decimal  # full marks of the base − base, as published
    indicators: list[IndicatorLoss]
    items: list[Cause] = field(default_factory=list)  # bonus and penalty items, per fact
    joint: list[Cause] = field(default_factory=list)  # joint liability received, per fact


def full_marks(ps: PeriodScores, card: str) -> Decimal:
    """The base a subject scores with every indicator in full: Σ weight × max."""
    parts = ps.compiled.scorecards[card].parts
    return sum((p.weight * p.max for p in parts), ZERO)


def subject_loss(ps: PeriodScores, info: RulesInfo, res: SubjectResult) -> SubjectLoss:
    """The lost points of one result, from its published values and its trace."""
    st = steps(res)
    scales = _scales(ps, res)
    rows = [_indicator(ps, info, i, res, st, scales) for i in info.card(res.scorecard)]
    base = ps.pub(res.base) if res.base is not None else None
    lost = full_marks(ps, res.scorecard) - base if base is not None else ZERO
    items: list[Cause] = []
    joint: list[Cause] = []
    for (kind, ref), lines in st.per_fact.items():
        if kind in ("bonus", "penalty"):
            by = _item_by(ps, info, res.scorecard, ref)
            items.extend(per_fact_causes(ps, info, lines, by))
        elif kind == "joint":
            joint.extend(per_fact_causes(ps, info, lines, None))
    return SubjectLoss(res.subject, ps.name(res.subject), res, lost, rows, items, joint)


def _item_by(ps: PeriodScores, info: RulesInfo, card: str, item: str) -> str | None:
    table = ps.compiled.scorecards[card].items
    got = info.items.get((table.id, item)) if table is not None else None
    return got.by if got is not None else None


def _scales(ps: PeriodScores, res: SubjectResult) -> dict[str, Fraction]:
    """Per part, what a point lost in it costs the base once the engine's rescaling for
    indicators that do not apply (得分率折算) is undone: max / applicable points of the part,
    over the weights of the parts kept when some were left out."""
    if not res.not_applicable:
        return {}
    parts = ps.compiled.scorecards[res.scorecard].parts
    out: dict[str, Fraction] = {}
    kept = [p for p in parts if p.id not in res.not_applicable]
    weights = sum((Fraction(p.weight) for p in kept), Fraction(0))
    over = Fraction(1) / weights if weights not in (0, 1) else Fraction(1)
    for p in kept:
        points = sum(
            (Fraction(i.points) for i in p.indicators if i.id not in res.not_applicable),
            Fraction(0),
        )
        within = Fraction(p.max) / points if points and points != p.max else Fraction(1)
        out[p.id] = within * over
    return out


def _indicator(
    ps: PeriodScores,
    info: RulesInfo,
    ind: IndicatorInfo,
    res: SubjectResult,
    st: Steps,
    scales: dict[str, Fraction],
) -> IndicatorLoss:
    if ind.id in res.not_applicable:
        # 不涉及: not scored, so nothing is lost; its category is rescaled to the others
        note = "not applicable (不涉及): left out, its category rescaled"
        zero = ps.pub(ZERO)
        return IndicatorLoss(ind, zero, zero, False, [], [], note, not_applicable=True)
    raw = res.indicators.get(ind.id, res.parts.get(ind.id, ZERO))
    score = ps.pub(raw)
    lost = ind.points - score
    missing = ind.id in res.missing
    line = st.indicator.get(ind.id)
    note = line.note if line is not None else ("" if st.traced else "not traced")
    causes: list[Cause] = []
    if lost > 0 and ind.method == PER_FACT_DEDUCT:
        causes = per_fact_causes(ps, info, st.per_fact.get(("deduct", ind.id), []), ind.by)
    elif lost > 0 and ind.method != PER_FACT_ADD and line is not None:
        causes = [cause(ps, info, fid, None) for fid in line.facts]
    scale = scales.get(ind.part, Fraction(1))
    facts = [c.fact for c in causes]
    return IndicatorLoss(ind, score, lost, missing, facts, causes, note, scale=scale)


def indicator_json(ps: PeriodScores, row: IndicatorLoss) -> dict[str, Any]:
    """One indicator of a subject, JSON-ready (numbers as published strings)."""
    return {
        "indicator": row.info.id,
        "title": row.info.title,
        "part": row.info.part,
        "points": str(ps.pub(row.info.points)),
        "score": str(row.score),
        "lost": str(row.lost),
        "weighted": str(ps.pub(row.weighted)),
        "missing": row.missing,
        "not_applicable": row.not_applicable,
        "facts": row.facts,
        "causes": [c.as_json(ps) for c in row.causes],
        "note": row.note or None,
    }


def subject_json(ps: PeriodScores, s: SubjectLoss) -> dict[str, Any]:
    """One subject, JSON-ready."""
    r = s.result

    def pub(x: Any) -> str | None:
        return None if x is None else str(ps.pub(x))

    return {
        "subject": s.subject,
        "name": s.name,
        "final": pub(r.final),
        "base": pub(r.base),
        "lost": str(s.lost),
        "bonus": pub(r.bonus),
        "penalty": pub(r.penalty),
        "joint": pub(r.joint),
        "rank": r.rank,
        "n": r.n,
        "tier": r.tier,
        "indicators": [indicator_json(ps, row) for row in s.indicators],
        "items": [c.as_json(ps) for c in s.items],
        "joint_sources": [c.as_json(ps) for c in s.joint],
    }
