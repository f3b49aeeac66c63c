"""Risk grades (风险分级) per subject and indicator: high, medium or low, with every reason.

Points add up from three sources (docs/analysis.md has the table):
- what the ruleset declares (`risk difficulty ... control ...`): difficulty high 2, medium 1;
  control low 2, medium 1;
- the scoring method: ranked against peers 1 (others decide part of it), one deduction per
  event 1 (a single event costs points);
- the status: points lost this period (half or more of the points 2, some 1), a deduction-type
  indicator with half or more of the period still to run 1, losses in earlier periods (one 1,
  two or more 2).
4 points or more is high, 2 or 3 medium, less low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.rules import EVENTS, PER_FACT_DEDUCT, RELATIVE, IndicatorInfo, rules_info
from dsl.analysis.view import PeriodScores, Source, previous
from dsl.analysis.warnings import check_open
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError

FORMAT = "jixiao-risk/1"
HIGH, MEDIUM = 4, 2
DIFFICULTY = {"high": 2, "medium": 1, "low": 0}
CONTROL = {"low": 2, "medium": 1, "high": 0}
LEVEL_TEXT = {"high": "高", "medium": "中", "low": "低"}


@dataclass(frozen=True)
class Reason:
    """One factor of a risk grade and the points it adds."""

    factor: str  # declared | method | lost | exposure | history
    points: int
    text: str

    def as_json(self) -> dict[str, Any]:
        """`{"factor", "points", "text"}`."""
        return {"factor": self.factor, "points": self.points, "text": self.text}


@dataclass(frozen=True)
class Grade:
    """The risk grade of one indicator for one subject."""

    indicator: IndicatorInfo
    reasons: list[Reason]

    @property
    def score(self) -> int:
        """The points of all reasons."""
        return sum(r.points for r in self.reasons)

    @property
    def grade(self) -> str:
        """high, medium or low."""
        return "high" if self.score >= HIGH else "medium" if self.score >= MEDIUM else "low"

    def as_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "indicator": self.indicator.id,
            "title": self.indicator.title,
            "grade": self.grade,
            "score": self.score,
            "reasons": [r.as_json() for r in self.reasons],
        }


def declared(ind: IndicatorInfo) -> list[Reason]:
    """What the ruleset declares of the indicator."""
    out = []
    if ind.difficulty is not None:
        text = f"规则标明难度{LEVEL_TEXT[ind.difficulty]}"
        out.append(Reason("declared", DIFFICULTY[ind.difficulty], text))
    if ind.control is not None:
        text = f"规则标明可控程度{LEVEL_TEXT[ind.control]}"
        out.append(Reason("declared", CONTROL[ind.control], text))
    return out


def method(ind: IndicatorInfo) -> list[Reason]:
    """What the scoring method adds: peers decide part of a ranked indicator; one event costs
    points in a per-event deduction."""
    if ind.method == RELATIVE:
        return [Reason("method", 1, "按与其他单位的相对排名计分，得分部分取决于他人")]
    if ind.method == PER_FACT_DEDUCT:
        return [Reason("method", 1, "逐项扣分，发生一件即失分")]
    return []


def status(ind: IndicatorInfo, lost: Decimal | None, elapsed: Fraction) -> list[Reason]:
    """What the current period adds: points already lost, and time left for events."""
    out = []
    if lost is not None and lost > 0:
        share = Fraction(lost) / Fraction(ind.points) if ind.points else Fraction(1)
        pct = round(share * 100)
        out.append(
            Reason("lost", 2 if share >= Fraction(1, 2) else 1, f"本期已失 {lost} 分（{pct}%）")
        )
    if ind.method in (PER_FACT_DEDUCT, EVENTS) and elapsed <= Fraction(1, 2):
        left = round((1 - elapsed) * 100)
        text = f"本期还剩 {left}% 的时间，仍可能发生影响得分的事项"
        if elapsed == 0:
            text = "整期都可能发生影响得分的事项"
        out.append(Reason("exposure", 1, text))
    return out


def history(losses: Sequence[tuple[str, Decimal]]) -> list[Reason]:
    """What earlier periods add: how many of them lost points on the indicator."""
    hit = [p for p, lost in losses if lost > 0]
    if not hit:
        return []
    text = f"此前 {len(losses)} 期中有 {len(hit)} 期失分（{'、'.join(hit)}）"
    return [Reason("history", 2 if len(hit) >= 2 else 1, text)]


def lost_in(ps: PeriodScores, card: str, subject: str, ind: IndicatorInfo) -> Decimal | None:
    """points − score as published, or None when the subject or indicator was not scored."""
    res = ps.result(card, subject)
    if res is None:
        return None
    raw = res.indicators.get(ind.id, res.parts.get(ind.id))
    return None if raw is None else ind.points - ps.pub(raw)


def grades(
    now: PeriodScores | None,
    card: str,
    subject: str,
    earlier: Sequence[PeriodScores],
    elapsed: Fraction,
    ruleset: PeriodScores,
) -> list[Grade]:
    """The risk grade of each indicator of a subject on a scorecard.

    `now`: the period's scores so far (None for a period not begun); `earlier`: the periods
    before it; `elapsed`: the share of the period gone; `ruleset`: whose indicators to grade.
    """
    out = []
    for ind in rules_info(ruleset.compiled).card(card):
        lost = lost_in(now, card, subject, ind) if now is not None else None
        past = []
        for ps in earlier:
            got = (
                lost_in(ps, card, subject, ind)
                if ind.id in rules_info(ps.compiled).indicators
                else None
            )
            if got is not None:
                past.append((str(ps.period), got))
        reasons = declared(ind) + method(ind) + status(ind, lost, elapsed) + history(past)
        out.append(Grade(ind, reasons))
    return out


def elapsed_share(ps: PeriodScores, day: date) -> Fraction:
    """The share of the scores' period gone by `day` (a date), counting `day` itself."""
    p = ps.period
    total = (p.last_day() - p.first_day()).days + 1
    gone = min(max((day - p.first_day()).days + 1, 0), total)
    return Fraction(gone, total)


def earlier_quarters(source: Source, period: Period, count: int = 3) -> list[PeriodScores]:
    """Up to `count` periods before `period` that have scores with facts, oldest first."""
    out = []
    p = period
    for _ in range(count):
        p = previous(p)
        got = source.scores(p) if source.recorded(p) else None
        if got is not None:
            out.append(got)
    return out[::-1]


def risk_report(
    source: Source,
    period: Period,
    day: date | None = None,
    card: str | None = None,
    subject: str | None = None,
    ruleset: str | None = None,
) -> dict[str, Any]:
    """Risk grades of every subject and indicator (of one scorecard or subject, if given), as
    of a day inside the period, or at its end."""
    if day is not None:
        check_open(period, day)
        now = source.as_of(period, day, ruleset)
        elapsed = elapsed_share(now, day)
    else:
        got = source.scores(period, ruleset)
        if got is None:
            raise DslError(f"no ruleset scores {period}")
        now, elapsed = got, Fraction(1)
    earlier = earlier_quarters(source, period)
    cards = [card] if card is not None else list(now.compiled.scorecards)
    rows = []
    for c in cards:
        if c not in now.compiled.scorecards:
            raise DslError(f"no scorecard '{c}' in this ruleset")
        for s in sorted(now.results(c)):
            if subject is not None and s != subject:
                continue
            found = grades(now, c, s, earlier, elapsed, now)
            rows.append(subject_json(now, c, s, found))
    return {
        "format": FORMAT,
        "ruleset": now.ruleset_json(),
        "period": str(period),
        "as_of": None if day is None else str(day),
        "elapsed": str(now.pub(elapsed)),
        "earlier": [str(ps.period) for ps in earlier],
        "subjects": rows,
    }


def subject_json(ps: PeriodScores, card: str, subject: str, found: list[Grade]) -> dict[str, Any]:
    """One subject's grades with how many of each."""
    counts = {g: sum(1 for x in found if x.grade == g) for g in ("high", "medium", "low")}
    return {
        "subject": subject,
        "name": ps.name(subject),
        "scorecard": card,
        "counts": counts,
        "indicators": [g.as_json() for g in found],
    }
