"""An impact report (`dsl.audit.impact` builds it), its JSON form, and its summary: tiers moved,
largest gains and losses, mean change, what each step did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.audit.diff_model import RulesetDiff
from dsl.audit.hybrid import Step
from dsl.compile.runtime import round_to
from dsl.facts.periods import Period
from dsl.facts.records import FactProblem

TOP = 3


IMPACT_FORMAT = "jixiao-impact/1"
Key = tuple[str, str]  # (scorecard, subject)


@dataclass(frozen=True)
class Standing:
    """A subject's published result on one scorecard: final, rank, tier, grade."""

    final: Decimal | None
    rank: int | None
    tier: str | None
    grade: str | None
    why: str | None = None  # why the final is missing, when it is

    def as_json(self) -> dict[str, Any]:
        """`{"final", "rank", "tier", "grade"}`, the final as a string."""
        final = None if self.final is None else str(self.final)
        return {"final": final, "rank": self.rank, "tier": self.tier, "grade": self.grade}


@dataclass(frozen=True)
class SubjectImpact:
    """One subject on one scorecard under both rulesets, and what each step did to it."""

    subject: str
    scorecard: str
    old: Standing | None
    new: Standing | None
    delta: Decimal | None
    steps: dict[str, Decimal] = field(default_factory=dict)  # step id → change it makes alone
    interaction: Decimal | None = None  # delta − the steps' sum; non-zero: changes interact

    @property
    def moved(self) -> bool:
        """True when the tier or the grade changed."""
        if self.old is None or self.new is None:
            return False
        return (self.old.tier, self.old.grade) != (self.new.tier, self.new.grade)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form of one subject (docs/audit.md)."""
        return {
            "subject": self.subject,
            "scorecard": self.scorecard,
            "old": None if self.old is None else self.old.as_json(),
            "new": None if self.new is None else self.new.as_json(),
            "delta": None if self.delta is None else str(self.delta),
            "moved": self.moved,
            "attribution": {k: str(v) for k, v in self.steps.items()},
            "interaction": None if self.interaction is None else str(self.interaction),
        }


@dataclass(frozen=True)
class StepResult:
    """One step scored alone, or why it could not be."""

    step: Step
    error: str | None = None
    together_with: tuple[str, ...] = ()  # steps scored with this one, which it needs


@dataclass
class ImpactReport:
    """The comparison of one period's results under two rulesets."""

    diff: RulesetDiff
    period: Period
    subjects: list[SubjectImpact]
    steps: list[StepResult]
    loose: list[int]  # numbers of the changes that no step isolates
    unknown: dict[str, dict[str, int]]  # "from" / "to" → fact type → facts set aside
    invalid: dict[str, list[FactProblem]]
    attributed: bool
    # "from" / "to" → results of kind pool: (subject, group's published values)
    pools: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def one_side(self, side: str) -> list[tuple[SubjectImpact, str]]:
        """Subjects only the `side` ruleset scores, with why the other one cannot."""
        out = []
        for s in self.subjects:
            mine, other = (s.new, s.old) if side == "to" else (s.old, s.new)
            if (
                mine is not None
                and mine.final is not None
                and (other is None or other.final is None)
            ):
                why = "not among its subjects" if other is None else (other.why or "final missing")
                out.append((s, why))
        return out

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (docs/audit.md)."""
        return {
            "format": IMPACT_FORMAT,
            "from": self.diff.old.digest,
            "to": self.diff.new.digest,
            "rulesets": {"from": self.diff.old.as_json(), "to": self.diff.new.as_json()},
            "period": str(self.period),
            "changes": [c.as_json() for c in self.diff.changes],
            "subjects": [s.as_json() for s in self.subjects],
            "one_side": {
                side: [
                    {"subject": s.subject, "scorecard": s.scorecard, "other_cannot": why}
                    for s, why in self.one_side(side)
                ]
                for side in ("from", "to")
            },
            "pools": {side: [j for _, j in rows] for side, rows in self.pools.items()},
            "summary": summary(self),
        }


def _brief(s: SubjectImpact) -> dict[str, Any]:
    return {"subject": s.subject, "scorecard": s.scorecard, "delta": str(s.delta)}


def _mean(values: list[Decimal]) -> str | None:
    if not values:
        return None
    exact = Fraction(sum(values, Decimal(0))) / len(values)
    return str(round_to(exact, 2, "half_up"))


def gains(subjects: list[SubjectImpact], sign: int) -> list[SubjectImpact]:
    """The subjects whose final rose (sign 1) or fell (sign -1) most, largest first."""
    found = [s for s in subjects if s.delta is not None and s.delta * sign > 0]
    found.sort(key=lambda s: (-abs(s.delta or Decimal(0)), s.scorecard, s.subject))
    return found


def by_scorecard(subjects: list[SubjectImpact]) -> dict[str, dict[str, Any]]:
    """Per scorecard: subjects, how many moved tier or grade, mean change, extremes."""
    out: dict[str, dict[str, Any]] = {}
    for card in sorted({s.scorecard for s in subjects}):
        rows = [s for s in subjects if s.scorecard == card]
        up, down = gains(rows, 1), gains(rows, -1)
        out[card] = {
            "subjects": len(rows),
            "moved": sum(s.moved for s in rows),
            "mean_change": _mean([s.delta for s in rows if s.delta is not None]),
            "largest_gain": _brief(up[0]) if up else None,
            "largest_loss": _brief(down[0]) if down else None,
        }
    return out


def step_totals(r: ImpactReport) -> list[dict[str, Any]]:
    """Each step: the changes it applies, how many subjects it moves alone, and by how much."""
    out = []
    for res in r.steps:
        moved = [s.steps[res.step.id] for s in r.subjects if res.step.id in s.steps]
        out.append(
            {
                "id": res.step.id,
                "label": res.step.label,
                "changes": list(res.step.changes),
                "subjects": len(moved),
                "total": str(sum(moved, Decimal(0))),
                "error": res.error,
                "together_with": list(res.together_with),
            }
        )
    return out


def summary(r: ImpactReport) -> dict[str, Any]:
    """The `summary` object of the impact JSON (docs/audit.md)."""
    interacting = [s for s in r.subjects if s.interaction]
    return {
        "subjects": len(r.subjects),
        "moved": sum(s.moved for s in r.subjects),
        "largest_gains": [_brief(s) for s in gains(r.subjects, 1)[:TOP]],
        "largest_losses": [_brief(s) for s in gains(r.subjects, -1)[:TOP]],
        "by_scorecard": by_scorecard(r.subjects),
        "facts_of_unknown_type": r.unknown,
        "facts_invalid": {k: len(v) for k, v in r.invalid.items()},
        "attribution": {
            "done": r.attributed,
            "steps": step_totals(r),
            "not_isolated": r.loose,
            "interacting_subjects": [
                {"subject": s.subject, "scorecard": s.scorecard, "interaction": str(s.interaction)}
                for s in interacting
            ],
        },
    }
