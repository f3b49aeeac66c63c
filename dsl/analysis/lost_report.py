"""The lost-point analysis of a scorecard in a period (失分分析): every subject, each indicator
across subjects, each lead department's line of work, and the per-fact items by kind and level;
each against the previous quarter and the same quarter a year earlier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.compare import (
    Earlier,
    change,
    earlier_scores,
    indicator_then,
    subject_then,
)
from dsl.analysis.lost import IndicatorLoss, SubjectLoss, subject_json, subject_loss
from dsl.analysis.rules import RulesInfo, rules_info
from dsl.analysis.view import PeriodScores, Source
from dsl.syntax.errors import DslError

FORMAT = "jixiao-lost-points/1"
ZERO = Decimal(0)


@dataclass
class LostReport:
    """Lost points of one scorecard's subjects in one period, with earlier periods beside."""

    scores: PeriodScores
    card: str
    info: RulesInfo
    subjects: list[SubjectLoss]
    earlier: list[Earlier]

    def subject(self, subject: str) -> SubjectLoss | None:
        """One subject's lost points."""
        return next((s for s in self.subjects if s.subject == subject), None)

    def as_json(self) -> dict[str, Any]:
        """The JSON of `GET /v1/analysis/lost-points` and `jixiao analysis lost-points`."""
        ps = self.scores
        return {
            "format": FORMAT,
            "ruleset": ps.ruleset_json(),
            "period": str(ps.period),
            "scorecard": self.card,
            "title": ps.compiled.scorecards[self.card].title or self.card,
            "compared": [e.as_json() for e in self.earlier],
            "subjects": [self._subject(s) for s in self.subjects],
            "indicators": indicators_json(self),
            "departments": departments_json(self),
            "items": items_json(self),
        }

    def _subject(self, s: SubjectLoss) -> dict[str, Any]:
        out = subject_json(self.scores, s)
        for e in self.earlier:
            then = subject_then(e, self.card, s.subject)
            then["change"] = change(out["final"], then, "final")
            out[e.label] = then
        for row, shown in zip(s.indicators, out["indicators"], strict=True):
            for e in self.earlier:
                then = indicator_then(self.scores, e, self.card, s.subject, row.info.id)
                then["change"] = change(shown["lost"], then, "lost")
                shown[e.label] = then
        return out


def lost_points(
    source: Source, scores: PeriodScores, card: str, only: Collection[str] | None = None
) -> LostReport:
    """The analysis of a scorecard in the scores' period (`only`: some subjects only)."""
    if card not in scores.compiled.scorecards:
        known = ", ".join(sorted(scores.compiled.scorecards))
        raise DslError(f"no scorecard '{card}' in this ruleset (it has {known})")
    info = rules_info(scores.compiled)
    results = scores.results(card)
    order = sorted(results.values(), key=lambda r: (r.rank is None, r.rank or 0, r.subject))
    rows = [subject_loss(scores, info, r) for r in order if only is None or r.subject in only]
    return LostReport(scores, card, info, rows, earlier_scores(source, scores.period))


def _mean(ps: PeriodScores, total: Decimal, n: int) -> str | None:
    return str(ps.pub(Fraction(total) / n)) if n else None


def indicators_json(r: LostReport) -> list[dict[str, Any]]:
    """Each indicator across subjects: how many lost, total, mean, the worst (ties listed)."""
    ps, out = r.scores, []
    for ind in r.info.card(r.card):
        rows = [row for s in r.subjects for row in s.indicators if row.info.id == ind.id]
        losers = [row for row in rows if row.lost > 0]
        total = sum((row.lost for row in rows), ZERO)
        worst = max((row.lost for row in losers), default=ZERO)
        worst_of = [
            s.subject for s in r.subjects for row in s.indicators if _is(row, ind.id, worst)
        ]
        entry: dict[str, Any] = {
            "indicator": ind.id,
            "title": ind.title,
            "points": str(ps.pub(ind.points)),
            "lead": ind.lead,
            "lead_name": ps.name(ind.lead) if ind.lead else None,
            "subjects": len(rows),
            "lost_count": len(losers),
            "missing_count": sum(row.missing for row in rows),
            "total": str(total),
            "mean": _mean(ps, total, len(rows)),
            "worst": {"lost": str(worst), "subjects": worst_of} if losers else None,
        }
        for e in r.earlier:
            entry[e.label] = _indicator_then(r, e, ind.id)
        out.append(entry)
    return out


def _is(row: IndicatorLoss, ident: str, worst: Decimal) -> bool:
    return row.info.id == ident and row.lost == worst and worst > 0


def _indicator_then(r: LostReport, e: Earlier, ident: str) -> dict[str, Any]:
    """The same indicator's total and mean loss across subjects in the earlier period."""
    base: dict[str, Any] = {"period": str(e.period)}
    if e.scores is None:
        return {**base, "available": False, "reason": e.reason}
    then = e.scores
    if not any(i.id == ident for i in rules_info(then.compiled).card(r.card)):
        return {
            **base,
            "available": False,
            "reason": f"{then.compiled.year}年度规则没有指标 {ident}",
        }
    info = rules_info(then.compiled).indicators[ident]
    lost = [
        info.points - then.pub(res.indicators.get(ident, res.parts.get(ident, ZERO)))
        for res in then.results(r.card).values()
        if ident not in res.not_applicable  # 不涉及: nothing to lose there
    ]
    total = sum(lost, ZERO)
    return {
        **base,
        "available": True,
        "lost_count": sum(1 for x in lost if x > 0),
        "total": str(total),
        "mean": _mean(then, total, len(lost)),
    }


def departments_json(r: LostReport) -> list[dict[str, Any]]:
    """Each lead department: what its indicators lost across the units it guides, and what it
    received in joint liability, by source unit and link."""
    ps, out = r.scores, []
    for dept in sorted({i.lead for i in r.info.card(r.card) if i.lead}):
        rows = [row for s in r.subjects for row in s.indicators if row.info.lead == dept]
        by_ind = []
        for ind in (i for i in r.info.card(r.card) if i.lead == dept):
            mine = [row for row in rows if row.info.id == ind.id]
            lost = sum((row.lost for row in mine), ZERO)
            units = sum(1 for row in mine if row.lost > 0)
            by_ind.append(
                {"indicator": ind.id, "title": ind.title, "lost": str(lost), "units": units}
            )
        losing = {s.subject for s in r.subjects for row in s.indicators
                  if row.info.lead == dept and row.lost > 0}  # fmt: skip
        out.append(
            {
                "department": dept,
                "name": ps.name(dept),
                "indicators": by_ind,
                "lost": str(sum((row.lost for row in rows), ZERO)),
                "units": len(losing),
                "joint": joint_json(ps, dept),
            }
        )
    return out


def joint_json(ps: PeriodScores, unit: str) -> dict[str, Any] | None:
    """What a unit received in joint liability in the period: after caps, and by source."""
    res = next((x for x in ps.evaluation.for_subject(unit) if x.joint is not None), None)
    if res is None:
        return None
    from dsl.analysis.causes import per_fact_causes, steps

    info = rules_info(ps.compiled)
    lines = [t for (kind, _), ts in steps(res).per_fact.items() if kind == "joint" for t in ts]
    sources: dict[tuple[str, str], dict[str, Any]] = {}
    for c in per_fact_causes(ps, info, lines, None):
        got = sources.setdefault(
            (c.subject, c.ref),
            {"source": c.subject, "name": ps.name(c.subject), "link": c.ref,
             "title": _link_title(ps, c.ref, c.title), "amount": ZERO},
        )  # fmt: skip
        got["amount"] += c.amount or ZERO
        got.setdefault("facts", []).append(c.fact)
    for t in res.trace or ():
        if t.kind not in ("joint_chain", "joint_import") or not isinstance(t.value, Decimal):
            continue
        # passed on from what another block passed to a subject, or imported from its own
        # deductions on another scorecard: no fact of its own
        who = t.what.rsplit(" at ", 1)[-1] if t.kind == "joint_chain" else unit
        got = sources.setdefault(
            (who, t.ref),
            {"source": who, "name": ps.name(who), "link": t.ref,
             "title": _link_title(ps, t.ref, ""), "amount": ZERO, "facts": []},
        )  # fmt: skip
        got["amount"] += t.value
    before = sum((s["amount"] for s in sources.values()), ZERO)
    shown = [{**s, "amount": str(ps.pub(s["amount"]))} for _, s in sorted(sources.items())]
    return {
        "received": str(ps.pub(res.joint or ZERO)),
        "before_cap": str(ps.pub(before)),
        "sources": shown,
    }


def _link_title(ps: PeriodScores, ref: str, fact_title: str) -> str:
    """`连带责任（市局科室）：督察发现问题` for the link `dept_liability.issue`."""
    joint = ps.compiled.program.joints.get(ref.split(".")[0])
    head = (joint.title or joint.id) if joint is not None else ref
    return f"{head}：{fact_title}" if fact_title else head


def items_json(r: LostReport) -> list[dict[str, Any]]:
    """Per-fact deductions and items by kind (rule or item) and level: count and total."""
    ps = r.scores
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in r.subjects:
        per = [(c, row.info.title) for row in s.indicators for c in row.causes if c.kind]
        per += [(c, "") for c in s.items]
        for c, title in per:
            key = (c.kind, c.ref, c.level)
            g = groups.setdefault(key, {"kind": c.kind, "ref": c.ref, "title": title or c.title})
            g.update(fact_type=c.type, level=c.level or None)
            g["count"] = g.get("count", 0) + 1
            g["total"] = g.get("total", ZERO) + (c.amount or ZERO)
    return [{**g, "total": str(ps.pub(g["total"]))} for _, g in sorted(groups.items())]
