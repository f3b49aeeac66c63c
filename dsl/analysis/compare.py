"""A period's results against an earlier period's (the previous quarter, the same quarter a year
earlier), where both rulesets have what is compared; otherwise saying why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dsl.analysis.view import PeriodScores, Source, previous, year_ago
from dsl.facts.periods import Period


@dataclass(frozen=True)
class Earlier:
    """An earlier period to compare with: its scores, or why there are none."""

    label: str  # "previous" | "year_ago"
    period: Period
    scores: PeriodScores | None
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """`{"period", "available", "ruleset", "reason"}`."""
        return {
            "period": str(self.period),
            "available": self.scores is not None,
            "ruleset": None if self.scores is None else self.scores.ruleset_json(),
            "reason": self.reason or None,
        }


def earlier_periods(period: Period) -> list[tuple[str, Period]]:
    """The periods a period is compared with: the one before, and (for a quarter) the same
    quarter a year earlier."""
    out = [("previous", previous(period))]
    if period.quarter is not None:
        out.append(("year_ago", year_ago(period)))
    return out


def earlier_scores(source: Source, period: Period) -> list[Earlier]:
    """The earlier periods of `period` with their scores, or why they cannot be compared."""
    out = []
    for label, p in earlier_periods(period):
        # A period without facts is not scored just to say so.
        got = source.scores(p) if source.recorded(p) else None
        reason = ""
        if got is None:
            reason = (
                f"{p} 没有记录任何事实，无法对比"
                if source.recorded(p) == 0
                else f"没有{p.year}年度的规则，无法与 {p} 对比"
            )
        out.append(Earlier(label, p, got, reason))
    return out


def indicator_then(
    now: PeriodScores, e: Earlier, card: str, subject: str, indicator: str
) -> dict[str, Any]:
    """An indicator's published score and loss in the earlier period, or why there is none."""
    base: dict[str, Any] = {"period": str(e.period)}
    if e.scores is None:
        return {**base, "available": False, "reason": e.reason}
    then = e.scores
    ind = _indicator(then, card, indicator)
    if ind is None:
        year = then.compiled.year
        return {**base, "available": False, "reason": f"{year}年度规则没有指标 {indicator}"}
    res = then.result(card, subject)
    if res is None:
        return {**base, "available": False, "reason": f"{e.period} 未对 {subject} 计分"}
    raw = res.indicators.get(indicator, res.parts.get(indicator))
    if raw is None:
        return {**base, "available": False, "reason": f"{e.period} 没有 {indicator} 的得分"}
    score = then.pub(raw)
    points = ind.points
    out = {**base, "available": True, "points": str(then.pub(points))}
    out.update({"score": str(score), "lost": str(points - score)})
    if points != _points(now, card, indicator):
        out["reason"] = f"分值不同：{then.pub(points)} → {now.pub(_points(now, card, indicator))}"
    return out


def subject_then(e: Earlier, card: str, subject: str) -> dict[str, Any]:
    """A subject's published final, rank and tier in the earlier period, or why there are none."""
    base: dict[str, Any] = {"period": str(e.period)}
    if e.scores is None:
        return {**base, "available": False, "reason": e.reason}
    res = e.scores.result(card, subject)
    if res is None:
        return {**base, "available": False, "reason": f"{e.period} 未对 {subject} 计分"}
    final = None if res.final is None else str(e.scores.pub(res.final))
    return {**base, "available": True, "final": final, "rank": res.rank, "tier": res.tier}


def change(now: str | None, then: dict[str, Any], key: str) -> str | None:
    """now − then of a published value, when both exist."""
    old = then.get(key)
    if now is None or old is None or not then.get("available"):
        return None
    return str(Decimal(now) - Decimal(old))


def _indicator(ps: PeriodScores, card: str, indicator: str) -> Any:
    sc = ps.compiled.scorecards.get(card)
    if sc is None:
        return None
    return next((i for p in sc.parts for i in p.indicators if i.id == indicator), None)


def _points(ps: PeriodScores, card: str, indicator: str) -> Decimal:
    ind = _indicator(ps, card, indicator)
    return ind.points if ind is not None else Decimal(0)
