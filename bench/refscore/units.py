"""County bureaus (§2.1) and municipal departments (§2.2): grouped by column, combined exactly."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl

from refscore.result import Result, cents, rank_all, tiers
from refscore.rules import (
    COUNTY_INDICATORS,
    INSTRUCTION,
    ISSUE,
    JOINT_CAP,
    JOINT_ISSUE,
    JOINT_NOTICE,
    LEADS,
    NOTICE,
    RATER_WEIGHTS,
    STYLE,
    UNIT_BONUS_CAP,
    UNIT_COMMENDATION,
    U,
)

Key = tuple[int, str]  # (slot, subject): slot 1–4 a quarter, 0 the year
VALUES = ("revenue_completion", "satisfaction", "task_completion", "style_grade")
COUNTED = ("inspection_issue", "overdue_document", "leader_instruction", "criticism_notice")


@dataclass
class UnitSums:
    """What the unit facts of each slot and subject come to, grouped by column."""

    values: dict[tuple[int, str, str], Any] = field(default_factory=dict)
    steps: dict[Key, int] = field(default_factory=dict)
    counts: dict[Key, dict[tuple[str, str | None, str | None], int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    matters: dict[Key, int] = field(default_factory=dict)  # best commendation per matter, tenths
    ratings: dict[Key, dict[str, tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    vetoed: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    joint: dict[Key, Fraction] = field(default_factory=dict)


def unit_sums(uf: pl.DataFrame, counties: list[str]) -> UnitSums:
    """Groups the unit facts (with a `slot` column) once."""
    out = UnitSums()
    t = pl.col("type")
    vals = uf.filter(t.is_in(VALUES)).select("slot", "subject", "type", "value_u", "grade")
    for slot, subject, ftype, v, grade in vals.iter_rows():
        out.values[(slot, subject, ftype)] = grade if ftype == "style_grade" else v
    steps = uf.filter(t == "risk_step").group_by("slot", "subject").agg(pl.col("step").n_unique())
    out.steps = {(s, u): n for s, u, n in steps.iter_rows()}
    plain = t.is_in(COUNTED) | ((t == "commendation") & pl.col("matter").is_null())
    cnt = uf.filter(plain).group_by("slot", "subject", "type", "level", "tone").len()
    for slot, subject, ftype, level, tone, n in cnt.iter_rows():
        out.counts[(slot, subject)][(ftype, level, tone)] = n
    best = (
        uf.filter((t == "commendation") & pl.col("matter").is_not_null())
        .with_columns(a=pl.col("level").replace_strict(UNIT_COMMENDATION, return_dtype=pl.Int64))
        .group_by("slot", "subject", "matter")
        .agg(pl.col("a").max())
        .group_by("slot", "subject")
        .agg(pl.col("a").sum())
    )
    out.matters = {(s, u): a for s, u, a in best.iter_rows()}
    rat = uf.filter(t == "rating").group_by("slot", "subject", "rater_group")
    for slot, subject, g, total, n in rat.agg(pl.col("value_u").sum(), pl.len()).iter_rows():
        out.ratings[(slot, subject)][g] = (total, n)
    veto = uf.filter(t == "major_violation").select("slot", "subject").unique()
    for slot, subject in veto.iter_rows():
        out.vetoed[slot].add(subject)
    out.joint = _joint(uf.filter(pl.col("subject").is_in(counties)))
    return out


def _joint(county_facts: pl.DataFrame) -> dict[Key, Fraction]:
    """§2.2: what each lead department receives from the county bureaus' facts, capped."""
    t = pl.col("type")
    issues = county_facts.filter(t == "inspection_issue").group_by("slot", "level").len()
    got: dict[Key, Fraction] = defaultdict(Fraction)
    for slot, level, n in issues.iter_rows():
        got[(slot, LEADS["K4"])] += n * JOINT_ISSUE[level]
    named = county_facts.filter((t == "criticism_notice") & pl.col("indicator").is_not_null())
    for slot, ind, level, n in named.group_by("slot", "indicator", "level").len().iter_rows():
        if ind in LEADS:
            got[(slot, LEADS[ind])] += n * JOINT_NOTICE[level]
    return {k: min(v, JOINT_CAP) for k, v in got.items()}


def _items(s: UnitSums, key: Key) -> tuple[int, int]:
    """(bonus, penalty) in tenths: 加减分 with same-matter commendations once, bonus capped."""
    bonus, penalty = s.matters.get(key, 0), 0
    for (ftype, level, tone), n in s.counts.get(key, {}).items():
        if ftype == "commendation":
            bonus += n * UNIT_COMMENDATION[str(level)]
        elif ftype == "leader_instruction":
            if tone == "praise":
                bonus += n * INSTRUCTION[str(level)]
            else:
                penalty += n * INSTRUCTION[str(level)]
        elif ftype == "criticism_notice":
            penalty += n * NOTICE[str(level)]
    return min(bonus, UNIT_BONUS_CAP), penalty


def _weighted(groups: dict[str, tuple[int, int]] | None) -> Fraction | None:
    """§2.1 G3: the mean of each rater group, weighted over the groups present."""
    if not groups:
        return None
    acc, wsum = Fraction(0), 0
    for g, (total, n) in groups.items():
        acc += RATER_WEIGHTS[g] * Fraction(total, U * n)
        wsum += RATER_WEIGHTS[g]
    return acc / wsum


def _count(s: UnitSums, key: Key, ftype: str, level: str | None = None) -> int:
    return sum(n for (t, lv, _), n in s.counts.get(key, {}).items() if t == ftype and lv == level)


def county_results(s: UnitSums, slot: int, counties: list[str]) -> list[Result]:
    """§2.1 and §2.3 for every county bureau in one slot."""
    sat = {
        c: s.values[(slot, c, "satisfaction")]
        for c in counties
        if (slot, c, "satisfaction") in s.values
    }
    out = []
    for c in counties:
        key = (slot, c)
        ind: dict[str, Fraction | int] = {}
        missing = []
        v = s.values.get((slot, c, "revenue_completion"))
        if v is None:
            missing.append("K1")
            ind["K1"] = 0
        else:
            ind["K1"] = 30 if v >= 100 * U else max(Fraction(0), 30 - 3 * (100 - Fraction(v, U)))
        if c in sat:
            rank = 1 + sum(1 for o in sat.values() if o > sat[c])
            ind["K2"] = max(12, 21 - rank)
        else:
            missing.append("K2")
            ind["K2"] = 0
        ind["K3"] = 4 * s.steps.get(key, 0)
        issues = sum(_count(s, key, "inspection_issue", lv) * a for lv, a in ISSUE.items())
        ind["K4"] = max(Fraction(0), 30 - issues)
        ind["G1"] = max(0, 40 - 2 * _count(s, key, "overdue_document"))
        grade = s.values.get((slot, c, "style_grade"))
        ind["G2"] = 0 if grade is None else 30 * STYLE[grade]
        wm = _weighted(s.ratings.get(key))
        ind["G3"] = 0 if wm is None else Fraction(30, 100) * wm
        missing += [i for i, absent in (("G2", grade is None), ("G3", wm is None)) if absent]
        key_work = sum((ind[i] for i in COUNTY_INDICATORS[:4]), Fraction(0))
        general = sum((ind[i] for i in COUNTY_INDICATORS[4:]), Fraction(0))
        base = Fraction(7, 10) * key_work + Fraction(3, 10) * general
        bonus, penalty = _items(s, key)
        final = max(Fraction(60), base + Fraction(bonus - penalty, 10))
        r = Result(c, "county", cents(final), cents(base), bonus * 10, penalty * 10)
        r.parts = {"key": cents(key_work), "general": cents(general)}
        r.indicators = {i: cents(ind[i]) for i in COUNTY_INDICATORS}
        r.missing, r.sort = missing, (r.final or 0, r.base, r.parts["key"])
        out.append(r)
    rank_all(out)
    tiers(out, s.vetoed.get(slot, set()))
    return out


def county_finals(results: list[Result]) -> dict[str, int]:
    """Each county bureau's published final, in hundredths (what a person's final uses)."""
    return {r.subject: r.final for r in results if r.final is not None}


def dept_results(s: UnitSums, slot: int, depts: list[str]) -> list[Result]:
    """§2.2 and §2.3 for every municipal department in one slot."""
    out = []
    for d in depts:
        key = (slot, d)
        missing = []
        v = s.values.get((slot, d, "task_completion"))
        d1 = Fraction(0) if v is None else Fraction(70, 100) * min(Fraction(v, U), Fraction(100))
        wm = _weighted(s.ratings.get(key))
        d2: Fraction | int = 0 if wm is None else Fraction(30, 100) * wm
        missing += [i for i, absent in (("D1", v is None), ("D2", wm is None)) if absent]
        base = Fraction(d1) + d2
        bonus, penalty = _items(s, key)
        joint = s.joint.get(key, Fraction(0))
        final = max(Fraction(60), base + Fraction(bonus - penalty, 10) - joint)
        r = Result(d, "dept", cents(final), cents(base), bonus * 10, penalty * 10, cents(joint))
        r.parts, r.indicators = {"work": cents(base)}, {"D1": cents(d1), "D2": cents(d2)}
        r.missing, r.sort = missing, (r.final or 0, r.base, r.parts["work"])
        out.append(r)
    rank_all(out)
    tiers(out, s.vetoed.get(slot, set()))
    return out
