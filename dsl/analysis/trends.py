"""Trends over the last eight quarters: a subject's final, rank and tier, and an indicator's mean
score across the subjects of its scorecard. Each quarter is scored by the ruleset of its year.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.rules import rules_info
from dsl.analysis.view import PeriodScores, Source, quarters_back
from dsl.facts.periods import Period

FORMAT = "jixiao-trend/1"
QUARTERS = 8


def last_quarters(period: Period, count: int = QUARTERS) -> list[Period]:
    """`count` quarters ending with `period` (a year ends with its fourth quarter)."""
    end = period if period.quarter is not None else Period(period.year, 4)
    return quarters_back(end, count)


def _quarters(source: Source, period: Period) -> Iterator[tuple[Period, PeriodScores | None, str]]:
    """Each of the last eight quarters with its scores, or None and why there are none."""
    for q in last_quarters(period):
        if not source.recorded(q):
            yield q, None, f"{q} 没有记录任何事实"
            continue
        ps = source.scores(q)
        yield q, ps, "" if ps is not None else f"没有{q.year}年度的规则"


def _gap(q: Period, reason: str) -> dict[str, Any]:
    return {"period": str(q), "available": False, "reason": reason}


def subject_trend(source: Source, period: Period, subject: str) -> dict[str, Any]:
    """A subject's final, rank and tier (or grade) in each of the last eight quarters."""
    rows: list[dict[str, Any]] = []
    name = subject
    for q, ps, why in _quarters(source, period):
        if ps is None:
            rows.append(_gap(q, why))
            continue
        name = ps.name(subject) if name == subject else name
        scored = ps.evaluation.for_subject(subject)
        if not scored:
            rows.append(_gap(q, f"{q} 未对其计分"))
            continue
        r = scored[0]
        final = None if r.final is None else str(ps.pub(r.final))
        rows.append(
            {"period": str(q), "available": True, "scorecard": r.scorecard, "final": final,
             "rank": r.rank, "n": r.n, "tier": r.tier, "grade": r.grade}
        )  # fmt: skip
    return {"format": FORMAT, "subject": subject, "name": name, "quarters": rows}


def indicator_trend(source: Source, period: Period, indicator: str) -> dict[str, Any]:
    """An indicator's mean score (and mean loss) across its scorecard's subjects, per quarter."""
    rows: list[dict[str, Any]] = []
    title = indicator
    for q, ps, why in _quarters(source, period):
        if ps is None:
            rows.append(_gap(q, why))
            continue
        info = rules_info(ps.compiled).indicators.get(indicator)
        if info is None:
            rows.append(_gap(q, f"{q.year}年度规则没有指标 {indicator}"))
            continue
        title = info.title
        scores = [
            ps.pub(r.indicators.get(indicator, r.parts.get(indicator, Decimal(0))))
            for r in ps.results(info.scorecard).values()
        ]
        n = len(scores)
        mean = ps.pub(Fraction(sum(scores, Decimal(0))) / n) if n else None
        rows.append(
            {"period": str(q), "available": True, "scorecard": info.scorecard,
             "points": str(ps.pub(info.points)), "subjects": n,
             "mean": None if mean is None else str(mean),
             "mean_lost": None if mean is None else str(ps.pub(info.points) - mean)}
        )  # fmt: skip
    return {"format": FORMAT, "indicator": indicator, "title": title, "quarters": rows}
