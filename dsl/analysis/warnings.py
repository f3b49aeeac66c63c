"""Early warnings (预警) as of a date inside an open period: period values still missing with the
days left, indicators at or near their floor (扣完为止), bonus caps and ceilings already reached,
subjects in the last tier or within one place of a tier boundary, and persons whose annual grade
is at risk. Each warning says what to do, in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from dsl.analysis.bands import (
    band_facts,
    band_title,
    falls,
    gap,
    group_key,
    neighbours,
    project_year,
    veto_band,
)
from dsl.analysis.rules import PER_FACT_ADD, PER_FACT_DEDUCT, IndicatorInfo, RulesInfo, rules_info
from dsl.analysis.view import PeriodScores, Source, keep_until
from dsl.engine.results import SubjectResult
from dsl.facts.periods import Period
from dsl.facts.records import Fact
from dsl.syntax.errors import DslError

FORMAT = "jixiao-warnings/1"
CLOSE = Decimal(2)  # a lead (or gap) below this many points makes a tier boundary urgent
SEVERITIES = ("high", "medium", "low")
KINDS = (
    "missing_value", "at_floor", "near_floor", "last_tier", "tier_boundary", "grade_risk",
    "bonus_cap", "ceiling_reached",
)  # fmt: skip

# What each warning says; `{name}` is the subject's name. docs/analysis.md shows them all.
TEXT = {
    "final_missing": "{name}的最终得分缺少所需数值，请核对其引用的其他结果是否已出。",
    "missing_value": "{name}尚未报送 {period} 的{titles}（{indicator} {title}），"
    "距本期结束还有 {days} 天；缺报则该项按 0 分计，将失 {points} 分，请督促及时报送。",
    "ceiling_reached": "{name}的「{title}」本期已加满 {limit} 分，再有{what}也不再加分，"
    "可把精力转向其他指标。",
    "at_floor": "{name}的「{title}」本期已扣至 {limit} 分（扣完为止），本指标已无分可扣；"
    "请查明{what}的原因并整改，防止问题延续到下期。",
    "near_floor": "{name}的「{title}」本期只剩 {left} 分可扣，再发生 {count} 项{what}"
    "（每项最多扣 {step} 分）即扣完，请重点防范。",
    "bonus_cap": "{name}本期加分已达上限 {cap} 分，本期再获表彰等加分事项不再计分。",
    "last_tier": "{name}目前排名第 {rank}/{n}，处于{tier}（末段），请对照失分指标尽快整改。",
    "vetoed": "{name}因{veto}被一票否决，本期定为{tier}，名次不能改变这一结果；请对照问题整改。",
    "tier_falls": "{name}目前排名第 {rank}/{n}（{tier}），仅领先下一名{other} {gap} 分，"
    "再落后一位即进入{other_tier}。",
    "tier_rises": "{name}目前排名第 {rank}/{n}（{tier}），与上一名{other}相差 {gap} 分，"
    "超过即可进入{other_tier}。",
    "grade_worst": "{name}按本年已计分 {quarters} 个季度的结果推算（年度 {mean} 分，组内第 "
    "{rank}/{n}），年度等次可能为「{grade}」，请及早沟通并帮助改进。",
}


@dataclass(frozen=True)
class EarlyWarning:
    """One warning: what, how urgent, about whom (and which indicator), and what to do."""

    kind: str
    severity: str
    subject: str
    name: str
    scorecard: str
    message: str
    indicator: str | None = None
    title: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """`{"kind", "severity", "subject", "name", "scorecard", "indicator", "title",
        "message", "details"}`."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "name": self.name,
            "scorecard": self.scorecard,
            "indicator": self.indicator,
            "title": self.title,
            "message": self.message,
            "details": self.details,
        }


def check_open(period: Period, day: date) -> int:
    """Days left in the period after `day`; DslError when `day` is not inside it."""
    if not period.first_day() <= day <= period.last_day():
        raise DslError(
            f"{day} is not inside {period} ({period.first_day()} to {period.last_day()}): "
            "warnings are for a period still open on the day given"
        )
    return (period.last_day() - day).days


def warnings(
    ps: PeriodScores,
    day: date,
    earlier: Sequence[PeriodScores] = (),
    year_facts: Sequence[Fact] = (),
) -> list[EarlyWarning]:
    """Every warning for the period of `ps` (scored as of `day`), most urgent first.

    `earlier`: the year's quarters before this one, scored (for the annual projection);
    `year_facts`: the year's facts so far (those the grade conditions read).
    """
    days = check_open(ps.period, day)
    info = rules_info(ps.compiled)
    out: list[EarlyWarning] = []
    for card in ps.compiled.scorecards:
        for res in ps.results(card).values():
            out.extend(_values(ps, info, res, days))
            out.extend(_floors(ps, info, res))
            out.extend(_caps(ps, res))
        out.extend(_tiers(ps, card))
    if ps.period.quarter is not None:
        out.extend(_grades(ps, [*earlier, ps], year_facts))
    order = {k: i for i, k in enumerate(KINDS)}
    out.sort(
        key=lambda w: (SEVERITIES.index(w.severity), order[w.kind], w.subject, w.indicator or "")
    )
    return out


def standing(ps: PeriodScores) -> list[EarlyWarning]:
    """The warnings of a scored period that still matter after it: last tier, tier boundaries."""
    out = [w for card in ps.compiled.scorecards for w in _tiers(ps, card)]
    return sorted(out, key=lambda w: (SEVERITIES.index(w.severity), w.subject))


def report_json(ps: PeriodScores, day: date, found: list[EarlyWarning]) -> dict[str, Any]:
    """`{"as_of", "days_left", "warnings": [...]}` with the ruleset and counts."""
    counts = {s: sum(1 for w in found if w.severity == s) for s in SEVERITIES}
    return {
        "format": FORMAT,
        "ruleset": ps.ruleset_json(),
        "period": str(ps.period),
        "as_of": str(day),
        "days_left": check_open(ps.period, day),
        "counts": counts,
        "warnings": [w.as_json() for w in found],
    }


def _w(
    ps: PeriodScores, res: SubjectResult, kind: str, sev: str, text: str, **kw: Any
) -> EarlyWarning:
    """A warning about a result, its message from TEXT[text] with `kw["say"]` filled in."""
    say = {"name": ps.name(res.subject), **kw.pop("say", {})}
    msg = TEXT[text].format(**say)
    return EarlyWarning(kind, sev, res.subject, say["name"], res.scorecard, msg, **kw)


def _values(ps: PeriodScores, info: RulesInfo, res: SubjectResult, days: int) -> list[EarlyWarning]:
    out = []
    sev = "high" if days <= 7 else "medium" if days <= 30 else "low"
    for ident in res.missing:
        ind = info.indicators.get(ident)
        if ind is None:
            out.append(
                _w(ps, res, "missing_value", "high", "final_missing", details={"days_left": days})
            )
            continue
        titles = "、".join(f"「{info.fact_titles.get(t, t)}」" for t in ind.values) or "所需数值"
        points = str(ps.pub(ind.points))
        say = dict(
            period=ps.period,
            titles=titles,
            indicator=ind.id,
            title=ind.title,
            days=days,
            points=points,
        )
        details = {"days_left": days, "fact_types": list(ind.values), "points": points}
        kw = {"indicator": ident, "title": ind.title, "details": details, "say": say}
        out.append(_w(ps, res, "missing_value", sev, "missing_value", **kw))
    return out


def _floors(ps: PeriodScores, info: RulesInfo, res: SubjectResult) -> list[EarlyWarning]:
    out = []
    for ind in info.card(res.scorecard):
        if ind.limit is None or ind.method not in (PER_FACT_DEDUCT, PER_FACT_ADD):
            continue
        score = ps.pub(res.indicators.get(ind.id, res.parts.get(ind.id, 0)))
        out.extend(_floor_one(ps, info, res, ind, score))
    return out


def _floor_one(
    ps: PeriodScores, info: RulesInfo, res: SubjectResult, ind: IndicatorInfo, score: Decimal
) -> list[EarlyWarning]:
    limit = ps.pub(ind.limit or 0)
    what = "、".join(info.fact_titles.get(t, t) for t in ind.events)
    say: dict[str, Any] = {"title": ind.title, "limit": limit, "what": what}
    kw: dict[str, Any] = {"indicator": ind.id, "title": ind.title, "say": say}
    kw["details"] = {"score": str(score), "limit": str(limit)}
    if ind.method == PER_FACT_ADD:
        return (
            [_w(ps, res, "ceiling_reached", "low", "ceiling_reached", **kw)]
            if score >= limit
            else []
        )
    if score <= limit:
        return [_w(ps, res, "at_floor", "high", "at_floor", **kw)]
    step = ind.largest
    if step is None or score - limit > 2 * step:
        return []
    # facts at the largest amount until the floor is reached
    count = int(((score - limit) / step).to_integral_value(rounding=ROUND_CEILING))
    say.update(left=score - limit, count=count, step=ps.pub(step))
    return [_w(ps, res, "near_floor", "medium", "near_floor", **kw)]


def _caps(ps: PeriodScores, res: SubjectResult) -> list[EarlyWarning]:
    table = ps.compiled.scorecards[res.scorecard].items
    if table is None or table.bonus_cap is None or res.bonus is None:
        return []
    bonus, cap = ps.pub(res.bonus), ps.pub(table.bonus_cap)
    if bonus < cap:
        return []
    d = {"bonus": str(bonus), "cap": str(cap)}
    return [_w(ps, res, "bonus_cap", "low", "bonus_cap", details=d, say={"cap": cap})]


def _tiers(ps: PeriodScores, card: str) -> list[EarlyWarning]:
    key = group_key(ps.compiled, ps.org, ps.period, card)
    info = rules_info(ps.compiled)
    out = []
    last = veto_band(ps.compiled.scorecards[card], "tier")
    for nb in neighbours(ps.results(card).values(), lambda r: r.tier, key, last):
        r = nb.result
        d: dict[str, Any] = {"rank": r.rank, "n": r.n, "tier": r.tier}
        say: dict[str, Any] = {"rank": r.rank, "n": r.n, "tier": band_title(r.tier)}
        veto = _veto(r)
        if veto is not None:
            say["veto"] = "、".join(_veto_words(info.fact_titles, t) for t in veto)
            out.append(_w(ps, r, "last_tier", "high", "vetoed", details=d, say=say))
            continue  # its place in the ranking does not decide its tier
        if nb.worst:
            out.append(_w(ps, r, "last_tier", "high", "last_tier", details=d, say=say))
        other = nb.below or nb.above
        if other is None:
            continue
        falls = other is nb.below
        say.update(other=ps.name(other.subject), other_tier=band_title(other.tier))
        say["gap"] = gap(r, other, ps.pub) if falls else gap(other, r, ps.pub)
        close = say["gap"] != "" and Decimal(say["gap"]) < CLOSE
        sev = "medium" if falls and close else "low"
        d = {**d, "next": other.subject, "gap": say["gap"] or None}
        out.append(
            _w(
                ps,
                r,
                "tier_boundary",
                sev,
                "tier_falls" if falls else "tier_rises",
                details=d,
                say=say,
            )
        )
    return out


def _veto_words(titles: Mapping[str, str], ref: str) -> str:
    """What vetoed, in words: a fact type's title; the units below's (`any descendant(K).F`:
    下属单位的 F); a condition (`when`: 否决条件)."""
    if ref == "when":
        return "否决条件"
    if " descendant(" in ref:
        fact = ref.rsplit(".", 1)[-1]
        return f"下属单位的{titles.get(fact, fact)}"
    return titles.get(ref, ref)


def _veto(r: SubjectResult) -> list[str] | None:
    """The fact types that vetoed the subject into its tier (from its trace), if any."""
    found = [t.ref for t in r.trace or () if t.kind == "veto" and t.what == "tier"]
    return found or None


def _grades(
    ps: PeriodScores, quarters: list[PeriodScores], facts: Sequence[Fact]
) -> list[EarlyWarning]:
    """Persons whose year, projected, ends in a grade that is a fall by the rules' conditions
    (`bands.falls`: `incompetent: final < 60`), whatever grades the others of their group get:
    a grade left by a quota (`competent: otherwise` below `excellent: rank <= quota(20%)`) is
    none, even where it is the lowest grade of the group."""
    _, cards = project_year(ps.compiled, ps.org, quarters, facts)
    out = []
    for card, results in cards.items():
        fall = falls(ps.compiled.program.scorecards[card].grades)
        for r in results.values():
            if r.rank is None or r.grade not in fall:
                continue
            mean = ps.pub(r.final) if r.final is not None else None
            d: dict[str, Any] = {"projected": str(mean), "grade": r.grade, "rank": r.rank, "n": r.n}
            say = dict(
                quarters=len(quarters), mean=mean, rank=r.rank, n=r.n, grade=band_title(r.grade)
            )
            out.append(_w(ps, r, "grade_risk", "high", "grade_worst", details=d, say=say))
    return out


def warnings_report(
    source: Source, period: Period, day: date, ruleset: str | None = None
) -> dict[str, Any]:
    """The warnings of a period open on `day` (`GET /v1/warnings`), as JSON."""
    check_open(period, day)
    ps = source.as_of(period, day, ruleset)
    earlier: list[PeriodScores] = []
    facts: list[Fact] = []
    if period.quarter is not None:
        for q in period.quarters()[: period.quarter - 1]:
            got = source.scores(q, ruleset)
            if got is not None:
                earlier.append(got)
        wanted = {t for c in ps.compiled.program.scorecards.values() for t in band_facts(c)}
        for q in period.quarters()[: period.quarter]:
            facts.extend(source.facts_of(q, wanted))
        year = source.facts_of(Period(period.year), wanted)
        facts.extend(f for f in year if f.date is None)  # values for the year itself
    return report_json(ps, day, warnings(ps, day, earlier, keep_until(facts, day)))
