"""Persons (§2.4): quarters grouped by column and combined in integers, the year, the grades."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl

from refscore.org import Org
from refscore.result import Result, cents_of, quota, rank_all
from refscore.rules import (
    AWARD,
    DISCIPLINE,
    NOTICE,
    PERSON_BONUS_CAP,
    PERSON_COMMENDATION,
    QUALITY,
    RESPONSIBLE,
    U,
)

Key = tuple[int, str]
RATINGS = ("ability_rating", "attitude_rating", "peer_rating")
COMPONENTS = ("performance", "ability", "attitude", "evaluation")


@dataclass
class PersonSums:
    """What each person's facts come to in each quarter."""

    work: dict[Key, int] = field(default_factory=dict)  # Σ points × quality, in 1/(10 U)
    ratings: dict[Key, dict[str, tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    bonus: dict[Key, int] = field(default_factory=lambda: defaultdict(int))  # tenths
    penalty: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    joint: dict[Key, int] = field(default_factory=dict)  # tenths
    violations: dict[Key, int] = field(default_factory=dict)


def person_sums(pf: pl.DataFrame, issues: pl.DataFrame) -> PersonSums:
    """Groups the persons' facts (with a `slot`) and the issues naming them, once."""
    out = PersonSums()
    t = pl.col("type")
    q10 = pl.col("quality").replace_strict(QUALITY, return_dtype=pl.Int64)
    work = (
        pf.filter(t == "work_item")
        .group_by("slot", "subject")
        .agg((pl.col("points_u") * q10).sum())
    )
    out.work = {(s, p): w for s, p, w in work.iter_rows()}
    rat = pf.filter(t.is_in(RATINGS)).group_by("slot", "subject", "type")
    for slot, p, ftype, total, n in rat.agg(pl.col("value_u").sum(), pl.len()).iter_rows():
        out.ratings[(slot, p)][ftype] = (total, n)
    plain = t.is_in(("competition_award", "discipline_violation", "criticism_notice"))
    plain = plain | ((t == "commendation") & pl.col("matter").is_null())
    cnt = pf.filter(plain).group_by("slot", "subject", "type", "level", "place").len()
    for slot, p, ftype, level, place, n in cnt.iter_rows():
        key = (slot, p)
        if ftype == "commendation":
            out.bonus[key] += n * PERSON_COMMENDATION[level]
        elif ftype == "competition_award":
            out.bonus[key] += n * AWARD[place]
        elif ftype == "discipline_violation":
            out.penalty[key] += n * DISCIPLINE
            out.violations[key] = n
        else:
            out.penalty[key] += n * NOTICE[level]
    amount = pl.col("level").replace_strict(PERSON_COMMENDATION, return_dtype=pl.Int64)
    best = (
        pf.filter((t == "commendation") & pl.col("matter").is_not_null())
        .group_by("slot", "subject", "matter")
        .agg(amount.max())
        .group_by("slot", "subject")
        .agg(pl.col("level").sum())
    )
    for slot, p, a in best.iter_rows():
        out.bonus[(slot, p)] += a
    named = issues.filter(pl.col("responsible").is_not_null()).group_by("slot", "responsible").len()
    out.joint = {(s, p): n * RESPONSIBLE for s, p, n in named.iter_rows()}
    return out


def person_quarter(
    s: PersonSums, slot: int, org: Org, county_final: dict[str, int]
) -> list[Result]:
    """§2.4 quarterly results of every person; exact in integers over one denominator each."""
    out = []
    for p in org.people:
        key = (slot, p)
        w = org.workload[p]
        # performance = min(100, 100 × Σ / (10 U × workload))
        pn, pd = 100 * s.work.get(key, 0) * w.denominator, 10 * U * w.numerator
        if pn >= 100 * pd:
            pn, pd = 100, 1
        means = []
        missing = []
        got = s.ratings.get(key, {})
        for comp, ftype in zip(COMPONENTS[1:], RATINGS, strict=True):
            total, n = got.get(ftype, (0, 0))
            if n == 0:
                missing.append(comp)
                means.append((0, 1))
            else:
                means.append((total, U * n))
        (an, ad), (bn, bd), (cn, cd) = means
        # base = (7 perf + ability + attitude + evaluation) / 10
        den = 10 * pd * ad * bd * cd
        num = 7 * pn * ad * bd * cd + pd * (an * bd * cd + bn * ad * cd + cn * ad * bd)
        bonus = min(s.bonus.get(key, 0), PERSON_BONUS_CAP)
        penalty, joint = s.penalty.get(key, 0), s.joint.get(key, 0)
        r = Result(p, "person", None, cents_of(num, den), bonus * 10, penalty * 10, joint * 10)
        r.parts = {
            "performance": cents_of(pn, pd),
            "ability": cents_of(an, ad),
            "attitude": cents_of(bn, bd),
            "evaluation": cents_of(cn, cd),
        }
        county = org.county[p]
        if county is None or county not in county_final:
            missing.append("final")
        else:
            # final = max(0, 0.9 × (base + (bonus − penalty − joint)/10) + 0.1 × county final)
            k = bonus - penalty - joint
            fnum = 90 * (10 * num + k * den) + county_final[county] * den
            r.final = max(0, cents_of(fnum, 1000 * den))
        r.missing = missing
        out.append(r)
    return out


def person_year(quarters: list[list[Result]], org: Org, s: PersonSums) -> list[Result]:
    """§2.4 the year: the mean of the published quarterly finals, ranked within each county
    bureau, and graded."""
    finals: dict[str, list[int]] = defaultdict(list)
    for results in quarters:
        for r in results:
            if r.final is not None:
                finals[r.subject].append(r.final)
    out = []
    for p in org.people:
        qs = finals.get(p, [])
        r = Result(p, "person", None, quarters=qs)
        if qs:
            r.final = cents_of(sum(qs), len(qs) * 100)
            r.sort = (r.final,)
        out.append(r)
    groups: dict[str | None, list[Result]] = defaultdict(list)
    for r in out:
        groups[org.county[r.subject]].append(r)
    for members in groups.values():
        rank_all(members)
        n = sum(1 for r in members if r.final is not None)
        top = quota(20, n)
        for r in members:
            if r.final is None or r.rank is None:
                continue
            clean = all(s.violations.get((q, r.subject), 0) == 0 for q in (1, 2, 3, 4))
            if r.rank <= top and r.final >= 8500 and clean:
                r.grade = "excellent"
            else:
                r.grade = "incompetent" if r.final < 6000 else "competent"
    return out
