"""Scoring the same facts under two rulesets, and attributing each change of final to the rules.

Every value compared is the published one (rounded as its ruleset says), so the changes shown
add up to what a reader of both result files sees. Each isolable step of the diff (see
`dsl.audit.hybrid`) is scored on its own, on top of the old rules; what the steps do not explain
separately is reported as their interaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dsl.audit.diff import diff_rulesets
from dsl.audit.diff_model import RulesetDiff
from dsl.audit.hybrid import Step, hybrid, plan
from dsl.audit.impact_facts import FactSource
from dsl.audit.rulesource import RuleSource
from dsl.compile.compiler import compile_program
from dsl.compile.ir import CompiledRuleset
from dsl.compile.runtime import round_to
from dsl.engine.evaluate import evaluate
from dsl.facts.periods import Period
from dsl.facts.records import FactProblem, Org
from dsl.syntax.errors import DslError
from dsl.syntax.program import Program

IMPACT_FORMAT = "jixiao-impact/1"
Key = tuple[str, str]  # (scorecard, subject)


@dataclass(frozen=True)
class Standing:
    """A subject's published result on one scorecard: final, rank, tier, grade."""

    final: Decimal | None
    rank: int | None
    tier: str | None
    grade: str | None

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

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (docs/audit.md)."""
        from dsl.audit.impact_summary import summary

        return {
            "format": IMPACT_FORMAT,
            "from": self.diff.old.digest,
            "to": self.diff.new.digest,
            "rulesets": {"from": self.diff.old.as_json(), "to": self.diff.new.as_json()},
            "period": str(self.period),
            "changes": [c.as_json() for c in self.diff.changes],
            "subjects": [s.as_json() for s in self.subjects],
            "summary": summary(self),
        }


def _published(
    compiled: CompiledRuleset,
    org: Org,
    facts: Any,
    period: Period,
    org_at: Callable[[Period], Org] | None,
) -> dict[Key, Any]:
    ev = evaluate(compiled, org, facts, period, org_at=org_at)
    out: dict[Key, Standing] = {}
    for r in ev.results:
        final = None if r.final is None else round_to(r.final, compiled.places, compiled.round_mode)
        out[(r.scorecard, r.subject)] = Standing(final, r.rank, r.tier, r.grade)
    return out


def _score(program: Program, sources: dict[str, str], inp: _Inputs) -> Any:
    compiled = compile_program(program, sources)
    got = inp.facts(compiled.schema, inp.lenient)
    return got, _published(compiled, inp.org, got.facts, inp.period, inp.org_at)


@dataclass
class _Inputs:
    org: Org
    facts: FactSource
    period: Period
    lenient: bool = False
    org_at: Callable[[Period], Org] | None = None


def run_impact(
    old: RuleSource,
    new: RuleSource,
    org: Org,
    facts: FactSource,
    period: Period,
    attribute: bool = True,
    org_at: Callable[[Period], Org] | None = None,
) -> ImpactReport:
    """Scores `period` under both rulesets and, if asked, each step of the diff alone.

    `org_at` gives the organisation of each period scored (a year's quarters), as `evaluate`.
    """
    d = diff_rulesets(old, new)
    inp = _Inputs(org, facts, period, org_at=org_at)
    f_old, before = _score(old.program, old.sources, inp)
    f_new, after = _score(new.program, new.sources, inp)
    steps, loose = plan(d.changes)
    results: list[StepResult] = []
    alone: dict[str, dict[Key, Any]] = {}
    if attribute:
        lenient = _Inputs(org, facts, period, lenient=True, org_at=org_at)
        sources = {**old.sources, **new.sources}
        for step in steps:
            program = hybrid(old.program, new.program, step)
            try:
                _, alone[step.id] = _score(program, sources, lenient)
            except (DslError, LookupError, TypeError, ValueError, ArithmeticError) as e:
                results.append(StepResult(step, f"{type(e).__name__}: {e}"))
                continue
            results.append(StepResult(step))
    subjects = [_subject(k, before.get(k), after.get(k), alone) for k in {*before, *after}]
    subjects.sort(key=_order)
    return ImpactReport(
        d,
        period,
        subjects,
        results,
        loose,
        {"from": f_old.unknown, "to": f_new.unknown},
        {"from": f_old.problems, "to": f_new.problems},
        attribute,
    )


def _subject(
    key: Key, a: Standing | None, b: Standing | None, alone: dict[str, dict[Key, Standing]]
) -> SubjectImpact:
    card, subject = key
    if a is None or b is None or a.final is None or b.final is None:
        return SubjectImpact(subject, card, a, b, None)
    delta = b.final - a.final
    steps: dict[str, Decimal] = {}
    for step_id, finals in alone.items():
        got = finals.get(key)
        if got is not None and got.final is not None and got.final != a.final:
            steps[step_id] = got.final - a.final
    interaction = (delta - sum(steps.values(), Decimal(0))) if alone else None
    return SubjectImpact(subject, card, a, b, delta, steps, interaction)


def _order(s: SubjectImpact) -> tuple[int, Decimal, str, str]:
    if s.delta is None:
        return (1, Decimal(0), s.scorecard, s.subject)
    return (0, -abs(s.delta), s.scorecard, s.subject)
