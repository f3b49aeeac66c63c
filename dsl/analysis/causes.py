"""The facts behind a subject's score, read from its trace: what each per-fact rule deducted or
added, what each item gave or took, what joint liability passed on, and what a rule read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.rules import RulesInfo
from dsl.analysis.view import PeriodScores
from dsl.engine.context import TraceLine
from dsl.engine.results import SubjectResult
from dsl.facts.records import Fact

PER_FACT = frozenset({"deduct", "add", "bonus", "penalty", "joint"})


@dataclass(frozen=True)
class Cause:
    """One fact and what it did to a score (an amount for per-fact rules, items and links)."""

    fact: str
    type: str
    title: str  # the fact type's title
    level: str  # the title of the value its amount went by (省级), or ""
    when: str  # its date, or the period it is a value for
    evidence: str | None
    subject: str  # whom the fact is about (for joint liability: the source unit)
    amount: Decimal | Fraction | None = None
    detail: str = ""  # its fields, for rules that read values (`value 98.5`)
    kind: str = ""  # the trace step: deduct, add, bonus, penalty, joint
    ref: str = ""  # the indicator, item or link (`dept_liability.issue`)

    def as_json(self, ps: PeriodScores) -> dict[str, Any]:
        """JSON-ready, the amount as published."""
        return {
            "fact": self.fact,
            "type": self.type,
            "title": self.title,
            "level": self.level or None,
            "when": self.when,
            "evidence": self.evidence,
            "subject": self.subject,
            "amount": None if self.amount is None else str(ps.pub(self.amount)),
            "detail": self.detail or None,
            "kind": self.kind or None,
            "ref": self.ref or None,
        }


@dataclass
class Steps:
    """A subject's trace sorted by what it is about."""

    per_fact: dict[tuple[str, str], list[TraceLine]] = field(default_factory=dict)  # (kind, ref)
    indicator: dict[str, TraceLine] = field(default_factory=dict)
    traced: bool = False


def steps(res: SubjectResult) -> Steps:
    """The trace lines of a result, by kind and id."""
    out = Steps(traced=res.trace is not None)
    for t in res.trace or ():
        if t.kind in PER_FACT:
            out.per_fact.setdefault((t.kind, t.ref), []).append(t)
        elif t.kind == "indicator":
            out.indicator[t.ref] = t
    return out


def cause(ps: PeriodScores, info: RulesInfo, fid: str, by: str | None, amount: Any = None) -> Cause:
    """A fact by id, described for readers (an unknown id is shown as it is)."""
    f = ps.facts.get(fid)
    if f is None:
        return Cause(fid, "", "", "", "", None, "", amount)
    level = info.level_title(f.type, by, f.data.get(by)) if by else ""
    detail = "" if amount is not None else describe(info, f)
    return Cause(
        fid,
        f.type,
        info.fact_titles.get(f.type, f.type),
        level,
        str(f.date) if f.date is not None else str(f.period or ""),
        f.evidence,
        f.subject,
        amount,
        detail,
    )


def describe(info: RulesInfo, f: Fact) -> str:
    """A fact's values for people, enum values by their titles: `领导 90`."""
    parts = []
    for k in sorted(f.data):
        v = f.data[k]
        parts.append(info.enum_titles.get((f.type, k, str(v)), str(v)))
    return " ".join(parts)


def per_fact_causes(
    ps: PeriodScores, info: RulesInfo, lines: list[TraceLine], by: str | None
) -> list[Cause]:
    """One cause per per-fact trace line, with the line's amount."""
    out: list[Cause] = []
    for t in lines:
        v = t.value
        amount = (
            Decimal(v) if isinstance(v, int) else v if isinstance(v, Decimal | Fraction) else None
        )
        for fid in t.facts:
            got = cause(ps, info, fid, by, amount)
            out.append(replace(got, kind=t.kind, ref=t.ref))
    return out
