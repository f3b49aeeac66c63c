"""The feedback report (绩效反馈报告) of a unit or department for a period: its final, rank and
tier and their change since the previous quarter, the points it lost by indicator with causes,
the items and joint liability it received, its peers' mean and best, and for the next period
the warnings that stand and the risk grade of each indicator.

What the reports of one period share (lost points per scorecard, comparisons, warnings) is built
once in a `Shared` and each subject's report reads it, so a whole province costs little more
than its first report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.bands import band_title
from dsl.analysis.compare import subject_then
from dsl.analysis.lost import indicator_json
from dsl.analysis.lost_report import LostReport, joint_json, lost_points
from dsl.analysis.risk import earlier_quarters, grades
from dsl.analysis.view import PeriodScores, Source, next_period
from dsl.analysis.warnings import EarlyWarning, check_open, standing, warnings
from dsl.engine.results import SubjectResult
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError

FORMAT = "jixiao-feedback/1"

# The states of the period's results as a report names them (docs/cycle.md): the cycle's
# `open` is a draft (nothing published yet), then 公示 and 审定.
CYCLE_TITLES = {"draft": "草稿（尚未公示）", "published": "公示", "approved": "已审定"}


def cycle_json(
    state: str = "open",
    receipt: int | None = None,
    notice_until: str | None = None,
    approved_by: str | None = None,
    approved_at: str | None = None,
    same: bool | None = None,
) -> dict[str, Any]:
    """What a report says of the results it shows: `draft`, `published` (公示, until
    `notice_until`) or `approved` (已审定), the receipt that keeps them, and `same`: whether
    the report's numbers are that receipt's (False: facts were recorded since it was kept;
    None: nothing kept yet). A cycle's `open` state is a draft."""
    shown = "draft" if state == "open" else state
    if shown not in CYCLE_TITLES:
        raise DslError(f"unknown cycle state '{state}' (open, published or approved)")
    return {
        "state": shown,
        "title": CYCLE_TITLES[shown],
        "receipt": receipt,
        "notice_until": notice_until,
        "approved_by": approved_by,
        "approved_at": approved_at,
        "same": same,
    }


@dataclass
class Shared:
    """What every report of one period reads."""

    scores: PeriodScores
    lost: dict[str, LostReport]  # by scorecard
    standing: list[EarlyWarning]  # at the period's end: last tier, tier boundaries
    upcoming: list[EarlyWarning]  # of the next period as of `as_of`, if it is open then
    as_of: date | None
    next: Period
    earlier: list[PeriodScores]  # periods before this one, for the risk grades


def shared(
    source: Source, period: Period, as_of: date | None = None, ruleset: str | None = None
) -> Shared:
    """The analyses the reports of `period` share."""
    ps = source.scores(period, ruleset)
    if ps is None:
        raise DslError(f"no ruleset scores {period}")
    cards = [c for c, sc in ps.compiled.scorecards.items() if sc.sequence.subject == "unit"]
    lost = {c: lost_points(source, ps, c) for c in cards}
    kept = standing(ps)
    nxt = next_period(period)
    upcoming: list[EarlyWarning] = []
    if as_of is not None and nxt.first_day() <= as_of <= nxt.last_day():
        check_open(nxt, as_of)
        upcoming = warnings(source.as_of(nxt, as_of), as_of)
    earlier = [*earlier_quarters(source, period, 2), ps]
    return Shared(ps, lost, kept, upcoming, as_of, nxt, earlier)


def subjects(sh: Shared) -> list[str]:
    """Every unit a report can be made for: those the unit scorecards scored, by id."""
    return sorted({s.subject for r in sh.lost.values() for s in r.subjects})


def feedback(sh: Shared, subject: str, cycle: dict[str, Any] | None = None) -> dict[str, Any]:
    """One subject's report as JSON-ready data (`jixiao report feedback --format json`);
    `cycle`: the state of the period's results (`cycle_json`), a draft when not given."""
    card = next((c for c, r in sh.lost.items() if r.subject(subject) is not None), None)
    if card is None:
        raise DslError(f"no unit scorecard scores '{subject}' in {sh.scores.period}")
    ps, report = sh.scores, sh.lost[card]
    mine = report.subject(subject)
    assert mine is not None
    res = mine.result
    rows = sorted(
        (i for i in mine.indicators if i.lost > 0), key=lambda i: (-i.weighted, i.info.id)
    )
    return {
        "format": FORMAT,
        "ruleset": ps.ruleset_json(),
        "period": str(ps.period),
        "subject": subject,
        "name": mine.name,
        "scorecard": card,
        "scorecard_title": ps.compiled.scorecards[card].title or card,
        "cycle": cycle if cycle is not None else cycle_json(),
        "standing": _standing(ps, res),
        "change": _change(report, subject, res),
        "peers": _peers(ps, report, subject),
        "lost": [indicator_json(ps, i) for i in rows],
        "lost_total": str(mine.lost),
        "items": [c.as_json(ps) for c in mine.items],
        "joint": joint_json(ps, subject),
        "outlook": _outlook(sh, card, subject),
    }


def _pub(ps: PeriodScores, x: Any) -> str | None:
    return None if x is None else str(ps.pub(x))


def _standing(ps: PeriodScores, res: SubjectResult) -> dict[str, Any]:
    keys = ("final", "base", "bonus", "penalty", "joint")
    out: dict[str, Any] = {k: _pub(ps, getattr(res, k)) for k in keys}
    out.update(rank=res.rank, n=res.n, tier=res.tier, tier_title=band_title(res.tier) or None)
    return out


def _change(report: LostReport, subject: str, res: SubjectResult) -> dict[str, Any]:
    """The standing in the previous period and the change since."""
    e = report.earlier[0]
    then = subject_then(e, report.card, subject)
    now = None if res.final is None else str(report.scores.pub(res.final))
    if then.get("available") and now is not None and then.get("final") is not None:
        then["final_change"] = str(Decimal(now) - Decimal(then["final"]))
        if res.rank is not None and then.get("rank") is not None:
            then["rank_change"] = then["rank"] - res.rank  # positive: moved up
    then["tier_title"] = band_title(then.get("tier")) or None
    return then


def _peers(ps: PeriodScores, report: LostReport, subject: str) -> dict[str, Any]:
    """The scorecard's mean and best final, and each indicator's mean and best beside the
    subject's own score."""
    finals = [(s.result.final, s) for s in report.subjects if s.result.final is not None]
    pubs = [(ps.pub(f), s) for f, s in finals]
    mean = ps.pub(Fraction(sum((x for x, _ in pubs), Decimal(0))) / len(pubs)) if pubs else None
    best = max(pubs, key=lambda p: (p[0], -(p[1].result.rank or 0)), default=None)
    mine = report.subject(subject)
    assert mine is not None
    rows = []
    for ind in mine.indicators:
        scores = [row.score for s in report.subjects for row in s.indicators
                  if row.info.id == ind.info.id]  # fmt: skip
        peer_mean = ps.pub(Fraction(sum(scores, Decimal(0))) / len(scores))
        rows.append(
            {"indicator": ind.info.id, "title": ind.info.title,
             "points": str(ps.pub(ind.info.points)), "score": str(ind.score),
             "peer_mean": str(peer_mean), "best": str(max(scores))}
        )  # fmt: skip
    return {
        "n": len(report.subjects),
        "mean": None if mean is None else str(mean),
        "best": None if best is None else
        {"subject": best[1].subject, "name": best[1].name, "final": str(best[0])},
        "indicators": rows,
    }  # fmt: skip


def _outlook(sh: Shared, card: str, subject: str) -> dict[str, Any]:
    """Warnings that stand or come, and the risk grades for the next period."""
    found = [w for w in sh.standing + sh.upcoming if w.subject == subject]
    risk = grades(None, card, subject, sh.earlier, Fraction(0), sh.scores)
    order = {"high": 0, "medium": 1, "low": 2}
    risk.sort(key=lambda g: (order[g.grade], -g.score, g.indicator.id))
    return {
        "period": str(sh.next),
        "as_of": None if sh.as_of is None else str(sh.as_of),
        "warnings": [w.as_json() for w in found],
        "risk": [g.as_json() for g in risk],
    }


def all_feedback(sh: Shared, cycle: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every unit's report of the period (each with the cycle state given)."""
    return [feedback(sh, s, cycle) for s in subjects(sh)]
